"""The expression grammar's parser: Lark, ``grammar.lark``, and the translation of its
results and errors (see :mod:`._parser`, which uses it for every expression that is not a
plain path; importing this module imports Lark, ~20 ms).

Thread safety: safe to share; the Lark parser keeps no state between parses.
"""

from __future__ import annotations

import functools
import importlib.resources
import re
from typing import Final, NoReturn

import lark
import lark.exceptions

from .._errors import ExpressionSyntaxError
from ._ast import (
    Attribute,
    Binary,
    BinaryOperator,
    Call,
    Index,
    Literal,
    Node,
    Root,
    Unary,
    UnaryOperator,
)
from ._parser import BOOLEANS as _BOOLEANS

__all__ = ["parse_with_grammar"]

_INT64_MAX: Final = 2**63 - 1
#: Longer number literals are refused before conversion: no int64 or float needs more
#: characters, and Python refuses to convert integers of more than 4,300 digits.
_MAX_NUMBER_LENGTH: Final = 100
_INT: Final = re.compile(r"0|[1-9][0-9]*")
_FLOAT: Final = re.compile(r"[0-9]+\.[0-9]*([eE][+-]?[0-9]+)?")
_ESCAPE: Final = re.compile(r"\\([\\tnrb\"'0])")
_ESCAPES: Final = {
    "\\": "\\",
    "t": "\t",
    "n": "\n",
    "r": "\r",
    "b": "\b",
    '"': '"',
    "'": "'",
    "0": "\0",
}
_LITERALS: Final = frozenset({"NUMBER", "STRING", "RAW_STRING"})

# How an expected terminal is named in a message; the value starters collapse to "a value".
_VALUE_STARTERS: Final = frozenset(
    {"NUMBER", "STRING", "RAW_STRING", "NAME", "DOLLAR", "LPAR", "MINUS", "BANG"}
)
_OPERATORS: Final = frozenset(
    {"OR", "AND", "COMPARISON", "PLUS", "MINUS", "STAR", "SLASH", "PERCENT", "CARET"}
)
_CLOSERS: Final = {"RPAR": "')'", "RSQB": "']'", "COMMA": "','", "DOT": "'.'", "LSQB": "'['"}
_UNEXPECTED_HINTS: Final = {
    "=": "; write '==' to compare",
    "&": "; write '&&' for 'and'",
    "|": "; write '||' for 'or'",
}


def parse_with_grammar(source: str) -> Node:
    """Return the syntax tree of ``source`` (trimmed, not empty) as the grammar reads it.

    Raises:
        ExpressionSyntaxError: ``source`` is not an expression.
    """
    try:
        return _node(_parser().parse(source))
    except lark.exceptions.UnexpectedInput as error:
        _raise_syntax_error(source, error)
    except _LiteralError as error:
        raise ExpressionSyntaxError(error.reason, expression=source, column=error.column) from None


@functools.cache
def _parser() -> lark.Lark:
    grammar = importlib.resources.files(__package__).joinpath("grammar.lark").read_text("utf-8")
    return lark.Lark(
        grammar,
        start="expression",
        parser="lalr",
        lexer="contextual",
        transformer=_TreeBuilder(),
        maybe_placeholders=True,
    )


