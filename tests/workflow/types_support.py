"""A hand-built type of ``$`` for the type inference tests (test_types, test_template_types):
an input scope with every kind of type, and two plugin-like steps ``a`` and ``b``."""

from __future__ import annotations

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
    OneOfStringSchema,
    PropertySchema,
    RefSchema,
    ScopeSchema,
    StringEnumSchema,
    StringSchema,
    TypeSchema,
)
from arcaflow_steps.workflow._root_type import root_type


def prop(schema: TypeSchema, *, required: bool = False) -> PropertySchema:
    return PropertySchema(type=schema, required=required)


ITEM = ObjectSchema(
    id="Item",
    properties={"id": prop(IntSchema(), required=True), "next": prop(RefSchema(id="Item"))},
)
INPUT = ScopeSchema(
    root="In",
    objects={
        "In": ObjectSchema(
            id="In",
            properties={
                "name": prop(StringSchema(min=1), required=True),
                "n": prop(IntSchema(min=0)),
                "f": prop(FloatSchema()),
                "flag": prop(BoolSchema()),
                "items": prop(ListSchema(items=RefSchema(id="Item"))),
                "counts": prop(MapSchema(keys=StringSchema(), values=IntSchema())),
                "by_number": prop(MapSchema(keys=IntSchema(), values=StringSchema())),
                "by_colour": prop(
                    MapSchema(
                        keys=StringEnumSchema(
                            values={"red": DisplayValue(name="Red"), "blue": DisplayValue()}
                        ),
                        values=FloatSchema(),
                    )
                ),
                "probe": prop(RefSchema(id="Item")),
                "anything": prop(AnySchema()),
                "level": prop(IntEnumSchema(values={1: DisplayValue(), 2: DisplayValue()})),
                "colour": prop(StringEnumSchema(values={"red": DisplayValue()})),
                "choice": prop(
                    OneOfStringSchema(
                        types={
                            "a": ObjectSchema(
                                id="A",
                                properties={"x": prop(IntSchema()), "only_a": prop(IntSchema())},
                            ),
                            "b": RefSchema(id="B"),
                        },
                        discriminator_field_name="kind",
                    )
                ),
            },
        ),
        "Item": ITEM,
        "B": ObjectSchema(id="B", properties={"x": prop(IntSchema()), "y": prop(StringSchema())}),
    },
)
SUCCESS = ScopeSchema(
    root="Out",
    objects={
        "Out": ObjectSchema(
            id="Out", properties={"id": prop(IntSchema()), "name": prop(StringSchema())}
        )
    },
)


def stage(step_kind: str, stage_id: str, **outputs: TypeSchema) -> PropertySchema:
    return prop(
        ObjectSchema(
            id=f"$.{step_kind}.{stage_id}",
            properties={output_id: prop(schema) for output_id, schema in outputs.items()},
            id_unenforced=True,
        )
    )


PLUGIN_STEP = ObjectSchema(
    id="$.plugin",
    properties={
        "outputs": stage(
            "plugin",
            "outputs",
            success=SUCCESS,
            error=ScopeSchema(
                root="E",
                objects={"E": ObjectSchema(id="E", properties={"e": prop(StringSchema())})},
            ),
        ),
        "closed": stage(
            "plugin",
            "closed",
            result=ScopeSchema(
                root="R",
                objects={"R": ObjectSchema(id="R", properties={"cancelled": prop(BoolSchema())})},
            ),
        ),
        "crashed": stage(
            "plugin",
            "crashed",
            error=ScopeSchema(
                root="C",
                objects={"C": ObjectSchema(id="C", properties={"output": prop(StringSchema())})},
            ),
        ),
    },
    id_unenforced=True,
)
ROOT = root_type(INPUT, {"a": PLUGIN_STEP, "b": PLUGIN_STEP})
