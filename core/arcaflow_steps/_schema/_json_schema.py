"""JSON Schema (draft 2020-12) for editors, generated from schema records.

Objects of scopes become ``$defs`` entries (an object id that two scopes use for different
objects gets a numbered suffix). A ``$defs`` object is open; every place that uses it closes it
with ``{"$ref": ..., "unevaluatedProperties": false}``, which sees the properties ``$ref``
evaluated, so a one-of member can add its discriminator as a ``const`` property beside the
``$ref`` and recursive schemas stay finite. Inline objects forbid unknown properties directly.
``required_if`` becomes ``dependentRequired``, ``required_if_not`` an ``anyOf`` of ``required``
lists, ``conflicts`` a ``not``/``required`` pair. Defaults and examples are decoded from their
JSON encoding.

Each type is described by the value it stands for, not by everything validation converts to it
(an integer for a string, ``"yes"`` for a boolean, ``"2kB"`` for an integer): an editor points
out ``name: 5`` for a string, which ``validate`` accepts as ``"5"``, as the plugin SDK does.
"""

from __future__ import annotations

import json
from typing import Any, Final

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
)

__all__ = ["to_json_schema"]

DIALECT: Final = "https://json-schema.org/draft/2020-12/schema"


class _Builder:
    """Collects ``$defs`` while walking one schema. Not thread-safe; one per call."""

    def __init__(self) -> None:
        self.defs: dict[str, Any] = {}
        # id(scope) -> object id -> $defs key
        self._names: dict[int, dict[str, str]] = {}
        self._owners: dict[str, ObjectSchema] = {}

    def register_scope(self, scope: ScopeSchema) -> dict[str, str]:
        names = self._names.get(id(scope))
        if names is not None:
            return names
        names = {}
        self._names[id(scope)] = names
        pending: list[tuple[str, ObjectSchema]] = []
        for object_id, obj in scope.objects.items():
            key = object_id
            counter = 1
            while key in self._owners and self._owners[key] != obj:
                counter += 1
                key = f"{object_id}_{counter}"
            names[object_id] = key
            if key not in self._owners:
                self._owners[key] = obj
                pending.append((key, obj))
        for key, obj in pending:
            self.defs[key] = {}  # reserve the name before walking (recursive refs)
            self.defs[key] = self.object(obj, scope, closed=False)
        return names

    def ref(self, object_id: str, scope: ScopeSchema | None) -> dict[str, Any]:
        # $defs objects are open; each use site closes them with unevaluatedProperties, which
        # sees what $ref evaluated, so a one-of can add its discriminator next to the $ref.
        key = object_id if scope is None else self.register_scope(scope).get(object_id, object_id)
        return {"$ref": f"#/$defs/{key}", "unevaluatedProperties": False}

    def object(
        self, obj: ObjectSchema, scope: ScopeSchema | None, *, closed: bool = True
    ) -> dict[str, Any]:
        properties: dict[str, Any] = {}
        required: list[str] = []
        dependent: dict[str, list[str]] = {}
        all_of: list[Any] = []
        for name, prop in obj.properties.items():
            properties[name] = self.property(prop, scope)
            if prop.required and name not in required:
                required.append(name)
            for other in prop.required_if:
                dependents = dependent.setdefault(other, [])
                if name not in dependents:
                    dependents.append(name)
            if prop.required_if_not:
                all_of.append(
                    {
                        "anyOf": [{"required": [name]}]
                        + [{"required": [other]} for other in prop.required_if_not]
                    }
                )
            for other in dict.fromkeys(prop.conflicts):
                # A property "conflicting" with itself says nothing JSON Schema can express.
                if other != name:
                    all_of.append({"not": {"required": [name, other]}})
        result: dict[str, Any] = {"type": "object", "title": obj.id, "properties": properties}
        if closed:
            result["additionalProperties"] = False
        if required:
            result["required"] = required
        if dependent:
            result["dependentRequired"] = dependent
        if all_of:
            result["allOf"] = all_of
        return result

    def property(self, prop: PropertySchema, scope: ScopeSchema | None) -> dict[str, Any]:
        result = self.type(prop.type, scope)
        if "$ref" in result:
            result = dict(result)
        _display(result, prop.display)
        if prop.default is not None:
            result["default"] = json.loads(prop.default)
        if prop.examples:
            result["examples"] = [json.loads(example) for example in prop.examples]
        return result

    def type(self, schema: TypeSchema, scope: ScopeSchema | None) -> dict[str, Any]:  # noqa: PLR0911, PLR0912 (one branch per type)
        if isinstance(schema, StringSchema):
            result: dict[str, Any] = {"type": "string"}
            _bounds(result, "minLength", schema.min, "maxLength", schema.max)
            if schema.pattern is not None:
                result["pattern"] = schema.pattern
            return result
        if isinstance(schema, PatternSchema):
            return {"type": "string", "format": "regex"}
        if isinstance(schema, IntSchema | FloatSchema):
            result = {"type": "integer" if isinstance(schema, IntSchema) else "number"}
            _bounds(result, "minimum", schema.min, "maximum", schema.max)
            return result
        if isinstance(schema, BoolSchema):
            return {"type": "boolean"}
        if isinstance(schema, StringEnumSchema):
            return {"type": "string", "enum": list(schema.values)}
        if isinstance(schema, IntEnumSchema):
            return {"type": "integer", "enum": list(schema.values)}
        if isinstance(schema, ListSchema):
            result = {"type": "array", "items": self.type(schema.items, scope)}
            _bounds(result, "minItems", schema.min, "maxItems", schema.max)
            return result
        if isinstance(schema, MapSchema):
            result = {"type": "object"}
            key_schema = _key_schema(schema.keys)
            if key_schema:
                result["propertyNames"] = key_schema
            result["additionalProperties"] = self.type(schema.values, scope)
            _bounds(result, "minProperties", schema.min, "maxProperties", schema.max)
            return result
        if isinstance(schema, ObjectSchema):
            return self.object(schema, scope)
        if isinstance(schema, RefSchema):
            result = self.ref(schema.id, scope)
            _display(result, schema.display)
            return result
        if isinstance(schema, ScopeSchema):
            return self.ref(schema.root, schema)
        if isinstance(schema, OneOfStringSchema | OneOfIntSchema):
            return self.one_of(schema, scope)
        if isinstance(schema, AnySchema):
            return {}
        raise TypeError(f"not a schema type record: {schema!r}")

    def one_of(
        self, schema: OneOfStringSchema | OneOfIntSchema, scope: ScopeSchema | None
    ) -> dict[str, Any]:
        field = schema.discriminator_field_name
        kind = "string" if isinstance(schema, OneOfStringSchema) else "integer"
        members = []
        for key, member in schema.types.items():
            discriminator = {field: {"type": kind, "const": key}}
            if isinstance(member, ObjectSchema):
                inline = self.object(member, scope, closed=False)
                inline["properties"] = {**discriminator, **inline["properties"]}
                inline["required"] = [field, *(n for n in inline.get("required", ()) if n != field)]
                inline["unevaluatedProperties"] = False
                members.append(inline)
                continue
            target = (
                self.ref(member.root, member)
                if isinstance(member, ScopeSchema)
                else (self.ref(member.id, scope))
            )
            members.append(
                {
                    **target,
                    "type": "object",
                    "properties": discriminator,
                    "required": [field],
                }
            )
        return {"oneOf": members}


