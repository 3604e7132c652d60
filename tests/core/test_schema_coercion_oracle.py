"""Oracle: for generated schemas and values, ``validate`` decides and converts as the SDK does.

Hypothesis builds a schema twice, as our records and with ``arcaflow-plugin-sdk`` 0.14.3's own
``*Type`` classes, and draws values that probe the conversions (integers, booleans, floats,
strings of digits, spaces, signs and underscores, boolean words, amounts with units, lists,
mappings, ``None``). For every value, our accept/refuse decision equals the SDK's
``unserialize`` (a ``ConstraintException``, or the ``ValueError``/``OverflowError``/``TypeError``
the SDK fails with on some inputs, is a refusal), and an accepted value equals the SDK's
``serialize(unserialize(value))`` with types compared too (``True`` is not ``1`` here).

The deliberate differences (docs/schema-differences.md) are accounted for, not hidden: a bool
given for an integer is expected as the int (the SDK keeps the bool); an ``any`` list whose items
are an int and then a bool is skipped (the SDK accepts it, we refuse it).
"""

from __future__ import annotations

import copy
import dataclasses
import enum
import itertools
import json
import re
import typing
from typing import Any

import pytest
from arcaflow_plugin_sdk import schema as sdk
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from arcaflow_steps import SchemaValidationError
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
)

# --- units, in both models -----------------------------------------------------------------------


def _units(base: tuple[str, str, str, str], multipliers: dict[int, tuple[str, ...]]) -> Any:
    ours = Units(
        base_unit=Unit(
            name_short_singular=base[0],
            name_short_plural=base[1],
            name_long_singular=base[2],
            name_long_plural=base[3],
        ),
        multipliers={
            factor: Unit(
                name_short_singular=names[0],
                name_short_plural=names[1],
                name_long_singular=names[2],
                name_long_plural=names[3],
            )
            for factor, names in multipliers.items()
        },
    )
    theirs = sdk.Units(
        sdk.Unit(*base), {factor: sdk.Unit(*names) for factor, names in multipliers.items()}
    )
    return ours, theirs


BYTES = _units(
    ("B", "B", "byte", "bytes"),
    {1024: ("kB", "kB", "kilobyte", "kilobytes"), 1048576: ("MB", "MB", "megabyte", "megabytes")},
)
TIME = _units(
    ("ns", "ns", "nanosecond", "nanoseconds"),
    {
        1000: ("us", "us", "microsecond", "microseconds"),
        1000000000: ("s", "s", "second", "seconds"),
        60000000000: ("m", "m", "minute", "minutes"),
    },
)
UNITS = {"bytes": BYTES, "time": TIME}

# --- a schema in both models ----------------------------------------------------------------------


@dataclasses.dataclass
class Pair:
    """One schema as our record and as the SDK's type."""

    ours: Any
    theirs: Any


class Build:
    """Builds pairs; one-of members live in one scope per test case, on both sides."""

    def __init__(self) -> None:
        self.objects: dict[str, ObjectSchema] = {}
        self.scope = sdk.ScopeType({}, "Root")
        self.names = itertools.count()

    def object_pair(self, properties: dict[str, tuple[Pair, bool, Any]]) -> tuple[str, Pair]:
        """Return a new object (id and pair) of ``name -> (type, required, default)``."""
        object_id = f"O{next(self.names)}"
        cls = dataclasses.make_dataclass(
            object_id,
            [
                (name, typing.Any, dataclasses.field(default=default))
                for name, (_, _, default) in properties.items()
            ],
        )
        ours = ObjectSchema(
            id=object_id,
            properties={
                name: PropertySchema(
                    type=pair.ours,
                    required=required,
                    default=None if default is None else json.dumps(default),
                )
                for name, (pair, required, default) in properties.items()
            },
        )
        theirs = sdk.ObjectType(
            cls,
            {
                name: sdk.PropertyType(
                    pair.theirs,
                    required=required,
                    default=None if default is None else json.dumps(default),
                )
                for name, (pair, required, default) in properties.items()
            },
        )
        self.objects[object_id] = ours
        self.scope.objects[object_id] = theirs
        return object_id, Pair(ours, theirs)

    def our_scope(self, root: ObjectSchema) -> ScopeSchema:
        return ScopeSchema(root=root.id, objects={**self.objects, root.id: root})


PATTERNS = [None, "^[a-z]+$", "[0-9]", "T"]


