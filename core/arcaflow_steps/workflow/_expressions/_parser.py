"""Parse the text of an expression into its syntax tree (:mod:`._ast`).

Theory of operation: ``grammar.lark`` is the language; Lark builds an LALR(1) parser from it
once per process (lazily, on the first parse that needs it: :mod:`._grammar`, which also
imports Lark only then) and calls its tree builder's methods as it reduces, so the result is
the :class:`~._ast.Expression` tree directly. Lark's errors are translated at that boundary
into one :class:`ExpressionSyntaxError` that says what was found where (a 1-based column in
the trimmed text) and what would have been valid there.

Most expressions in real workflows are plain paths (``$.steps.a.outputs.success.items[0]``).
:func:`_plain_path` reads those with one regular expression, about eight times faster than
the LALR parser (measured: ~9 µs against ~72 µs); anything else, and anything it is unsure
of, goes to Lark. A Hypothesis test checks that both build the same tree for every plain path.

Thread safety: safe to share; the Lark parser keeps no state between parses.
"""

from __future__ import annotations

import re
from typing import Final

from .._errors import ExpressionSyntaxError
from ._ast import (
    Attribute,
    Binary,
    Call,
    Expression,
    Index,
    Literal,
    Node,
    Root,
    Unary,
)

__all__ = ["BOOLEANS", "MAX_DEPTH", "parse_expression"]

#: The deepest nesting of operators and accesses an expression may have: evaluation and
#: type inference recurse over the tree, and no real expression comes near this.
MAX_DEPTH: Final = 200

#: The names that are boolean literals, not paths.
BOOLEANS: Final = {"true": True, "false": False}
# A plain path: `$` or a name, then `.name`, `[int]` (at most 18 digits: always an int64)
# and `["key"]` (no escapes), without spaces. The segment pattern walks one that matched.
_NAME: Final = r"[A-Za-z_][A-Za-z0-9_]*"
_SEGMENT: Final = rf'\.({_NAME})|\[(0|[1-9][0-9]{{0,17}})\]|\["([^"\\\n]*)"\]'
_PLAIN_PATH: Final = re.compile(rf"(\$|{_NAME})(?:{_SEGMENT})*")
_PLAIN_SEGMENT: Final = re.compile(_SEGMENT)


def parse_expression(text: str) -> Expression:
    """Return the syntax tree of the expression ``text`` (trimmed first).

    Function names and argument counts are not checked here; type inference does that.

    Raises:
        ExpressionSyntaxError: ``text`` is not an expression; the message names the column and
            what would have been valid there (``unexpected ')' at column 7; expected a value``).
    """
    source = text.strip()
    if not source:
        raise ExpressionSyntaxError("empty expression", expression=source, column=1)
    root = _plain_path(source)
    if root is None:
        from ._grammar import parse_with_grammar  # Lark: only when a path is not enough

        root = parse_with_grammar(source)
    # Depth is bounded by the number of tokens, so only a long text can be too deep.
    if len(source) > MAX_DEPTH and _depth(root) > MAX_DEPTH:
        raise ExpressionSyntaxError(
            f"the expression nests deeper than {MAX_DEPTH} levels", expression=source
        )
    return Expression(source=source, root=root)


def _plain_path(source: str) -> Node | None:
    """Return the tree of a plain path (``$.a.b[0]["k"]``), or None to use the grammar."""
    match = _PLAIN_PATH.fullmatch(source)
    if match is None or match[1] in BOOLEANS:
        return None
    node: Node = Root() if match[1] == "$" else Attribute(Root(), match[1])
    for segment in _PLAIN_SEGMENT.finditer(source, match.end(1)):
        name, index, key = segment.groups()
        if name is not None:
            node = Attribute(node, name)
        elif index is not None:
            node = Index(node, Literal(int(index)))
        else:
            node = Index(node, Literal(key))
    return node


def _depth(root: Node) -> int:
    """Return the nesting depth of the tree (iteratively: it may be too deep to recurse)."""
    deepest = 0
    stack: list[tuple[Node, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        match node:
            case Attribute(value=value):
                stack.append((value, depth + 1))
            case Index(value=value, key=key):
                stack.extend(((value, depth + 1), (key, depth + 1)))
            case Call(arguments=arguments):
                stack.extend((argument, depth + 1) for argument in arguments)
            case Unary(operand=operand):
                stack.append((operand, depth + 1))
            case Binary(left=left, right=right):
                stack.extend(((left, depth + 1), (right, depth + 1)))
    return deepest
