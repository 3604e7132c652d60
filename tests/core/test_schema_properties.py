"""Hypothesis properties: the serialized form round-trips, and verdicts match the SDK's."""

from __future__ import annotations

import copy
import json
import string
from typing import Any

import jsonschema
import test_schema_sdk as sdk_cases
from arcaflow_plugin_sdk import schema as sdk_schema
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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
    PluginSchema,
    PropertySchema,
    RefSchema,
    ScopeSchema,
    StepOutputSchema,
    StepSchema,
    StringEnumSchema,
    StringSchema,
    Unit,
    Units,
    parse_plugin_schema,
    parse_scope,
    serialize_plugin_schema,
    serialize_scope,
    to_json_schema,
)

# --- schema strategies --------------------------------------------------------------------------

NAMES = st.text(alphabet=string.ascii_lowercase + "_", min_size=1, max_size=6)
TEXT = st.text(alphabet=string.ascii_letters + " -", min_size=1, max_size=8)
OBJECT_IDS = ("Alpha", "Beta", "Gamma")
SMALL = st.integers(min_value=-100, max_value=100)
SIZES = st.none() | st.integers(min_value=0, max_value=5)
FLOATS = st.none() | st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)

displays = st.builds(
    DisplayValue,
    name=st.none() | TEXT,
    description=st.none() | TEXT,
    icon=st.none() | st.just("<svg></svg>"),
)
units = st.builds(
    Units,
    base_unit=st.builds(
        Unit,
        name_short_singular=TEXT,
        name_short_plural=TEXT,
        name_long_singular=TEXT,
        name_long_plural=TEXT,
    ),
    multipliers=st.none()
    | st.dictionaries(
        st.integers(min_value=2, max_value=10**9),
        st.builds(
            Unit,
            name_short_singular=TEXT,
            name_short_plural=TEXT,
            name_long_singular=TEXT,
            name_long_plural=TEXT,
        ),
        max_size=2,
    ),
)


def ordered(schema: Any) -> bool:
    """Return whether ``min <= max`` (a schema with min above max is invalid)."""
    return schema.min is None or schema.max is None or schema.min <= schema.max


strings = st.builds(
    StringSchema, min=SIZES, max=SIZES, pattern=st.none() | st.sampled_from(["^[a-z]+$", "x"])
).filter(ordered)
ints = st.builds(
    IntSchema, min=st.none() | SMALL, max=st.none() | SMALL, units=st.none() | units
).filter(ordered)
floats = st.builds(FloatSchema, min=FLOATS, max=FLOATS, units=st.none() | units).filter(ordered)
string_enums = st.builds(
    StringEnumSchema, values=st.dictionaries(NAMES, displays, min_size=1, max_size=3)
)
int_enums = st.builds(
    IntEnumSchema,
    values=st.dictionaries(SMALL, displays, min_size=1, max_size=3),
    units=st.none() | units,
)
map_keys = strings | ints | string_enums | int_enums
scalars = (
    strings
    | ints
    | floats
    | st.builds(BoolSchema)
    | st.builds(PatternSchema)
    | st.builds(AnySchema)
    | string_enums
    | int_enums
)
refs = st.builds(RefSchema, id=st.sampled_from(OBJECT_IDS), display=st.none() | displays)


def one_ofs(key: st.SearchStrategy[Any], cls: type[Any]) -> st.SearchStrategy[Any]:
    """Return one-of schemas whose members are refs to the scope's objects."""
    return st.builds(
        cls,
        types=st.dictionaries(
            key, st.builds(RefSchema, id=st.sampled_from(OBJECT_IDS)), min_size=1, max_size=3
        ),
        discriminator_field_name=st.sampled_from(["_type", "kind"]),
    )


types = st.recursive(
    scalars | refs | one_ofs(NAMES, OneOfStringSchema) | one_ofs(SMALL, OneOfIntSchema),
    lambda children: (
        st.builds(ListSchema, items=children, min=SIZES, max=SIZES).filter(ordered)
        | st.builds(MapSchema, keys=map_keys, values=children, min=SIZES, max=SIZES).filter(ordered)
    ),
    max_leaves=4,
)


