"""The ``python`` deployer: runs Python ATP plugins as local processes, no container needed.

Deployment type ``python``, deployer name ``python``. Configuration keys follow Arcaflow's
python deployer (``pythonPath``, ``workdir``, ``modulePullPolicy``, ``pythonSemver``).

Plugin sources (``plugin.src``), recognised in this order:

``module@git+URL[@rev]``
    Arcaflow's form. ``git+URL[@rev]`` is pip-installed into a virtual environment cached under
    ``workdir`` and the plugin runs as ``<venv>/bin/python -m <module> --atp`` (``-`` in the
    module name becomes ``_``), in a fresh temporary directory.
``module@file:///path/to/project-or-wheel``
    The offline form: the same, installing a local project directory or wheel.
a path (contains ``/`` or ends in ``.py``), relative to the current directory
    A plugin file runs as ``python FILE --atp``. A directory with ``__init__.py`` is a package:
    it runs as ``python -m <dirname> --atp`` with its parent directory on ``PYTHONPATH``. Any
    other directory with a ``__main__.py`` runs as ``python DIR --atp``.
a dotted module name
    A module importable by the configured interpreter: ``python -m <module> --atp``.

Virtual environments live in ``<workdir>/venvs/<module>-<hash of source and interpreter>``.
Creating or refreshing one holds an exclusive ``flock`` on ``<that directory>.lock``, so
concurrent steps of one source (threads or processes) never race; the lock is released as soon
as the environment is ready, and the kernel releases it if we die. ``modulePullPolicy:
Always`` re-installs once per deployer instance (Arcaflow: once per connector), ``IfNotPresent``
(default) only when the environment is missing or incomplete.
An environment is run only when it is ours: each directory down to its interpreter owned by
the current user and not writable by group or others (created ``0700``); anything else is
refused with a :class:`DeploymentError` naming the path, never run (another local user could
have planted ``venv/bin/python`` in a shared ``workdir``).
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Final, final

import attrs

from arcaflow_steps import DeploymentError
from arcaflow_steps.schema import (
    BoolSchema,
    DisplayValue,
    ObjectSchema,
    PropertySchema,
    ScopeSchema,
    StringEnumSchema,
    StringSchema,
)

from ._forkserver import ForkServer, acquire_fork_server, release_fork_server, shared_launcher
from ._leftovers import make_temp_dir
from ._live import LiveSet
from ._process import ProcessConnection, descriptor_reason, remove_temp_dir
from ._python_paths import (
    DEPLOYER_NAME,
    DEPLOYMENT_TYPE,
    PIP_SOURCE_RE,
    PythonDeployerConfig,
    untrusted_reason,
    venv_python,
    venv_ready_marker,
)

__all__ = [
    "PythonDeployer",
    "PythonDeployerConfig",
    "PythonDeployerFactory",
    "PythonSource",
    "parse_python_source",
]


_MODULE_RE: Final = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_PIP_TIMEOUT: Final = 600.0


def _prop(type_: Any, description: str, *, default: str | None = None) -> PropertySchema:
    return PropertySchema(
        type=type_,
        display=DisplayValue(description=description),
        default=default,
    )


CONFIG_SCHEMA: Final = ScopeSchema(
    root="PythonDeployerConfig",
    objects={
        "PythonDeployerConfig": ObjectSchema(
            id="PythonDeployerConfig",
            properties={
                "pythonPath": _prop(
                    StringSchema(min=1),
                    "Python interpreter used to run local plugins and to create virtual "
                    "environments. Default: the interpreter running arcaflow-steps.",
                ),
                "workdir": _prop(
                    StringSchema(min=1),
                    "Directory holding the cached virtual environments of pip-installed "
                    "plugins. Default: $XDG_CACHE_HOME/arcaflow-steps/python "
                    "(~/.cache/arcaflow-steps/python).",
                ),
                "modulePullPolicy": _prop(
                    StringEnumSchema(
                        values={
                            "Always": DisplayValue(name="Always re-install"),
                            "IfNotPresent": DisplayValue(name="Install when missing"),
                        }
                    ),
                    "When to pip-install a git+/file: plugin source.",
                    default='"IfNotPresent"',
                ),
                "forkServer": _prop(
                    BoolSchema(),
                    "Start plugins by forking an interpreter that has already imported "
                    "arcaflow-plugin-sdk (a few ms instead of ~100 ms per plugin). false: "
                    "start a fresh interpreter for every plugin, as Arcaflow does.",
                    default="true",
                ),
                "pythonSemver": _prop(
                    StringSchema(pattern=r"^\d+\.\d+\.\d+$"),
                    "Python version; accepted for Arcaflow compatibility, it only keys the "
                    "environment cache.",
                ),
            },
        )
    },
)


@attrs.frozen(kw_only=True)
class PythonSource:
    """A parsed ``plugin.src`` for the python deployer.

    ``form`` is ``pip`` (git+/file: requirement), ``path_file``, ``path_package``,
    ``path_directory`` or ``module``.

    Thread safety: safe to share (immutable).
    """

    source: str
    form: str
    #: The module run with ``-m`` (pip and package and module forms).
    module: str | None = None
    #: The pip requirement (``git+URL@rev`` or ``file:///…``).
    requirement: str | None = None
    #: The file or directory (path forms), absolute.
    path: str | None = None


def parse_python_source(source: str) -> PythonSource:
    """Parse a ``plugin.src`` for the python deployer; raise ``DeploymentError`` if unusable."""
    match = PIP_SOURCE_RE.match(source)
    if match:
        module = match["module"].replace("-", "_")
        return PythonSource(
            source=source, form="pip", module=module, requirement=match["requirement"]
        )
    if "/" in source or os.sep in source or source.endswith(".py"):
        path = Path(source).expanduser().absolute()
        if path.is_file():
            return PythonSource(source=source, form="path_file", path=str(path))
        if path.is_dir():
            if (path / "__init__.py").is_file() and _MODULE_RE.match(path.name):
                return PythonSource(
                    source=source, form="path_package", module=path.name, path=str(path)
                )
            if (path / "__main__.py").is_file():
                return PythonSource(source=source, form="path_directory", path=str(path))
            raise DeploymentError(
                f"python plugin directory {source!r} is neither a package (with __init__.py) "
                "nor runnable (with __main__.py)"
            )
        raise DeploymentError(f"python plugin path {source!r} does not exist ({path})")
    if _MODULE_RE.match(source):
        return PythonSource(source=source, form="module", module=source)
    raise DeploymentError(
        f"invalid python plugin source {source!r}; valid forms: 'module@git+URL[@rev]', "
        "'module@file:///path', a path to a plugin file or directory, or an importable "
        "module name"
    )


def _kill_install(process: subprocess.Popen[str]) -> None:
    """Kill a venv/pip command still running when the interpreter exits (never orphan it)."""
    with contextlib.suppress(OSError):
        process.kill()
    process.wait(5.0)


#: Running venv/pip commands.
_INSTALLS: Final[LiveSet[subprocess.Popen[str]]] = LiveSet(_kill_install)


def _pip_has_python_option() -> bool:
    """Return whether our own pip exists and is new enough (22.3) for ``pip --python``."""
    if importlib.util.find_spec("pip") is None:
        return False
    try:
        from pip import __version__ as pip_version
    except ImportError:  # pragma: no cover - a broken pip
        return False
    parts = tuple(int(part) for part in re.findall(r"\d+", pip_version)[:2])
    return parts >= (22, 3)


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive flock on ``path`` (created if missing) for the block."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def _tail(text: str, limit: int = 4000) -> str:
    text = text.strip()
    return text if len(text) <= limit else "…" + text[-limit:]


@final
class PythonDeployer:
    """Deploys Python plugin sources with one configuration.

    Thread safety: safe to share; environment creation is serialised per source by a file lock.
    """

    def __init__(self, config: PythonDeployerConfig) -> None:
        self.config = config
        # Guards _pulled (sources installed by this instance, for modulePullPolicy: Always)
        # and _fork_servers (interpreter -> its fork server).
        self._lock = threading.Lock()
        self._pulled: set[str] = set()
        self._fork_servers: dict[str, ForkServer] = {}
        # Guarded by _lock too: the launcher of forkServer: false (None until first used).
        self._held_launcher: ForkServer | None = None

    def venv_dir(self, source: PythonSource) -> Path:
        """Return the cached virtual environment directory of a pip source."""
        assert source.module is not None
        return self.config.venv_directory(source.source, source.module)

    def ensure_venv(self, source: PythonSource) -> Path:
        """Return the venv's interpreter, installing the source first when needed."""
        directory = self.venv_dir(source)
        python = venv_python(directory)
        ready = venv_ready_marker(directory)
        self._refuse_untrusted(source, directory)
        with self._lock:
            pull = self.config.module_pull_policy == "Always" and source.source not in self._pulled
        if not pull and ready.is_file():
            return python
        try:
            with _file_lock(directory.with_name(directory.name + ".lock")):
                with self._lock:
                    pull = (
                        self.config.module_pull_policy == "Always"
                        and source.source not in self._pulled
                    )
                self._refuse_untrusted(source, directory)  # it may have changed while we waited
                if pull or not ready.is_file():
                    self._install(source, directory)
                    with self._lock:
                        self._pulled.add(source.source)
        except OSError as exc:  # the cache directory cannot be created or written
            raise DeploymentError(
                f"cannot create the environment of python plugin {source.source!r} in "
                f"{str(directory)!r}: {exc.strerror or exc} (deploy.workdir)"
            ) from exc
        return python

    @staticmethod
    def _refuse_untrusted(source: PythonSource, directory: Path) -> None:
        reason = untrusted_reason(directory)
        if reason is not None:
            raise DeploymentError(
                f"refusing the cached environment of python plugin {source.source!r}: "
                f"{reason}; remove {str(directory)!r} or choose another deploy.workdir"
            )

    def _install(self, source: PythonSource, directory: Path) -> None:
        assert source.requirement is not None
        ready = venv_ready_marker(directory)
        ready.unlink(missing_ok=True)
        # Only we may write where our interpreters live (see untrusted_reason).
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        directory.chmod(0o700)
        python = venv_python(directory)
        venv = python.parent.parent
        env = dict(os.environ, GIT_TERMINAL_PROMPT="0", PIP_DISABLE_PIP_VERSION_CHECK="1")
        # A venv without pip, filled by the pip of the interpreter running us, skips ensurepip
        # (seconds); fall back to the venv's own pip when we have none.
        own_pip = _pip_has_python_option()
        venv_cmd = [self.config.python_path, "-m", "venv", "--clear"]
        if own_pip:
            venv_cmd.append("--without-pip")
        self._run([*venv_cmd, str(venv)], source, "creating a virtual environment", env)
        pip = (
            [sys.executable, "-m", "pip", "--python", str(python)]
            if own_pip
            else [str(python), "-m", "pip"]
        )
        self._run([*pip, "install", "--quiet", source.requirement], source, "pip installing", env)
        ready.write_text(source.source + "\n")
        with (directory / "installs.log").open("a") as log:  # one line per install
            log.write(f"{time.time():.3f} pid {os.getpid()} {source.source}\n")

    def _run(self, argv: list[str], source: PythonSource, what: str, env: dict[str, str]) -> None:
        try:
            process = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
            )
        except OSError as exc:
            raise DeploymentError(
                f"error in {what} for python plugin {source.source!r}: {exc}"
            ) from exc
        _INSTALLS.add(process)
        try:
            stdout, stderr = process.communicate(timeout=_PIP_TIMEOUT)
        except subprocess.TimeoutExpired as exc:
            process.kill()
            process.communicate()
            raise DeploymentError(
                f"error in {what} for python plugin {source.source!r}: timed out after "
                f"{_PIP_TIMEOUT:g} s"
            ) from exc
        finally:
            _INSTALLS.discard(process)
        if process.returncode != 0:
            output = _tail(stderr or stdout)
            raise DeploymentError(
                f"error in {what} for python plugin {source.source!r} "
                f"(exit status {process.returncode}): {output}"
            )

    def launch_spec(self, source: PythonSource) -> _LaunchSpec:
        """Return how to start the plugin: interpreter, argv, module or path, sys.path, env."""
        python = self.config.python_path
        if source.form == "pip":
            assert source.module is not None
            venv_python = str(self.ensure_venv(source))
            return _LaunchSpec(
                python=venv_python,
                argv=(venv_python, "-m", source.module, "--atp"),
                module=source.module,
            )
        if source.form == "module":
            assert source.module is not None
            return _LaunchSpec(
                python=python, argv=(python, "-m", source.module, "--atp"), module=source.module
            )
        assert source.path is not None
        if source.form == "path_package":
            assert source.module is not None
            parent = str(Path(source.path).parent)
            existing = os.environ.get("PYTHONPATH")
            env = dict(
                os.environ,
                PYTHONPATH=parent + (os.pathsep + existing if existing else ""),
            )
            return _LaunchSpec(
                python=python,
                argv=(python, "-m", source.module, "--atp"),
                module=source.module,
                sys_path=(parent,),
                env=env,
            )
        directory = (
            source.path if source.form == "path_directory" else str(Path(source.path).parent)
        )
        return _LaunchSpec(
            python=python,
            argv=(python, source.path, "--atp"),
            path=source.path,
            sys_path=(directory,),
        )

    def _fork_server(self, python: str) -> ForkServer:
        with self._lock:
            server = self._fork_servers.get(python)
            if server is None or server.is_closed:
                server = self._fork_servers[python] = acquire_fork_server(python)
            return server

    def _launcher(self) -> ForkServer:
        with self._lock:
            if self._held_launcher is None or self._held_launcher.is_closed:
                self._held_launcher = shared_launcher()
            return self._held_launcher

    def deploy(self, source: str) -> ProcessConnection:
        """Start the plugin ``source``; raise ``DeploymentError`` when it cannot start."""
        spec = self.launch_spec(parse_python_source(source))
        if not os.path.exists(spec.python) and shutil.which(spec.python) is None:
            raise DeploymentError(
                f"python interpreter {spec.python!r} for plugin {source!r} not found "
                "(deploy.pythonPath)"
            )
        made: list[str] = []
        # Whatever goes wrong before a connection owns the temp dir (out of descriptors, an
        # interrupt, even one the moment it was made), the temp dir goes too; OSErrors become
        # a DeploymentError saying why.
        try:
            temp_dir = make_temp_dir("python", made)
            description = " ".join(
                os.path.basename(part) if i == 0 else part for i, part in enumerate(spec.argv[:-1])
            )
            if self.config.fork_server:
                return self._fork_server(spec.python).spawn(
                    argv=[spec.module or spec.path or "", "--atp"],
                    description=f"{description} [forked]",
                    cwd=temp_dir,
                    module=spec.module,
                    path=spec.path,
                    sys_path=(temp_dir,) if spec.module and not spec.sys_path else spec.sys_path,
                    env=spec.env,
                    temp_dir=temp_dir,
                )
            return self._launcher().execute(
                spec.argv, description=description, cwd=temp_dir, env=spec.env, temp_dir=temp_dir
            )
        except OSError as exc:
            for path in made:
                remove_temp_dir(path)
            raise DeploymentError(
                f"cannot start python plugin {source!r}: {descriptor_reason(exc)}"
            ) from exc
        except BaseException:
            for path in made:
                remove_temp_dir(path)
            raise

    def close(self) -> None:
        """Release this deployer's fork servers; the last holder closes one (its zygote kills
        any leftover child). Deployers with the same interpreter share one fork server."""
        with self._lock:
            servers = list(self._fork_servers.values())
            self._fork_servers.clear()
            if self._held_launcher is not None:
                servers.append(self._held_launcher)
                self._held_launcher = None
        for server in servers:
            release_fork_server(server)


@attrs.frozen(kw_only=True)
class _LaunchSpec:
    python: str
    argv: tuple[str, ...]
    module: str | None = None
    path: str | None = None
    sys_path: tuple[str, ...] = ()
    env: dict[str, str] | None = attrs.field(default=None, hash=False)


@final
class PythonDeployerFactory:
    """Creates :class:`PythonDeployer` instances (deployer name and type ``python``).

    Thread safety: safe to share (stateless).
    """

    deployer_name: Final = DEPLOYER_NAME
    deployment_type: Final = DEPLOYMENT_TYPE

    def configuration_schema(self) -> ScopeSchema:
        """Return the schema of the ``deploy`` configuration."""
        return CONFIG_SCHEMA

    def create(self, config: Mapping[str, Any]) -> PythonDeployer:
        """Create a deployer from a validated configuration."""
        return PythonDeployer(PythonDeployerConfig.from_mapping(config))
