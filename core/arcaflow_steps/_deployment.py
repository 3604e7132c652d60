"""The deployer interface of the ``plugin`` provider, pluggable through
``arcaflow_steps_deployers``.

Two levels, like httpcore's ``NetworkBackend`` -> ``NetworkStream`` and the Go engine's
``ConnectorFactory`` -> ``Connector`` -> ``Plugin``:

* :class:`DeployerFactory` — registered by a package; names the deployer (``deployer_name``),
  the deployment type it serves (``python``, ``image``, …) and its configuration schema, and
  creates a :class:`Deployer` from a validated configuration.
* :class:`Deployer` — deploys one plugin source and returns a :class:`PluginConnection`.
* :class:`PluginConnection` — the running plugin: its stdin (we write ATP to it), its stdout (we
  read ATP from it), a captured stderr tail, and ``close()``, which stops the plugin and removes
  everything it left (process, container, temporary directory). ``close()`` is idempotent and
  bounded in time.

Example, a deployer for any ATP executable on this machine::

    class EchoFactory:
        deployer_name = "mine"
        deployment_type = "mine"
        def configuration_schema(self) -> ScopeSchema: ...
        def create(self, config: Mapping[str, Any]) -> Deployer: return MineDeployer(config)
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import IO, TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from ._extensions import ExtensionGroup
    from ._schema import ScopeSchema

__all__ = ["Deployer", "DeployerFactory", "PluginConnection", "deployer_group"]


class PluginConnection(Protocol):
    """A deployed, running plugin speaking ATP on its stdin/stdout.

    Thread safety: ``stdin`` is written by one writer at a time and ``stdout`` read by one reader
    (the ATP client guarantees both); ``close()`` may be called from any thread, repeatedly.
    """

    @property
    def stdin(self) -> IO[bytes]:
        """The plugin's standard input (we write ATP messages to it)."""

    @property
    def stdout(self) -> IO[bytes]:
        """The plugin's standard output (we read ATP messages from it)."""

    @property
    def description(self) -> str:
        """Say what was deployed, for messages (e.g. ``python -m my_plugin (pid 123)``)."""

    def stderr_tail(self) -> str:
        """Return the last few KiB the plugin wrote to stderr (never part of the ATP stream)."""

    def exit_status(self) -> str | None:
        """Describe how the plugin ended (``exit status 1``, ``killed by SIGKILL``) or None."""

    def close(self, timeout: float = 5.0) -> None:
        """Stop the plugin, reap it and remove what it left; idempotent, bounded by timeout."""


class Deployer(Protocol):
    """Deploys plugin sources with one configuration."""

    def deploy(self, source: str) -> PluginConnection:
        """Start the plugin ``source`` with its ATP server running; raise ``DeploymentError``."""


class DeployerFactory(Protocol):
    """Registered through the ``arcaflow_steps_deployers`` hook."""

    @property
    def deployer_name(self) -> str:
        """The value of ``deploy.deployer_name`` that selects this deployer."""

    @property
    def deployment_type(self) -> str:
        """The ``plugin.deployment_type`` this deployer serves (``python``, ``image``, …)."""

    def configuration_schema(self) -> ScopeSchema:
        """Return the schema of the deployer configuration (the ``deploy`` stage input)."""

    def create(self, config: Mapping[str, Any]) -> Deployer:
        """Create a deployer from a configuration already validated against the schema."""


def _deployer_name(factory: DeployerFactory) -> str:
    return factory.deployer_name


def _deployment_type(factory: DeployerFactory) -> str:
    return factory.deployment_type


@functools.cache
def deployer_group() -> ExtensionGroup:
    """Return the ``plugin`` provider's deployers: entry-point group ``arcaflow.step_deployers``,
    one entry point per deployer named after its ``deployer_name``, unique per deployment type.
    """
    from . import hookspecs  # pluggy and attrs: not on the warm-up path
    from ._extensions import ExtensionGroup

    return ExtensionGroup(
        group="arcaflow.step_deployers",
        what="deployer",
        specs=hookspecs,
        project_name=hookspecs.PROJECT_NAME,
        hook="arcaflow_steps_deployers",
        name_of=_deployer_name,
        scope="deployment type",
        scope_of=_deployment_type,
    )


for _cls in (PluginConnection, Deployer, DeployerFactory):
    _cls.__module__ = "arcaflow_steps"
