"""Static types agree with evaluation: what infer_type accepts evaluates to a value of the
inferred kind (or fails at run time for data reasons only); what it refuses, evaluation
refuses too."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from types_support import INPUT

from arcaflow_steps.schema import (
    AnySchema,
    BoolSchema,
    FloatSchema,
    IntEnumSchema,
    IntSchema,
    ListSchema,
    StringEnumSchema,
    StringSchema,
    TypeSchema,
)
from arcaflow_steps.workflow import ExpressionEvaluationError, ExpressionTypeError
from arcaflow_steps.workflow._expressions import evaluate, infer_type, parse_expression
from arcaflow_steps.workflow._expressions._ast import (
    Binary,
    BinaryOperator,
    Call,
    Expression,
    Literal,
    Node,
    Unary,
    UnaryOperator,
)
from arcaflow_steps.workflow._expressions._format import format_node
from arcaflow_steps.workflow._root_type import root_type

ROOT_TYPE = root_type(INPUT, {})
#: Input data that fits INPUT: what the paths below read.
DATA: dict[str, Any] = {
    "input": {
        "name": "x",
        "n": 3,
        "f": 1.5,
        "flag": True,
        "items": [{"id": 1, "next": {"id": 2}}],
        "counts": {"a": 1},
        "by_number": {1: "one"},
        "by_colour": {"red": 0.5},
        "probe": {"id": 2},
        "anything": 5,
        "level": 1,
        "colour": "red",
        "choice": {"kind": "a", "x": 1},
    },
    "steps": {},
}
PATHS = (
    "$.input.name",
    "$.input.n",
    "$.input.f",
    "$.input.flag",
    "$.input.items[0].id",
    "$.input.items[-1].next.id",
    "$.input.counts.a",
    '$.input.counts["a"]',
    "$.input.by_number[1]",
    "$.input.by_colour.red",
    "$.input.probe.id",
    '$["input"].anything',
    "$.input.level",
    "$.input.colour",
    "$.input.choice.x",
    "$.input.choice.kind",
)
#: Functions of one scalar argument (the evaluator and the checker see the same table).
UNARY_FUNCTIONS = (
    "intToFloat",
    "floatToInt",
    "intToString",
    "floatToString",
    "boolToString",
    "stringToInt",
    "stringToFloat",
    "stringToBool",
    "ceil",
    "floor",
    "round",
    "abs",
    "toLower",
    "toUpper",
)

literals = st.one_of(
    st.integers(min_value=-5, max_value=5),
    st.sampled_from([0.0, -1.5, 2.5, 1e300]),
    st.sampled_from(["", "a", "1", "true", "2.5"]),
    st.booleans(),
).map(Literal)
paths = st.sampled_from([parse_expression(text).root for text in PATHS])


def extend(children: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
    return st.one_of(
        st.builds(Binary, st.sampled_from(list(BinaryOperator)), children, children),
        st.builds(Unary, st.sampled_from(list(UnaryOperator)), children),
        st.builds(Call, st.sampled_from(UNARY_FUNCTIONS), st.tuples(children)),
    )


nodes = st.recursive(st.one_of(literals, paths), extend, max_leaves=6)


def expected_python_type(schema: TypeSchema) -> type[Any] | None:
    """Return the Python type a value of ``schema`` has (None: no single one)."""
    return {
        IntSchema: int,
        FloatSchema: float,
        StringSchema: str,
        BoolSchema: bool,
        ListSchema: list,
    }.get(type(schema))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(nodes)
def test_inferred_type_is_the_evaluated_type(node: Node) -> None:
    """Over literals, input paths of every kind, operators and functions: a typed
    expression evaluates to its inferred type or fails for a data reason; an untyped one
    does not evaluate."""
    expression = Expression(format_node(node), node)
    try:
        inferred = infer_type(expression, ROOT_TYPE)
    except ExpressionTypeError:
        inferred = None
    failure = ""
    try:
        value = evaluate(expression, DATA)
    except ExpressionEvaluationError as exc:
        failure = str(exc)
    if failure:
        # A typed expression fails at run time for data reasons only, never a type mismatch.
        mismatch = "cannot apply" in failure or " must be " in failure
        reads_any = "anything" in expression.source  # an `any` value is checked at run time
        assert inferred is None or reads_any or not mismatch, (expression.source, failure)
        return
    if inferred is None:
        # Refused statically, yet evaluated: only a short-circuit operator may skip the
        # ill-typed side.
        assert "&&" in expression.source or "||" in expression.source, (expression.source, value)
        return
    if not isinstance(inferred, AnySchema | IntEnumSchema | StringEnumSchema):
        assert expected_python_type(inferred) is type(value), (expression.source, inferred, value)