@st.composite
def scalar_pairs(draw: st.DrawFn) -> Pair:  # noqa: PLR0911 (one return per type)
    kind = draw(
        st.sampled_from(
            ["string", "int", "float", "bool", "enum_string", "enum_int", "pattern", "any"]
        )
    )
    if kind == "string":
        low, high = draw(st.none() | st.integers(0, 3)), draw(st.none() | st.integers(2, 6))
        pattern = draw(st.sampled_from(PATTERNS))
        return Pair(
            StringSchema(min=low, max=high, pattern=pattern),
            sdk.StringType(low, high, None if pattern is None else re.compile(pattern)),
        )
    if kind in ("int", "float"):
        units = draw(st.sampled_from([None, *UNITS]))
        ours_units, sdk_units = (None, None) if units is None else UNITS[units]
        low = draw(st.none() | st.integers(-5, 5))
        high = draw(st.none() | st.integers(0, 5000))
        if kind == "int":
            return Pair(
                IntSchema(min=low, max=high, units=ours_units),
                sdk.IntType(min=low, max=high, units=sdk_units),
            )
        low_f = None if low is None else float(low)
        high_f = None if high is None else float(high)
        return Pair(
            FloatSchema(min=low_f, max=high_f, units=ours_units),
            sdk.FloatType(min=low_f, max=high_f, units=sdk_units),
        )
    if kind == "bool":
        return Pair(BoolSchema(), sdk.BoolType())
    if kind == "enum_string":
        values = draw(
            st.lists(st.sampled_from(["a", "B", "yes", "1", ""]), min_size=1, unique=True)
        )
        cls = enum.Enum("S", [(f"M{index}", value) for index, value in enumerate(values)])  # type: ignore[misc]
        return Pair(
            StringEnumSchema(values=dict.fromkeys(values, DisplayValue())), sdk.StringEnumType(cls)
        )
    if kind == "enum_int":
        values = draw(st.lists(st.sampled_from([0, 1, 2, 5, -1]), min_size=1, unique=True))
        cls = enum.Enum("I", [(f"M{index}", value) for index, value in enumerate(values)])  # type: ignore[misc]
        return Pair(
            IntEnumSchema(values=dict.fromkeys(values, DisplayValue())), sdk.IntEnumType(cls)
        )
    if kind == "pattern":
        return Pair(PatternSchema(), sdk.PatternType())
    return Pair(AnySchema(), sdk.AnyType())


def key_pairs() -> st.SearchStrategy[Pair]:
    return st.sampled_from(["string", "int", "enum_int", "enum_string"]).map(_key_pair)


def _key_pair(kind: str) -> Pair:
    if kind == "string":
        return Pair(StringSchema(), sdk.StringType())
    if kind == "int":
        return Pair(IntSchema(), sdk.IntType())
    if kind == "enum_int":
        cls = enum.Enum("K", [("ONE", 1), ("TWO", 2)])
        return Pair(
            IntEnumSchema(values={1: DisplayValue(), 2: DisplayValue()}), sdk.IntEnumType(cls)
        )
    cls = enum.Enum("K", [("A", "a"), ("ONE", "1")])
    return Pair(
        StringEnumSchema(values={"a": DisplayValue(), "1": DisplayValue()}),
        sdk.StringEnumType(cls),
    )


#: A default of the type (JSON-encodable, in the type the SDK's dataclass would hold).
def default_for(pair: Pair) -> st.SearchStrategy[Any]:
    ours = pair.ours
    if isinstance(ours, StringSchema) and ours.pattern is None and not ours.min:
        return st.none() | st.just("d")
    if isinstance(ours, IntSchema) and ours.min is None and ours.max is None:
        return st.none() | st.integers(-3, 3)
    if isinstance(ours, FloatSchema) and ours.min is None and ours.max is None:
        return st.none() | st.floats(-3, 3, allow_nan=False)
    if isinstance(ours, BoolSchema):
        return st.none() | st.booleans()
    return st.none()


