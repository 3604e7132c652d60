"""Evaluate a parsed expression against the workflow's data, with the Go engine's semantics.

Values are the typed data of a run: ``int`` (64-bit, as Go's int64), ``float``, ``str``,
``bool``, ``None``, lists and mappings. Operators need both operands of one type; nothing
converts implicitly (``1 + 1.5`` is an error naming both types). Integers behave as Go's
int64: ``/`` truncates toward zero, ``%`` takes the dividend's sign, a result beyond 64 bits
is an error (Go wraps around silently). Floats are IEEE: ``1.0 / 0.0`` is ``inf``.

Every problem is an :class:`ExpressionEvaluationError` saying what failed and where
(``$.input.items[5]: index 5 out of range for a list of 3 items``); nothing else escapes,
so a consumer can fail cleanly instead of the process (Go panics on all of these).

Thread safety: safe to share (pure functions; the data is only read).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, Final

from .._errors import ExpressionEvaluationError
from ._ast import (
    Attribute,
    Binary,
    BinaryOperator,
    Call,
    Expression,
    Index,
    Literal,
    Node,
    Root,
    Unary,
    UnaryOperator,
)
from ._format import format_literal, format_node
from ._functions import FUNCTIONS

__all__ = ["evaluate"]

_INT64_MIN: Final = -(2**63)
_INT64_MAX: Final = 2**63 - 1
_KEYS_SHOWN: Final = 20
_PLURALS: Final = {
    "a boolean": "booleans",
    "an integer": "integers",
    "a float": "floats",
    "a string": "strings",
    "a list": "lists",
    "an object": "objects",
    "null": "nulls",
}


class _EvaluationError(Exception):
    """An evaluation problem; :func:`evaluate` adds the expression's text."""


def evaluate(expression: Expression, root: Mapping[str, Any]) -> Any:
    """Return the value of ``expression`` with ``$`` = ``root``.

    ``root`` is ``{"input": {...}, "steps": {step_id: {stage: {output_id: data}}}}``; the
    result is (part of) that data or a new scalar, never a copy of a container.

    Raises:
        ExpressionEvaluationError: a key is missing, an index out of range, operand types
            do not fit the operator, an integer result leaves 64 bits, a function fails, …
    """
    try:
        return _evaluate(expression.root, root)
    except _EvaluationError as failure:
        raise ExpressionEvaluationError(str(failure), expression=expression.source) from None


def _evaluate(node: Node, root: Any) -> Any:
    return _EVALUATORS[type(node)](node, root)


def _evaluate_attribute(node: Attribute, root: Any) -> Any:
    return _attribute(node.value, _evaluate(node.value, root), node.name)


def _evaluate_index(node: Index, root: Any) -> Any:
    return _index(node, _evaluate(node.value, root), _evaluate(node.key, root))


def _evaluate_unary(node: Unary, root: Any) -> Any:
    return _unary(node.operator, _evaluate(node.operand, root))


def _attribute(base_node: Node, base: Any, name: str) -> Any:
    if not isinstance(base, Mapping):
        raise _EvaluationError(f"{format_node(base_node)}: cannot read {name!r} of {_kind(base)}")
    try:
        return base[name]
    except KeyError:
        raise _EvaluationError(f"{format_node(base_node)}: {_no_key(base, name)}") from None


def _index(node: Index, base: Any, key: Any) -> Any:
    if isinstance(base, Mapping):
        return _map_item(node, base, key)
    if isinstance(base, list | tuple):
        if not isinstance(key, int) or isinstance(key, bool):
            raise _EvaluationError(
                f"{format_node(node.value)}: a list index must be an integer, "
                f"got {_kind(key)} ({_short(key)})"
            )
        if not -len(base) <= key < len(base):
            items = "item" if len(base) == 1 else "items"
            raise _EvaluationError(
                f"{format_node(node)}: index {key} out of range for a list of {len(base)} {items}"
            )
        return base[key]
    raise _EvaluationError(f"{format_node(node.value)}: cannot index {_kind(base)}")


def _map_item(node: Index, base: Mapping[Any, Any], key: Any) -> Any:
    try:
        value = base[key]
    except KeyError:
        raise _EvaluationError(f"{format_node(node.value)}: {_no_key(base, key)}") from None
    except TypeError:  # unhashable: a list or map as the key
        raise _EvaluationError(
            f"{format_node(node.value)}: a key must be a string, integer, float or boolean, "
            f"got {_kind(key)}"
        ) from None
    # Python finds 1, 1.0 and True as the same key; the language does not mix types.
    if not isinstance(key, str) and not any(
        type(candidate) is type(key) and candidate == key for candidate in base
    ):
        raise _EvaluationError(f"{format_node(node.value)}: {_no_key(base, key)}")
    return value


