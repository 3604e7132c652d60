"""Validation of values against schema records: strict types, every problem, with paths."""

from __future__ import annotations

from typing import Any

import pytest

from arcaflow_steps import SchemaValidationError
from arcaflow_steps._schema._defaults import default_value
from arcaflow_steps.schema import (
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
    Unit,
    Units,
    validate,
    validate_properties,
)

BYTES = Units(
    base_unit=Unit(
        name_short_singular="B",
        name_short_plural="B",
        name_long_singular="byte",
        name_long_plural="bytes",
    ),
    multipliers={
        1024: Unit(
            name_short_singular="kB",
            name_short_plural="kB",
            name_long_singular="kilobyte",
            name_long_plural="kilobytes",
        )
    },
)


def problems_of(schema: Any, value: Any, **kwargs: Any) -> list[str]:
    with pytest.raises(SchemaValidationError) as excinfo:
        validate(schema, value, **kwargs)
    return [str(problem) for problem in excinfo.value.problems]


INPUT = ScopeSchema(
    root="Input",
    objects={
        "Input": ObjectSchema(
            id="Input",
            properties={
                "name": PropertySchema(type=StringSchema(min=1), required=True),
                "nickname": PropertySchema(type=StringSchema()),
                "count": PropertySchema(type=IntSchema(min=1, max=10), default="3"),
                "ratio": PropertySchema(type=FloatSchema()),
                "flag": PropertySchema(type=BoolSchema(), default="false"),
                "inner": PropertySchema(type=RefSchema(id="Inner")),
                "items": PropertySchema(type=ListSchema(items=RefSchema(id="Inner"))),
                "labels": PropertySchema(type=MapSchema(keys=StringSchema(), values=IntSchema())),
            },
        ),
        "Inner": ObjectSchema(
            id="Inner",
            properties={
                "x": PropertySchema(type=IntSchema(), required=True),
                "y": PropertySchema(type=StringSchema(), default='"why"'),
            },
        ),
    },
)


def test_valid_value_gets_defaults() -> None:
    """Missing optional properties with a default get it; nested refs get theirs too."""
    expected = {
        "name": "a",
        "count": 3,
        "flag": False,
        "ratio": 2.0,
        "items": [{"x": 1, "y": "why"}],
    }
    assert expected == validate(INPUT, {"name": "a", "ratio": 2, "items": [{"x": 1}]})


def test_every_problem_is_reported_with_its_path() -> None:
    """All problems are collected, each with what, where and what is valid."""
    value = {
        "count": "ten",
        "flag": 2,
        "extra": True,
        "items": [{"x": 1}, {"x": 1.5, "z": 1}],
        "labels": {"a": 1, "b": "2.0"},
    }
    expected = [
        "unknown field 'extra'; valid fields: 'count', 'flag', 'inner', 'items', 'labels', "
        "'name', 'nickname', 'ratio' @ $",
        "missing required field 'name' @ $",
        "expected an integer, got 'ten' @ $.count",
        "expected a boolean, got 2 @ $.flag",
        "unknown field 'z'; valid fields: 'x', 'y' @ $.items[1]",
        "expected an integer, got 1.5 @ $.items[1].x",
        "expected an integer, got '2.0' @ $.labels['b']",
    ]
    assert expected == problems_of(INPUT, value)


@pytest.mark.parametrize(
    ("schema", "value", "message"),
    [
        (StringSchema(max=2), "abc", "expected at most 2 characters, got 3"),
        (StringSchema(pattern="^[a-z]+$"), "A", "'A' does not match the pattern '^[a-z]+$'"),
        (IntSchema(min=5), 4, "expected at least 5, got 4"),
        (FloatSchema(max=1.5), 2, "expected at most 1.5, got 2.0"),
        (FloatSchema(), "1.5x", "expected a number, got '1.5x'"),
        (BoolSchema(), "t", "expected a boolean, got 't'"),
        (
            PatternSchema(),
            "(",
            "'(' is not a valid regular expression: missing ), unterminated"
            " subpattern at position 0",
        ),
        (
            StringEnumSchema(values={"red": DisplayValue(), "blue": DisplayValue()}),
            "green",
            "expected one of 'blue', 'red', got 'green'",
        ),
        (
            IntEnumSchema(values={2: DisplayValue(), 1: DisplayValue()}),
            "1",
            "expected one of 1, 2, got '1'",
        ),
        (ListSchema(items=AnySchema(), min=1), [], "expected at least 1 item, got 0"),
        (
            MapSchema(keys=IntSchema(), values=AnySchema()),
            {"a": 1},
            "invalid key: expected an integer, got 'a'",
        ),
    ],
    ids=[
        "str-max",
        "pattern",
        "int-min",
        "float-max",
        "float-str",
        "bool-str",
        "regex",
        "enum",
        "int-enum-str",
        "list-min",
        "map-key",
    ],
)
def test_constraint_messages(schema: Any, value: Any, message: str) -> None:
    """Each constraint names the bound and the value."""
    assert [message] == [problem.split(" @ ")[0] for problem in problems_of(schema, value)]


