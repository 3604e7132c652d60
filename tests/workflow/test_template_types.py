"""The type of a template (infer_template_type): literals, mappings, lists and engine tags."""

from __future__ import annotations

import pytest
from types_support import ROOT, SUCCESS

from arcaflow_steps.schema import (
    AnySchema,
    BoolSchema,
    FloatSchema,
    IntSchema,
    ListSchema,
    ObjectSchema,
    OneOfStringSchema,
    PropertySchema,
    StringSchema,
    TypeSchema,
)
from arcaflow_steps.workflow import ExpressionTypeError, InvalidWorkflowError
from arcaflow_steps.workflow._expressions import parse_expression
from arcaflow_steps.workflow._template import Expr, OneOf, SoftOptional, WaitOptional
from arcaflow_steps.workflow._template_types import infer_template_type


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
