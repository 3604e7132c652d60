"""The install a user does: `pip install .` with no extras and the newest dependencies (cbor2 6).

The dev venv has cbor2 5 (the plugin SDK pins it); a plain install gets cbor2 6, whose decoder
API differs. Plugins run in the dev venv (which has the SDK) through ``deploy.pythonPath``, as a
user's plugin runs in a venv of its own. `.ci/plain_install.sh` does the same from the shell,
with a podman step and the docker extra's error.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from plugin_support import EXAMPLES, ROOT, descendants, wait_gone
from test_atp_frames import MB, run_large

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]  # the fixture runs pip


@pytest.fixture(scope="session")
def plain_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with `pip install` of this source tree: no extras, newest dependencies."""
    base = tmp_path_factory.mktemp("plain-install")
    source = base / "src"
    source.mkdir()
    files = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for name in filter(None, files):
        origin = ROOT / os.fsdecode(name)
        if origin.is_file():  # (deleted but still tracked: skip)
            target = source / os.fsdecode(name)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(origin.read_bytes())
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
    subprocess.run(
        [
            str(venv / "bin" / "pip"),
            "install",
            "--quiet",
            "--disable-pip-version-check",
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return venv


def version(venv: Path, distribution: str) -> str:
    return subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-c",
            f"import importlib.metadata as m; print(m.version({distribution!r}))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def test_plain_install_has_cbor2_6_and_no_docker(plain_venv: Path) -> None:
    """The plain venv really is the case under test: cbor2 6, no plugin SDK, no docker-py."""
    assert version(plain_venv, "cbor2").startswith("6.")
    completed = subprocess.run(
        [
            str(plain_venv / "bin" / "python"),
            "-c",
            "import importlib.util as u; print(u.find_spec('arcaflow_plugin_sdk'), "
            "u.find_spec('docker'))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "None None\n" == completed.stdout


def test_expression_grammar_is_installed(plain_venv: Path) -> None:
    """A non-editable install ships grammar.lark: the expression parser works from it."""
    completed = subprocess.run(
        [
            str(plain_venv / "bin" / "python"),
            "-c",
            "from arcaflow_steps.workflow._expressions import parse_expression; "
            "print(parse_expression('$.a[0]').root)",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (0, "") == (completed.returncode, completed.stderr)
    expected = "Index(value=Attribute(value=Root(), name='a'), key=Literal(value=0))\n"
    assert expected == completed.stdout


def test_plugin_step_from_a_plain_install(plain_venv: Path, tmp_path: Path) -> None:
    """The README's example plugin runs from the plain venv, the plugin in the SDK's venv."""
    step = tmp_path / "greet.yaml"
    step.write_text(
        yaml.safe_dump(
            {
                "plugin": {
                    "src": str(EXAMPLES / "plugins" / "greeter" / "arcaflow_plugin_greeter"),
                    "deployment_type": "python",
                },
                "deploy": {"deployer_name": "python", "pythonPath": sys.executable},
                "input": {"name": "Arca", "times": 2, "shout": False},
            }
        )
    )
    completed = subprocess.run(
        [str(plain_venv / "bin" / "arcaflow-steps"), "run", "-q", str(step)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (0, "") == (completed.returncode, completed.stderr)
    assert {
        "greet": {
            "stage": "outputs",
            "output_id": "success",
            "output_data": {"message": "Hello, Arca! Hello, Arca!"},
        }
    } == yaml.safe_load(completed.stdout)
    assert set() == wait_gone(descendants())


def test_100_mb_output_with_cbor2_6(plain_venv: Path, tmp_path: Path) -> None:
    """On cbor2 6 too, a 100 MB output passes with peak RSS under 3x its size."""
    completed, peak = run_large(
        tmp_path,
        100 * MB,
        cli=str(plain_venv / "bin" / "arcaflow-steps"),
        deploy={"deployer_name": "python", "pythonPath": sys.executable},
    )
    assert 0 == completed.returncode, completed.stderr
    assert peak <= 300 * MB, f"peak RSS {peak / MB:.0f} MB"
    assert 100 * MB == completed.stdout.count(b"x")
    assert set() == wait_gone(descendants())


def test_docker_step_without_the_extra_is_one_line(plain_venv: Path, tmp_path: Path) -> None:
    """Without the docker extra a docker step says how to install it: one line, exit 3."""
    step = tmp_path / "docker.yaml"
    step.write_text(
        yaml.safe_dump(
            {
                "plugin": {
                    "src": "arcaflow-steps-test/plugin_hello:latest",
                    "deployment_type": "image",
                },
                "deploy": {"deployer_name": "docker"},
                "input": {"name": "Arca"},
            }
        )
    )
    completed = subprocess.run(
        [str(plain_venv / "bin" / "arcaflow-steps"), "run", "-q", str(step)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (3, "") == (completed.returncode, completed.stdout)
    assert (
        f"arcaflow-steps: error: {step}: deployer 'docker' needs the docker extra: "
        "pip install 'arcaflow-steps[docker]'\n"
    ) == completed.stderr
