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

:func:`check_template` checks a template against the type of the place it goes to (a stage
input field): literal parts are validated as values (with the coercions validation applies),
expressions and tags must have assignable types. Literal and typed parts are told apart so a
template and a fully literal stage accept the same literals.

Problems raise :class:`~arcaflow_steps.workflow.InvalidWorkflowError` with the path the
loader recorded for the expression or ``!oneof`` (``steps.b.input.name``), and the
:class:`~arcaflow_steps.workflow.ExpressionTypeError` as its cause.

Thread safety: safe to share (pure functions over immutable records).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

from .._schema._scalar_texts import scalar_text, scalar_texts_active
from .._schema._validate import check_value
from ..schema import (
    AnySchema,
    BoolSchema,
    FloatSchema,
    IntSchema,
    ListSchema,
    MapSchema,
    ObjectSchema,
    OneOfStringSchema,
    PropertySchema,
    ScopeSchema,
    StringSchema,
    TypeSchema,
)
from ._errors import ExpressionTypeError, InvalidWorkflowError
from ._expressions import assignable_problems, infer_type
from ._expressions._scoped import UnresolvedRefError, describe, detach, resolve
from ._template import Expr, OneOf, SoftOptional, Template, WaitOptional, is_literal

__all__ = ["INFERRED_OBJECT_ID", "check_template", "infer_template_type", "with_scalar_texts"]

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


def check_template(
    template: Template,
    target: TypeSchema,
    root: TypeSchema,
    *,
    path: str,
    scope: ScopeSchema | None = None,
    source: str | None = None,
) -> None:
    """Check that ``template`` gives a value that fits ``target``, ``root`` being the type of
    ``$``. Refs in ``target`` resolve in ``scope`` (a stage input field's type: the stage's
    input scope), or in ``target`` itself when it is a scope.

    ``path`` is the template's place in the file (``steps.b.input``); every problem is
    reported with the place below it (``steps.b.input.count``).

    Raises:
        InvalidWorkflowError: at the first problem's path, listing every problem: an
            expression that does not type-check, a type that does not fit, a literal that is
            not valid, an unknown or missing field.
    """
    checker = _TemplateCheck(root, source)
    checker.walk(template, target, scope, path)
    if checker.problems:
        (first_path, first), *rest = checker.problems
        also = "".join(f"; {where}: {problem}" for where, problem in rest)
        raise InvalidWorkflowError(first + also, path=first_path, source=source)


class _TemplateCheck:
    def __init__(self, root: TypeSchema, source: str | None) -> None:
        self.inference = _TemplateInference(root, source)
        self.problems: list[tuple[str, str]] = []

    def walk(
        self, template: Template, target: TypeSchema, scope: ScopeSchema | None, path: str
    ) -> None:
        if is_literal(template):
            for problem in check_value(target, template, scope, path=path):
                self.problems.append((problem.path, problem.message))
            return
        try:
            resolved, resolved_scope = resolve(target, scope)
        except UnresolvedRefError as exc:
            self.problems.append((path, f"schema error: {exc}"))
            return
        if isinstance(template, dict) and isinstance(resolved, ObjectSchema):
            self.object(template, resolved, resolved_scope, path)
        elif isinstance(template, dict) and isinstance(resolved, MapSchema):
            for key, value in template.items():
                for problem in check_value(resolved.keys, key, resolved_scope, path=path):
                    self.problems.append((f"{path}.{key}", f"key: {problem.message}"))
                self.walk(value, resolved.values, resolved_scope, f"{path}.{key}")
        elif isinstance(template, list) and isinstance(resolved, ListSchema):
            for index, item in enumerate(template):
                self.walk(item, resolved.items, resolved_scope, f"{path}[{index}]")
        else:
            self.typed(template, detach(target, scope), path)

    def object(
        self, template: dict[str, Any], target: ObjectSchema, scope: ScopeSchema | None, path: str
    ) -> None:
        for key, value in template.items():
            prop = target.properties.get(key)
            if prop is None:
                self.problems.append(
                    (
                        f"{path}.{key}",
                        f"object {target.id!r} has no field {key!r}; fields: "
                        + (", ".join(sorted(target.properties)) or "none"),
                    )
                )
            elif value is not None:
                self.walk(value, prop.type, scope, f"{path}.{key}")
        for key, prop in target.properties.items():
            if prop.required and template.get(key) is None:
                self.problems.append((f"{path}.{key}", f"required by object {target.id!r}"))

    def typed(self, template: Template, target: TypeSchema, path: str) -> None:
        """Check a template part that is not walked along the target: its inferred type."""
        expression = (
            template.expr if isinstance(template, WaitOptional | SoftOptional) else template
        )
        inferred = self.inference.infer(expression, INFERRED_OBJECT_ID)
        where = expression.path if isinstance(expression, Expr) and expression.path else path
        suffix = (
            f" (from expression {expression.expression.source!r})"
            if isinstance(expression, Expr)
            else ""
        )
        for problem in assignable_problems(inferred, target, path=where):
            at, _, text = problem.partition(": ")
            self.problems.append((at, text + suffix))


def with_scalar_texts(
    template: Template, target: TypeSchema, scope: ScopeSchema | None, path: str
) -> Template:
    """Return ``template`` with each boolean, integer and float that goes to a string field
    replaced by the text it was written as (the current scalar texts, see
    :mod:`arcaflow_steps._schema._scalar_texts`): what validation of the literal would give,
    for the literal parts of a template that is only validated when the run resolves it.

    A part with nothing replaced is returned as it was (the same object), so callers tell a
    change by identity."""
    if not scalar_texts_active():
        return template
    try:
        resolved, resolved_scope = resolve(target, scope)
    except UnresolvedRefError:
        return template  # reported by check_template
    if isinstance(template, bool | int | float):
        text = scalar_text(template, path) if isinstance(resolved, StringSchema) else None
        return template if text is None else text
    if isinstance(template, dict) and isinstance(resolved, ObjectSchema | MapSchema):
        rebuilt: dict[str, Any] = {}
        for key, value in template.items():
            if isinstance(resolved, MapSchema):
                value_type: TypeSchema | None = resolved.values
            else:
                prop = resolved.properties.get(key)
                value_type = None if prop is None else prop.type
            rebuilt[key] = (
                value
                if value_type is None
                else with_scalar_texts(value, value_type, resolved_scope, f"{path}.{key}")
            )
        return template if _same_items(rebuilt.values(), template.values()) else rebuilt
    if isinstance(template, list) and isinstance(resolved, ListSchema):
        items = [
            with_scalar_texts(item, resolved.items, resolved_scope, f"{path}[{index}]")
            for index, item in enumerate(template)
        ]
        return template if _same_items(items, template) else items
    return template


def _same_items(new: Iterable[Any], old: Iterable[Any]) -> bool:
    return all(a is b for a, b in zip(new, old, strict=True))


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
