"""The ``command`` deployer: runs any ATP executable, given its command line.

Deployment type ``command``, deployer name ``command``. ``plugin.src`` is a command line split
like a POSIX shell does (``shlex.split``, no shell is involved), e.g. ``./my-go-plugin`` or
``/usr/bin/env python3 plugin.py``; ``--atp`` is appended unless ``appendAtpFlag`` is false.
A Go SDK plugin binary is the typical use. The plugin runs in its own process group, in
``workdir`` (default: a fresh temporary directory, removed afterwards). It is started by the
shared launcher (:func:`._forkserver.shared_launcher`), so whatever it starts ends with it, and
it ends with us.
"""

from __future__ import annotations

import os
import shlex
import threading
from collections.abc import Mapping
from typing import Any, Final, final

from arcaflow_steps import DeploymentError
from arcaflow_steps.schema import (
    BoolSchema,
    DisplayValue,
    MapSchema,
    ObjectSchema,
    PropertySchema,
    ScopeSchema,
    StringSchema,
)

from ._forkserver import ForkServer, release_fork_server, shared_launcher
from ._leftovers import make_temp_dir
from ._process import ProcessConnection, remove_temp_dir

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

    Thread safety: safe to share.
    """

    def __init__(self, config: Mapping[str, Any]) -> None:
        self._append_atp = bool(config.get("appendAtpFlag", True))
        self._env: dict[str, str] = dict(config.get("env") or {})
        self._workdir: str | None = config.get("workdir")
        # Guards _launcher: the shared launcher this deployer holds (None until first used).
        self._lock = threading.Lock()
        self._launcher: ForkServer | None = None

    def _held_launcher(self) -> ForkServer:
        with self._lock:
            if self._launcher is None or self._launcher.is_closed:
                self._launcher = shared_launcher()
            return self._launcher

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
        env = dict(os.environ, **self._env)
        made: list[str] = []
        try:
            temp_dir = None
            cwd = self._workdir
            if cwd is None:
                temp_dir = cwd = make_temp_dir("command", made)
            return self._held_launcher().execute(
                argv, description=shlex.join(argv), cwd=cwd, env=env, temp_dir=temp_dir
            )
        except BaseException:  # out of descriptors, an interrupt, even one the moment the
            for path in made:  # temp dir was made: it goes too
                remove_temp_dir(path)
            raise

    def close(self) -> None:
        """Give up this deployer's hold on the shared launcher."""
        with self._lock:
            launcher, self._launcher = self._launcher, None
        if launcher is not None:
            release_fork_server(launcher)


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
