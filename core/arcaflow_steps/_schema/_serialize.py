"""Writing the Arcaflow serialized schema form (see :mod:`._parse` for the form itself)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._plugin_records import PluginSchema, SignalSchema, StepOutputSchema, StepSchema
from ._records import (
    AnySchema,
    BoolSchema,
    DisplayValue,
    FloatSchema,
    IntEnumSchema,
    IntSchema,
    ListSchema,
    MapSchema,
    ObjectSchema,
    OneOfIntSchema,
    OneOfStringSchema,
    PatternSchema,
    PropertySchema,
    RefSchema,
    ScopeSchema,
    StringEnumSchema,
    StringSchema,
    TypeSchema,
    Unit,
    Units,
)

__all__ = [
    "serialize_display",
    "serialize_plugin_schema",
    "serialize_property",
    "serialize_schema",
    "serialize_scope",
    "serialize_step",
]


def serialize_display(display: DisplayValue) -> dict[str, Any]:
    """Return the form of a display value (unset fields omitted)."""
    result: dict[str, Any] = {}
    if display.name is not None:
        result["name"] = display.name
    if display.description is not None:
        result["description"] = display.description
    if display.icon is not None:
        result["icon"] = display.icon
    return result


def _serialize_unit(unit: Unit) -> dict[str, Any]:
    return {
        "name_short_singular": unit.name_short_singular,
        "name_short_plural": unit.name_short_plural,
        "name_long_singular": unit.name_long_singular,
        "name_long_plural": unit.name_long_plural,
    }


def _serialize_units(units: Units) -> dict[str, Any]:
    result: dict[str, Any] = {"base_unit": _serialize_unit(units.base_unit)}
    if units.multipliers is not None:
        result["multipliers"] = {
            key: _serialize_unit(unit) for key, unit in units.multipliers.items()
        }
    return result


def _put(result: dict[str, Any], key: str, value: Any) -> None:
    if value is not None:
        result[key] = value


def serialize_property(prop: PropertySchema) -> dict[str, Any]:
    """Return the form of a property."""
    result: dict[str, Any] = {"type": serialize_schema(prop.type)}
    if prop.display is not None:
        result["display"] = serialize_display(prop.display)
    _put(result, "default", prop.default)
    if prop.examples or "examples" in prop.present_empty:
        result["examples"] = list(prop.examples)
    result["required"] = prop.required
    for key in ("required_if", "required_if_not", "conflicts"):
        values: tuple[str, ...] = getattr(prop, key)
        if values or key in prop.present_empty:
            result[key] = list(values)
    return result


def _serialize_object_body(schema: ObjectSchema) -> dict[str, Any]:
    result: dict[str, Any] = {
        "id": schema.id,
        "properties": {name: serialize_property(prop) for name, prop in schema.properties.items()},
    }
    _put(result, "id_unenforced", schema.id_unenforced)
    return result


def serialize_scope(scope: ScopeSchema) -> dict[str, Any]:
    """Return the form of a scope as step inputs and outputs carry it (no ``type_id``)."""
    return {
        "objects": {key: _serialize_object_body(obj) for key, obj in scope.objects.items()},
        "root": scope.root,
    }


def _serialize_body(schema: Any) -> dict[str, Any]:  # noqa: PLR0912 (one branch per type)
    result: dict[str, Any] = {}
    if isinstance(schema, StringSchema):
        _put(result, "min", schema.min)
        _put(result, "max", schema.max)
        _put(result, "pattern", schema.pattern)
    elif isinstance(schema, IntSchema | FloatSchema):
        _put(result, "min", schema.min)
        _put(result, "max", schema.max)
        if schema.units is not None:
            result["units"] = _serialize_units(schema.units)
    elif isinstance(schema, StringEnumSchema | IntEnumSchema):
        result["values"] = {
            key: serialize_display(display) for key, display in schema.values.items()
        }
        if isinstance(schema, IntEnumSchema) and schema.units is not None:
            result["units"] = _serialize_units(schema.units)
    elif isinstance(schema, ListSchema):
        result["items"] = serialize_schema(schema.items)
        _put(result, "min", schema.min)
        _put(result, "max", schema.max)
    elif isinstance(schema, MapSchema):
        result["keys"] = serialize_schema(schema.keys)
        result["values"] = serialize_schema(schema.values)
        _put(result, "min", schema.min)
        _put(result, "max", schema.max)
    elif isinstance(schema, ObjectSchema):
        result = _serialize_object_body(schema)
    elif isinstance(schema, RefSchema):
        result["id"] = schema.id
        if schema.display is not None:
            result["display"] = serialize_display(schema.display)
        _put(result, "namespace", schema.namespace)
    elif isinstance(schema, ScopeSchema):
        result = serialize_scope(schema)
    elif isinstance(schema, OneOfStringSchema | OneOfIntSchema):
        result["types"] = {key: serialize_schema(member) for key, member in schema.types.items()}
        result["discriminator_inlined"] = schema.discriminator_inlined
        result["discriminator_field_name"] = schema.discriminator_field_name
    elif not isinstance(schema, PatternSchema | BoolSchema | AnySchema):
        raise TypeError(f"not a schema type record: {schema!r}")
    return result


def serialize_schema(schema: TypeSchema) -> dict[str, Any]:
    """Return the Arcaflow serialized form of a type schema (with its ``type_id``)."""
    result = _serialize_body(schema)
    result["type_id"] = schema.TYPE_ID
    return result


def _serialize_signal(signal: SignalSchema) -> dict[str, Any]:
    result: dict[str, Any] = {"id": signal.id, "data_schema": serialize_scope(signal.data_schema)}
    if signal.display is not None:
        result["display"] = serialize_display(signal.display)
    return result


def _serialize_output(output: StepOutputSchema) -> dict[str, Any]:
    result: dict[str, Any] = {"schema": serialize_scope(output.schema)}
    if output.display is not None:
        result["display"] = serialize_display(output.display)
    result["error"] = output.error
    return result


def serialize_step(step: StepSchema) -> dict[str, Any]:
    """Return the form of a step."""
    result: dict[str, Any] = {
        "id": step.id,
        "input": serialize_scope(step.input),
        "outputs": {key: _serialize_output(output) for key, output in step.outputs.items()},
    }
    for key in ("signal_handlers", "signal_emitters"):
        signals: Mapping[str, SignalSchema] = getattr(step, key)
        if signals or key in step.present_empty:
            result[key] = {
                signal_id: _serialize_signal(signal) for signal_id, signal in signals.items()
            }
    if step.display is not None:
        result["display"] = serialize_display(step.display)
    return result


def serialize_plugin_schema(schema: PluginSchema) -> dict[str, Any]:
    """Return the Arcaflow serialized form of a plugin schema."""
    return {"steps": {step_id: serialize_step(step) for step_id, step in schema.steps.items()}}
