"""Deployer selection for the ``plugin`` provider: the ``deploy`` stage input and its defaults.

Deployers come from every package's ``arcaflow_steps_deployers`` hook (through the provider
context). For one ``plugin.deployment_type`` the ``deploy`` input is a one-of over that type's
deployers, discriminated by ``deployer_name``. When a step gives no ``deploy``, the default
deployer of the type is used with its default configuration: the deployer named like the type
(``python``, ``command``) when there is one, otherwise the first by name (``docker`` before
``podman`` for ``image``).

Deployers are created once per (deployer name, configuration) and shared by every step, so a
python deployer's venv bookkeeping and a container deployer's client are reused.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Mapping
from typing import Any, final

import attrs

from arcaflow_steps.schema import DisplayValue, OneOfStringSchema, PropertySchema, validate

from ..deployers._protocols import Deployer, DeployerFactory, UnknownDeployerError

__all__ = ["DeployerCatalog", "DeployerChoice"]


@attrs.frozen(kw_only=True)
class DeployerChoice:
    """A deployer factory plus a validated configuration (defaults applied).

    Thread safety: safe to share (immutable).
    """

    factory: DeployerFactory = attrs.field(eq=False, hash=False)
    deployer_name: str
    #: The configuration without ``deployer_name``.
    config: Mapping[str, Any] = attrs.field(eq=False, hash=False)
    #: A canonical text of name and configuration: equal keys deploy identically.
    key: str


def _canonical(name: str, config: Mapping[str, Any]) -> str:
    return json.dumps([name, config], sort_keys=True, default=repr, separators=(",", ":"))


@final
class DeployerCatalog:
    """The installed deployer factories, grouped by deployment type.

    Thread safety: safe to share; created deployers are cached under a lock.
    """

    def __init__(self, factories: Iterable[DeployerFactory]) -> None:
        by_type: dict[str, dict[str, DeployerFactory]] = {}
        for factory in factories:
            by_type.setdefault(factory.deployment_type, {}).setdefault(
                factory.deployer_name, factory
            )
        self._by_type = by_type
        # Guards _deployers (choice key -> created deployer).
        self._lock = threading.Lock()
        self._deployers: dict[str, Deployer] = {}
        self._properties: dict[str, PropertySchema] = {}

    def deployment_types(self) -> tuple[str, ...]:
        """Return the deployment types with at least one deployer, sorted."""
        return tuple(sorted(self._by_type))

    def factories(self, deployment_type: str) -> tuple[DeployerFactory, ...]:
        """Return the deployers of a type, the default one first."""
        named = self._named(deployment_type)
        default = self._default_name(deployment_type)
        return tuple(
            named[name] for name in sorted(named, key=lambda name: (name != default, name))
        )

    def _named(self, deployment_type: str) -> dict[str, DeployerFactory]:
        try:
            return self._by_type[deployment_type]
        except KeyError:
            raise UnknownDeployerError("deployment type", deployment_type, self._by_type) from None

    def _default_name(self, deployment_type: str) -> str:
        named = self._named(deployment_type)
        return deployment_type if deployment_type in named else min(named)

    def deploy_property(self, deployment_type: str) -> PropertySchema:
        """Return the schema of the ``deploy`` stage input for a deployment type."""
        with self._lock:
            cached = self._properties.get(deployment_type)
        if cached is not None:
            return cached
        factories = self.factories(deployment_type)
        prop = PropertySchema(
            type=OneOfStringSchema(
                types={
                    factory.deployer_name: factory.configuration_schema() for factory in factories
                },
                discriminator_field_name="deployer_name",
            ),
            display=DisplayValue(
                name="Deployment",
                description=f"How to deploy the plugin; default: deployer_name "
                f"{factories[0].deployer_name!r} with its default configuration.",
            ),
        )
        with self._lock:
            self._properties[deployment_type] = prop
        return prop

    def resolve(
        self, deployment_type: str, deploy_input: Mapping[str, Any] | None
    ) -> DeployerChoice:
        """Return the deployer and configuration a ``deploy`` input (or None) selects.

        Raises:
            UnknownDeployerError: no deployer of that type or name.
            SchemaValidationError: the configuration does not match the deployer's schema.
        """
        named = self._named(deployment_type)
        if not deploy_input:
            name = self._default_name(deployment_type)
            raw: dict[str, Any] = {}
        else:
            raw = dict(deploy_input)
            name = str(raw.pop("deployer_name", self._default_name(deployment_type)))
        factory = named.get(name)
        if factory is None:
            raise UnknownDeployerError(
                f"deployer for deployment type {deployment_type!r}", name, named
            )
        config = validate(factory.configuration_schema(), raw, path="$.deploy")
        return DeployerChoice(
            factory=factory, deployer_name=name, config=config, key=_canonical(name, config)
        )

    def deployer(self, choice: DeployerChoice) -> Deployer:
        """Return the (shared) deployer of a choice, creating it on first use."""
        with self._lock:
            deployer = self._deployers.get(choice.key)
            if deployer is None:
                deployer = choice.factory.create(choice.config)
                self._deployers[choice.key] = deployer
            return deployer

    def close(self) -> None:
        """Close every created deployer that has a ``close()`` (fork servers, clients)."""
        with self._lock:
            deployers = list(self._deployers.values())
            self._deployers.clear()
        for deployer in deployers:
            close = getattr(deployer, "close", None)
            if callable(close):
                close()
