"""Type compatibility (assignable_problems): which source types fit which targets."""

from __future__ import annotations

import pytest

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
    TypeSchema,
)
from arcaflow_steps.workflow._expressions import assignable_problems


def prop(schema: TypeSchema, *, required: bool = False) -> PropertySchema:
    return PropertySchema(type=schema, required=required)


def string_enum(*values: str) -> StringEnumSchema:
    return StringEnumSchema(values={value: DisplayValue() for value in values})


def int_enum(*values: int) -> IntEnumSchema:
    return IntEnumSchema(values={value: DisplayValue() for value in values})


def unenforced(**properties: PropertySchema) -> ObjectSchema:
    return ObjectSchema(id="inferred_schema", properties=properties, id_unenforced=True)


PROBE = ObjectSchema(
    id="Probe",
    properties={"host": prop(StringSchema(), required=True), "port": prop(IntSchema(min=1))},
)
PROBE_SCOPE = ScopeSchema(root="Probe", objects={"Probe": PROBE})

FITS: list[tuple[str, TypeSchema, TypeSchema]] = [
    ("int-int", IntSchema(), IntSchema(min=1, max=5)),
    ("int-enum-int", int_enum(1, 2), IntSchema()),
    ("int-float", IntSchema(), FloatSchema()),
    ("float-float", FloatSchema(), FloatSchema(min=0.0)),
    ("string-string", StringSchema(), StringSchema(pattern="^a")),
    ("int-string", IntSchema(), StringSchema()),
    ("int-enum-string", int_enum(1), StringSchema()),
    ("enum-string", string_enum("a"), StringSchema()),
    ("string-pattern", StringSchema(), PatternSchema()),
    ("bool-bool", BoolSchema(), BoolSchema()),
    ("string-enum", StringSchema(), string_enum("a", "b")),
    ("enum-subset", string_enum("a"), string_enum("a", "b")),
    ("int-int-enum", IntSchema(), int_enum(1)),
    ("int-enum-subset", int_enum(1), int_enum(1, 2)),
    ("any-int", AnySchema(), IntSchema()),
    ("any-object", AnySchema(), PROBE),
    ("object-any", PROBE, AnySchema()),
    ("list-any", ListSchema(items=IntSchema()), AnySchema()),
    ("list", ListSchema(items=IntSchema()), ListSchema(items=FloatSchema(), min=1)),
    ("list-of-any", ListSchema(items=AnySchema()), ListSchema(items=PROBE)),
    (
        "map",
        MapSchema(keys=StringSchema(), values=IntSchema()),
        MapSchema(keys=StringSchema(), values=FloatSchema()),
    ),
    (
        "object-into-map",
        unenforced(a=prop(IntSchema()), b=prop(IntSchema())),
        MapSchema(keys=StringSchema(), values=IntSchema()),
    ),
    (
        "object-into-enum-keyed-map",
        unenforced(a=prop(IntSchema())),
        MapSchema(keys=string_enum("a", "b"), values=IntSchema()),
    ),
    ("same-object", PROBE, PROBE),
    ("scope-to-object", PROBE_SCOPE, PROBE),
    ("object-to-scope", PROBE, PROBE_SCOPE),
    (
        "unenforced-source",
        unenforced(host=prop(StringSchema(), required=True)),
        PROBE,
    ),
    (
        "unenforced-target",
        ObjectSchema(id="Other", properties={"host": prop(StringSchema())}),
        ObjectSchema(id="Target", properties={"host": prop(StringSchema())}, id_unenforced=True),
    ),
    (
        "optional-source-field-for-required-target",
        unenforced(host=prop(StringSchema())),
        PROBE,
    ),
    (
        "ref-in-scope",
        ScopeSchema(
            root="Outer",
            objects={
                "Outer": ObjectSchema(id="Outer", properties={"p": prop(RefSchema(id="Probe"))}),
                "Probe": PROBE,
            },
        ),
        unenforced(p=prop(PROBE_SCOPE)),
    ),
    (
        "one-of-into-one-of",
        OneOfStringSchema(types={"a": PROBE}),
        OneOfStringSchema(types={"a": PROBE, "b": ObjectSchema(id="B", properties={})}),
    ),
    (
        "one-of-into-object-with-discriminator",
        OneOfStringSchema(
            types={"a": unenforced(host=prop(StringSchema()))}, discriminator_field_name="k"
        ),
        ObjectSchema(
            id="T",
            properties={"host": prop(StringSchema()), "k": prop(StringSchema())},
            id_unenforced=True,
        ),
    ),
    (
        "object-into-one-of",
        unenforced(kind=prop(StringSchema()), host=prop(StringSchema())),
        OneOfStringSchema(
            types={"probe": PROBE, "b": ObjectSchema(id="B", properties={"x": prop(IntSchema())})},
            discriminator_field_name="kind",
        ),
    ),
]