def test_one_of_selects_by_discriminator() -> None:
    """The discriminator selects the member type; it is kept in the result."""
    scope = ScopeSchema(
        root="Root",
        objects={
            "Root": ObjectSchema(
                id="Root",
                properties={
                    "choice": PropertySchema(
                        type=OneOfStringSchema(
                            types={"a": RefSchema(id="A"), "b": RefSchema(id="B")},
                            discriminator_field_name="kind",
                        ),
                        required=True,
                    )
                },
            ),
            "A": ObjectSchema(id="A", properties={"a": PropertySchema(type=StringSchema())}),
            "B": ObjectSchema(id="B", properties={"b": PropertySchema(type=IntSchema())}),
        },
    )
    assert validate(scope, {"choice": {"kind": "b", "b": 1}}) == {"choice": {"kind": "b", "b": 1}}
    assert problems_of(scope, {"choice": {"kind": "c"}}) == [
        "invalid discriminator 'c'; valid values: 'a', 'b' @ $.choice.kind"
    ]
    assert (problems_of(scope, {"choice": {}})) == [
        "missing discriminator field 'kind'; valid values: 'a', 'b' @ $.choice"
    ]
    int_one_of = OneOfIntSchema(types={1: ObjectSchema(id="A", properties={})})
    assert validate(int_one_of, {"_type": 1}) == {"_type": 1}


def test_conditional_requirements() -> None:
    """required_if, required_if_not and conflicts are enforced."""
    properties = {
        "a": PropertySchema(type=StringSchema()),
        "b": PropertySchema(type=StringSchema(), required_if=("a",)),
        "c": PropertySchema(type=StringSchema(), required_if_not=("a",)),
        "d": PropertySchema(type=StringSchema(), conflicts=("a",)),
    }
    with pytest.raises(SchemaValidationError) as excinfo:
        validate_properties(properties, {"a": "x", "d": "y"}, path="$.input")
    assert [str(problem) for problem in excinfo.value.problems] == [
        "missing field 'b', required because 'a' is set @ $.input",
        "field 'd' conflicts with 'a'; set one of the two, not both @ $.input",
    ]
    with pytest.raises(SchemaValidationError) as excinfo:
        validate_properties(properties, {})
    assert str(excinfo.value) == "missing field 'c', required because 'a' is not set @ $"


def test_one_of_members_may_be_objects_and_scopes() -> None:
    """Inline objects and scopes work as one-of members; refs resolve in the member scope."""
    inner = ScopeSchema(
        root="Cfg",
        objects={
            "Cfg": ObjectSchema(
                id="Cfg", properties={"port": PropertySchema(type=RefSchema(id="Port"))}
            ),
            "Port": ObjectSchema(
                id="Port", properties={"n": PropertySchema(type=IntSchema(), default="80")}
            ),
        },
    )
    one_of = OneOfStringSchema(
        types={"docker": inner, "local": ObjectSchema(id="L", properties={})},
        discriminator_field_name="deployer_name",
    )
    assert {"deployer_name": "docker", "port": {"n": 80}} == validate(
        one_of, {"deployer_name": "docker", "port": {}}
    )
    assert {"deployer_name": "local"} == validate(one_of, {"deployer_name": "local"})
    assert ["expected an integer, got 'x' @ $.deploy.port.n"] == problems_of(
        one_of, {"deployer_name": "docker", "port": {"n": "x"}}, path="$.deploy"
    )


def test_inlined_discriminator_is_validated_by_the_member() -> None:
    """When the member declares the discriminator field, it validates it like any property."""
    member = ObjectSchema(
        id="Cat",
        properties={
            "kind": PropertySchema(type=StringSchema(), required=True),
            "lives": PropertySchema(type=IntSchema(), default="9"),
        },
    )
    one_of = OneOfStringSchema(
        types={"cat": member}, discriminator_field_name="kind", discriminator_inlined=True
    )
    assert {"kind": "cat", "lives": 9} == validate(one_of, {"kind": "cat"})
    assert ["invalid discriminator 1; valid values: 'cat' @ $.kind"] == problems_of(
        one_of, {"kind": 1}
    )