def _no_key(mapping: Mapping[Any, Any], key: Any) -> str:
    shown = repr(key) if isinstance(key, str) else _short(key)
    if not mapping:
        return f"no key {shown}; the map is empty"
    names = sorted(
        candidate if isinstance(candidate, str) else _short(candidate) for candidate in mapping
    )
    listed = ", ".join(names[:_KEYS_SHOWN])
    more = f", … ({len(names) - _KEYS_SHOWN} more)" if len(names) > _KEYS_SHOWN else ""
    return f"no key {shown}; keys: {listed}{more}"


def _call(node: Call, root: Any) -> Any:
    function = FUNCTIONS.get(node.function)
    if function is None:
        valid = ", ".join(sorted(FUNCTIONS))
        raise _EvaluationError(f"unknown function {node.function!r}; valid functions: {valid}")
    arguments = [_evaluate(argument, root) for argument in node.arguments]
    try:
        return function.call(*arguments)
    except ValueError as error:
        raise _EvaluationError(f"{format_node(node)}: {error}") from None


def _unary(operator: UnaryOperator, operand: Any) -> Any:
    kind = _scalar(operand)
    if operator is UnaryOperator.NEGATE and kind in ("an integer", "a float"):
        return _int64(-operand, lambda: f"-({operand})") if kind == "an integer" else -operand
    if operator is UnaryOperator.NOT and kind == "a boolean":
        return not operand
    raise _EvaluationError(f"cannot apply {operator.value!r} to {_kind(operand)}")


def _binary(node: Binary, root: Any) -> Any:
    operator = node.operator
    left = _evaluate(node.left, root)
    if operator in (BinaryOperator.AND, BinaryOperator.OR):
        # Short-circuit: the right side is evaluated only when it decides the result.
        if not isinstance(left, bool):
            raise _EvaluationError(f"cannot apply {operator.value!r} to {_kind(left)}")
        if left is (operator is BinaryOperator.OR):
            return left
        right = _evaluate(node.right, root)
        if not isinstance(right, bool):
            raise _EvaluationError(f"cannot apply {operator.value!r} to {_kind(right)}")
        return right
    right = _evaluate(node.right, root)
    left_kind, right_kind = _kind(left), _kind(right)
    if left_kind != right_kind:
        raise _EvaluationError(f"cannot apply {operator.value!r} to {left_kind} and {right_kind}")
    operation = _OPERATIONS.get((left_kind, operator))
    if operation is None:
        raise _EvaluationError(
            f"cannot apply {operator.value!r} to {_PLURALS.get(left_kind, left_kind)}"
        )
    return operation(left, right)


def _int64(value: int, text: Callable[[], str]) -> int:
    if not _INT64_MIN <= value <= _INT64_MAX:
        raise _EvaluationError(f"integer overflow: {text()} does not fit in 64 bits")
    return value


def _int_arithmetic(operator: BinaryOperator) -> Callable[[int, int], int]:
    def operation(left: int, right: int) -> int:
        if operator in (BinaryOperator.DIVIDE, BinaryOperator.MODULO) and right == 0:
            raise _EvaluationError("integer division by zero")
        if operator is BinaryOperator.ADD:
            result = left + right
        elif operator is BinaryOperator.SUBTRACT:
            result = left - right
        elif operator is BinaryOperator.MULTIPLY:
            result = left * right
        elif operator is BinaryOperator.DIVIDE:  # truncates toward zero, as Go
            result = abs(left) // abs(right)
            result = -result if (left < 0) != (right < 0) else result
        elif operator is BinaryOperator.MODULO:  # the dividend's sign, as Go
            result = abs(left) % abs(right)
            result = -result if left < 0 else result
        else:
            result = _int_power(left, right)
        return _int64(result, lambda: f"{left} {operator.value} {right}")

    return operation


def _int_power(base: int, exponent: int) -> int:
    """``base ^ exponent`` exactly; a negative exponent truncates toward zero (Go: 2^-1 = 0)."""
    if exponent < 0:
        if base == 0:
            raise _EvaluationError(f"0 ^ {exponent}: zero to a negative power is infinite")
        if base in (1, -1):
            return base if exponent % 2 else 1
        return 0
    if abs(base) > 1 and exponent > 64:  # surely beyond 64 bits; do not compute it
        raise _EvaluationError(f"integer overflow: {base} ^ {exponent} does not fit in 64 bits")
    return int(base**exponent)


