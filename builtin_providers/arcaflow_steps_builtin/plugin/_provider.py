"""The ``plugin`` provider: runs Arcaflow plugins over ATP through pluggable deployers.

A step definition::

    kind: plugin                      # the default kind
    plugin:
      src: examples/plugins/greeter/arcaflow_plugin_greeter
      deployment_type: python         # python | command | image (docker, podman) | …
      multiplex: false                # opt-in: share one plugin process between steps
    step: greet                       # optional when the plugin has exactly one step
    input: {name: Arca}               # validated against the plugin step's input schema
    deploy: {deployer_name: python, pythonPath: /usr/bin/python3}   # optional
    enabled: true                     # optional
    wait_for: …                       # optional, value unused
    closure_wait_timeout: 5000        # optional, ms
    stop_if: false                    # optional; anything but false/null cancels

Outputs: the plugin step's own outputs in stage ``outputs``; ``deploy_failed`` → ``error``
``{error}``, ``crashed`` → ``error`` ``{output}``, ``disabled`` → ``output`` ``{message}``,
``closed`` → ``result`` ``{cancelled, close_requested}``. An output is an *error output* when
its schema says ``error: true`` or, because the Python SDK never sets that flag, when its id is
``error`` (:func:`is_error_output`); the CLI then exits 2.

``multiplex: true`` runs every step of one source (with one deployer configuration) as
concurrent ATP runs in a single plugin process, which is much cheaper for many short steps.
Trade-offs: the steps share the process's memory and fate (an ``os._exit`` ends them all), a
step that ignores cancel is only stopped when the last step finishes, and the Python SDK's
``debug_logs`` accumulate across the runs of a process.

Deliberate differences from the reference engine (Arcaflow 0.21.0):

* Values are typed: ``enabled: true`` enables, ``stop_if: false`` does not cancel, and plugin
  input is validated against the plugin's schema and sent typed (not as strings).
* The schema is read once per (deployment type, source, deployer configuration), and that
  probe process runs the first step; the reference deploys twice per step.
* ``deploy_failed`` and ``crashed`` outputs are plain data matching their schemas; plugin
  outputs are validated against their declared schemas (an invalid one is a crash).
* A cancelled or closed step ends ``closed`` ``{cancelled: true}``, never ``crashed``; the
  cancel signal is sent once; ``stop_if`` is allowed without a cancel handler (the plugin is
  then stopped at once) instead of being a validation error.
* The ATP handshake happens in ``deploy``: a plugin that cannot start or greet ends
  ``deploy_failed`` with its exit status and stderr, not ``crashed``.
* A step already known to be disabled is not deployed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final, final

from arcaflow_steps import (
    ArcaflowStepsError,
    DeploymentError,
    ExtensionGroup,
    ExtensionTable,
    Lifecycle,
    LifecycleStage,
)
from arcaflow_steps.schema import (
    BoolSchema,
    DisplayValue,
    ObjectSchema,
    PluginSchema,
    PropertySchema,
    StringSchema,
)

from ..deployers import DeployerFactory
from ..deployers.hookspecs import DEPLOYERS
from ._deploy_config import DeployerCatalog, DeployerChoice
from ._plugin_process import open_plugin
from ._process_pool import DEFAULT_IDLE_TIMEOUT, ProcessPool
from ._runnable import RUN_KEYWORD, PluginRunnableStep
from ._stages import PLUGIN_LIFECYCLE, InputField

__all__ = ["PluginProvider"]

KIND: Final = "plugin"
PROVIDER_KEYWORD: Final = "plugin"

PROVIDER_SCHEMA: Final = {
    PROVIDER_KEYWORD: PropertySchema(
        type=ObjectSchema(
            id="plugin_fields",
            properties={
                "src": PropertySchema(
                    type=StringSchema(min=1),
                    required=True,
                    display=DisplayValue(
                        name="Source",
                        description="What to run: an image, a python 'module@git+URL', a "
                        "plugin path or module, a command line; depends on deployment_type.",
                    ),
                ),
                "deployment_type": PropertySchema(
                    type=StringSchema(min=1),
                    required=True,
                    display=DisplayValue(
                        name="Deployment type",
                        description="Which deployers may run the source: python, command, "
                        "image, … (see `arcaflow-steps describe plugin`).",
                    ),
                ),
                "multiplex": PropertySchema(
                    type=BoolSchema(),
                    default="false",
                    display=DisplayValue(
                        name="Multiplex",
                        description="Run all steps of this source in one plugin process, as "
                        "concurrent ATP runs (faster for many steps; they share its fate).",
                    ),
                ),
            },
        ),
        required=True,
        display=DisplayValue(name="Plugin", description="The plugin to run and how to deploy it."),
    )
}


@final
class PluginProvider:
    """The ``plugin`` step provider.

    Thread safety: safe to share; schemas and probe processes are cached per source.
    """

    kind: Final = KIND
    provider_keyword: Final = PROVIDER_KEYWORD
    run_keyword: Final = RUN_KEYWORD
    #: The step's ``deploy`` reaches :meth:`load_schema` (as a hint): the schema is read with
    #: the deployer and configuration the step will run with, so that probe process can run it.
    schema_hint_fields: Final = frozenset({str(InputField.DEPLOY)})

    def __init__(
        self,
        deployer_factories: Callable[[], Iterable[DeployerFactory]],
        *,
        idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
    ) -> None:
        self._deployer_factories = deployer_factories
        self.pool = ProcessPool(idle_timeout=idle_timeout)
        # Guards _catalog.
        self._lock = threading.Lock()
        self._catalog: DeployerCatalog | None = None

    def catalog(self) -> DeployerCatalog:
        """Return the installed deployers (collected on first use)."""
        with self._lock:
            if self._catalog is None:
                self._catalog = DeployerCatalog(self._deployer_factories())
            return self._catalog

    def deploy_schema(self, deployment_type: str) -> PropertySchema:
        """Return the schema of the ``deploy`` stage input for a deployment type: a one-of of
        its deployers' configurations keyed by ``deployer_name`` (``arcaflow-steps workflow``
        checks a config file's ``deployers`` entries with it).

        Raises:
            UnknownDeployerError: no deployer serves the deployment type.
        """
        return self.catalog().deploy_property(deployment_type)

    def extension_groups(self) -> tuple[ExtensionGroup, ...]:
        """Return the deployers' entry-point group (``arcaflow-steps check`` loads it)."""
        return (DEPLOYERS,)

    def extension_tables(self) -> tuple[ExtensionTable, ...]:
        """Return the deployers per deployment type, the default first (for ``describe``)."""
        catalog = self.catalog()
        data: dict[str, list[dict[str, Any]]] = {}
        rows: list[tuple[str, str, str]] = []
        for deployment_type in catalog.deployment_types():
            factories = catalog.factories(deployment_type)
            data[deployment_type] = [
                {"deployer_name": factory.deployer_name, "default": index == 0}
                for index, factory in enumerate(factories)
            ]
            rows.extend(
                (deployment_type, factory.deployer_name, "yes" if index == 0 else "")
                for index, factory in enumerate(factories)
            )
        table = ExtensionTable(
            title="deployers",
            columns=("deployment type", "deployer", "default"),
            rows=tuple(rows),
            data=data,
        )
        return (table,)

    def lifecycle(self) -> Lifecycle[LifecycleStage]:
        """Return the lifecycle without schemas."""
        return PLUGIN_LIFECYCLE

    def provider_schema(self) -> Mapping[str, PropertySchema]:
        """Return ``{plugin: {src, deployment_type, multiplex}}``."""
        return PROVIDER_SCHEMA

    def load_schema(self, provider_input: Mapping[str, Any]) -> PluginRunnableStep:
        """Read the plugin's schema (once per source and deployer configuration).

        The schema is read with the step's ``deploy`` when ``provider_input`` carries it (a
        hint, see ``schema_hint_fields``) and it names a usable deployer and configuration; if
        that deployer cannot run the source, its :class:`DeploymentError` is raised (no second
        try with another configuration). Without a usable hint, the schema is read with the
        type's default deployer (default configuration); if that one cannot run the source
        (say the Docker engine is down), the type's other deployers are tried in order, and the
        first that works becomes the default for steps of this source that give no ``deploy``.

        Raises:
            UnknownDeployerError: no deployer serves the deployment type.
            DeploymentError: no deployer could deploy the plugin (each one's reason listed).
        """
        fields = provider_input[PROVIDER_KEYWORD]
        source = str(fields["src"])
        deployment_type = str(fields["deployment_type"])
        multiplex = bool(fields.get("multiplex", False))
        catalog = self.catalog()
        hinted = _hinted_choice(catalog, deployment_type, provider_input.get(InputField.DEPLOY))
        schema, choice = self._probe(catalog, deployment_type, source, hinted)
        # Not cached here: the schema is (in the pool), and the runner's RunnableCache keeps
        # one runnable per provider input.
        return PluginRunnableStep(
            source=source,
            deployment_type=deployment_type,
            multiplex=multiplex,
            schema=schema,
            catalog=catalog,
            pool=self.pool,
            default_choice=choice,
        )

    def _probe(
        self,
        catalog: DeployerCatalog,
        deployment_type: str,
        source: str,
        hinted: DeployerChoice | None,
    ) -> tuple[PluginSchema, DeployerChoice]:
        if hinted is not None:
            # No second try with another configuration: its schema may differ (another
            # interpreter, no deploy.env) and would report a misleading invalid input.
            return self._schema_with(catalog, deployment_type, source, hinted), hinted
        failures: list[tuple[str, DeploymentError]] = []
        for factory in catalog.factories(deployment_type):
            choice = catalog.resolve(deployment_type, {"deployer_name": factory.deployer_name})
            try:
                schema = self._schema_with(catalog, deployment_type, source, choice)
            except DeploymentError as exc:
                failures.append((factory.deployer_name, exc))
                continue
            return schema, choice
        if len(failures) == 1:
            raise failures[0][1]
        raise DeploymentError(
            f"no deployer of type {deployment_type!r} could deploy plugin {source!r}: "
            + "; ".join(f"{name}: {exc}" for name, exc in failures)
        )

    def _schema_with(
        self, catalog: DeployerCatalog, deployment_type: str, source: str, choice: DeployerChoice
    ) -> PluginSchema:
        """Return the schema read with ``choice`` (once per choice; the probe is parked)."""
        deployer = catalog.deployer(choice)
        return self.pool.schema(
            (deployment_type, source, choice.key), lambda: open_plugin(deployer, source)
        )

    def any(self) -> PluginProvider:
        """Return self: the provider is already untyped (it takes the raw mapping)."""
        return self

    def close(self) -> None:
        """Close parked probe processes and deployers (running steps close their own)."""
        self.pool.close()
        with self._lock:
            catalog = self._catalog
        if catalog is not None:
            catalog.close()


def _hinted_choice(
    catalog: DeployerCatalog, deployment_type: str, deploy_hint: Any
) -> DeployerChoice | None:
    """Return the deployer choice a step's raw ``deploy`` names, or None if it names none
    usable (it is validated as stage input later, with a proper message)."""
    if not deploy_hint or not isinstance(deploy_hint, Mapping):
        return None
    try:
        return catalog.resolve(deployment_type, deploy_hint)
    except ArcaflowStepsError:
        return None
