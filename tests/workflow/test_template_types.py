"""The type of a template (infer_template_type): literals, mappings, lists and engine tags."""

from __future__ import annotations

import pytest
from types_support import INPUT, PLUGIN_STEP, ROOT, SUCCESS

from arcaflow_steps.schema import (
    AnySchema,
    BoolSchema,
    DisplayValue,
    FloatSchema,
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
from arcaflow_steps.workflow import ExpressionTypeError, InvalidWorkflowError
from arcaflow_steps.workflow._expressions import parse_expression
from arcaflow_steps.workflow._root_type import root_type
from arcaflow_steps.workflow._template import Expr, OneOf, SoftOptional, WaitOptional
from arcaflow_steps.workflow._template_types import check_template, infer_template_type


def expr(text: str, path: str = "outputs.success.x") -> Expr:
    return Expr(parse_expression(text), path)


def obj(object_id: str = "inferred_schema", **properties: PropertySchema) -> ObjectSchema:
    return ObjectSchema(id=object_id, properties=properties, id_unenforced=True)


def required(schema: TypeSchema) -> PropertySchema:
    return PropertySchema(type=schema, required=True)


def optional(schema: TypeSchema) -> PropertySchema:
    return PropertySchema(type=schema, required=False)


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        (5, IntSchema()),
        (1.5, FloatSchema()),
        ("text", StringSchema()),
        (True, BoolSchema()),
        (None, AnySchema()),
        (expr("$.input.n + 1"), IntSchema()),
        (WaitOptional(expr("$.input.f")), FloatSchema()),
        ([], ListSchema(items=AnySchema())),
        ([1, 2], ListSchema(items=IntSchema())),
        ([1, "a"], ListSchema(items=AnySchema())),
        ([expr("$.input.n"), 3], ListSchema(items=AnySchema())),
        ([expr("$.input.n + 1"), 3], ListSchema(items=IntSchema())),
        (
            [{"a": 1}, {"a": 2}],
            ListSchema(items=obj("inferred_schema[]", a=required(IntSchema()))),
        ),
        (
            {
                "name": expr("$.steps.a.outputs.success.name"),
                "whole": expr("$.steps.a.outputs.success"),
                "literal": True,
                "later": WaitOptional(expr("$.steps.b.outputs.success.id")),
                "maybe": SoftOptional(expr("$.input.n")),
                "nothing": None,
                "nested": {"deep": [1.5]},
            },
            obj(
                name=required(StringSchema()),
                whole=required(SUCCESS),
                literal=required(BoolSchema()),
                later=optional(IntSchema()),
                maybe=optional(IntSchema(min=0)),
                nothing=optional(AnySchema()),
                nested=required(
                    obj("inferred_schema.nested", deep=required(ListSchema(items=FloatSchema())))
                ),
            ),
        ),
        (
            OneOf(
                discriminator="result",
                options=(
                    ("enabled", expr("$.steps.a.outputs.success")),
                    ("disabled", {"message": "off"}),
                ),
                path="steps.b.input",
            ),
            OneOfStringSchema(
                types={
                    "enabled": SUCCESS,
                    "disabled": obj("inferred_schema<disabled>", message=required(StringSchema())),
                },
                discriminator_field_name="result",
            ),
        ),
    ],
)
def test_template_type(template: object, expected: TypeSchema) -> None:
    """Each part of a template gives the type of the value it becomes."""
    assert expected == infer_template_type(template, ROOT)


def test_expression_error_has_the_expression_path() -> None:
    """A type error inside a template is an InvalidWorkflowError at the expression's path,
    caused by the ExpressionTypeError."""
    template = {"a": {"b": [expr("$.steps.a.outputs.success.nme", "steps.c.input.a.b[0]")]}}
    with pytest.raises(InvalidWorkflowError) as excinfo:
        infer_template_type(template, ROOT, source="workflow.yaml")
    assert "steps.c.input.a.b[0]" == excinfo.value.path
    assert (
        "workflow.yaml: steps.c.input.a.b[0]: $.steps.a.outputs.success: no field 'nme'; "
        "fields: id, name (in expression '$.steps.a.outputs.success.nme')"
    ) == str(excinfo.value)
    assert isinstance(excinfo.value.__cause__, ExpressionTypeError)


def test_one_of_option_must_be_an_object() -> None:
    """A !oneof option that is not an object is refused at the one-of's path."""
    template = OneOf(
        discriminator="result",
        options=(("enabled", expr("$.input.n")),),
        path="steps.b.input",
    )
    with pytest.raises(
        InvalidWorkflowError,
        match=r"^steps\.b\.input: option 'enabled' of the one-of must be an object, "
        r"got an integer$",
    ):
        infer_template_type(template, ROOT)