def _float_arithmetic(operator: BinaryOperator) -> Callable[[float, float], float]:
    def operation(left: float, right: float) -> float:
        if operator is BinaryOperator.ADD:
            return left + right
        if operator is BinaryOperator.SUBTRACT:
            return left - right
        if operator is BinaryOperator.MULTIPLY:
            return left * right
        if operator is BinaryOperator.DIVIDE:
            return _float_divide(left, right)
        if operator is BinaryOperator.MODULO:  # Go's math.Mod: NaN for x % 0 and inf % y
            return math.fmod(left, right) if right != 0 and math.isfinite(left) else math.nan
        return _float_power(left, right)

    return operation


def _float_divide(left: float, right: float) -> float:
    if right != 0:
        return left / right
    if left == 0 or math.isnan(left):
        return math.nan
    return math.copysign(math.inf, left) * math.copysign(1.0, right)


def _float_power(base: float, exponent: float) -> float:
    """Go's math.Pow: IEEE results (inf, nan) where Python's math.pow raises."""
    odd_integer = exponent.is_integer() and exponent % 2 == 1
    try:
        return math.pow(base, exponent)
    except OverflowError:
        return -math.inf if base < 0 and odd_integer else math.inf
    except ValueError:
        if base == 0:  # 0 ^ negative: inf, signed like the zero for an odd exponent
            return math.copysign(math.inf, base) if odd_integer else math.inf
        return math.nan  # a negative base to a fractional power


def _compare(operator: BinaryOperator) -> Callable[[Any, Any], bool]:
    comparisons: dict[BinaryOperator, Callable[[Any, Any], bool]] = {
        BinaryOperator.EQUAL: lambda left, right: bool(left == right),
        BinaryOperator.NOT_EQUAL: lambda left, right: bool(left != right),
        BinaryOperator.LESS: lambda left, right: bool(left < right),
        BinaryOperator.LESS_EQUAL: lambda left, right: bool(left <= right),
        BinaryOperator.GREATER: lambda left, right: bool(left > right),
        BinaryOperator.GREATER_EQUAL: lambda left, right: bool(left >= right),
    }
    return comparisons[operator]


_ARITHMETIC: Final = (
    BinaryOperator.ADD,
    BinaryOperator.SUBTRACT,
    BinaryOperator.MULTIPLY,
    BinaryOperator.DIVIDE,
    BinaryOperator.MODULO,
    BinaryOperator.POWER,
)
_COMPARISONS: Final = (
    BinaryOperator.EQUAL,
    BinaryOperator.NOT_EQUAL,
    BinaryOperator.LESS,
    BinaryOperator.LESS_EQUAL,
    BinaryOperator.GREATER,
    BinaryOperator.GREATER_EQUAL,
)
# (kind of both operands, operator) -> operation; a pair not here is not allowed.
_OPERATIONS: Final[dict[tuple[str, BinaryOperator], Callable[[Any, Any], Any]]] = {
    **{("an integer", operator): _int_arithmetic(operator) for operator in _ARITHMETIC},
    **{("a float", operator): _float_arithmetic(operator) for operator in _ARITHMETIC},
    **{("an integer", operator): _compare(operator) for operator in _COMPARISONS},
    **{("a float", operator): _compare(operator) for operator in _COMPARISONS},
    # Python compares str by code point, which is UTF-8's byte order (Go compares bytes).
    **{("a string", operator): _compare(operator) for operator in _COMPARISONS},
    ("a string", BinaryOperator.ADD): lambda left, right: left + right,
    ("a boolean", BinaryOperator.EQUAL): _compare(BinaryOperator.EQUAL),
    ("a boolean", BinaryOperator.NOT_EQUAL): _compare(BinaryOperator.NOT_EQUAL),
}


# The evaluator of each node type (a dispatch table: the tree is walked for every run).
_EVALUATORS: Final[dict[type, Callable[[Any, Any], Any]]] = {
    Literal: lambda node, _root: node.value,
    Root: lambda _node, root: root,
    Attribute: _evaluate_attribute,
    Index: _evaluate_index,
    Call: _call,
    Unary: _evaluate_unary,
    Binary: _binary,
}


def _scalar(value: Any) -> str | None:
    """Return the kind of a scalar value (``"an integer"``), or None for anything else."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a float"
    if isinstance(value, str):
        return "a string"
    return None


def _kind(value: Any) -> str:
    """Return what ``value`` is, for messages: ``an integer``, ``a list``, ``null``, …"""
    scalar = _scalar(value)
    if scalar is not None:
        return scalar
    if value is None:
        return "null"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return f"a {type(value).__name__}"


def _short(value: Any) -> str:
    """Return a scalar as the user would write it, cut to 40 characters."""
    text = format_literal(value) if _scalar(value) and not isinstance(value, str) else repr(value)
    return text if len(text) <= 40 else text[:39] + "…"
