"""Reading the serialized form: bad data raises InvalidSchemaError naming the path."""

from __future__ import annotations

from typing import Any

import pytest

from arcaflow_steps import InvalidSchemaError
from arcaflow_steps.schema import (
    DisplayValue,
    IntEnumSchema,
    IntSchema,
    ObjectSchema,
    PropertySchema,
    ScopeSchema,
    StringSchema,
    object_scope,
    parse_plugin_schema,
    parse_property,
    parse_schema,
    parse_scope,
    serialize_property,
    serialize_schema,
    validate,
)


def scope_form(**properties: Any) -> dict[str, Any]:
    """Return the form of a scope with one object ``R`` holding ``properties``."""
    return {"objects": {"R": {"id": "R", "properties": properties}}, "root": "R"}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"min": 1},
            "invalid schema: missing 'type_id'; valid type ids: 'any', 'bool', "
            "'enum_integer', 'enum_string', 'float', 'integer', 'list', 'map', 'object', "
            "'one_of_int', 'one_of_string', 'pattern', 'ref', 'scope', 'string' @ $",
        ),
        (
            {"type_id": "str"},
            "invalid schema: unknown type_id 'str'; valid type ids: 'any', "
            "'bool', 'enum_integer', 'enum_string', 'float', 'integer', 'list', 'map', 'object', "
            "'one_of_int', 'one_of_string', 'pattern', 'ref', 'scope', 'string' @ $",
        ),
        ([], "invalid schema: expected a mapping, got list @ $"),
        (
            {"type_id": "integer", "min": "1"},
            "invalid schema: expected an integer, got '1' @ $.min",
        ),
        (
            {"type_id": "integer", "max": True},
            "invalid schema: expected an integer, got True @ $.max",
        ),
        ({"type_id": "float", "min": "x"}, "invalid schema: expected a number, got 'x' @ $.min"),
        (
            {"type_id": "string", "pattern": "("},
            "invalid schema: invalid pattern '(': missing ), "
            "unterminated subpattern at position 0 @ $.pattern",
        ),
        ({"type_id": "list"}, "invalid schema: missing required field 'items' @ $"),
        (
            {"type_id": "list", "items": {"type_id": "nope"}},
            "invalid schema: unknown type_id "
            "'nope'; valid type ids: 'any', 'bool', 'enum_integer', 'enum_string', 'float', "
            "'integer', 'list', 'map', 'object', 'one_of_int', 'one_of_string', 'pattern', 'ref', "
            "'scope', 'string' @ $.items",
        ),
        (
            {"type_id": "map", "keys": {"type_id": "bool"}, "values": {"type_id": "any"}},
            "invalid schema: map keys must be of type 'enum_integer', 'enum_string', 'integer' or "
            "'string', not 'bool' @ $.keys",
        ),
        (
            {"type_id": "enum_string", "values": {}},
            "invalid schema: an enum needs at least one value @ $.values",
        ),
        (
            {"type_id": "enum_integer", "values": {"one": {}}},
            "invalid schema: expected an integer key, got 'one' @ $.values['one']",
        ),
        (
            {"type_id": "ref", "id": "X"},
            "invalid schema: ref 'X' does not name an object of "
            "the enclosing scope; declared objects: none (no enclosing scope) @ $.id",
        ),
        (
            {"type_id": "one_of_string", "types": {"a": {"type_id": "string"}}},
            "invalid schema: one-of members must be of type 'object', 'ref' or 'scope', not "
            "'string' @ $.types['a']",
        ),
        (
            {"type_id": "scope", "objects": {}, "root": "R"},
            "invalid schema: root object 'R' is not declared; declared objects: none @ $.root",
        ),
        (
            {"type_id": "scope", **scope_form(a={"type": {"type_id": "ref", "id": "Q"}})},
            "invalid schema: ref 'Q' does not name an object of the enclosing scope; declared "
            "objects: 'R' @ $.objects['R'].properties['a'].type.id",
        ),
        (
            {"type_id": "scope", **scope_form(a={"type": {"type_id": "integer"}, "default": "x"})},
            "invalid schema: default 'x' is not valid JSON: Expecting value: line 1 column 1 "
            "(char 0) @ $.objects['R'].properties['a'].default",
        ),
        (
            {
                "type_id": "scope",
                **scope_form(a={"type": {"type_id": "integer"}, "default": '"x"'}),
            },
            "invalid schema: default '\"x\"' is not a valid value: expected an integer, got 'x' "
            "@ $.objects['R'].properties['a'].default",
        ),
        (
            {"type_id": "scope", **scope_form(a={"type": {"type_id": "bool"}, "required_if": "b"})},
            "invalid schema: expected a list, got 'b' @ $.objects['R'].properties['a'].required_if",
        ),
    ],
    ids=lambda value: "" if isinstance(value, str) else None,
)
def test_bad_schema_data(data: Any, message: str) -> None:
    """Each malformed form names what is wrong, where, and what is valid."""
    with pytest.raises(InvalidSchemaError) as excinfo:
        parse_schema(data)
    assert message == str(excinfo.value)


