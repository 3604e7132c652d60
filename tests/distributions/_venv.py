"""Build the test provider distributions into wheels and install them into a fresh venv.

The wheels are written here (PEP 427, pure Python, from each project's ``[project]`` table and
its ``src/`` tree) so the tests need no build backend, and are then installed by the real pip
into a fresh venv, where they are real distributions with ``.dist-info`` metadata. The venv sees
arcaflow-steps and its dependencies through a ``.pth`` file that adds the running interpreter's
site-packages, so nothing is downloaded and setting up takes a few seconds.

Usage (e.g. from a session fixture)::

    venv = TestVenv.create(tmp_path / "venv")
    venv.install(build_wheels([DISTRIBUTIONS / "good"], tmp_path / "wheels"))
    result = venv.run_cli("list", "--format", "json")
"""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

__all__ = ["DISTRIBUTIONS", "TestVenv", "build_wheel", "build_wheels", "shared_venv"]

#: The directory holding the test provider projects.
DISTRIBUTIONS = Path(__file__).resolve().parent


def _record_hash(data: bytes) -> str:
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _normalize(name: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in name).lower()


def build_wheel(project: Path, out_dir: Path) -> Path:
    """Build a pure-Python wheel of ``project`` (``pyproject.toml`` + ``src/``) into ``out_dir``."""
    meta = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    name, version = str(meta["name"]), str(meta["version"])
    dist_info = f"{_normalize(name)}-{version}.dist-info"
    files: dict[str, bytes] = {}
    src = project / "src"
    if src.is_dir():
        for path in sorted(src.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                files[path.relative_to(src).as_posix()] = path.read_bytes()
    files[f"{dist_info}/METADATA"] = (
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode()
    )
    files[f"{dist_info}/WHEEL"] = (
        b"Wheel-Version: 1.0\nGenerator: arcaflow-steps-tests\nRoot-Is-Purelib: true\n"
        b"Tag: py3-none-any\n"
    )
    groups: Mapping[str, Mapping[str, str]] = meta.get("entry-points", {})
    if groups:
        lines = []
        for group, entries in groups.items():
            lines.append(f"[{group}]")
            lines.extend(f"{key} = {value}" for key, value in entries.items())
            lines.append("")
        files[f"{dist_info}/entry_points.txt"] = "\n".join(lines).encode()
    record = [f"{path},{_record_hash(data)},{len(data)}" for path, data in files.items()]
    record.append(f"{dist_info}/RECORD,,")
    files[f"{dist_info}/RECORD"] = ("\n".join(record) + "\n").encode()
    out_dir.mkdir(parents=True, exist_ok=True)
    wheel = out_dir / f"{_normalize(name)}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, data in files.items():
            archive.writestr(path, data)
    return wheel


def build_wheels(projects: Iterable[Path], out_dir: Path) -> list[Path]:
    """Build a wheel of each project; return their paths."""
    return [build_wheel(project, out_dir) for project in projects]


class TestVenv:
    """A fresh venv that sees the running interpreter's packages; tests install wheels into it.

    Thread safety: not thread-safe; confine to one thread.
    """

    __test__ = False  # not a pytest test class

    def __init__(self, path: Path) -> None:
        self.path = path
        self.bin = path / ("Scripts" if os.name == "nt" else "bin")
        self.python = self.bin / "python"

    @classmethod
    def create(cls, path: Path) -> TestVenv:
        """Create the venv (without pip) and link it to this interpreter's site-packages."""
        subprocess.run(
            [sys.executable, "-m", "venv", "--without-pip", str(path)],
            check=True,
            capture_output=True,
        )
        venv = cls(path)
        purelib = Path(
            subprocess.run(
                [
                    str(venv.python),
                    "-c",
                    "import sysconfig; print(sysconfig.get_paths()['purelib'])",
                ],
                check=True,
                capture_output=True,
                text=True,
            ).stdout.strip()
        )
        outer = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
        lines = [f"import site; site.addsitedir({str(path)!r})" for path in sorted(outer)]
        (purelib / "_arcaflow_steps_outer.pth").write_text("\n".join(lines) + "\n")
        script = venv.bin / "arcaflow-steps"
        script.write_text(
            # as the installed console script ([project.scripts])
            f"#!{venv.python}\nfrom arcaflow_steps.cli import console_main\nconsole_main()\n"
        )
        script.chmod(0o755)
        return venv

    def install(self, wheels: Sequence[Path]) -> None:
        """Install wheels with pip, offline and without dependencies."""
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "--python",
                str(self.python),
                "install",
                "--quiet",
                "--no-deps",
                "--no-index",
                "--no-compile",
                "--disable-pip-version-check",
                *map(str, wheels),
            ],
            check=True,
            capture_output=True,
        )

    def env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """Return an environment for running this venv's programs."""
        env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
        env.pop("ARCAFLOW_STEPS_DISABLE_PLUGINS", None)
        env["PATH"] = f"{self.bin}{os.pathsep}{env.get('PATH', '')}"
        env["VIRTUAL_ENV"] = str(self.path)
        env.update(extra or {})
        return env

    def run_cli(
        self,
        *args: str,
        env: Mapping[str, str] | None = None,
        input: str | None = None,
        cwd: Path | None = None,
        timeout: float = 50,
    ) -> subprocess.CompletedProcess[str]:
        """Run ``arcaflow-steps ARGS`` from this venv; return the completed process (text)."""
        return subprocess.run(
            [str(self.bin / "arcaflow-steps"), *args],
            env=self.env(env),
            input=input,
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def run_python(
        self, code: str, *, env: Mapping[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run ``python -c CODE`` in this venv."""
        return subprocess.run(
            [str(self.python), "-c", code],
            env=self.env(env),
            capture_output=True,
            text=True,
            timeout=50,
            check=False,
        )


_SHARED: dict[tuple[str, ...], TestVenv] = {}


def shared_venv(base_dir: Path, projects: Sequence[str] | None = None) -> TestVenv:
    """Return a venv with the named test projects installed (all by default), made once per run.

    ``base_dir`` is a session-wide temporary directory (``tmp_path_factory.getbasetemp()``).
    """
    names = tuple(
        sorted(
            projects
            if projects is not None
            else (
                path.name for path in DISTRIBUTIONS.iterdir() if (path / "pyproject.toml").is_file()
            )
        )
    )
    venv = _SHARED.get(names)
    if venv is None:
        key = "-".join(names) if len(names) < 4 else f"{len(names)}-projects-{abs(hash(names))}"
        root = base_dir / f"venv-{key}"
        venv = TestVenv.create(root / "venv")
        venv.install(build_wheels([DISTRIBUTIONS / name for name in names], root / "wheels"))
        _SHARED[names] = venv
    return venv
