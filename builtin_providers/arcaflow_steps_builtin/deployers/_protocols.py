"""The deployer interface of the ``plugin`` provider, pluggable through
``arcaflow_steps_deployers`` (:mod:`.hookspecs`).

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

import contextvars
from collections.abc import Callable, Iterable, Mapping
from typing import IO, TYPE_CHECKING, Any, Final, Protocol

from arcaflow_steps import DeploymentError

if TYPE_CHECKING:
    from arcaflow_steps.schema import ScopeSchema

__all__ = [
    "Deployer",
    "DeployerFactory",
    "PluginConnection",
    "UnknownDeployerError",
    "deploy_cancelled",
]

#: Whether the step a ``deploy()`` on this thread works for was cancelled meanwhile. The
#: plugin provider sets it around each deploy; a deployer that makes a deploy wait (the
#: ``docker`` deployer's start queue) polls it and gives up with ``DeploymentError``.
deploy_cancelled: Final[contextvars.ContextVar[Callable[[], bool]]] = contextvars.ContextVar(
    "deploy_cancelled", default=lambda: False
)


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
        """Stop the plugin, reap it and remove what it left; idempotent, bounded by timeout.

        When it returns the plugin has ended. A container deployer may let its engine finish
        removing the container afterwards, if the deployer's own ``close()`` waits for that
        (the ``docker`` deployer does).
        """


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


class UnknownDeployerError(DeploymentError, LookupError):
    """No deployer matches the requested name or deployment type."""

    def __init__(self, what: str, requested: str, valid: Iterable[str]) -> None:
        self.what = what
        self.requested = requested
        self.valid = tuple(sorted(valid))
        quoted = ", ".join(sorted(repr(str(value)) for value in self.valid)) or "none"
        super().__init__(f"unknown {what} {requested!r}; valid: {quoted}")

    def __str__(self) -> str:
        return str(self.args[0])


for _cls in (PluginConnection, Deployer, DeployerFactory, UnknownDeployerError):
    _cls.__module__ = "arcaflow_steps_builtin.deployers"
