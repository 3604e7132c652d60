"""The Arcaflow schema model: frozen records, and reading, writing and validating them.

Schemas follow the Arcaflow schema model (scope, object, property, string, int, float, bool,
list, map, enum, one-of, ref, any) and read and write its serialized form exactly
(:func:`parse_schema`, :func:`serialize_schema`; plugin schemas with
:func:`parse_plugin_schema`). :func:`validate` reports every problem with its path as a
:class:`ValidationProblem`; :func:`scope_from_attrs` derives a scope from attrs classes and
:func:`to_json_schema` exports one for editors.
"""

from __future__ import annotations

from ._error_records import ValidationProblem
from ._schema import (
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
    PluginSchema,
    PropertySchema,
    RefSchema,
    ScopeSchema,
    SignalSchema,
    StepOutputSchema,
    StepSchema,
    StringEnumSchema,
    StringSchema,
    TypeSchema,
    Unit,
    Units,
    object_scope,
    parse_plugin_schema,
    parse_property,
    parse_schema,
    parse_scope,
    parse_step,
    scope_from_attrs,
    serialize_plugin_schema,
    serialize_property,
    serialize_schema,
    serialize_scope,
    serialize_step,
    to_json_schema,
    validate,
    validate_properties,
)

__all__ = [
    "AnySchema",
    "BoolSchema",
    "DisplayValue",
    "FloatSchema",
    "IntEnumSchema",
    "IntSchema",
    "ListSchema",
    "MapSchema",
    "ObjectSchema",
    "OneOfIntSchema",
    "OneOfStringSchema",
    "PatternSchema",
    "PluginSchema",
    "PropertySchema",
    "RefSchema",
    "ScopeSchema",
    "SignalSchema",
    "StepOutputSchema",
    "StepSchema",
    "StringEnumSchema",
    "StringSchema",
    "TypeSchema",
    "Unit",
    "Units",
    "ValidationProblem",
    "object_scope",
    "parse_plugin_schema",
    "parse_property",
    "parse_schema",
    "parse_scope",
    "parse_step",
    "scope_from_attrs",
    "serialize_plugin_schema",
    "serialize_property",
    "serialize_schema",
    "serialize_scope",
    "serialize_step",
    "to_json_schema",
    "validate",
    "validate_properties",
]

for _name in __all__:
    _value = globals()[_name]
    if isinstance(_value, type):
        _value.__module__ = __name__
