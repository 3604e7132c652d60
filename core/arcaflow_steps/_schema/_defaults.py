"""Decoding property defaults: JSON-encoded strings in the form, typed values once decoded.

JSON writes every mapping key as a string, so the default of a map with integer keys
(``'{"1": [1.5]}'``) is decoded back with integer keys by walking the property's type.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from ._records import (
    IntEnumSchema,
    IntSchema,
    ListSchema,
    MapSchema,
    ObjectSchema,
    OneOfIntSchema,
    OneOfStringSchema,
    PropertySchema,
    RefSchema,
    ScopeSchema,
)

__all__ = ["default_value"]


def default_value(prop: PropertySchema, scope: ScopeSchema | None) -> Any:
    """Return the decoded default of ``prop`` (a fresh copy), with JSON's string map keys
    turned back into integers where the map's keys are integers."""
    value = prop.default_value()
    if not value or isinstance(value, str | int | float | bool):
        return value  # scalars and empty containers need no walk
    return _from_json(prop.type, value, scope, 0)


_MAX_DEPTH: Final = 64


def _from_json(  # noqa: PLR0911 (one return per kind of type)
    schema: Any, value: Any, scope: ScopeSchema | None, depth: int
) -> Any:
    if depth > _MAX_DEPTH or value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(schema, ListSchema) and isinstance(value, list):
        return [_from_json(schema.items, item, scope, depth + 1) for item in value]
    if isinstance(schema, MapSchema) and isinstance(value, dict):
        int_keys = isinstance(schema.keys, IntSchema | IntEnumSchema)
        return {
            (_int_or_str(key) if int_keys else key): _from_json(
                schema.values, item, scope, depth + 1
            )
            for key, item in value.items()
        }
    if not isinstance(value, dict):
        return value
    properties: Mapping[str, PropertySchema] | None = None
    if isinstance(schema, ObjectSchema):
        properties = schema.properties
    elif isinstance(schema, ScopeSchema):
        scope = schema
        root = schema.objects.get(schema.root)
        properties = None if root is None else root.properties
    elif isinstance(schema, RefSchema) and scope is not None:
        target = scope.objects.get(schema.id)
        properties = None if target is None else target.properties
    elif isinstance(schema, OneOfStringSchema | OneOfIntSchema):
        types: Mapping[Any, ObjectSchema | RefSchema | ScopeSchema] = schema.types
        member = types.get(value.get(schema.discriminator_field_name))
        if member is not None:
            return _from_json(member, value, scope, depth + 1)
    if properties is None:
        return value
    return {
        key: (
            _from_json(properties[key].type, item, scope, depth + 1) if key in properties else item
        )
        for key, item in value.items()
    }


def _int_or_str(key: Any) -> Any:
    if isinstance(key, str):
        try:
            return int(key)
        except ValueError:
            return key
    return key
