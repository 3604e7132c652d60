"""The ``command`` deployer: runs any ATP executable, given its command line.

Deployment type ``command``, deployer name ``command``. ``plugin.src`` is a command line split
like a POSIX shell does (``shlex.split``, no shell is involved), e.g. ``./my-go-plugin`` or
``/usr/bin/env python3 plugin.py``; ``--atp`` is appended unless ``appendAtpFlag`` is false.
A Go SDK plugin binary is the typical use. The plugin runs in its own process group, in
``workdir`` (default: a fresh temporary directory, removed afterwards).
"""

from __future__ import annotations

import os
import shlex
import tempfile
from collections.abc import Mapping
from typing import Any, Final, final

from arcaflow_steps import (
    BoolSchema,
    DeploymentError,
    DisplayValue,
    MapSchema,
    ObjectSchema,
    PropertySchema,
    ScopeSchema,
    StringSchema,
)

from ._process import ProcessConnection, spawn

__all__ = ["CommandDeployer", "CommandDeployerFactory"]

DEPLOYER_NAME: Final = "command"
DEPLOYMENT_TYPE: Final = "command"

CONFIG_SCHEMA: Final = ScopeSchema(
    root="CommandDeployerConfig",
    objects={
        "CommandDeployerConfig": ObjectSchema(
            id="CommandDeployerConfig",
            properties={
                "appendAtpFlag": PropertySchema(
                    type=BoolSchema(),
                    display=DisplayValue(description="Append --atp to the command line."),
                    default="true",
                ),
                "env": PropertySchema(
                    type=MapSchema(keys=StringSchema(min=1), values=StringSchema()),
                    display=DisplayValue(
                        description="Environment variables added to the plugin's environment."
                    ),
                ),
                "workdir": PropertySchema(
                    type=StringSchema(min=1),
                    display=DisplayValue(
                        description="Working directory (default: a fresh temporary directory)."
                    ),
                ),
            },
        )
    },
)


@final
class CommandDeployer:
    """Starts ATP executables with one configuration.

    Thread safety: safe to share (immutable).
    """

    def __init__(self, config: Mapping[str, Any]) -> None:
        self._append_atp = bool(config.get("appendAtpFlag", True))
        self._env: dict[str, str] = dict(config.get("env") or {})
        self._workdir: str | None = config.get("workdir")

    def deploy(self, source: str) -> ProcessConnection:
        """Start the command line ``source``; raise ``DeploymentError`` when it cannot start."""
        try:
            argv = shlex.split(source)
        except ValueError as exc:
            raise DeploymentError(f"invalid command line {source!r}: {exc}") from exc
        if not argv:
            raise DeploymentError("empty command line; plugin.src names the executable to run")
        if self._append_atp:
            argv.append("--atp")
        env = dict(os.environ, **self._env) if self._env else None
        temp_dir = None
        cwd = self._workdir
        if cwd is None:
            temp_dir = cwd = tempfile.mkdtemp(prefix="arcaflow-steps-command-")
        return spawn(argv, description=shlex.join(argv), cwd=cwd, env=env, temp_dir=temp_dir)


@final
class CommandDeployerFactory:
    """Creates :class:`CommandDeployer` instances (deployer name and type ``command``).

    Thread safety: safe to share (stateless).
    """

    deployer_name: Final = DEPLOYER_NAME
    deployment_type: Final = DEPLOYMENT_TYPE

    def configuration_schema(self) -> ScopeSchema:
        """Return the schema of the ``deploy`` configuration."""
        return CONFIG_SCHEMA

    def create(self, config: Mapping[str, Any]) -> CommandDeployer:
        """Create a deployer from a validated configuration."""
        return CommandDeployer(config)