@st.composite
def type_pairs(draw: st.DrawFn, build: Build, depth: int = 0) -> Pair:
    kind = draw(
        st.sampled_from(["scalar"] * 3 + (["list", "map", "object", "one_of"] if depth < 2 else []))
    )
    if kind == "scalar":
        return draw(scalar_pairs())
    if kind == "list":
        items = draw(type_pairs(build, depth + 1))
        low, high = draw(st.none() | st.integers(0, 2)), draw(st.none() | st.integers(1, 4))
        return Pair(
            ListSchema(items=items.ours, min=low, max=high),
            sdk.ListType(items.theirs, min=low, max=high),
        )
    if kind == "map":
        keys = draw(key_pairs())
        values = draw(type_pairs(build, depth + 1))
        high = draw(st.none() | st.integers(1, 3))
        return Pair(
            MapSchema(keys=keys.ours, values=values.ours, max=high),
            sdk.MapType(keys.theirs, values.theirs, max=high),
        )
    if kind == "object":
        return draw(object_pairs(build, depth + 1))[1]
    return draw(one_of_pairs(build, depth + 1))


@st.composite
def object_pairs(
    draw: st.DrawFn,
    build: Build,
    depth: int,
    extra: dict[str, tuple[Pair, bool, Any]] | None = None,
) -> tuple[str, Pair]:
    properties: dict[str, tuple[Pair, bool, Any]] = dict(extra or {})
    for index in range(draw(st.integers(0, 3))):
        pair = draw(type_pairs(build, depth))
        required = draw(st.booleans())
        default = None if required else draw(default_for(pair))
        properties[f"p{index}"] = (pair, required, default)
    return build.object_pair(properties)


@st.composite
def one_of_pairs(draw: st.DrawFn, build: Build, depth: int) -> Pair:
    is_int = draw(st.booleans())
    keys: list[Any] = [1, 2] if is_int else ["a", "b"]
    inlined = draw(st.booleans())
    ours_types: dict[Any, RefSchema] = {}
    sdk_types: dict[Any, Any] = {}
    for key in keys:
        extra = None
        if inlined:
            field = _key_pair("int" if is_int else "string")
            extra = {"kind": (field, True, None)}
        object_id, _ = draw(object_pairs(build, depth, extra))
        ours_types[key] = RefSchema(id=object_id)
        sdk_types[key] = sdk.RefType(object_id, build.scope)
    if is_int:
        return Pair(
            OneOfIntSchema(
                types=ours_types, discriminator_field_name="kind", discriminator_inlined=inlined
            ),
            sdk.OneOfIntType(sdk_types, build.scope, inlined, "kind"),
        )
    return Pair(
        OneOfStringSchema(
            types=ours_types, discriminator_field_name="kind", discriminator_inlined=inlined
        ),
        sdk.OneOfStringType(sdk_types, build.scope, inlined, "kind"),
    )


# --- values that probe the conversions ------------------------------------------------------------

WORDS = st.sampled_from(
    [
        *("yes", "No", "ON", "off", "y", "N", "true", "False", "enable", "Disabled", "t", "f"),
        *("1", "0", "", " ", "inf", "-inf", "nan", "1e3", ".5", "0x10", "0b1", "1_000", "+5"),
        *(" 7 ", "5.0", "2kB", "1 MB", "3 kilobytes", "1.5B", "1x5", "5m30s", "1s", "100ns"),
        *("2 us", "1.5", "T", "a", "B", "ab", "abcdefg"),
    ]
)
DIGITS = st.text(alphabet=" +-_.0123456789eE", max_size=7)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.integers(),
    st.floats(),
    st.floats(-3, 3).map(round),
    DIGITS,
    WORDS,
)
KEYS = st.one_of(st.none(), st.booleans(), st.integers(-2, 3), DIGITS, WORDS)


def values_near(  # noqa: PLR0911 (one return per type)
    schema: Any, scope: ScopeSchema, depth: int = 0
) -> st.SearchStrategy[Any]:
    """Return values for ``schema``: its own shapes filled with probing scalars, and junk."""
    if depth > 4:
        return SCALARS
    if isinstance(schema, ListSchema):
        items = st.lists(values_near(schema.items, scope, depth + 1), max_size=4)
        return st.one_of(items, items, items, SCALARS)
    if isinstance(schema, MapSchema):
        keys = KEYS | scalars_near(schema.keys)
        entries = st.dictionaries(keys, values_near(schema.values, scope, depth + 1), max_size=4)
        return st.one_of(entries, entries, entries, SCALARS)
    if isinstance(schema, RefSchema):
        schema = scope.objects[schema.id]
    if isinstance(schema, ObjectSchema):
        objects = objects_near(schema, scope, depth)
        return st.one_of(objects, objects, objects, SCALARS)
    if isinstance(schema, OneOfStringSchema | OneOfIntSchema):
        keys = list(schema.types)
        discriminators = st.sampled_from(keys) | st.sampled_from(
            [*keys, True, "1", 1, "a", 3, None]
        )
        members = [
            objects_near(scope.objects[ref.id], scope, depth) for ref in schema.types.values()
        ]
        return st.tuples(st.one_of(members), discriminators, RARELY).map(
            lambda parts: {**parts[0], **({} if parts[2] else {"kind": parts[1]})}
        )
    if isinstance(schema, AnySchema):
        return st.recursive(
            SCALARS,
            lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=3),
            max_leaves=6,
        )
    return scalars_near(schema) | scalars_near(schema) | SCALARS


