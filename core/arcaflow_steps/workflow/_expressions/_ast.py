"""The syntax tree of a workflow expression: what the parser builds and everything else reads.

An :class:`Expression` is the source text plus its root :data:`Node`. Nodes are frozen records;
evaluation (``_evaluate``), dependency paths (``_paths``) and type inference (``_types``) are
functions over them, so the tree itself knows nothing of data or schemas.

Paths: ``$`` is :class:`Root`. A path that starts with a bare identifier is root-relative, as in
the Go engine (``input.n`` is ``$.input.n``): the parser builds it from :class:`Root` too, so a
reader never sees a free identifier. ``$.a.b`` is ``Attribute(Attribute(Root(), "a"), "b")``;
``$.m["k"]`` is ``Index(Attribute(Root(), "m"), Literal("k"))``.

Thread safety: safe to share (immutable).
"""

from __future__ import annotations

import enum
from typing import TypeAlias

import attrs

__all__ = [
    "Attribute",
    "Binary",
    "BinaryOperator",
    "Call",
    "Expression",
    "Index",
    "Literal",
    "Node",
    "Root",
    "Unary",
    "UnaryOperator",
]


class BinaryOperator(enum.StrEnum):
    """A binary operator, by the text the user writes."""

    OR = "||"
    AND = "&&"
    EQUAL = "=="
    NOT_EQUAL = "!="
    LESS = "<"
    LESS_EQUAL = "<="
    GREATER = ">"
    GREATER_EQUAL = ">="
    ADD = "+"
    SUBTRACT = "-"
    MULTIPLY = "*"
    DIVIDE = "/"
    MODULO = "%"
    POWER = "^"


class UnaryOperator(enum.StrEnum):
    """A unary operator, by the text the user writes."""

    NEGATE = "-"
    NOT = "!"


@attrs.frozen
class Literal:
    """A literal: an integer, a float, a string (escapes already applied) or a boolean."""

    value: int | float | str | bool


@attrs.frozen
class Root:
    """``$``: the root of the data (``{"input": …, "steps": …}``)."""


@attrs.frozen
class Attribute:
    """``value.name``: a property of an object (or a key of an ``any`` value)."""

    value: Node
    name: str


@attrs.frozen
class Index:
    """``value[key]``: a map key or a list index (negative counts from the end)."""

    value: Node
    key: Node


@attrs.frozen
class Call:
    """``function(arguments…)``: a call of a built-in function."""

    function: str
    arguments: tuple[Node, ...]


@attrs.frozen
class Unary:
    """``-operand`` or ``!operand``."""

    operator: UnaryOperator
    operand: Node


@attrs.frozen
class Binary:
    """``left operator right``."""

    operator: BinaryOperator
    left: Node
    right: Node


Node: TypeAlias = Literal | Root | Attribute | Index | Call | Unary | Binary


@attrs.frozen
class Expression:
    """A parsed expression: the text as written (trimmed) and its syntax tree."""

    source: str
    root: Node
