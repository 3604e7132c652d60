"""Write a syntax tree back as expression text: for messages, and the parser's round trip.

``parse_expression(format_node(node)).root == node`` for every tree the parser can build:
paths are written from ``$`` (``$.input.n``, never the bare ``input.n``), strings in double
quotes with escapes, floats always with a ``.``, and parentheses only where precedence needs
them.

Thread safety: safe to share (pure functions).
"""

from __future__ import annotations

from typing import Final

from ._ast import Attribute, Binary, BinaryOperator, Call, Index, Literal, Node, Root, Unary

__all__ = ["format_node"]

_PRECEDENCE: Final = {
    BinaryOperator.OR: 1,
    BinaryOperator.AND: 2,
    BinaryOperator.EQUAL: 3,
    BinaryOperator.NOT_EQUAL: 3,
    BinaryOperator.LESS: 3,
    BinaryOperator.LESS_EQUAL: 3,
    BinaryOperator.GREATER: 3,
    BinaryOperator.GREATER_EQUAL: 3,
    BinaryOperator.ADD: 4,
    BinaryOperator.SUBTRACT: 4,
    BinaryOperator.MULTIPLY: 5,
    BinaryOperator.DIVIDE: 5,
    BinaryOperator.MODULO: 5,
    BinaryOperator.POWER: 6,
}
_UNARY: Final = 7
_OPERAND: Final = 8
_ESCAPES: Final = str.maketrans(
    {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\0": "\\0"}
)


def format_node(node: Node) -> str:
    """Return ``node`` as expression text (``$.steps.a.outputs.success.items[0]``)."""
    match node:
        case Root():
            text = "$"
        case Literal(value=value):
            text = format_literal(value)
        case Attribute(value=value, name=name):
            text = f"{_postfix_base(value)}.{name}"
        case Index(value=value, key=key):
            text = f"{_postfix_base(value)}[{format_node(key)}]"
        case Call(function=function, arguments=arguments):
            text = f"{function}({', '.join(format_node(argument) for argument in arguments)})"
        case Unary(operator=operator, operand=operand):
            text = f"{operator.value}{_wrap(operand, _UNARY)}"
        case Binary(operator=operator, left=left, right=right):
            precedence = _PRECEDENCE[operator]
            # Left-associative: a right operand of the same precedence needs parentheses.
            text = f"{_wrap(left, precedence)} {operator.value} {_wrap(right, precedence + 1)}"
        case _:  # pragma: no cover
            raise AssertionError(f"not a syntax tree node: {node!r}")
    return text


def format_literal(value: int | float | str | bool) -> str:
    """Return a literal as the parser reads it back (``"a\\"b"``, ``1.0e+16``, ``true``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value.translate(_ESCAPES)}"'
    if isinstance(value, float):
        text = repr(value)
        if "." not in text and "e" in text:  # 1e+16 is not a literal, 1.0e+16 is
            mantissa, exponent = text.split("e")
            return f"{mantissa}.0e{exponent}"
        return text
    return str(value)


def _precedence(node: Node) -> int:
    if isinstance(node, Binary):
        return _PRECEDENCE[node.operator]
    if isinstance(node, Unary):
        return _UNARY
    return _OPERAND


def _wrap(node: Node, minimum: int) -> str:
    text = format_node(node)
    return f"({text})" if _precedence(node) < minimum else text


def _postfix_base(node: Node) -> str:
    # Only paths and calls take `.name` and `[key]`; anything else is parenthesised (such a
    # tree is not the parser's, but a message may still show it).
    text = format_node(node)
    return text if isinstance(node, Root | Attribute | Index | Call) else f"({text})"