#: The type of ``$`` with an input field ``probe_like`` (an unenforced object with ``port``).
ROOT_WITH_PROBE = root_type(
    ScopeSchema(
        root="In",
        objects={
            **INPUT.objects,
            "In": ObjectSchema(
                id="In",
                properties={
                    **INPUT.objects["In"].properties,
                    "probe_like": required(
                        ObjectSchema(
                            id="Like",
                            properties={"port": required(IntSchema())},
                            id_unenforced=True,
                        )
                    ),
                },
            ),
        },
    ),
    {"a": PLUGIN_STEP},
)

TARGET = ScopeSchema(
    root="Params",
    objects={
        "Params": ObjectSchema(
            id="Params",
            properties={
                "name": required(StringSchema()),
                "count": optional(IntSchema(min=1)),
                "mode": optional(StringEnumSchema(values={"fast": DisplayValue()})),
                "flags": optional(ListSchema(items=BoolSchema())),
                "labels": optional(MapSchema(keys=StringSchema(), values=StringSchema())),
                "probe": optional(RefSchema(id="Probe")),
                "anything": optional(AnySchema()),
            },
        ),
        "Probe": ObjectSchema(id="Probe", properties={"port": required(IntSchema())}),
    },
)


@pytest.mark.parametrize(
    "template",
    [
        {"name": expr("$.input.name")},
        {"name": expr("$.steps.a.outputs.success.name"), "count": 2, "mode": "fast"},
        {"name": "x", "count": expr("$.input.n"), "flags": [True, expr("$.input.flag")]},
        {"name": "x", "labels": {"a": expr("$.input.name"), "b": "literal"}},
        {"name": "x", "probe": {"port": expr("$.steps.a.outputs.success.id")}},
        {"name": "x", "probe": expr("$.input.probe_like"), "anything": expr("$.input.items")},
        {"name": "x", "count": None, "flags": expr("$.input.anything")},
        {"name": WaitOptional(expr("$.input.name")), "mode": expr("$.input.name")},
        expr("$.input.anything"),
    ],
)
def test_template_fits(template: object) -> None:
    """Literal parts validate as values, typed parts are assignable: these all fit."""
    check_template(template, TARGET, ROOT_WITH_PROBE, path="steps.b.input")


@pytest.mark.parametrize(
    ("template", "message"),
    [
        (
            {"name": expr("$.input.flag", "steps.b.input.name")},
            "steps.b.input.name: expected a string, got a boolean (from expression '$.input.flag')",
        ),
        (
            {"name": expr("$.input.f", "steps.b.input.name")},
            "steps.b.input.name: expected a string, got a float (from expression '$.input.f')",
        ),
        (
            {"name": expr("$.input.name"), "count": "many"},
            "steps.b.input.count: expected an integer, got 'many'",
        ),
        (
            {"name": expr("$.input.name"), "count": 0},
            "steps.b.input.count: expected at least 1, got 0",
        ),
        (
            {"name": expr("$.input.name"), "mode": "slow"},
            "steps.b.input.mode: expected one of 'fast', got 'slow'",
        ),
        (
            {"nme": expr("$.input.name")},
            "steps.b.input.nme: object 'Params' has no field 'nme'; fields: anything, count, "
            "flags, labels, mode, name, probe; steps.b.input.name: required by object 'Params'",
        ),
        (
            {"name": "x", "flags": [expr("$.input.n", "steps.b.input.flags[0]"), 3]},
            "steps.b.input.flags[0]: expected a boolean, got an integer (from expression "
            "'$.input.n'); steps.b.input.flags[1]: expected a boolean, got 3",
        ),
        (
            {"name": "x", "probe": {"port": expr("$.input.name", "steps.b.input.probe.port")}},
            "steps.b.input.probe.port: expected an integer, got a string (from expression "
            "'$.input.name')",
        ),
        (
            expr("$.steps.a.outputs.success", "steps.b.input"),
            "steps.b.input: expected object 'Params', got object 'Out' (both ids are enforced; "
            "reuse the target's object through its namespace) (from expression "
            "'$.steps.a.outputs.success')",
        ),
    ],
)
def test_template_misfits(template: object, message: str) -> None:
    """Each misfit is reported at its own path; several are listed together."""
    with pytest.raises(InvalidWorkflowError) as excinfo:
        check_template(template, TARGET, ROOT_WITH_PROBE, path="steps.b.input")
    assert message == str(excinfo.value)


def test_refs_of_the_target_resolve_in_the_given_scope() -> None:
    """A field type that is a ref (a stage input field of a scope) resolves in ``scope``."""
    check_template(
        {"port": expr("$.input.n")},
        RefSchema(id="Probe"),
        ROOT_WITH_PROBE,
        path="steps.b.input.probe",
        scope=TARGET,
    )
    with pytest.raises(
        InvalidWorkflowError,
        match=r"^steps\.b\.input\.probe\.port: expected an integer, got 'x'; "
        r"steps\.b\.input\.probe\.other: object 'Probe' has no field 'other'; fields: port$",
    ):
        check_template(
            {"port": "x", "other": expr("$.input.n")},
            RefSchema(id="Probe"),
            ROOT_WITH_PROBE,
            path="steps.b.input.probe",
            scope=TARGET,
        )