RARELY = st.sampled_from([False] * 7 + [True])


def scalars_near(schema: Any) -> st.SearchStrategy[Any]:  # noqa: PLR0911 (one per type)
    """Return scalars a plugin would accept for ``schema`` most of the time."""
    if isinstance(schema, StringSchema):
        return st.text(alphabet="abcxyz019T", max_size=7) | st.integers(-20, 2000) | st.booleans()
    if isinstance(schema, IntSchema | FloatSchema):
        ints = st.integers(-6, 5001)
        amounts = ints.map(str) | ints.map(lambda number: f" {number} ")
        if schema.units is not None:
            names = [schema.units.base_unit.name_short_plural] + [
                unit.name_long_plural for unit in (schema.units.multipliers or {}).values()
            ]
            amounts = amounts | st.tuples(st.integers(0, 3), st.sampled_from(names)).map(
                lambda parts: f"{parts[0]}{parts[1]}"
            )
        numbers = ints | st.booleans() | amounts
        if isinstance(schema, FloatSchema):
            numbers = numbers | st.floats(-6, 5001) | ints.map(lambda n: f"{n}.5")
        return numbers
    if isinstance(schema, BoolSchema):
        return st.booleans() | st.sampled_from([0, 1, "yes", "OFF", "Enabled", "n"])
    if isinstance(schema, StringEnumSchema):
        return st.sampled_from(list(schema.values))
    if isinstance(schema, IntEnumSchema):
        values = list(schema.values)
        return st.sampled_from(values) | st.sampled_from(values).map(float) | st.booleans()
    if isinstance(schema, PatternSchema):
        return st.sampled_from(["^a", "a|b", "(", "[0-9]+"])
    return SCALARS


def objects_near(obj: ObjectSchema, scope: ScopeSchema, depth: int) -> st.SearchStrategy[Any]:
    optional = {
        name: values_near(prop.type, scope, depth + 1) for name, prop in obj.properties.items()
    }
    extra = st.just({}) | st.just({"unknown": 1})
    return st.tuples(st.fixed_dictionaries({}, optional=optional), extra).map(
        lambda parts: {**parts[0], **parts[1]}
    )


# --- the oracle ---------------------------------------------------------------------------------

SDK_REFUSALS = (sdk.ConstraintException, ValueError, OverflowError, TypeError)


def typed(value: Any) -> Any:
    """Return ``value`` with each scalar's type made part of it (``True != 1`` here)."""
    if isinstance(value, dict):
        return sorted(((repr(typed(key)), typed(item)) for key, item in value.items()), key=repr)
    if isinstance(value, list):
        return [typed(item) for item in value]
    if isinstance(value, float):
        return ("float", repr(value))
    return (type(value).__name__, value)


def expected(schema: Any, value: Any, scope: ScopeSchema) -> Any:
    """The SDK's result with our one deliberate conversion: a bool for an integer is an int."""
    if isinstance(schema, IntSchema):
        return int(value)
    if isinstance(schema, ListSchema):
        return [expected(schema.items, item, scope) for item in value]
    if isinstance(schema, MapSchema):
        return {
            expected(schema.keys, key, scope): expected(schema.values, item, scope)
            for key, item in value.items()
        }
    if isinstance(schema, RefSchema):
        schema = scope.objects[schema.id]
    if isinstance(schema, ScopeSchema):
        schema = schema.objects[schema.root]
    if isinstance(schema, OneOfStringSchema | OneOfIntSchema):
        discriminator = value[schema.discriminator_field_name]
        member = scope.objects[schema.types[discriminator].id]
        result = expected(member, value, scope)
        return (
            {**result, schema.discriminator_field_name: int(discriminator)}
            if isinstance(schema, OneOfIntSchema)
            else result
        )
    if isinstance(schema, ObjectSchema):
        return {
            key: expected(schema.properties[key].type, item, scope)
            if key in schema.properties
            else item
            for key, item in value.items()
        }
    return value


