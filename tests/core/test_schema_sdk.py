"""Our schema model against the real ``arcaflow-plugin-sdk`` 0.14.3: same form, same verdicts."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
import test_schema_sdk_plugins as sdk_plugins
from arcaflow_plugin_sdk import schema as sdk_schema

from arcaflow_steps import SchemaValidationError
from arcaflow_steps.schema import (
    IntSchema,
    OneOfIntSchema,
    OneOfStringSchema,
    RefSchema,
    StringSchema,
    parse_plugin_schema,
    serialize_plugin_schema,
    validate,
)

PLUGIN_IDS = sorted(sdk_plugins.PLUGINS)
OURS = parse_plugin_schema(sdk_plugins.serialized("multi"))


@pytest.mark.parametrize("plugin_id", PLUGIN_IDS)
def test_sdk_form_round_trips(plugin_id: str) -> None:
    """Parsing the SDK's serialized schema and serializing it again gives the same data."""
    data = sdk_plugins.serialized(plugin_id)
    assert data == serialize_plugin_schema(parse_plugin_schema(data))


@pytest.mark.parametrize("plugin_id", PLUGIN_IDS)
def test_json_form_round_trips(plugin_id: str) -> None:
    """The JSON-encoded form (integer keys written as strings) reads to the same schema."""
    data = sdk_plugins.serialized(plugin_id)
    from_json = parse_plugin_schema(json.loads(json.dumps(data)))
    assert parse_plugin_schema(data) == from_json
    assert data == serialize_plugin_schema(from_json)


@pytest.mark.parametrize("plugin_id", PLUGIN_IDS)
def test_sdk_reads_our_form(plugin_id: str) -> None:
    """The SDK's own schema-of-schemas accepts what we write and writes it back unchanged."""
    ours = serialize_plugin_schema(parse_plugin_schema(sdk_plugins.serialized(plugin_id)))
    read_by_sdk = sdk_schema.SCHEMA_SCHEMA.unserialize(copy.deepcopy(ours))
    assert ours == sdk_schema.SCHEMA_SCHEMA.serialize(read_by_sdk)


def test_parsed_records_carry_the_details() -> None:
    """Parsed records expose constraints, units, defaults, one-ofs and output error flags."""
    greet = OURS.steps["greet"]
    root = greet.input.objects[greet.input.root]
    name = root.properties["name"]
    assert StringSchema(min=1, max=20, pattern="^[a-z]+$") == name.type
    assert name.examples != ("alice",)  # examples stay JSON-encoded
    assert name.examples == ('"alice"',)
    assert name.required
    count = root.properties["count"]
    assert isinstance(count.type, IntSchema)
    assert count.type.units is not None
    assert count.type.units.base_unit.name_short_singular == "B"
    assert count.default == "3"
    fruit = root.properties["fruit"].type
    assert (
        OneOfStringSchema(
            types={"apple": RefSchema(id="Apple"), "pear": RefSchema(id="Pear")},
            discriminator_field_name="kind",
        )
        == fruit
    )
    assert root.properties["other"].required_if == ("level",)
    shape_root = OURS.steps["shape"].input.root_object
    assert isinstance(shape_root.properties["choice"].type, OneOfIntSchema)
    pet = shape_root.properties["pet"].type
    assert isinstance(pet, OneOfStringSchema)
    assert pet.discriminator_inlined
    wait = OURS.steps["wait"]
    assert list(wait.signal_handlers) == ["cancel"]
    assert list(wait.signal_emitters) == ["progress"]
    hand = parse_plugin_schema(sdk_plugins.serialized("hand-written")).steps["draw"]
    assert {key: output.error for key, output in hand.outputs.items()} == {
        "failed": True,
        "success": False,
    }


# --- differential validation -----------------------------------------------------------------


def sdk_verdict(step_id: str, value: Any) -> tuple[bool, Any]:
    """Return whether the SDK accepts ``value`` as the step's input, and what it makes of it."""
    sdk_input = sdk_plugins.MULTI.steps[step_id].input
    try:
        unserialized = sdk_input.unserialize(copy.deepcopy(value))
    except sdk_schema.ConstraintException:
        return False, None
    except TypeError:
        # SDK bug: an unknown one_of_int discriminator fails while formatting its message.
        return False, None
    return True, sdk_input.serialize(unserialized)


