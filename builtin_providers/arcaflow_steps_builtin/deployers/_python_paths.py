"""The python deployer's configuration record and where its interpreters live: the configured
one, pip sources and their cached environments.

The part of :mod:`.python` that the warm-up (:mod:`._python_warm_up`) shares with it: one
record, :class:`PythonDeployerConfig`, read by both from the ``deploy`` mapping with one rule.
Standard library only: the warm-up imports it before the rest of arcaflow-steps.
"""

from __future__ import annotations

import os
import re
import stat
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final, NamedTuple

__all__ = [
    "DEPLOYER_NAME",
    "DEPLOYMENT_TYPE",
    "PIP_SOURCE_RE",
    "PythonDeployerConfig",
    "cache_directory",
    "pip_module",
    "untrusted_reason",
    "venv_directory",
    "venv_python",
    "venv_ready_marker",
]

#: The python deployer's name, and the deployment type it serves.
DEPLOYER_NAME: Final = "python"
DEPLOYMENT_TYPE: Final = "python"

#: ``module@git+URL[@rev]`` or ``module@file:///path``: a source pip installs into a venv.
PIP_SOURCE_RE: Final = re.compile(r"^(?P<module>[A-Za-z0-9_.-]+)@(?P<requirement>(git\+|file:).+)$")


class PythonDeployerConfig(NamedTuple):
    """The python deployer's configuration (the ``deploy`` stage input, Arcaflow key names).

    A ``NamedTuple`` rather than an attrs record: the warm-up reads it before attrs is imported.

    Thread safety: safe to share (immutable).
    """

    python_path: str = sys.executable
    workdir: str | None = None
    module_pull_policy: str = "IfNotPresent"
    python_semver: str | None = None
    fork_server: bool = True

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any]) -> PythonDeployerConfig:
        """Build from a ``deploy`` mapping validated against the deployer's schema."""
        read = cls.read(config)
        if read is None:  # pragma: no cover - the schema admits only these types
            raise ValueError(f"invalid python deployer configuration: {dict(config)!r}")
        return read

    @classmethod
    def read(cls, config: Mapping[str, Any]) -> PythonDeployerConfig | None:
        """Build from a ``deploy`` mapping, or return None when a value has the wrong type (of
        an unvalidated mapping: the warm-up's case; the deployer's validation says why)."""
        python = config.get("pythonPath") or sys.executable
        workdir, semver = config.get("workdir"), config.get("pythonSemver")
        policy = config.get("modulePullPolicy") or "IfNotPresent"
        fork_server = config.get("forkServer", True)
        if not (
            isinstance(python, str)
            and isinstance(workdir, str | None)
            and isinstance(semver, str | None)
            and isinstance(policy, str)
        ):
            return None
        return cls(
            python_path=python,
            workdir=workdir,
            module_pull_policy=policy,
            python_semver=semver,
            fork_server=fork_server is not False,
        )

    def resolved_workdir(self) -> Path:
        """Return the cache directory for virtual environments."""
        return cache_directory(self.workdir)

    def venv_directory(self, source: str, module: str) -> Path:
        """Return the cache directory of a pip source's environment under this configuration."""
        return venv_directory(
            source,
            module,
            python_path=self.python_path,
            python_semver=self.python_semver,
            workdir=self.workdir,
        )


def pip_module(source: str) -> str | None:
    """Return the module a pip source runs (``-`` becomes ``_``), or None for other sources."""
    match = PIP_SOURCE_RE.match(source)
    return match["module"].replace("-", "_") if match else None


def cache_directory(workdir: str | None) -> Path:
    """Return the directory of cached virtual environments (``workdir``, or the XDG cache)."""
    if workdir:
        return Path(workdir).absolute()
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache")
    return Path(cache) / "arcaflow-steps" / "python"


def venv_directory(
    source: str, module: str, *, python_path: str, python_semver: str | None, workdir: str | None
) -> Path:
    """Return the cache directory of a pip source's environment (keyed by source and python)."""
    import hashlib  # only pip sources need it

    key = "\0".join((source, python_path, python_semver or ""))
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return cache_directory(workdir) / "venvs" / f"{module}-{digest}"


def venv_python(directory: Path) -> Path:
    """Return the interpreter of the environment in ``directory``."""
    return directory / "venv" / "bin" / "python"


def venv_ready_marker(directory: Path) -> Path:
    """Return the file whose presence says the environment in ``directory`` is complete."""
    return directory / ".ready"


def untrusted_reason(directory: Path) -> str | None:
    """Return why the cached environment in ``directory`` must not be run, or None.

    Whoever can write to it can plant ``venv/bin/python`` and have us run their code: every
    part of it we run through (the entry, ``venv``, ``venv/bin`` and the interpreter) must be
    owned by us and not writable by group or others. A missing part is no reason (the
    environment is then incomplete and is built again).
    """
    uid = os.geteuid()
    python = venv_python(directory)
    for path in (directory, python.parent.parent, python.parent, python):
        try:
            info = os.lstat(path)
        except (FileNotFoundError, NotADirectoryError):
            return None
        if info.st_uid != uid:
            return f"{str(path)!r} is owned by uid {info.st_uid}, not by us (uid {uid})"
        if not stat.S_ISLNK(info.st_mode) and info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            return (
                f"{str(path)!r} is writable by group or others "
                f"(mode {stat.S_IMODE(info.st_mode):04o})"
            )
    return None