def test_paths_for_maps_lists_and_nested_objects() -> None:
    """Paths name map keys with their repr, list indexes and property names."""
    schema = MapSchema(
        keys=IntSchema(),
        values=ListSchema(items=MapSchema(keys=StringSchema(), values=BoolSchema())),
    )
    assert ["expected a boolean, got 'nope' @ $[3][1]['ok']"] == problems_of(
        schema, {3: [{}, {"ok": "nope"}]}
    )
    assert ["expected a mapping, got a list @ $.input"] == problems_of(INPUT, [], path="$.input")


def test_refs_outside_a_scope_are_reported() -> None:
    """A ref with no enclosing scope is a schema error, reported like a problem."""
    assert [
        "schema error: ref 'X' does not name an object of the enclosing scope; declared "
        "objects: none (no scope) @ $"
    ] == problems_of(RefSchema(id="X"), {})


def test_null_counts_as_unset() -> None:
    """A null property value is like a missing key: required fails, defaults apply."""
    assert {"name": "a", "count": 3, "flag": False} == validate(
        INPUT, {"name": "a", "count": None, "nickname": None}
    )
    assert ["missing required field 'name' @ $"] == problems_of(INPUT, {"name": None})


def test_values_are_converted_as_the_sdk_converts_them() -> None:
    """A plugin's own conversions: int->str, str->number, 0/1 and words->bool, int->float."""
    assert 3 == validate(IntSchema(), " 3")
    assert 1 == validate(IntSchema(), True)
    assert type(validate(IntSchema(), True)) is int
    assert 2048 == validate(IntSchema(units=BYTES), "2kB")
    assert ["expected an integer or an amount in 'B', 'kB', got '2 KB' @ $"] == problems_of(
        IntSchema(units=BYTES), "2 KB"
    )
    assert ["expected an integer or an amount in 'B', 'kB', got '1.5B' @ $"] == problems_of(
        IntSchema(units=BYTES), "1.5B"
    )
    assert 1.5 == validate(FloatSchema(units=BYTES), "1.5B")
    assert "3" == validate(StringSchema(), 3)
    assert "False" == validate(StringSchema(), False)
    assert ["expected at most 2 characters, got 3 @ $"] == problems_of(StringSchema(max=2), 100)
    assert ["expected a string, got 1.5 @ $"] == problems_of(StringSchema(), 1.5)
    assert 2.0 == validate(FloatSchema(), 2)
    assert isinstance(validate(FloatSchema(), 2), float)
    assert 1e3 == validate(FloatSchema(), "1e3")
    assert validate(BoolSchema(), True) is True
    assert validate(BoolSchema(), "Off") is False
    assert validate(BoolSchema(), 1) is True
    assert 2 == validate(IntEnumSchema(values={1: DisplayValue(), 2: DisplayValue()}), 2.0)
    assert {1: "a"} == validate(MapSchema(keys=IntSchema(), values=StringSchema()), {"1": "a"})


def test_keys_that_convert_to_the_same_key_are_refused() -> None:
    """Two map keys that become one after conversion are refused, as the SDK refuses them."""
    schema = MapSchema(keys=IntSchema(), values=AnySchema())
    assert ["invalid key: ' 1' is the key 1 once converted, which is already set @ $[' 1']"] == (
        problems_of(schema, {1: "a", " 1": "b"})
    )


def test_huge_integers_are_refused_clearly() -> None:
    """An integer too long for a decimal string or a float is refused, described by size."""
    huge = 10**5000
    assert ["expected a string, got an integer of 16610 bits @ $"] == problems_of(
        StringSchema(), huge
    )
    assert ["expected a number, got an integer of 16610 bits @ $"] == problems_of(
        FloatSchema(), huge
    )
    assert ["expected at most 5, got an integer of 16610 bits @ $"] == problems_of(
        IntSchema(max=5), huge
    )


def test_the_input_is_not_changed() -> None:
    """Validation builds a new value; the SDK changes lists and one-of mappings in place."""
    schema = ListSchema(items=IntSchema())
    value = ["1", "2"]
    assert [1, 2] == validate(schema, value)
    assert ["1", "2"] == value


