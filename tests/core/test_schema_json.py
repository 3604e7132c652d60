"""to_json_schema: valid draft 2020-12 documents that agree with our validator."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
import test_schema_sdk as sdk_cases

from arcaflow_steps.schema import (
    AnySchema,
    BoolSchema,
    DisplayValue,
    IntEnumSchema,
    IntSchema,
    MapSchema,
    ObjectSchema,
    OneOfIntSchema,
    OneOfStringSchema,
    PropertySchema,
    RefSchema,
    ScopeSchema,
    StringSchema,
    to_json_schema,
)

DIALECT = "https://json-schema.org/draft/2020-12/schema"


def json_verdict(schema: dict[str, Any], value: Any) -> bool:
    """Return whether the jsonschema library accepts ``value``."""
    validator = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    return not list(validator.iter_errors(value))


@pytest.mark.parametrize("step_id", sorted(sdk_cases.OURS.steps))
def test_documents_are_valid_json_schema(step_id: str) -> None:
    """Every step input and output of the SDK plugins gives a valid draft 2020-12 document."""
    step = sdk_cases.OURS.steps[step_id]
    for scope in [step.input, *(output.schema for output in step.outputs.values())]:
        document = to_json_schema(scope)
        assert document["$schema"] == DIALECT
        jsonschema.Draft202012Validator.check_schema(document)


#: JSON Schema cannot say "list items of one type" for an 'any' value, nor reject non-JSON data.
JSON_SCHEMA_LOOSER = {"anything"}


@pytest.mark.parametrize(
    ("step_id", "value"),
    [case for case in sdk_cases.AGREED if not JSON_SCHEMA_LOOSER & set(case[1])],
    ids=lambda case: str(case)[:40] if not isinstance(case, str) else case,
)
def test_json_schema_agrees_with_validate(step_id: str, value: Any) -> None:
    """Editors using the JSON Schema accept and reject what validate() does."""
    document = to_json_schema(sdk_cases.OURS.steps[step_id].input)
    assert sdk_cases.our_verdict(step_id, value)[0] == json_verdict(document, value)


def test_document_shape() -> None:
    """Scope objects become open $defs closed at each use; one-ofs add a const discriminator."""
    scope = ScopeSchema(
        root="Root",
        objects={
            "Root": ObjectSchema(
                id="Root",
                properties={
                    "a": PropertySchema(
                        type=StringSchema(min=1, pattern="^x"),
                        display=DisplayValue(name="A", description="the a"),
                        default='"x"',
                        examples=('"xy"',),
                    ),
                    "b": PropertySchema(
                        type=IntSchema(max=3), required_if=("a",), conflicts=("c",)
                    ),
                    "c": PropertySchema(type=RefSchema(id="C"), required_if_not=("a",)),
                    "d": PropertySchema(
                        type=OneOfStringSchema(types={"c": RefSchema(id="C")}), required=True
                    ),
                },
            ),
            "C": ObjectSchema(id="C", properties={"n": PropertySchema(type=IntSchema())}),
        },
    )
    expected = {
        "$schema": DIALECT,
        "$ref": "#/$defs/Root",
        "unevaluatedProperties": False,
        "$defs": {
            "Root": {
                "type": "object",
                "title": "Root",
                "properties": {
                    "a": {
                        "type": "string",
                        "minLength": 1,
                        "pattern": "^x",
                        "title": "A",
                        "description": "the a",
                        "default": "x",
                        "examples": ["xy"],
                    },
                    "b": {"type": "integer", "maximum": 3},
                    "c": {"$ref": "#/$defs/C", "unevaluatedProperties": False},
                    "d": {
                        "oneOf": [
                            {
                                "$ref": "#/$defs/C",
                                "unevaluatedProperties": False,
                                "type": "object",
                                "properties": {"_type": {"type": "string", "const": "c"}},
                                "required": ["_type"],
                            }
                        ]
                    },
                },
                "required": ["d"],
                "dependentRequired": {"a": ["b"]},
                "allOf": [
                    {"not": {"required": ["b", "c"]}},
                    {"anyOf": [{"required": ["c"]}, {"required": ["a"]}]},
                ],
            },
            "C": {"type": "object", "title": "C", "properties": {"n": {"type": "integer"}}},
        },
    }
    assert expected == to_json_schema(scope)
    assert to_json_schema(IntSchema(max=3)) == {"$schema": DIALECT, "type": "integer", "maximum": 3}


def test_recursive_one_of_is_finite_and_checks_discriminators() -> None:
    """A one-of whose member refers back to itself is expressed with $ref, not expanded."""
    scope = ScopeSchema(
        root="Node",
        objects={
            "Node": ObjectSchema(
                id="Node",
                properties={
                    "child": PropertySchema(
                        type=OneOfStringSchema(
                            types={"node": RefSchema(id="Node")}, discriminator_field_name="k"
                        )
                    ),
                    "n": PropertySchema(type=IntSchema()),
                },
            )
        },
    )
    document = to_json_schema(scope)
    assert json_verdict(document, {"child": {"k": "node", "child": {"k": "node", "n": 1}}})
    assert not json_verdict(document, {"child": {"k": "leaf"}})
    assert not json_verdict(document, {"child": {"k": "node", "extra": 1}})


def test_map_keys_and_inline_one_of_members() -> None:
    """Map key constraints become propertyNames; inline one-of members are closed objects."""
    keyed = MapSchema(keys=StringSchema(min=1, max=3, pattern="^a"), values=AnySchema())
    assert {
        "$schema": DIALECT,
        "type": "object",
        "propertyNames": {"minLength": 1, "maxLength": 3, "pattern": "^a"},
        "additionalProperties": {},
    } == to_json_schema(keyed)
    by_enum = to_json_schema(
        MapSchema(keys=IntEnumSchema(values={1: DisplayValue()}), values=BoolSchema())
    )
    assert {"enum": ["1"]} == by_enum["propertyNames"]
    one_of = OneOfIntSchema(
        types={7: ObjectSchema(id="S", properties={"v": PropertySchema(type=IntSchema())})},
        discriminator_field_name="k",
    )
    document = to_json_schema(one_of)
    assert json_verdict(document, {"k": 7, "v": 1})
    assert not json_verdict(document, {"k": 7, "w": 1})
    assert not json_verdict(document, {"k": 8})
