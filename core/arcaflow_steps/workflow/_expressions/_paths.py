"""The root paths an expression reads: what its consumer has to wait for.

``$.steps.a.outputs.success.message + intToString($.input.n)`` reads
``("input", "n")`` and ``("steps", "a", "outputs", "success", "message")``. A path follows
``.name`` and literal ``[key]`` accesses from ``$``; it ends where a key is computed
(``$.m[$.input.k]`` reads ``("m",)`` and ``("input", "k")``), because what comes after depends
on data. Paths inside call arguments and bracket keys count; calls themselves read nothing.
The planner maps paths onto the dependency graph (the Go engine cuts them after five
segments, reference §5.8); this module does not know what the segments mean.

Thread safety: safe to share (pure functions).
"""

from __future__ import annotations

from typing import TypeAlias

from ._ast import Attribute, Binary, Call, Expression, Index, Literal, Node, Root, Unary

__all__ = ["Path", "expression_paths"]

#: A path from ``$``: names and map keys as ``str``, list indexes and int map keys as ``int``.
Path: TypeAlias = tuple[str | int, ...]


def expression_paths(expression: Expression) -> tuple[Path, ...]:
    """Return every root path ``expression`` reads, sorted (ints before strings), no duplicates.

    ``$`` alone reads ``()``, the empty path; an expression of literals reads nothing.
    """
    found: set[Path] = set()
    _collect(expression.root, found)
    return tuple(sorted(found, key=_sort_key))


def _collect(node: Node, found: set[Path]) -> None:
    path = _path(node, found)
    if path is not None:
        found.add(path)


def _path(node: Node, found: set[Path]) -> Path | None:
    """Return the root path ``node`` denotes, if it is one; collect the paths inside it."""
    match node:
        case Root():
            return ()
        case Attribute(value=value, name=name):
            base = _path(value, found)
            return None if base is None else (*base, name)
        case Index(value=value, key=Literal(value=str() | int() as key)) if not isinstance(
            key, bool
        ):
            base = _path(value, found)
            return None if base is None else (*base, key)
        case Index(value=value, key=key):
            # A computed (or bool/float) key: the path up to here is still read.
            _collect(value, found)
            _collect(key, found)
        case Call(arguments=arguments):
            for argument in arguments:
                _collect(argument, found)
        case Unary(operand=operand):
            _collect(operand, found)
        case Binary(left=left, right=right):
            _collect(left, found)
            _collect(right, found)
    return None


def _sort_key(path: Path) -> tuple[tuple[bool, int, str], ...]:
    return tuple(
        (True, 0, segment) if isinstance(segment, str) else (False, segment, "") for segment in path
    )