@st.composite
def properties(draw: st.DrawFn) -> PropertySchema:
    """Return a property; simple types sometimes get a valid JSON-encoded default."""
    prop_type = draw(types)
    default = None
    if isinstance(prop_type, BoolSchema):
        default = draw(st.none() | st.booleans().map(json.dumps))
    elif isinstance(prop_type, StringEnumSchema | IntEnumSchema):
        default = draw(st.none() | st.sampled_from(list(prop_type.values)).map(json.dumps))
    elif isinstance(prop_type, AnySchema | ListSchema) and not getattr(prop_type, "min", None):
        default = draw(st.none() | st.just("[]" if isinstance(prop_type, ListSchema) else "1"))
    others = st.lists(NAMES, max_size=2).map(tuple)
    return PropertySchema(
        type=prop_type,
        display=draw(st.none() | displays),
        required=draw(st.booleans()),
        required_if=draw(others),
        required_if_not=draw(others),
        conflicts=draw(others),
        default=default,
        examples=draw(st.lists(st.sampled_from(['"a"', "1", "[]"]), max_size=2).map(tuple)),
    )


scopes = st.builds(
    lambda objects, root: ScopeSchema(root=root, objects=objects),
    objects=st.fixed_dictionaries(
        {
            object_id: st.builds(
                ObjectSchema,
                id=st.just(object_id),
                properties=st.dictionaries(NAMES, properties(), max_size=4),
                id_unenforced=st.none() | st.booleans(),
            )
            for object_id in OBJECT_IDS
        }
    ),
    root=st.sampled_from(OBJECT_IDS),
)
plugins = st.builds(
    lambda step_ids, scope, output, error, display: PluginSchema(
        steps={
            step_id: StepSchema(
                id=step_id,
                input=scope,
                outputs={
                    "success": StepOutputSchema(schema=output, display=display),
                    "error": StepOutputSchema(schema=output, error=error),
                },
                display=display,
            )
            for step_id in step_ids
        }
    ),
    step_ids=st.lists(NAMES, min_size=1, max_size=2, unique=True),
    scope=scopes,
    output=scopes,
    error=st.booleans(),
    display=st.none() | displays,
)

SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(scopes)
def test_scope_round_trips(scope: ScopeSchema) -> None:
    """parse(serialize(s)) == s, and serializing again gives the same data."""
    data = serialize_scope(scope)
    parsed = parse_scope(data)
    assert scope == parsed
    assert data == serialize_scope(parsed)


@settings(SETTINGS, max_examples=60)  # the SDK's schema-of-schemas is slow
@given(plugins)
def test_plugin_round_trips_through_the_sdk(plugin: PluginSchema) -> None:
    """The SDK reads our form of any plugin schema and writes back the same data."""
    data = serialize_plugin_schema(plugin)
    assert plugin == parse_plugin_schema(data)
    by_sdk = sdk_schema.SCHEMA_SCHEMA.serialize(
        sdk_schema.SCHEMA_SCHEMA.unserialize(copy.deepcopy(data))
    )
    assert data == by_sdk
    assert plugin == parse_plugin_schema(by_sdk)


@SETTINGS
@given(scopes)
def test_json_schema_documents_are_valid(scope: ScopeSchema) -> None:
    """to_json_schema gives a valid draft 2020-12 document for any scope."""
    document = to_json_schema(scope)
    jsonschema.Draft202012Validator.check_schema(document)
    assert set(scope.objects) <= set(document["$defs"])


# --- differential validation --------------------------------------------------------------------

#: Strings the SDK turns into booleans; we never generate them for bool fields.
BOOL_WORDS = {
    "yes",
    "y",
    "on",
    "true",
    "enable",
    "enabled",
    "1",
    "no",
    "n",
    "off",
    "false",
    "disable",
    "disabled",
    "0",
}


#: True about one time in eight (Hypothesis favours the ends of integer ranges, not lists).
RARELY = st.sampled_from([False] * 7 + [True])


def values_for(schema: Any, scope: ScopeSchema, depth: int = 0) -> st.SearchStrategy[Any]:
    """Return values for ``schema``: mostly valid, sometimes wrong in ways the SDK won't coerce."""
    valid = valid_values(schema, scope, depth)
    wrong = wrong_values(schema)
    return RARELY.flatmap(lambda is_wrong: wrong if is_wrong else valid)


def wrong_values(schema: Any) -> st.SearchStrategy[Any]:  # noqa: PLR0911 (one per type)
    """Return values that are wrong for ``schema`` and that the SDK does not coerce either."""
    if isinstance(schema, StringSchema | PatternSchema):
        return st.floats(allow_nan=False) | st.just([]) | st.sampled_from(["Bob", "(", ""])
    if isinstance(schema, IntSchema):
        return (
            st.floats(allow_nan=False, allow_infinity=False).filter(
                lambda number: not number.is_integer()
            )
            | st.just({})
            | st.integers()
        )
    if isinstance(schema, FloatSchema):
        return st.just([]) | st.floats(allow_nan=False, allow_infinity=False)
    if isinstance(schema, BoolSchema):
        return st.text(max_size=4).filter(lambda text: text.lower() not in BOOL_WORDS)
    if isinstance(schema, StringEnumSchema):
        return st.sampled_from(["green", ""]) | st.integers(min_value=7)
    if isinstance(schema, IntEnumSchema):
        return st.sampled_from([7, -1, "1"])
    if isinstance(schema, ListSchema):
        return st.text(max_size=1) | st.just({})
    if isinstance(schema, MapSchema):
        return st.just([1])
    if isinstance(schema, RefSchema):
        return st.just("x") | st.just({"unknown_key": 1})
    if isinstance(schema, OneOfStringSchema | OneOfIntSchema):
        return st.just({schema.discriminator_field_name: 99}) | st.just({}) | st.just(3)
    return st.just(object())  # AnySchema: nothing JSON-like is wrong