@pytest.mark.parametrize(
    ("source", "target"), [case[1:] for case in FITS], ids=[case[0] for case in FITS]
)
def test_fits(source: TypeSchema, target: TypeSchema) -> None:
    """These sources can be given where these targets are expected."""
    assert [] == assignable_problems(source, target, path="$.x")


RECURSIVE = ScopeSchema(
    root="Node",
    objects={
        "Node": ObjectSchema(
            id="Node",
            properties={"value": prop(IntSchema()), "next": prop(RefSchema(id="Node"))},
        )
    },
)


def test_recursive_types_end() -> None:
    """A self-referencing object type compares in finite time, and a mismatch deep in it
    is still found once."""
    assert [] == assignable_problems(RECURSIVE, RECURSIVE, path="$.x")
    other = ScopeSchema(
        root="Node",
        objects={
            "Node": ObjectSchema(
                id="Node",
                properties={"value": prop(BoolSchema()), "next": prop(RefSchema(id="Node"))},
            )
        },
    )
    assert ["$.x.value: expected a boolean, got an integer"] == assignable_problems(
        RECURSIVE, other, path="$.x"
    )


MISFITS: list[tuple[str, TypeSchema, TypeSchema, list[str]]] = [
    ("string-int", StringSchema(), IntSchema(), ["$.x: expected an integer, got a string"]),
    ("float-int", FloatSchema(), IntSchema(), ["$.x: expected an integer, got a float"]),
    ("bool-string", BoolSchema(), StringSchema(), ["$.x: expected a string, got a boolean"]),
    ("int-bool", IntSchema(), BoolSchema(), ["$.x: expected a boolean, got an integer"]),
    ("float-string", FloatSchema(), StringSchema(), ["$.x: expected a string, got a float"]),
    (
        "enum-not-subset",
        string_enum("a", "c", "d"),
        string_enum("a", "b"),
        [
            "$.x: expected a string enum ('a', 'b'), got a string enum ('a', 'c', 'd'); "
            "not in the target: 'c', 'd'"
        ],
    ),
    (
        "int-enum-into-string-enum",
        int_enum(1),
        string_enum("1"),
        ["$.x: expected a string enum ('1'), got an integer enum (1)"],
    ),
    (
        "int-into-list",
        IntSchema(),
        ListSchema(items=IntSchema()),
        ["$.x: expected a list of integers, got an integer"],
    ),
    (
        "list-items",
        ListSchema(items=StringSchema()),
        ListSchema(items=IntSchema()),
        ["$.x[]: expected an integer, got a string"],
    ),
    (
        "map-values",
        MapSchema(keys=IntSchema(), values=StringSchema()),
        MapSchema(keys=StringSchema(), values=IntSchema()),
        ["$.x[]: expected an integer, got a string"],
    ),
    (
        "map-keys",
        MapSchema(keys=StringSchema(), values=IntSchema()),
        MapSchema(keys=IntSchema(), values=IntSchema()),
        ["$.x (keys): expected an integer, got a string"],
    ),
    (
        "object-into-int-keyed-map",
        unenforced(a=prop(IntSchema())),
        MapSchema(keys=IntSchema(), values=IntSchema()),
        ["$.x: expected a map of integers to integers, got object 'inferred_schema'"],
    ),
    (
        "object-key-not-in-enum",
        unenforced(c=prop(IntSchema())),
        MapSchema(keys=string_enum("a", "b"), values=IntSchema()),
        ["$.x.c: key 'c' is not one of the map's keys; valid: a, b"],
    ),
    (
        "ids-differ",
        ObjectSchema(id="Other", properties={}),
        PROBE,
        [
            "$.x: expected object 'Probe', got object 'Other' (both ids are enforced; reuse "
            "the target's object through its namespace)"
        ],
    ),
    (
        "unknown-and-missing-fields",
        unenforced(hots=prop(StringSchema()), port=prop(StringSchema())),
        PROBE,
        [
            "$.x.hots: object 'Probe' has no field 'hots'; fields: host, port",
            "$.x.port: expected an integer, got a string",
            "$.x.host: required by object 'Probe', but not given",
        ],
    ),
    (
        "map-into-object",
        MapSchema(keys=StringSchema(), values=StringSchema()),
        PROBE,
        ["$.x: expected object 'Probe', got a map of strings to strings"],
    ),
    (
        "one-of-option-misfits",
        OneOfStringSchema(
            types={
                "a": unenforced(host=prop(StringSchema())),
                "b": unenforced(port=prop(BoolSchema())),
            }
        ),
        ObjectSchema(
            id="T",
            properties={
                "host": prop(StringSchema()),
                "port": prop(IntSchema()),
                "_type": prop(StringSchema()),
            },
        ),
        ["$.x<b>.port: expected an integer, got a boolean"],
    ),
    (
        "one-of-discriminator-not-accepted",
        OneOfStringSchema(types={"a": unenforced(host=prop(StringSchema()))}),
        unenforced(host=prop(StringSchema())),
        ["$.x<a>._type: object 'inferred_schema' has no field '_type'; fields: host"],
    ),
    (
        "one-of-unknown-option",
        OneOfStringSchema(types={"c": PROBE}),
        OneOfStringSchema(types={"a": PROBE, "b": PROBE}),
        ["$.x: option 'c' is not one of the target's: 'a', 'b'"],
    ),
    (
        "one-of-other-discriminator",
        OneOfStringSchema(types={"a": PROBE}, discriminator_field_name="k"),
        OneOfStringSchema(types={"a": PROBE}),
        [
            "$.x: expected one of 'a' (by '_type'), got one of 'a' (by 'k')",
        ],
    ),
    (
        "one-of-int-into-string",
        OneOfIntSchema(types={1: PROBE}),
        OneOfStringSchema(types={"1": PROBE}),
        ["$.x: expected one of '1' (by '_type'), got one of 1 (by '_type')"],
    ),
    (
        "object-fits-no-option",
        unenforced(z=prop(IntSchema())),
        OneOfStringSchema(types={"probe": PROBE}),
        ["$.x: object 'inferred_schema' fits no option of one of 'probe' (by '_type')"],
    ),
    (
        "broken-ref",
        ScopeSchema(
            root="A",
            objects={"A": ObjectSchema(id="A", properties={"r": prop(RefSchema(id="Gone"))})},
        ),
        unenforced(r=prop(PROBE)),
        ["$.x.r: schema error: ref 'Gone' names no object of its scope; declared objects: A"],
    ),
]


@pytest.mark.parametrize(
    ("source", "target", "problems"),
    [case[1:] for case in MISFITS],
    ids=[case[0] for case in MISFITS],
)
def test_misfits(source: TypeSchema, target: TypeSchema, problems: list[str]) -> None:
    """These sources do not fit, each problem said once with its path."""
    assert problems == assignable_problems(source, target, path="$.x")
