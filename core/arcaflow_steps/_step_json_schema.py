"""The JSON Schema of step definitions and step files, one branch per installed kind.

Editors use it to complete and check step files. A step definition is one of the installed
kinds, told apart by ``kind`` (``plugin`` when left out). Each branch knows the provider
keyword's schema exactly; the run keyword and the stage input fields depend on the loaded
runnable step (a plugin's own input schema, for example), so they are listed with a description
but accept any value. A step file is one definition or a ``steps:`` map of named definitions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from ._protocols import AnyProvider
from ._schema import PropertySchema, to_json_schema

__all__ = ["DEFAULT_KIND", "step_definition_json_schema"]

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


def _property_schema(kind: str, prop: PropertySchema, defs: dict[str, Any]) -> dict[str, Any]:
    """Return the JSON Schema of one property, hoisting its ``$defs`` under a kind prefix."""
    document = to_json_schema(prop.type)
    document.pop("$schema", None)
    local_defs: dict[str, Any] = document.pop("$defs", {})
    renames = {name: f"{kind}.{name}" for name in local_defs}
    for name, definition in local_defs.items():
        defs[renames[name]] = _rewrite_refs(definition, renames)
    result: dict[str, Any] = _rewrite_refs(document, renames)
    if prop.display is not None and prop.display.description and "description" not in result:
        result["description"] = prop.display.description
    return result


def _branch(provider: AnyProvider, defs: dict[str, Any]) -> dict[str, Any]:
    kind = provider.kind
    properties: dict[str, Any] = {
        "kind": {"const": kind, "description": f"The step kind {kind!r}."}
    }
    required: list[str] = [] if kind == DEFAULT_KIND else ["kind"]
    for name, prop in provider.provider_schema().items():
        properties[name] = _property_schema(kind, prop, defs)
        if prop.required:
            required.append(name)
    properties.setdefault(
        provider.run_keyword,
        {"description": f"Run keyword of {kind!r}: picks what to run once the schema is known."},
    )
    for stage in sorted(provider.lifecycle().stages, key=lambda stage: str(stage.id)):
        for field in sorted(stage.input_fields):
            properties.setdefault(
                field, {"description": f"Input of stage {str(stage.id)!r} of kind {kind!r}."}
            )
    return {
        "type": "object",
        "title": f"kind: {kind}",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


def step_definition_json_schema(providers: Sequence[AnyProvider]) -> dict[str, Any]:
    """Return a JSON Schema document for step files over the given providers."""
    defs: dict[str, Any] = {}
    branches = [_branch(provider, defs) for provider in sorted(providers, key=lambda p: p.kind)]
    defs["step"] = {
        "title": "step definition",
        "description": "One step: 'kind' (default 'plugin'), the provider keyword, the run "
        "keyword and stage input fields.",
        "oneOf": branches,
    }
    return {
        "$schema": _DIALECT,
        "title": "arcaflow-steps step file",
        "anyOf": [
            {"$ref": "#/$defs/step"},
            {
                "type": "object",
                "properties": {
                    "steps": {
                        "type": "object",
                        "description": "Named step definitions, run concurrently.",
                        "additionalProperties": {"$ref": "#/$defs/step"},
                        "minProperties": 1,
                    }
                },
                "required": ["steps"],
                "additionalProperties": False,
            },
        ],
        "$defs": defs,
    }