def valid_values(  # noqa: PLR0911 (one return per type)
    schema: Any, scope: ScopeSchema, depth: int
) -> st.SearchStrategy[Any]:
    """Return values that are usually valid for ``schema``."""
    if isinstance(schema, StringSchema):
        return st.text(alphabet="abcxyz", min_size=schema.min or 0, max_size=schema.max or 10)
    if isinstance(schema, PatternSchema):
        return st.sampled_from(["^a", "a|b", "[0-9]+"])
    if isinstance(schema, IntSchema | FloatSchema):
        low = schema.min if schema.min is not None else -5
        high = schema.max if schema.max is not None else 2**40
        ints = st.integers(min_value=int(low), max_value=int(high))
        if isinstance(schema, IntSchema):
            return ints
        return ints | st.floats(min_value=low, max_value=high, allow_nan=False)
    if isinstance(schema, BoolSchema):
        return st.booleans()
    if isinstance(schema, StringEnumSchema | IntEnumSchema):
        return st.sampled_from(list(schema.values))
    if isinstance(schema, ListSchema):
        return st.lists(
            values_for(schema.items, scope, depth + 1),
            min_size=schema.min or 0,
            max_size=min(schema.max if schema.max is not None else 4, 4),
        )
    if isinstance(schema, MapSchema):
        keys = (
            st.integers(min_value=0, max_value=3)
            if isinstance(schema.keys, IntSchema | IntEnumSchema)
            else st.sampled_from(["a", "b", "c"])
        )
        return st.dictionaries(keys, values_for(schema.values, scope, depth + 1), max_size=3)
    if isinstance(schema, RefSchema):
        return objects_for(scope.objects[schema.id], scope, depth + 1)
    if isinstance(schema, OneOfStringSchema | OneOfIntSchema):
        members = []
        field = schema.discriminator_field_name
        for key, member in schema.types.items():
            assert isinstance(member, RefSchema)
            members.append(
                objects_for(scope.objects[member.id], scope, depth + 1, skip=field).map(
                    lambda value, key=key: {**value, field: key}
                )
            )
        return st.one_of(members)
    return st.integers() | st.text(max_size=3) | st.lists(st.integers(), max_size=2)


def objects_for(
    obj: ObjectSchema, scope: ScopeSchema, depth: int, skip: str = ""
) -> st.SearchStrategy[Any]:
    """Return mappings for an object: required properties mostly present, others at random."""
    required = {name for name, prop in obj.properties.items() if prop.required}
    optional = {
        name: values_for(prop.type, scope, depth)
        for name, prop in obj.properties.items()
        if name != skip
    }

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        value = draw(st.fixed_dictionaries({}, optional=optional))
        for name in sorted(required - {skip}):
            if name not in value and not draw(RARELY):
                value[name] = draw(optional[name])
        if draw(RARELY) and draw(RARELY):
            value["unknown_key"] = 1
        return value

    return build()


def _differential(step_id: str) -> Any:
    scope = sdk_cases.OURS.steps[step_id].input

    @SETTINGS
    @given(objects_for(scope.objects[scope.root], scope, 0))
    def check(value: dict[str, Any]) -> None:
        if step_id == "greet":
            value.pop("anything", None)  # SDK 'any' quirks are covered by the table tests
        assert sdk_cases.sdk_verdict(step_id, value) == sdk_cases.our_verdict(step_id, value)

    return check


test_greet_verdicts_match_sdk = _differential("greet")
test_greet_verdicts_match_sdk.__doc__ = "Random greet inputs get the SDK's verdict and value."
test_shape_verdicts_match_sdk = _differential("shape")
test_shape_verdicts_match_sdk.__doc__ = "Random shape inputs (one-ofs, maps) match the SDK."
test_wait_verdicts_match_sdk = _differential("wait")
test_wait_verdicts_match_sdk.__doc__ = "Random wait inputs match the SDK."
