"""The Arcaflow schema model: records, validation, the serialized form and JSON Schema.

Public names are re-exported from :mod:`arcaflow_steps`. One module per concept:

``_records``      frozen, hashable records mirroring the serialized form (``TypeSchema`` union)
``_validate``     ``validate`` / ``validate_properties``: every problem, with its path
``_scalars``      checks of scalar values and the wording of problems
``_defaults``     decoding JSON-encoded property defaults into typed values
``_parse``        reading the serialized form (``parse_*``), checking refs, roots and defaults
``_serialize``    writing the serialized form (``serialize_*``)
``_json_schema``  ``to_json_schema``: draft 2020-12 documents for editors
``_attrs``        ``scope_from_attrs``: attrs classes as schemas, structured with cattrs

Where validation deliberately differs from ``arcaflow-plugin-sdk`` (it coerces silently, we do
not) is listed in ``_validate``'s docstring and ``docs/schema-differences.md``.
"""

from ._attrs import scope_from_attrs
from ._json_schema import to_json_schema
from ._parse import parse_property, parse_schema, parse_scope
from ._parse_plugin import parse_plugin_schema, parse_step
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
    object_scope,
)
from ._serialize import (
    serialize_plugin_schema,
    serialize_property,
    serialize_schema,
    serialize_scope,
    serialize_step,
)
from ._validate import validate, validate_properties

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