class _LiteralError(Exception):
    """A token that lexes but is not a valid literal (``1e3``, an int beyond int64, …)."""

    def __init__(self, reason: str, column: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.column = column


_BINARY_OPERATORS: Final = {operator.value: operator for operator in BinaryOperator}
_UNARY_OPERATORS: Final = {operator.value: operator for operator in UnaryOperator}


class _TreeBuilder(lark.Transformer[lark.Token, Node]):
    """Lark's reduce callbacks: each returns the :mod:`._ast` node of its rule."""

    def binary(self, children: list[object]) -> Node:
        left, operator, right = children
        return Binary(_BINARY_OPERATORS[str(operator)], _node(left), _node(right))

    def unary(self, children: list[object]) -> Node:
        operator, operand = children
        return Unary(_UNARY_OPERATORS[str(operator)], _node(operand))

    def root(self, _children: list[object]) -> Node:
        return Root()

    def name(self, children: list[object]) -> Node:
        (token,) = children
        name = str(token)
        if name in _BOOLEANS:
            return Literal(_BOOLEANS[name])
        return Attribute(Root(), name)

    def call(self, children: list[object]) -> Node:
        token, arguments = children
        assert isinstance(token, lark.Token)
        if str(token) in _BOOLEANS:
            raise _LiteralError(f"'(' cannot follow the literal {token!s}", _column(token))
        return Call(str(token), tuple(arguments) if isinstance(arguments, list) else ())

    def arguments(self, children: list[object]) -> list[Node]:
        return [_node(child) for child in children]

    def attribute(self, children: list[object]) -> Node:
        value, dot, token = children
        assert isinstance(dot, lark.Token)
        _check_not_literal(value, dot)
        return Attribute(_node(value), str(token))

    def index(self, children: list[object]) -> Node:
        value, bracket, key = children
        assert isinstance(bracket, lark.Token)
        _check_not_literal(value, bracket)
        return Index(_node(value), _node(key))

    def literal(self, children: list[object]) -> Node:
        (token,) = children
        assert isinstance(token, lark.Token)
        if token.type == "NUMBER":
            return Literal(_number(token))
        if token.type == "STRING":
            return Literal(_ESCAPE.sub(lambda match: _ESCAPES[match[1]], token[1:-1]))
        return Literal(token[1:-1])  # RAW_STRING


def _node(child: object) -> Node:
    assert isinstance(child, Literal | Root | Attribute | Index | Call | Unary | Binary)
    return child


def _check_not_literal(value: object, token: lark.Token) -> None:
    if isinstance(value, Literal):  # `true.x`, `false[0]`: the only literals a path can start
        column = _column(token)
        raise _LiteralError(f"{str(token)!r} at column {column} cannot follow a literal", column)


def _column(token: lark.Token) -> int:
    return (token.start_pos or 0) + 1


def _number(token: lark.Token) -> int | float:
    text = str(token)
    column = _column(token)
    if len(text) > _MAX_NUMBER_LENGTH:
        raise _LiteralError(
            f"a number literal of {len(text)} characters is too long "
            f"(at most {_MAX_NUMBER_LENGTH}; the largest integer is {_INT64_MAX})",
            column,
        )
    if _INT.fullmatch(text):
        value = int(text)
        if value > _INT64_MAX:
            raise _LiteralError(
                f"the integer {text} does not fit in 64 bits (the largest is {_INT64_MAX})",
                column,
            )
        return value
    if _FLOAT.fullmatch(text):
        number = float(text)
        if number == float("inf"):
            raise _LiteralError(f"the float {text} is out of range", column)
        return number
    raise _LiteralError(f"{text!r} is not a number literal{_number_hint(text)}", column)


def _number_hint(text: str) -> str:
    """Suggest the literal the user probably meant (``1e3`` -> ``1.0e3``, ``0x10`` -> ``16``)."""
    exponent = re.fullmatch(r"([0-9]+)([eE][+-]?[0-9]+)", text)
    if exponent:
        return f"; write {int(exponent[1])}.0{exponent[2]}"
    for candidate in (text, text.lstrip("0") or "0"):
        try:
            value = int(candidate, 0)
        except ValueError:
            continue
        return f"; write {value}"
    return ""


def _raise_syntax_error(source: str, error: lark.exceptions.UnexpectedInput) -> NoReturn:
    position = error.pos_in_stream if error.pos_in_stream is not None else len(source)
    column = position + 1
    if isinstance(error, lark.exceptions.UnexpectedCharacters):
        character = source[position]
        if character in "\"'`":
            reason = f"the string starting at column {column} is not closed"
        else:
            hint = _UNEXPECTED_HINTS.get(character, "")
            reason = f"unexpected character {character!r} at column {column}{hint}"
    elif isinstance(error, lark.exceptions.UnexpectedToken) and error.token.type != "$END":
        token = str(error.token)
        decimal = re.match(r"\.[0-9]+", source[position:])
        previous = error.token_history[-1] if error.token_history else None
        if token == "." and decimal:
            reason = f"{decimal[0]!r} is not a number literal; write 0{decimal[0]}"
        elif token in ".[(" and previous is not None and previous.type in _LITERALS:
            reason = f"{token!r} at column {column} cannot follow a literal"
        else:
            reason = f"unexpected {token!r} at column {column}{_expected(_accepted(error))}"
    else:  # UnexpectedEOF, or UnexpectedToken at $END
        expected = _accepted(error) if isinstance(error, lark.exceptions.UnexpectedToken) else set()
        column = len(source) + 1
        reason = f"unexpected end of expression{_expected(expected)}"
    raise ExpressionSyntaxError(reason, expression=source, column=column) from None


def _accepted(error: lark.exceptions.UnexpectedToken) -> set[str]:
    """The terminals valid at the error (``expected`` is LALR's looser lookahead set)."""
    accepts: set[str] | None = getattr(error, "accepts", None)
    return set(accepts) if accepts else set(error.expected)


def _expected(terminals: set[str] | frozenset[str]) -> str:
    """``"; expected a value"``: what the parser would have accepted, for people."""
    names = set(terminals)
    parts: list[str] = []
    if names >= _VALUE_STARTERS:
        parts.append("a value")
        names -= _VALUE_STARTERS
    if names == {"NAME"}:
        return "; expected a name"
    if names & _OPERATORS:
        parts.append("an operator")
    parts.extend(_CLOSERS[name] for name in sorted(names) if name in _CLOSERS)
    if "$END" in names:
        parts.append("the end")
    if not parts:
        return ""
    listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " or " + parts[-1]
    return f"; expected {listed}"
