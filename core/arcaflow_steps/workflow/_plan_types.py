"""Static types of a workflow: deferred stage inputs and outputs checked against the schemas.

Every expression is typed against the type of ``$`` (``infer_type``): a field, step, stage,
output or function that does not exist, or operands that do not fit, are errors naming the
expression's own place in the file. A deferred stage (one with an expression in any of its
fields) is then checked field by field against the stage's input schema: a literal field is
validated as ``run`` would; a template must fit the field's type (``check_template``: its
literal parts validated, its expressions' types assignable); a required field must be given.

An output's template must infer to an object (``infer_template_type``), which becomes its
schema (a ``!oneof`` at the top is refused, as by the Go engine). It is the error output iff
its id is ``error`` — unless ``outputSchema`` gives the schema, which is then used as given (its
paths are still checked, their types are not compared, as in the Go engine).

Thread safety: the functions are safe to call from any thread.
"""

from __future__ import annotations

from typing import Final

import attrs

from .._errors import SchemaValidationError, quote
from ..schema import (
    ObjectSchema,
    PropertySchema,
    ScopeSchema,
    StepOutputSchema,
    TypeSchema,
    validate,
)
from ._errors import ExpressionTypeError, InvalidWorkflowError
from ._expressions import infer_type
from ._model import WorkflowModel
from ._plan_records import PlannedOutput, PlannedStep
from ._plan_steps import problems_error
from ._references import template_expressions
from ._template import Template, is_literal
from ._template_types import check_template, infer_template_type, with_scalar_texts

__all__ = ["ERROR_OUTPUT_ID", "check_stage_inputs", "plan_output"]

#: Without ``outputSchema``, the output with this id is the error output (as in the Go engine).
ERROR_OUTPUT_ID: Final = "error"


def _type_expressions(template: Template, root: ObjectSchema, where: str, source: str) -> None:
    """Type every expression of ``template``, so that an error names its own place (the
    template checks below then meet only expressions that type)."""
    for expression, path in template_expressions(template, where):
        try:
            infer_type(expression.expression, root)
        except ExpressionTypeError as exc:
            raise InvalidWorkflowError(str(exc), path=path, source=source) from None


def check_stage_inputs(step: PlannedStep, root: ObjectSchema, *, source: str) -> PlannedStep:
    """Check every deferred stage of ``step`` against its input schema; return the step with
    the numbers and booleans its templates give string fields as written
    (:func:`~._template_types.with_scalar_texts`).

    Raises:
        InvalidWorkflowError: an expression does not type, a field does not fit, or a
            required field is missing.
    """
    lifecycle = step.prepared.lifecycle
    deferred: dict[str, dict[str, Template]] = {}
    changed = False
    for stage_id, fields in step.deferred_inputs.items():
        schema = lifecycle.stage(stage_id).input_schema
        for field, prop in schema.items():
            if prop.required and field not in fields:
                raise InvalidWorkflowError(
                    f"missing required field {quote(field)}", path=step.path, source=source
                )
        given: dict[str, Template] = {}
        for field, template in fields.items():
            where = f"{step.path}.{field}"
            _check_field(template, schema[field], where, root, source)
            given[field] = with_scalar_texts(template, schema[field].type, None, where)
            changed = changed or given[field] is not template
        deferred[stage_id] = given
    return attrs.evolve(step, deferred_inputs=deferred) if changed else step


def _check_field(
    template: Template, prop: PropertySchema, where: str, root: ObjectSchema, source: str
) -> None:
    if is_literal(template):
        try:
            validate(prop.type, template, path=where)
        except SchemaValidationError as exc:
            raise problems_error(exc, path=where, source=source) from None
        return
    _type_expressions(template, root, where, source)
    check_template(template, prop.type, root, path=where, source=source)


def plan_output(
    workflow: WorkflowModel, output_id: str, template: Template, root: ObjectSchema
) -> PlannedOutput:
    """Return the output with its schema (inferred, or from ``outputSchema``).

    Raises:
        InvalidWorkflowError: an expression does not type, the template is not an object,
            or ``outputSchema`` lacks the output.
    """
    where = f"outputs.{output_id}"
    _type_expressions(template, root, where, workflow.source)
    inferred = infer_template_type(template, root, source=workflow.source)
    if workflow.output_schema is not None:
        given = workflow.output_schema.get(output_id)
        if given is None:
            raise InvalidWorkflowError(
                f"no entry for output {output_id!r} in outputSchema; entries: "
                + ", ".join(repr(key) for key in sorted(workflow.output_schema)),
                path="outputSchema",
                source=workflow.source,
            )
        # Literal numbers and booleans for its string fields: their text, as for stage inputs.
        template = with_scalar_texts(template, given.schema, None, where)
        return PlannedOutput(output_id=output_id, template=template, schema=given, path=where)
    scope = _output_scope(inferred)
    if scope is None:
        got = type(inferred).TYPE_ID
        raise InvalidWorkflowError(
            f"must be an object, got {got}", path=where, source=workflow.source
        )
    schema = StepOutputSchema(schema=scope, error=output_id == ERROR_OUTPUT_ID)
    return PlannedOutput(output_id=output_id, template=template, schema=schema, path=where)


def _output_scope(inferred: TypeSchema) -> ScopeSchema | None:
    if isinstance(inferred, ScopeSchema):
        return inferred
    if isinstance(inferred, ObjectSchema):
        return ScopeSchema(root=inferred.id, objects={inferred.id: inferred})
    return None
