"""The JSON Schema of step definitions and step files, one branch per installed kind.

Editors use it to complete and check step files. A step definition is one of the installed
kinds, told apart by ``kind`` (``plugin`` when left out): ``kind`` is an enum of the kinds, and
one ``if kind == X then <X's definition>`` per kind (not a ``oneOf``, whose errors would name
every branch) makes an editor report the real problem of the kind written.

Each kind's definition knows the provider keyword's schema exactly. The run keyword and the
stage input fields belong to a loaded runnable step: when the provider loads with its default
configuration (no provider keyword), they are typed exactly, required fields included;
otherwise (a plugin's input depends on the plugin) they are listed with a description and
accept any value. A step file is one definition or a ``steps:`` map of named definitions.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Final

import attrs

from ._lifecycle import Lifecycle, LifecycleStageWithSchema
from ._protocols import AnyProvider
from ._schema import PropertySchema, to_json_schema

__all__ = ["DEFAULT_KIND", "RunnableSchemas", "runnable_schemas", "step_definition_json_schema"]

#: The kind of a step definition that names none (as in Arcaflow).
DEFAULT_KIND: Final = "plugin"
_DIALECT: Final = "https://json-schema.org/draft/2020-12/schema"


def _rewrite_refs(value: Any, renames: Mapping[str, str]) -> Any:
    if isinstance(value, dict):
        result = {}
        for key, item in value.items():
            if key == "$ref" and isinstance(item, str) and item.startswith("#/$defs/"):
                result[key] = "#/$defs/" + renames.get(item[len("#/$defs/") :], item[8:])
            else:
                result[key] = _rewrite_refs(item, renames)
        return result
    if isinstance(value, list):
        return [_rewrite_refs(item, renames) for item in value]
    return value


@attrs.frozen(kw_only=True)
class RunnableSchemas:
    """The run schema and lifecycle of a provider loaded with its default configuration.

    Thread safety: safe to share (immutable).
    """

    run_schema: Mapping[str, PropertySchema]
    lifecycle: Lifecycle[LifecycleStageWithSchema]


def runnable_schemas(provider: AnyProvider) -> RunnableSchemas:
    """Load ``provider`` with its default configuration and return its runnable's schemas.

    Raises:
        ArcaflowStepsError: the provider needs its provider keyword (or the run keyword) to
            load, or loading failed.
    """
    from ._schema import validate_properties

    runnable = provider.load_schema(validate_properties(provider.provider_schema(), {}))
    run_schema = runnable.run_schema()
    lifecycle = runnable.lifecycle(validate_properties(run_schema, {}))
    return RunnableSchemas(run_schema=run_schema, lifecycle=lifecycle)


def _property_schema(prefix: str, prop: PropertySchema, defs: dict[str, Any]) -> dict[str, Any]:
    """Return the JSON Schema of one property, hoisting its ``$defs`` under ``prefix``."""
    document = to_json_schema(prop.type)
    document.pop("$schema", None)
    local_defs: dict[str, Any] = document.pop("$defs", {})
    renames = {name: f"{prefix}.{name}" for name in local_defs}
    for name, definition in local_defs.items():
        defs[renames[name]] = _rewrite_refs(definition, renames)
    result: dict[str, Any] = _rewrite_refs(document, renames)
    if prop.display is not None and prop.display.description and "description" not in result:
        result["description"] = prop.display.description
    if prop.default is not None and "default" not in result:
        result["default"] = json.loads(prop.default)
    return result


def _definition(provider: AnyProvider, defs: dict[str, Any]) -> dict[str, Any]:
    """Return the JSON Schema of one kind's step definitions."""
    kind = provider.kind
    properties: dict[str, Any] = {
        "kind": {"const": kind, "description": f"The step kind {kind!r}."}
    }
    required: list[str] = [] if kind == DEFAULT_KIND else ["kind"]

    def add(name: str, prop: PropertySchema, prefix: str) -> None:
        properties[name] = _property_schema(prefix, prop, defs)
        if prop.required and name not in required:
            required.append(name)

    for name, prop in provider.provider_schema().items():
        add(name, prop, kind)
    try:
        loaded: RunnableSchemas | None = runnable_schemas(provider)
    except Exception:  # a provider bug must not break the schema of the other kinds
        loaded = None  # its schemas depend on the provider keyword: described, not typed
    if loaded is not None:
        for name, prop in loaded.run_schema.items():
            add(name, prop, f"{kind}.{name}")
        for stage in loaded.lifecycle.stages:
            for name, prop in stage.input_schema.items():
                add(str(name), prop, f"{kind}.{name}")
    properties.setdefault(
        provider.run_keyword,
        {"description": f"Run keyword of {kind!r}: picks what to run once the schema is known."},
    )
    for plain in sorted(provider.lifecycle().stages, key=lambda stage: str(stage.id)):
        for field in sorted(plain.input_fields):
            properties.setdefault(
                field, {"description": f"Input of stage {str(plain.id)!r} of kind {kind!r}."}
            )
    return {
        "type": "object",
        "title": f"kind: {kind}",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


def _kind_condition(kind: str) -> dict[str, Any]:
    """Return the ``if`` that selects ``kind`` (the default kind also when ``kind`` is absent)."""
    condition: dict[str, Any] = {"properties": {"kind": {"const": kind}}}
    if kind != DEFAULT_KIND:
        condition["required"] = ["kind"]
    return condition


def step_definition_json_schema(providers: Sequence[AnyProvider]) -> dict[str, Any]:
    """Return a JSON Schema document for step files over the given providers."""
    defs: dict[str, Any] = {}
    kinds = sorted(providers, key=lambda p: p.kind)
    for provider in kinds:
        defs[f"kind.{provider.kind}"] = _definition(provider, defs)
    defs["step"] = {
        "title": "step definition",
        "description": "One step: 'kind' (default 'plugin'), the provider keyword, the run "
        "keyword and stage input fields.",
        "type": "object",
        "properties": {
            "kind": {
                "enum": [provider.kind for provider in kinds],
                "description": "The step kind (default 'plugin').",
            }
        },
        "allOf": [
            {
                "if": _kind_condition(provider.kind),
                "then": {"$ref": f"#/$defs/kind.{provider.kind}"},
            }
            for provider in kinds
        ],
    }
    # if/then/else, not anyOf: an editor reports the problem of the form the file has.
    return {
        "$schema": _DIALECT,
        "title": "arcaflow-steps step file",
        "type": "object",
        "if": {"required": ["steps"]},
        "then": {
            "properties": {
                "steps": {
                    "type": "object",
                    "description": "Named step definitions, run concurrently.",
                    "additionalProperties": {"$ref": "#/$defs/step"},
                    "minProperties": 1,
                }
            },
            "additionalProperties": False,
        },
        "else": {"$ref": "#/$defs/step"},
        "$defs": defs,
    }