def test_any_accepts_json_like_data() -> None:
    """Any takes mappings, lists of one item type, strings, numbers, booleans and null."""
    value = {"a": [1, 2], "b": {"c": None}, "d": 1.5, "e": [[1], [2, 3]]}
    assert value == validate(AnySchema(), value)
    assert [
        "expected list items of one type (integer like item 0), got 'x' @ $['a'][1]",
        "expected a mapping, list, string, number, boolean or null, got a value of type "
        "object @ $['b']",
    ] == problems_of(AnySchema(), {"a": [1, "x"], "b": object()})


def test_long_values_are_shortened() -> None:
    """A long string in a message is cut so the message stays readable."""
    (message,) = problems_of(IntSchema(), "x" * 200)
    assert message == f"expected an integer, got '{'x' * 55}...' @ $"


def test_validate_properties_reports_non_mappings() -> None:
    """validate_properties refuses a non-mapping with its path."""
    with pytest.raises(SchemaValidationError, match=r"expected a mapping, got 'x' @ \$\.steps"):
        validate_properties({}, "x", path="$.steps")  # type: ignore[arg-type]


def test_validate_does_not_mutate_its_input() -> None:
    """Defaults go into the returned value, never into the caller's data."""
    value: dict[str, Any] = {"name": "a", "items": [{"x": 1}]}
    validate(INPUT, value)
    assert {"name": "a", "items": [{"x": 1}]} == value


def test_mutual_conflicts_are_reported_once() -> None:
    """Two properties that both declare their conflict give one problem, not two."""
    properties = {
        "a": PropertySchema(type=StringSchema(), conflicts=("b",)),
        "b": PropertySchema(type=StringSchema(), conflicts=("a",)),
    }
    with pytest.raises(SchemaValidationError) as excinfo:
        validate_properties(properties, {"a": "x", "b": "y"})
    assert "field 'a' conflicts with 'b'; set one of the two, not both @ $" == str(excinfo.value)


def test_validate_properties_resolves_refs_in_a_scope() -> None:
    """Properties whose types are refs validate against the given scope."""
    properties = {"inner": PropertySchema(type=RefSchema(id="Inner"), required=True)}
    assert {"inner": {"x": 1, "y": "why"}} == validate_properties(
        properties, {"inner": {"x": 1}}, scope=INPUT
    )


def test_defaults_with_integer_map_keys_are_typed() -> None:
    """JSON writes integer map keys as strings; applied defaults get integer keys back."""
    by_int = MapSchema(keys=IntSchema(), values=ListSchema(items=FloatSchema()))
    scope = ScopeSchema(
        root="R",
        objects={
            "R": ObjectSchema(
                id="R",
                properties={
                    "direct": PropertySchema(type=by_int, default='{"1": [1]}'),
                    "nested": PropertySchema(type=RefSchema(id="N"), default='{"m": {"2": []}}'),
                    "choice": PropertySchema(
                        type=OneOfIntSchema(types={5: RefSchema(id="N")}),
                        default='{"_type": 5, "m": {"3": [0.5]}}',
                    ),
                    "listed": PropertySchema(
                        type=ListSchema(
                            items=ObjectSchema(
                                id="L", properties={"m": PropertySchema(type=by_int)}
                            )
                        ),
                        default='[{"m": {"4": []}, "keep": {"5": 1}}]',
                    ),
                },
            ),
            "N": ObjectSchema(id="N", properties={"m": PropertySchema(type=by_int)}),
        },
    )
    result = validate(ScopeSchema(root="R", objects=scope.objects), {"listed": [{"m": {}}]})
    assert {
        "direct": {1: [1.0]},
        "nested": {"m": {2: []}},
        "choice": {"_type": 5, "m": {3: [0.5]}},
        "listed": [{"m": {}}],
    } == result
    listed_default = scope.objects["R"].properties["listed"]
    assert [{"m": {4: []}, "keep": {"5": 1}}] == default_value(listed_default, scope)


def test_one_of_scope_member_without_root_is_a_schema_error() -> None:
    """A one-of member scope whose root is not declared is reported, not silently accepted."""
    one_of = OneOfStringSchema(types={"a": ScopeSchema(root="Missing", objects={})})
    assert [
        "schema error: scope root 'Missing' is not declared; declared objects: none @ $"
    ] == problems_of(one_of, {"_type": "a"})
    assert [
        "schema error: scope root 'Missing' is not declared; declared objects: none @ $"
    ] == problems_of(ScopeSchema(root="Missing", objects={}), {})