def int_then_bool_in_any(  # noqa: PLR0911 (one return per type)
    schema: Any, value: Any, scope: ScopeSchema, depth: int = 0
) -> bool:
    """Return whether an ``any`` value holds a list [int, ..., bool] (SDK yes, we no)."""
    if depth > 8:
        return False
    if isinstance(schema, AnySchema):
        if isinstance(value, list):
            if value and type(value[0]) is int and any(type(item) is bool for item in value):
                return True
            return any(int_then_bool_in_any(schema, item, scope, depth + 1) for item in value)
        if isinstance(value, dict):
            return any(
                int_then_bool_in_any(schema, item, scope, depth + 1) for item in value.values()
            )
        return False
    if isinstance(schema, ListSchema) and isinstance(value, list):
        return any(int_then_bool_in_any(schema.items, item, scope, depth + 1) for item in value)
    if isinstance(schema, MapSchema) and isinstance(value, dict):
        return any(
            int_then_bool_in_any(schema.values, item, scope, depth + 1) for item in value.values()
        )
    if isinstance(schema, RefSchema):
        schema = scope.objects[schema.id]
    if isinstance(schema, ScopeSchema):
        schema = schema.objects[schema.root]
    if isinstance(schema, OneOfStringSchema | OneOfIntSchema) and isinstance(value, dict):
        return any(
            int_then_bool_in_any(scope.objects[ref.id], value, scope, depth + 1)
            for ref in schema.types.values()
        )
    if isinstance(schema, ObjectSchema) and isinstance(value, dict):
        return any(
            int_then_bool_in_any(schema.properties[key].type, item, scope, depth + 1)
            for key, item in value.items()
            if key in schema.properties
        )
    return False


@st.composite
def cases(draw: st.DrawFn) -> tuple[ScopeSchema, Any, Any]:
    build = Build()
    root_type = draw(type_pairs(build))
    _, root = build.object_pair({"v": (root_type, True, None)})
    root_id = root.ours.id
    build.scope.root = root_id
    ours = build.our_scope(root.ours)
    value = draw(values_near(root_type.ours, ours))
    return ours, build.scope, {"v": value}


def sdk_decision(theirs: Any, value: Any) -> tuple[bool, Any]:
    given = copy.deepcopy(value)
    try:
        result = theirs.unserialize(given)
    except SDK_REFUSALS:
        return False, None
    return True, theirs.serialize(result)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_validate_decides_and_converts_as_the_sdk(case: tuple[ScopeSchema, Any, Any]) -> None:
    """Accepted by us iff by the SDK; accepted values equal the SDK's, type for type."""
    ours, theirs, value = case
    assume(not int_then_bool_in_any(ours, value, ours))
    before = copy.deepcopy(value)
    sdk_ok, sdk_value = sdk_decision(theirs, value)
    root_type = ours.objects[ours.root].properties["v"].type
    event(f"{type(root_type).__name__} {'accepted' if sdk_ok else 'refused'}")
    try:
        our_value = validate(ours, value)
    except SchemaValidationError as exc:
        refusal: SchemaValidationError | None = exc
    else:
        refusal = None
    assert typed(before) == typed(value), "validate changed its input"
    if refusal is not None:
        assert not sdk_ok, f"we refuse what the SDK accepts as {sdk_value!r}: {refusal}"
        return
    assert sdk_ok, f"we accept what the SDK refuses, as {our_value!r}"
    assert typed(expected(ours, sdk_value, ours)) == typed(our_value)


def test_the_oracle_sees_the_documented_bool_difference() -> None:
    """The one expected-value adjustment is real: the SDK keeps a bool given for an int."""
    assert sdk.IntType().unserialize(True) is True
    assert 1 == validate(IntSchema(), True)
    assert type(validate(IntSchema(), True)) is int


@pytest.mark.parametrize(
    ("schema", "value"),
    [
        (AnySchema(), [1, True]),
        (
            ObjectSchema(id="O", properties={"a": PropertySchema(type=AnySchema())}),
            {"a": [1, False]},
        ),
    ],
)
def test_the_skipped_any_lists_are_the_documented_ones(schema: Any, value: Any) -> None:
    """What the oracle skips is exactly the ``any`` list the SDK accepts and we refuse."""
    empty = ScopeSchema(root="R", objects={"R": ObjectSchema(id="R", properties={})})
    assert int_then_bool_in_any(schema, value, empty)
    with pytest.raises(SchemaValidationError):
        validate(schema, value)