def _display(result: dict[str, Any], display: DisplayValue | None) -> None:
    if display is None:
        return
    if display.name is not None:
        result["title"] = display.name
    if display.description is not None:
        result["description"] = display.description


def _bounds(result: dict[str, Any], min_key: str, minimum: Any, max_key: str, maximum: Any) -> None:
    if minimum is not None:
        result[min_key] = minimum
    if maximum is not None:
        result[max_key] = maximum


def _key_schema(keys: Any) -> dict[str, Any]:
    if isinstance(keys, StringSchema):
        result: dict[str, Any] = {}
        _bounds(result, "minLength", keys.min, "maxLength", keys.max)
        if keys.pattern is not None:
            result["pattern"] = keys.pattern
        return result
    if isinstance(keys, StringEnumSchema):
        return {"enum": list(keys.values)}
    if isinstance(keys, IntEnumSchema):
        return {"enum": [str(value) for value in keys.values]}
    return {"pattern": "^-?[0-9]+$"}


def to_json_schema(schema: TypeSchema) -> dict[str, Any]:
    """Return a JSON Schema (draft 2020-12) document describing values valid for ``schema``.

    A scope's objects go into ``$defs``; the document itself refers to the root object.
    """
    builder = _Builder()
    body = builder.type(schema, None)
    result: dict[str, Any] = {"$schema": DIALECT, **body}
    if builder.defs:
        result["$defs"] = builder.defs
    return result
