"""Schema types with the scope their refs resolve in: the shared footing of type inference
(``_types``) and type compatibility (``_compatible``).

A :class:`~arcaflow_steps.schema.RefSchema` names an object of its *enclosing* scope, which is
not part of the ref. Walking a type tree therefore carries the innermost
:class:`~arcaflow_steps.schema.ScopeSchema` seen so far, and a type handed outside the walk
(an inferred type) is made *self-contained* by :func:`detach`: a ref or an object that may hold
refs becomes a scope view (``ScopeSchema(root=id, objects=<the same mapping>)``), which shares
the scope's objects and copies nothing.

Thread safety: safe to share (pure functions over immutable records).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

import attrs

from ...schema import (
    AnySchema,
    BoolSchema,
    FloatSchema,
    IntEnumSchema,
    IntSchema,
    ListSchema,
    MapSchema,
    ObjectSchema,
    OneOfIntSchema,
    OneOfStringSchema,
    PatternSchema,
    RefSchema,
    ScopeSchema,
    StringEnumSchema,
    StringSchema,
    TypeSchema,
)

__all__ = ["UnresolvedRefError", "describe", "detach", "kind", "resolve", "sorted_keys"]


class UnresolvedRefError(Exception):
    """A ref names no object of its enclosing scope (a broken schema); the message says so."""


def resolve(schema: TypeSchema, scope: ScopeSchema | None) -> tuple[TypeSchema, ScopeSchema | None]:
    """Return ``schema`` with scopes and refs replaced by the object they stand for, and the
    scope that object's own refs resolve in.

    Raises:
        UnresolvedRefError: a ref or a scope root names no declared object.
    """
    if isinstance(schema, ScopeSchema):
        root = schema.objects.get(schema.root)
        if root is None:
            raise UnresolvedRefError(
                f"scope root {schema.root!r} is not declared; declared objects: "
                + (", ".join(sorted(schema.objects)) or "none")
            )
        return root, schema
    if isinstance(schema, RefSchema):
        target = scope.objects.get(schema.id) if scope is not None else None
        if target is None:
            raise UnresolvedRefError(
                f"ref {schema.id!r} names no object of its scope; declared objects: "
                + (", ".join(sorted(scope.objects)) if scope is not None else "none")
            )
        return target, scope
    return schema, scope


def detach(schema: TypeSchema, scope: ScopeSchema | None) -> TypeSchema:
    """Return ``schema`` made self-contained: its refs resolvable without ``scope``."""
    if scope is None:
        return schema
    if isinstance(schema, RefSchema | ObjectSchema):
        return _scope_view(schema, scope)
    if isinstance(schema, ListSchema):
        return attrs.evolve(schema, items=detach(schema.items, scope))
    if isinstance(schema, MapSchema):
        return attrs.evolve(schema, values=detach(schema.values, scope))
    if isinstance(schema, OneOfStringSchema | OneOfIntSchema):
        types = {key: detach(member, scope) for key, member in schema.types.items()}
        return attrs.evolve(schema, types=types)
    return schema


def _scope_view(schema: RefSchema | ObjectSchema, scope: ScopeSchema) -> ScopeSchema:
    """Return the scope standing for the ref or object, sharing the scope's objects."""
    if isinstance(schema, RefSchema) or scope.objects.get(schema.id) is schema:
        return ScopeSchema(root=schema.id, objects=scope.objects)
    return ScopeSchema(root=schema.id, objects={**scope.objects, schema.id: schema})


def sorted_keys(keys: Iterable[Any]) -> str:
    """Return the keys (all strings or all integers) sorted and quoted: ``'a', 'b'``."""
    return ", ".join(repr(key) for key in sorted(keys))


#: The value kind of each scalar type, for operators and messages (enums act as their base).
_KINDS: Final[dict[type[object], str]] = {
    IntSchema: "integer",
    IntEnumSchema: "integer",
    FloatSchema: "float",
    StringSchema: "string",
    StringEnumSchema: "string",
    PatternSchema: "pattern",
    BoolSchema: "bool",
    ListSchema: "list",
    MapSchema: "map",
    ObjectSchema: "object",
    RefSchema: "object",
    ScopeSchema: "object",
    OneOfStringSchema: "one_of_string",
    OneOfIntSchema: "one_of_int",
    AnySchema: "any",
}


def kind(schema: TypeSchema) -> str:
    """Return the kind of value ``schema`` describes: ``integer`` (ints and int enums),
    ``float``, ``string`` (strings and string enums), ``bool``, ``list``, ``map``, ``object``
    (objects, refs, scopes), ``one_of_string``, ``one_of_int``, ``pattern`` or ``any``."""
    return _KINDS[type(schema)]


_NAMES: Final[dict[type[object], str]] = {
    IntSchema: "an integer",
    FloatSchema: "a float",
    StringSchema: "a string",
    BoolSchema: "a boolean",
    PatternSchema: "a pattern",
    AnySchema: "any",
}


def describe(schema: TypeSchema) -> str:
    """Return ``schema`` for a message: ``an integer``, ``object 'Probe'``, ``a list of
    strings``, ``a string enum ('a', 'b')``, ``any``."""
    name = _NAMES.get(type(schema))
    if name is not None:
        return name
    if isinstance(schema, StringEnumSchema | IntEnumSchema):
        noun = "a string" if isinstance(schema, StringEnumSchema) else "an integer"
        return f"{noun} enum ({sorted_keys(schema.values)})"
    if isinstance(schema, ListSchema):
        return f"a list of {_plural(schema.items)}"
    if isinstance(schema, MapSchema):
        return f"a map of {_plural(schema.keys)} to {_plural(schema.values)}"
    if isinstance(schema, OneOfStringSchema | OneOfIntSchema):
        return f"one of {sorted_keys(schema.types)} (by {schema.discriminator_field_name!r})"
    object_id = schema.root if isinstance(schema, ScopeSchema) else schema.id  # type: ignore[union-attr]
    return f"object {object_id!r}"


def _plural(schema: TypeSchema) -> str:
    """Return the plural noun of ``schema`` (``integers``, ``'Probe' objects``, ``any``)."""
    text = describe(schema)
    if text.startswith("object "):
        return f"{text.removeprefix('object ')} objects"
    if isinstance(schema, StringEnumSchema | IntEnumSchema):
        return text.removeprefix("an ").removeprefix("a ") + " values"
    if text.startswith(("an ", "a ")):
        noun, _, rest = text.partition(" ")[2].partition(" ")
        return f"{noun}s{' ' + rest if rest else ''}"
    return text