def our_verdict(step_id: str, value: Any) -> tuple[bool, Any]:
    """Return whether we accept ``value`` as the step's input, and the validated value."""
    try:
        return True, validate(OURS.steps[step_id].input, value)
    except SchemaValidationError:
        return False, None


GREET_OK = {"name": "bob", "fallback": "x"}

AGREED = [
    ("greet", GREET_OK),
    ("greet", {**GREET_OK, "fruit": {"kind": "apple", "weight": 1}, "inner": {"x": 2}}),
    ("greet", {**GREET_OK, "labels": {"a": 1}, "anything": [1, 2], "regex": "^a"}),
    ("greet", {**GREET_OK, "color": "blue", "level": 2, "other": "o"}),
    ("greet", {**GREET_OK, "tags": ["a", "b", "c"], "inners": [{"x": 10, "y": "z"}]}),
    ("greet", {"name": "bob", "other": "o", "level": 1}),
    ("greet", {}),
    ("greet", {"name": "Bob", "fallback": "x"}),
    ("greet", {"name": "", "fallback": "x"}),
    ("greet", {"name": "bob"}),
    ("greet", {**GREET_OK, "level": 1}),
    ("greet", {**GREET_OK, "other": "o", "regex": "x"}),
    ("greet", {**GREET_OK, "extra": 1}),
    ("greet", {**GREET_OK, "count": -1}),
    ("greet", {**GREET_OK, "count": 1.5}),
    ("greet", {**GREET_OK, "ratio": 1.5}),
    ("greet", {**GREET_OK, "color": "green"}),
    ("greet", {**GREET_OK, "level": 3}),
    ("greet", {**GREET_OK, "tags": ["a", "b", "c", "d"]}),
    ("greet", {**GREET_OK, "inners": []}),
    ("greet", {**GREET_OK, "inner": {"x": 0}}),
    ("greet", {**GREET_OK, "inner": {"y": "a"}}),
    ("greet", {**GREET_OK, "fruit": {"kind": "plum"}}),
    ("greet", {**GREET_OK, "fruit": {"weight": 1.0}}),
    ("greet", {**GREET_OK, "fruit": {"kind": "apple", "weight": 0.1}}),
    ("greet", {**GREET_OK, "labels": {"a": 1.5}}),
    ("greet", {**GREET_OK, "regex": "("}),
    ("greet", {**GREET_OK, "anything": {"a": [1, "b"]}}),
    ("greet", {**GREET_OK, "anything": {"a": object()}}),
    ("greet", ["name"]),
    ("shape", {"choice": {"id": 2, "b": {1: [1.0]}}, "pet": {"species": "cat"}}),
    ("shape", {"choice": {"id": 1, "a": "x"}, "pet": {"species": "dog", "good": False}}),
    ("shape", {"choice": {"id": 3}, "pet": {"species": "dog"}}),
    ("shape", {"choice": {"id": "1", "a": "x"}, "pet": {"species": "dog"}}),
    ("shape", {"choice": {"id": 1, "a": "x"}, "pet": {"species": "cow"}}),
    ("shape", {"choice": {"id": 1, "a": "x"}, "pet": {"species": "cat", "good": True}}),
    ("shape", {"choice": {"id": 1}, "pet": {"species": "cat"}, "matrix": [[1], [2, 3]]}),
    ("shape", {"choice": {"id": 1, "a": "x"}, "pet": {"species": "cat"}, "matrix": [[1.5]]}),
    ("shape", {"choice": {"id": 1, "a": "x"}, "pet": {"species": "cat"}, "by_level": {"a": 1}}),
    ("shape", {"choice": {"id": 1, "a": "x"}, "pet": {"species": "cat"}, "by_level": {"a": 5}}),
    ("shape", {"choice": {"id": 1, "a": "x"}, "pet": {"species": "cat"}, "seconds": -1.0}),
    ("wait", {}),
    ("wait", {"seconds": 0}),
    ("wait", {"seconds": -0.5}),
]


