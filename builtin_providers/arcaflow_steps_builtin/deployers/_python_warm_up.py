"""The ``plugin`` kind's warm-up: start the python deployer's fork server before anything else,
and the docker deployer's probe containers (:mod:`._docker_warm_up`).

Entry point ``plugin`` of the group ``arcaflow.step_warm_ups`` (see :mod:`arcaflow_steps` and
CONTRIBUTING.md, "Warm-ups"). ``arcaflow-steps run`` calls :func:`warm_up_plugin_steps` with
the raw ``plugin`` step definitions right after reading the step files. Its python part
(:func:`warm_up_python_steps`) works as follows. For each interpreter
those steps will run on, it starts the fork server's zygote (:mod:`._forkserver`), which then
imports arcaflow-plugin-sdk (~0.1 s) while arcaflow-steps imports itself and loads the plugin
provider; the deployer later acquires the same, by then ready, fork server.

It understands a definition only when it is sure which interpreter the python deployer will
use: ``plugin.deployment_type: python``; no ``deploy``, or ``deployer_name: python``;
``forkServer`` not false; and either a local source (a path or an importable module: the
``pythonPath`` interpreter) or a pip source whose cached environment is already complete and
not to be re-installed (``modulePullPolicy: Always``). Anything else it leaves alone: the
definition is not validated here, the provider does that and reports problems.

Standard library, :mod:`._forkserver` and :mod:`._docker_warm_up` only at import: this module
is imported before the rest of arcaflow-steps.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any, Final, final

from arcaflow_steps import DeploymentError

from ._docker_warm_up import WarmDockerDeployers, warm_up_docker_steps
from ._forkserver import ForkServer, acquire_fork_server, release_fork_server
from ._python_paths import (
    DEPLOYER_NAME,
    DEPLOYMENT_TYPE,
    PythonDeployerConfig,
    pip_module,
    untrusted_reason,
    venv_python,
    venv_ready_marker,
)

__all__ = [
    "PluginWarmUp",
    "WarmForkServers",
    "plugin_step_interpreter",
    "warm_up_plugin_steps",
    "warm_up_python_steps",
]


def plugin_step_interpreter(definition: Mapping[str, Any]) -> str | None:
    """Return the interpreter the python deployer's fork server will use for a step, if sure."""
    plugin = definition.get("plugin")
    deploy = definition.get("deploy") or {}
    if not isinstance(plugin, Mapping) or not isinstance(deploy, Mapping):
        return None
    source = plugin.get("src")
    config = PythonDeployerConfig.read(deploy)  # the deployer's record and rule
    if (
        plugin.get("deployment_type") != DEPLOYMENT_TYPE
        or deploy.get("deployer_name", DEPLOYER_NAME) != DEPLOYER_NAME
        or config is None
        or not config.fork_server
        or not isinstance(source, str)
    ):
        return None
    module = pip_module(source)
    if module is None:
        return config.python_path
    return _installed_interpreter(source, module, config)


def _installed_interpreter(source: str, module: str, config: PythonDeployerConfig) -> str | None:
    """Return the interpreter of a pip source's cached environment if it will be used as is."""
    if config.module_pull_policy == "Always":
        return None
    directory = config.venv_directory(source, module)
    if not venv_ready_marker(directory).is_file() or untrusted_reason(directory) is not None:
        return None  # not there, or not to be run: the deployer builds it or says why
    return str(venv_python(directory))


@final
class WarmForkServers:
    """The fork servers a warm-up started; :meth:`close` gives up its hold on each.

    A deployer that uses one holds it too, so the zygote lives until both let go.

    Thread safety: :meth:`close` may be called from any thread, more than once.
    """

    def __init__(self, servers: Sequence[ForkServer]) -> None:
        # Guards servers: emptied by the first close, so the hold is given up once.
        self._lock = threading.Lock()
        self.servers: tuple[ForkServer, ...] = tuple(servers)

    def close(self) -> None:
        """Release every fork server (the last holder closes it)."""
        with self._lock:
            servers, self.servers = self.servers, ()
        for server in servers:
            release_fork_server(server)


def warm_up_python_steps(definitions: Sequence[Mapping[str, Any]]) -> WarmForkServers | None:
    """Start the fork server of every interpreter the python steps among ``definitions`` use."""
    interpreters = dict.fromkeys(
        python
        for definition in definitions
        if isinstance(definition, Mapping)
        and (python := plugin_step_interpreter(definition)) is not None
    )
    servers: list[ForkServer] = []
    for python in interpreters:
        server = acquire_fork_server(python)
        try:
            server.start()
        except DeploymentError:  # no such interpreter: the deployer will say so
            release_fork_server(server)
            continue
        servers.append(server)
    return WarmForkServers(servers) if servers else None


@final
class PluginWarmUp:
    """What the ``plugin`` kind's warm-up started: fork servers and docker deployers.

    Thread safety: :meth:`close` may be called from any thread, more than once.
    """

    def __init__(self, python: WarmForkServers | None, docker: WarmDockerDeployers | None) -> None:
        self.python: Final = python
        self.docker: Final = docker

    def close(self) -> None:
        """Close both parts (each closes what no deployer took over)."""
        try:
            if self.docker is not None:
                self.docker.close()
        finally:
            if self.python is not None:
                self.python.close()


def warm_up_plugin_steps(definitions: Sequence[Mapping[str, Any]]) -> PluginWarmUp | None:
    """The entry point: warm up the python and the docker steps among ``definitions``."""
    python = warm_up_python_steps(definitions)
    try:
        docker = warm_up_docker_steps(definitions)
    except BaseException:
        if python is not None:
            python.close()
        raise
    return None if python is None and docker is None else PluginWarmUp(python, docker)