def test_bad_plugin_schema_paths() -> None:
    """Errors deep inside a plugin schema carry the full path."""
    data = {
        "steps": {
            "s": {
                "id": "s",
                "input": scope_form(a={"type": {"type_id": "integer", "min": 1.5}}),
                "outputs": {},
            }
        }
    }
    with pytest.raises(InvalidSchemaError) as excinfo:
        parse_plugin_schema(data)
    assert excinfo.value.path == "$.steps['s'].input.objects['R'].properties['a'].type.min"
    with pytest.raises(InvalidSchemaError, match=r"missing required field 'steps' @ \$$"):
        parse_plugin_schema({})
    with pytest.raises(InvalidSchemaError, match=r"expected a scope, got type_id 'object'"):
        parse_scope({"type_id": "object", "id": "x", "properties": {}})


def test_unknown_keys_are_ignored() -> None:
    """A newer SDK's extra fields do not stop a schema from loading (tolerant reader)."""
    assert IntSchema(min=1) == parse_schema({"type_id": "integer", "min": 1, "step": 5})


def test_json_keys_and_missing_required() -> None:
    """Integer keys may be decimal strings; a property without 'required' is required."""
    parsed = parse_schema({"type_id": "enum_integer", "values": {"1": {"name": "one"}}})
    assert IntEnumSchema(values={1: DisplayValue(name="one")}) == parsed
    assert parse_property({"type": {"type_id": "string"}}).required


def test_property_form_keeps_empty_lists() -> None:
    """An explicit empty list stays in the form; an absent one stays absent."""
    with_empty = {"type": {"type_id": "string"}, "required": False, "conflicts": []}
    assert with_empty == serialize_property(parse_property(with_empty))
    without = {"type": {"type_id": "string"}, "required": False}
    assert without == serialize_property(parse_property(without))
    assert parse_property(with_empty) == parse_property(without)


def test_records_are_immutable_and_hashable() -> None:
    """Records and their mappings cannot change and can be dictionary keys."""
    scope = object_scope("R", a=PropertySchema(type=StringSchema()))
    assert {scope: 1}[object_scope("R", a=PropertySchema(type=StringSchema()))] == 1
    with pytest.raises(TypeError, match="schema mappings are read-only"):
        scope.objects["X"] = ObjectSchema(id="X", properties={})  # type: ignore[index]
    assert ScopeSchema(root="R", objects=dict(scope.objects)) == scope


def test_records_check_their_own_strings() -> None:
    """A bad pattern or default is refused when the record is built."""
    with pytest.raises(InvalidSchemaError, match=r"invalid pattern '\['"):
        StringSchema(pattern="[")
    with pytest.raises(InvalidSchemaError, match="is not valid JSON"):
        PropertySchema(type=StringSchema(), default="nope")
    assert serialize_schema(StringSchema(pattern="^a")) == {"type_id": "string", "pattern": "^a"}


def test_integer_bounds_of_floats_round_trip() -> None:
    """An integer bound on a float schema stays an integer in the form (the SDK makes it 0.0)."""
    data = {"type_id": "float", "min": 0, "max": 1.5}
    parsed = parse_schema(data)
    assert data == serialize_schema(parsed)
    assert 0.0 == validate(parsed, 0)


def test_string_bounds_errors_name_the_bound() -> None:
    """A bad string bound is reported at the bound, not at the pattern."""
    with pytest.raises(InvalidSchemaError) as excinfo:
        parse_schema({"type_id": "string", "min": "1", "pattern": "^a"})
    assert "$.min" == excinfo.value.path