@pytest.mark.parametrize(
    ("step_id", "value"), AGREED, ids=[f"{s}-{i}" for i, (s, _) in enumerate(AGREED)]
)
def test_same_verdict_as_sdk(step_id: str, value: Any) -> None:
    """We accept and reject what the SDK does; accepted values come out as the SDK's."""
    assert sdk_verdict(step_id, value) == our_verdict(step_id, value)


#: Inputs the SDK converts (``*Type.unserialize``): we accept them and convert them the same way.
CONVERTED = [
    ("string-from-int", {"name": "bob", "fallback": 5}, {"fallback": "5"}),
    ("string-from-bool", {"name": "bob", "fallback": True}, {"fallback": "True"}),
    ("int-from-string", {**GREET_OK, "count": " 7 "}, {"count": 7}),
    ("int-from-unit-string", {**GREET_OK, "count": "2kB"}, {"count": 2048}),
    ("float-from-string", {**GREET_OK, "ratio": "0.5"}, {"ratio": 0.5}),
    ("float-from-bool", {**GREET_OK, "ratio": True}, {"ratio": 1.0}),
    ("bool-from-string", {**GREET_OK, "flag": "YES"}, {"flag": True}),
    ("bool-from-int", {**GREET_OK, "flag": 0}, {"flag": False}),
    ("int-enum-from-bool", {**GREET_OK, "level": True, "other": "o"}, {"level": 1}),
    ("int-enum-from-float", {**GREET_OK, "level": 2.0, "other": "o"}, {"level": 2}),
    ("map-key-from-int", {**GREET_OK, "labels": {1: 1}}, {"labels": {"1": 1}}),
]


def typed(value: Any) -> Any:
    """Return ``value`` with the type of every scalar made part of it (``True != 1`` here)."""
    if isinstance(value, dict):
        return sorted((repr(typed(key)), typed(item)) for key, item in value.items())
    if isinstance(value, list):
        return [typed(item) for item in value]
    return (type(value).__name__, value)


@pytest.mark.parametrize(
    ("value", "expected"), [c[1:] for c in CONVERTED], ids=[c[0] for c in CONVERTED]
)
def test_sdk_conversions(value: Any, expected: dict[str, Any]) -> None:
    """What the SDK converts we convert to the same typed value."""
    sdk_ok, sdk_value = sdk_verdict("greet", value)
    ours = validate(OURS.steps["greet"].input, value)
    assert sdk_ok
    assert typed(sdk_value) == typed(ours)
    assert typed(expected) == typed({key: ours[key] for key in expected})


#: Inputs where we deliberately differ from the SDK (docs/schema-differences.md).
DIFFERENT = [
    ("conflict-with-null", {**GREET_OK, "other": "o", "regex": None, "level": 1}, None),
    (
        "any-list-int-then-bool",
        {**GREET_OK, "anything": [1, True]},
        "expected list items of one type (integer like item 0), got True @ $.anything[1]",
    ),
]


@pytest.mark.parametrize(
    ("value", "message"), [c[1:] for c in DIFFERENT], ids=[c[0] for c in DIFFERENT]
)
def test_documented_differences(value: Any, message: str | None) -> None:
    """Where the SDK is lax we are strict (or, for null, treat the key as unset)."""
    sdk_ok, _ = sdk_verdict("greet", value)
    if message is None:
        # The SDK counts a conflicting key even when its value is null; we count it as unset.
        assert (sdk_ok, our_verdict("greet", value)[0]) == (False, True)
        return
    assert sdk_ok
    with pytest.raises(SchemaValidationError) as excinfo:
        validate(OURS.steps["greet"].input, value)
    assert message == str(excinfo.value)


def test_a_bool_for_an_integer_becomes_an_int() -> None:
    """The SDK keeps a bool given for an integer; we give the plugin the int it stands for."""
    value = {**GREET_OK, "count": True}
    sdk_ok, sdk_value = sdk_verdict("greet", value)
    assert (sdk_ok, ("bool", True)) == (True, typed(sdk_value["count"]))
    assert ("int", 1) == typed(validate(OURS.steps["greet"].input, value)["count"])
