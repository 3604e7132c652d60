"""Static types of a workflow: deferred stage inputs and outputs checked against the schemas.

Every expression is typed against the type of ``$`` (``infer_type``): a field, step, stage,
output or function that does not exist, or operands that do not fit, are errors naming the
expression's own place in the file. A deferred stage (one with an expression in any of its
fields) is then checked field by field against the stage's input schema: a literal field is
validated as ``run`` would; an expression's type must be assignable to the field's type
(``assignable_problems``); a required field must be given.

An output's template must be an object: an expression whose type is an object or a scope
gives the output's schema; a mapping gives an object with its keys. It is the error output iff
its id is ``error`` — unless ``outputSchema`` gives the schema, which is then used as given (its
paths are still checked, their types are not compared, as in the Go engine).

Thread safety: the functions are safe to call from any thread.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from .._errors import SchemaValidationError, quote
from ..schema import (
    AnySchema,
    ObjectSchema,
    PropertySchema,
    ScopeSchema,
    StepOutputSchema,
    TypeSchema,
    validate,
)
from ._errors import ExpressionTypeError, InvalidWorkflowError
from ._expressions import assignable_problems, infer_type
from ._model import WorkflowModel
from ._plan_records import PlannedOutput, PlannedStep
from ._plan_steps import problems_error
from ._references import template_expressions
from ._template import Expr, OneOf, SoftOptional, Template, WaitOptional, is_literal

__all__ = ["ERROR_OUTPUT_ID", "check_stage_inputs", "plan_output"]

#: Without ``outputSchema``, the output with this id is the error output (as in the Go engine).
ERROR_OUTPUT_ID: Final = "error"


def _typed(template: Template, root: ObjectSchema, where: str, source: str) -> TypeSchema | None:
    """Type every expression of ``template``; return the type of a bare expression."""
    found: TypeSchema | None = None
    for expression, path in template_expressions(template, where):
        try:
            found = infer_type(expression.expression, root)
        except ExpressionTypeError as exc:
            raise InvalidWorkflowError(str(exc), path=path, source=source) from None
    return found if isinstance(template, Expr) else None


def _assignability_error(problems: list[str], where: str, source: str) -> InvalidWorkflowError:
    """Return the error for ``assignable_problems``' messages (each ``path: problem``)."""
    if len(problems) == 1 and problems[0].startswith(where):
        rest = problems[0][len(where) :]
        split = rest.find(": ")
        if split >= 0:
            return InvalidWorkflowError(rest[split + 2 :], path=where + rest[:split], source=source)
    lines = "".join(f"\n  {problem}" for problem in problems)
    return InvalidWorkflowError(f"{len(problems)} problems:{lines}", path=where, source=source)


def check_stage_inputs(step: PlannedStep, root: ObjectSchema, *, source: str) -> None:
    """Check every deferred stage of ``step`` against its input schema.

    Raises:
        InvalidWorkflowError: an expression does not type, a field does not fit, or a
            required field is missing.
    """
    lifecycle = step.prepared.lifecycle
    for stage_id, fields in step.deferred_inputs.items():
        schema = lifecycle.stage(stage_id).input_schema
        for field, prop in schema.items():
            if prop.required and field not in fields:
                raise InvalidWorkflowError(
                    f"missing required field {quote(field)}", path=step.path, source=source
                )
        for field, template in fields.items():
            _check_field(template, schema[field], f"{step.path}.{field}", root, source)


def _check_field(
    template: Template, prop: PropertySchema, where: str, root: ObjectSchema, source: str
) -> None:
    if is_literal(template):
        try:
            validate(prop.type, template, path=where)
        except SchemaValidationError as exc:
            raise problems_error(exc, path=where, source=source) from None
        return
    inferred = _typed(template, root, where, source)
    if inferred is not None:
        problems = assignable_problems(inferred, prop.type, path=where)
        if problems:
            raise _assignability_error(problems, where, source)


def plan_output(
    workflow: WorkflowModel, output_id: str, template: Template, root: ObjectSchema
) -> PlannedOutput:
    """Return the output with its schema (inferred, or from ``outputSchema``).

    Raises:
        InvalidWorkflowError: an expression does not type, the template is not an object,
            or ``outputSchema`` lacks the output.
    """
    where = f"outputs.{output_id}"
    inferred = _typed(template, root, where, workflow.source)
    if workflow.output_schema is not None:
        given = workflow.output_schema.get(output_id)
        if given is None:
            raise InvalidWorkflowError(
                f"no entry for output {output_id!r} in outputSchema; entries: "
                + ", ".join(repr(key) for key in sorted(workflow.output_schema)),
                path="outputSchema",
                source=workflow.source,
            )
        return PlannedOutput(output_id=output_id, template=template, schema=given, path=where)
    scope = _output_scope(output_id, template, inferred)
    if scope is None:
        got = type(inferred).TYPE_ID if inferred is not None else _kind_of(template)
        raise InvalidWorkflowError(
            f"must be an object, got {got}", path=where, source=workflow.source
        )
    schema = StepOutputSchema(schema=scope, error=output_id == ERROR_OUTPUT_ID)
    return PlannedOutput(output_id=output_id, template=template, schema=schema, path=where)


def _output_scope(
    output_id: str, template: Template, inferred: TypeSchema | None
) -> ScopeSchema | None:
    if isinstance(inferred, ScopeSchema):
        return inferred
    if isinstance(inferred, ObjectSchema):
        return ScopeSchema(root=inferred.id, objects={inferred.id: inferred})
    if not isinstance(template, dict):
        return None
    properties: Mapping[str, PropertySchema] = {
        key: PropertySchema(
            type=AnySchema(), required=not isinstance(value, WaitOptional | SoftOptional)
        )
        for key, value in template.items()
    }
    output_object = ObjectSchema(id=output_id, properties=properties, id_unenforced=True)
    return ScopeSchema(root=output_id, objects={output_id: output_object})


def _kind_of(template: Template) -> str:
    """Return the type id of a template that is no mapping, for the message."""
    if isinstance(template, OneOf):
        return "one_of_string"
    if template is None:
        return "null"
    for kind, types in _KINDS:
        if isinstance(template, types):
            return kind
    return "any"


_KINDS: Final = (
    ("bool", bool),
    ("integer", int),
    ("float", float),
    ("string", str),
    ("list", list),
)
