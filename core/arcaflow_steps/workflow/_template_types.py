"""The type of a template: workflow data with expressions inside (``infer_template_type``).

What each part of a template gives:

- a literal: its type (``5`` an integer, ``true`` a boolean, ``"x"`` a string, ``1.5`` a
  float); ``null`` as a map value: an optional property of any type, elsewhere ``any``;
- ``!expr``: :func:`~._expressions.infer_type` of the expression;
- a mapping: an object whose id is not enforced (``inferred_schema`` plus the key path below
  the template, so that equal shapes at one place compare equal), every key a required
  property, except ``!wait-optional`` / ``!soft-optional`` values, which are optional;
- a list: a list of its items' common type (``any`` when they differ or there are none);
- ``!oneof`` (and ``!ordisabled``): a string one-of keyed by option id with the template's
  discriminator, each option an object.

It lives beside ``_template`` rather than in ``_expressions``, which ``_template`` imports.

Problems raise :class:`~arcaflow_steps.workflow.InvalidWorkflowError` with the path the
loader recorded for the expression or ``!oneof`` (``steps.b.input.name``), and the
:class:`~arcaflow_steps.workflow.ExpressionTypeError` as its cause.

Thread safety: safe to share (pure functions over immutable records).
"""

from __future__ import annotations

from typing import Any, Final

from ..schema import (
    AnySchema,
    BoolSchema,
    FloatSchema,
    IntSchema,
    ListSchema,
    ObjectSchema,
    OneOfStringSchema,
    PropertySchema,
    ScopeSchema,
    StringSchema,
    TypeSchema,
)
from ._errors import ExpressionTypeError, InvalidWorkflowError
from ._expressions import infer_type
from ._expressions._scoped import describe
from ._template import Expr, OneOf, SoftOptional, Template, WaitOptional

__all__ = ["INFERRED_OBJECT_ID", "infer_template_type"]

#: The id (prefix) of the objects inferred from mappings.
INFERRED_OBJECT_ID: Final = "inferred_schema"
_ANY: Final = AnySchema()


def infer_template_type(
    template: Template, root: TypeSchema, *, source: str | None = None
) -> TypeSchema:
    """Return the type of the value ``template`` gives, ``root`` being the type of ``$``.

    ``source`` (the workflow file's name) goes into the errors.

    Raises:
        InvalidWorkflowError: an expression does not type-check, or a ``!oneof`` option is
            not an object; its path is where the loader found it.
    """
    return _TemplateInference(root, source).infer(template, INFERRED_OBJECT_ID)


class _TemplateInference:
    def __init__(self, root: TypeSchema, source: str | None) -> None:
        self.root = root
        self.source = source

    def infer(self, template: Template, object_id: str) -> TypeSchema:
        if isinstance(template, Expr):
            return self.expression(template)
        if isinstance(template, WaitOptional | SoftOptional):
            return self.expression(template.expr)
        if isinstance(template, OneOf):
            return self.one_of(template, object_id)
        if isinstance(template, dict):
            return self.mapping(template, object_id)
        if isinstance(template, list):
            return self.sequence(template, object_id)
        return _literal_type(template)

    def expression(self, expr: Expr) -> TypeSchema:
        try:
            return infer_type(expr.expression, self.root)
        except ExpressionTypeError as exc:
            raise InvalidWorkflowError(str(exc), path=expr.path, source=self.source) from exc

    def mapping(self, template: dict[str, Any], object_id: str) -> ObjectSchema:
        properties = {
            key: PropertySchema(
                type=self.infer(value, f"{object_id}.{key}"),
                required=not (value is None or isinstance(value, WaitOptional | SoftOptional)),
            )
            for key, value in template.items()
        }
        return ObjectSchema(id=object_id, properties=properties, id_unenforced=True)

    def sequence(self, template: list[Any], object_id: str) -> TypeSchema:
        item_id = f"{object_id}[]"
        item_types = [self.infer(item, item_id) for item in template]
        if item_types and all(item == item_types[0] for item in item_types[1:]):
            return ListSchema(items=item_types[0])
        return ListSchema(items=_ANY)

    def one_of(self, template: OneOf, object_id: str) -> OneOfStringSchema:
        options: dict[str, ObjectSchema | ScopeSchema] = {}
        for option_id, option in template.options:
            option_type = self.infer(option, f"{object_id}<{option_id}>")
            if not isinstance(option_type, ObjectSchema | ScopeSchema):
                raise InvalidWorkflowError(
                    f"option {option_id!r} of the one-of must be an object, got "
                    f"{describe(option_type)}",
                    path=template.path,
                    source=self.source,
                )
            options[option_id] = option_type
        return OneOfStringSchema(types=options, discriminator_field_name=template.discriminator)


def _literal_type(value: object) -> TypeSchema:
    """Return the type of a literal value of a template (``None``: any)."""
    if isinstance(value, bool):
        return BoolSchema()
    if isinstance(value, int):
        return IntSchema()
    if isinstance(value, float):
        return FloatSchema()
    if isinstance(value, str):
        return StringSchema()
    return _ANY
