"""Templates: data from a workflow file with expressions inside it.

A stage input field, a workflow output or a ``!oneof`` option is a *template*: plain data (dicts
with string keys, lists, strings, numbers, booleans, ``None``) in which some places hold one of
the records below instead of a value. The YAML loader builds them from the engine tags
(``!expr``, ``!oneof``, ``!ordisabled``, ``!wait-optional``, ``!soft-optional``); the planner
reads their dependencies and types; the executor resolves them into plain data.

``!ordisabled PATH`` is not a record of its own: the loader expands it into the
:class:`OneOf` it abbreviates (discriminator ``result``; options ``enabled: !expr PATH`` and
``disabled: !expr <step>.disabled.output``).

Thread safety: safe to share (immutable).
"""

from __future__ import annotations

from typing import Any, TypeAlias

import attrs

from ._expressions._ast import Expression

__all__ = ["Expr", "OneOf", "SoftOptional", "Template", "WaitOptional", "is_literal"]


@attrs.frozen
class Expr:
    """``!expr SOURCE``: an expression in place of a value."""

    expression: Expression
    #: Where it was written, for messages: the key path in the file (``steps.b.input.name``).
    path: str


@attrs.frozen
class OneOf:
    """``!oneof``: the first option whose dependencies resolve, as an object with the
    discriminator key set to the option's id."""

    discriminator: str
    #: option id -> template of an object.
    options: tuple[tuple[str, Template], ...]
    path: str


@attrs.frozen
class WaitOptional:
    """``!wait-optional EXPR`` as a map value: present if its dependencies resolve, omitted
    once they cannot; the consumer waits until one of the two is known."""

    expr: Expr


@attrs.frozen
class SoftOptional:
    """``!soft-optional EXPR`` as a map value: present only if its dependencies happen to have
    resolved when the consumer becomes ready for other reasons; never waited for."""

    expr: Expr


#: Plain data, possibly holding the records above (dict keys are always plain strings).
Template: TypeAlias = Any


def is_literal(template: Template) -> bool:
    """Return whether ``template`` holds no expression anywhere (it is plain data)."""
    if isinstance(template, Expr | OneOf | WaitOptional | SoftOptional):
        return False
    if isinstance(template, dict):
        return all(is_literal(value) for value in template.values())
    if isinstance(template, list):
        return all(is_literal(item) for item in template)
    return True
