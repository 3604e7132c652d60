"""The config file of ``arcaflow-steps workflow`` (``-config``): the Go engine's format.

Keys (reference/workflow.md §2), anything else is refused with the valid keys listed:

``log``
    ``level`` (``debug`` | ``info`` | ``warning`` | ``error``, default ``info``) and
    ``destination`` (``stdout``, the only value the Go engine allows; logs go to stderr anyway).
``deployers``
    deployment type -> deployer configuration, a one-of keyed by ``deployer_name``
    (``python: {deployer_name: python, workdir: /var/cache/af}``). Each entry is checked
    against the ``plugin`` provider's ``deploy`` schema for that type (every installed
    deployer's configuration schema). A ``plugin`` step that gives no ``deploy`` of its own
    deploys with its deployment type's entry (:func:`step_defaults`); a step with ``deploy``
    uses only that, as in the Go engine. Unlike the Go engine, nothing is instantiated up
    front: a deployer starts when a step uses it, so no config means no podman.
``logged_outputs``
    output id -> ``{level}``: every step stage that ends with that output id is logged at
    that level (:mod:`._workflow_log`).
``plugins``
    a list of plugin sources; accepted for compatibility and unused (as in the Go engine).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Final

import attrs

from .._errors import ArcaflowStepsError
from ..schema import (
    AnySchema,
    DisplayValue,
    ListSchema,
    MapSchema,
    ObjectSchema,
    PropertySchema,
    StringEnumSchema,
    StringSchema,
    TypeSchema,
    validate,
)

if TYPE_CHECKING:
    from .._registry import Registry

__all__ = [
    "LOG_LEVELS",
    "WorkflowConfig",
    "WorkflowConfigError",
    "check_deployers",
    "check_with_providers",
    "parse_config",
    "step_defaults",
]

#: Log levels, least severe first.
LOG_LEVELS: Final = ("debug", "info", "warning", "error")

_PLUGIN_KIND: Final = "plugin"


def _enum(*values: str) -> StringEnumSchema:
    return StringEnumSchema(values={value: DisplayValue(name=value) for value in values})


_LEVEL: Final = PropertySchema(type=_enum(*LOG_LEVELS), default='"info"')

CONFIG_SCHEMA: Final = ObjectSchema(
    id="Config",
    properties={
        "log": PropertySchema(
            type=ObjectSchema(
                id="LogConfig",
                properties={
                    "level": _LEVEL,
                    "destination": PropertySchema(type=_enum("stdout"), default='"stdout"'),
                },
            )
        ),
        "deployers": PropertySchema(
            type=MapSchema(keys=StringSchema(min=1), values=AnySchema()),
        ),
        "logged_outputs": PropertySchema(
            type=MapSchema(
                keys=StringSchema(pattern=r"^[$@a-zA-Z0-9-_]+$"),
                values=ObjectSchema(id="LoggedOutputConfig", properties={"level": _LEVEL}),
            ),
        ),
        "plugins": PropertySchema(type=ListSchema(items=StringSchema(min=1))),
    },
)


class WorkflowConfigError(ArcaflowStepsError, ValueError):
    """The config file cannot be used (exit 1); ``source`` is its path."""

    def __init__(self, problem: str, *, source: str | None = None) -> None:
        self.problem = problem
        self.source = source
        super().__init__(f"{source}: {problem}" if source else problem)


@attrs.frozen(kw_only=True)
class WorkflowConfig:
    """A config file, checked for shape (its deployers by :func:`check_deployers`).

    Thread safety: safe to share (immutable).
    """

    log_level: str = "info"
    #: deployment type -> deployer configuration with ``deployer_name``; empty: our defaults.
    deployers: Mapping[str, Mapping[str, Any]] = attrs.field(factory=dict)
    #: output id -> log level.
    logged_outputs: Mapping[str, str] = attrs.field(factory=dict)
    plugins: tuple[str, ...] = ()
    #: Where it was read from, for messages (``None``: no config file).
    source: str | None = None


def parse_config(data: Any, *, source: str | None = None) -> WorkflowConfig:
    """Return the config in ``data`` (the loaded YAML; ``None``, an empty file, is the
    default config).

    Raises:
        WorkflowConfigError: unknown keys, bad levels, a deployer entry that is not a mapping
            with a ``deployer_name``, every problem listed with its path.
    """
    if data is None:
        return WorkflowConfig(source=source)
    try:
        checked = validate(CONFIG_SCHEMA, data, path="$")
    except ArcaflowStepsError as exc:
        raise WorkflowConfigError(str(exc), source=source) from exc
    problems: list[str] = []
    deployers: dict[str, Mapping[str, Any]] = {}
    for deployment_type, entry in checked.get("deployers", {}).items():
        path = f"$.deployers.{deployment_type}"
        if not isinstance(entry, Mapping):
            problems.append(f"expected a mapping, got {entry!r} @ {path}")
        elif not isinstance(entry.get("deployer_name"), str):
            problems.append(f"missing field 'deployer_name' (a string) @ {path}")
        else:
            deployers[deployment_type] = dict(entry)
    if problems:
        raise WorkflowConfigError("\n".join(problems), source=source)
    return WorkflowConfig(
        log_level=checked.get("log", {}).get("level", "info"),
        deployers=deployers,
        logged_outputs={
            output_id: entry.get("level", "info")
            for output_id, entry in checked.get("logged_outputs", {}).items()
        },
        plugins=tuple(checked.get("plugins", ())),
        source=source,
    )


#: ``deployment type -> the "deploy" property schema for it``; raises for an unknown type.
DeploySchema = Callable[[str], PropertySchema]


def check_deployers(config: WorkflowConfig, deploy_schema: DeploySchema) -> None:
    """Check every ``deployers`` entry against the deployers installed for its type.

    Raises:
        WorkflowConfigError: an unknown deployment type or deployer name, or a configuration
            the deployer refuses; every problem listed with its path.
    """
    problems: list[str] = []
    for deployment_type, entry in config.deployers.items():
        path = f"$.deployers.{deployment_type}"
        try:
            schema: TypeSchema = deploy_schema(deployment_type).type
            validate(schema, dict(entry), path=path)
        except ArcaflowStepsError as exc:
            message = str(exc)
            problems.append(message if " @ $" in message else f"{message} @ {path}")
    if problems:
        raise WorkflowConfigError("\n".join(problems), source=config.source)


def step_defaults(
    config: WorkflowConfig,
) -> Callable[[str, str, Mapping[str, Any]], Mapping[str, Any]]:
    """Return the ``WorkflowContext.step_defaults`` of ``config``: a ``plugin`` step without
    ``deploy`` gets its deployment type's ``deployers`` entry as ``deploy``."""
    deployers = config.deployers

    def fill_in(step_id: str, kind: str, definition: Mapping[str, Any]) -> Mapping[str, Any]:
        del step_id
        if kind != _PLUGIN_KIND or "deploy" in definition or not deployers:
            return definition
        fields = definition.get(_PLUGIN_KIND)
        deployment_type = fields.get("deployment_type") if isinstance(fields, Mapping) else None
        if not isinstance(deployment_type, str) or deployment_type not in deployers:
            return definition
        return {**definition, "deploy": dict(deployers[deployment_type])}

    return fill_in


def check_with_providers(config: WorkflowConfig, registry: Registry) -> None:
    """Check the ``deployers`` entries with the ``plugin`` provider's ``deploy_schema`` (its
    deployers are the ones a config names).

    Raises:
        WorkflowConfigError: as :func:`check_deployers`; also when entries are given but the
            ``plugin`` kind is not installed (or blocked).
    """
    if not config.deployers:
        return
    try:
        provider = registry.get(_PLUGIN_KIND)
    except ArcaflowStepsError as exc:
        raise WorkflowConfigError(
            f"'deployers' needs the {_PLUGIN_KIND!r} kind: {exc}", source=config.source
        ) from None
    check_deployers(config, provider.deploy_schema)  # type: ignore[attr-defined]
