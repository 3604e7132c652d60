"""The meaning of a schema: refs resolve in their enclosing scope, each object of a scope is
declared under its own id, ``min`` is not above ``max``, and every default is a valid value of
its type. Reading a schema checks it (``_parse.py``), so every schema that reaches a step —
a plugin's over ATP, a provider's through ``check``, ``run`` and the kit — means something.
"""

from __future__ import annotations

from .._errors import InvalidSchemaError
from ._defaults import default_value
from ._records import (
    ListSchema,
    MapSchema,
    ObjectSchema,
    OneOfIntSchema,
    OneOfStringSchema,
    PropertySchema,
    RefSchema,
    ScopeSchema,
    TypeSchema,
)
from ._validate import check_value

__all__ = ["check_meaning", "check_property_meaning"]


def check_meaning(schema: TypeSchema, scope: ScopeSchema | None, path: str) -> None:
    _check_bounds(schema, path)
    if isinstance(schema, ScopeSchema):
        for key, obj in schema.objects.items():
            if obj.id != key:
                raise InvalidSchemaError(
                    f"object declared as {key!r} has id {obj.id!r}; each object of a scope "
                    "must be declared under its own id, so ids are unique",
                    path=f"{path}.objects[{key!r}].id",
                )
            check_meaning(obj, schema, f"{path}.objects[{key!r}]")
    elif isinstance(schema, ObjectSchema):
        for name, prop in schema.properties.items():
            check_property_meaning(prop, scope, f"{path}.properties[{name!r}]")
    elif isinstance(schema, RefSchema):
        if schema.namespace is not None:
            return  # names a workflow namespace: the workflow planner resolves it
        if scope is None or schema.id not in scope.objects:
            declared = (
                ", ".join(repr(key) for key in sorted(scope.objects)) or "none"
                if scope is not None
                else "none (no enclosing scope)"
            )
            raise InvalidSchemaError(
                f"ref {schema.id!r} does not name an object of the enclosing scope; "
                f"declared objects: {declared}",
                path=f"{path}.id",
            )
    elif isinstance(schema, ListSchema):
        check_meaning(schema.items, scope, f"{path}.items")
    elif isinstance(schema, MapSchema):
        check_meaning(schema.values, scope, f"{path}.values")
    elif isinstance(schema, OneOfStringSchema | OneOfIntSchema):
        for member_key, member in schema.types.items():
            check_meaning(member, scope, f"{path}.types[{member_key!r}]")


def _check_bounds(schema: TypeSchema, path: str) -> None:
    """Raise when a schema's ``min`` is above its ``max`` (no value could match)."""
    low, high = getattr(schema, "min", None), getattr(schema, "max", None)
    if low is not None and high is not None and low > high:
        raise InvalidSchemaError(
            f"min {low!r} is greater than max {high!r}; no value can match", path=f"{path}.min"
        )


def check_property_meaning(prop: PropertySchema, scope: ScopeSchema | None, path: str) -> None:
    check_meaning(prop.type, scope, f"{path}.type")
    if prop.default is not None:
        problems = check_value(prop.type, default_value(prop, scope), scope)
        if problems:
            raise InvalidSchemaError(
                f"default {prop.default!r} is not a valid value: "
                + "; ".join(
                    problem.message
                    if problem.path == "$"
                    else f"{problem.message} (at {problem.path.replace('$', 'default', 1)})"
                    for problem in problems
                ),
                path=f"{path}.default",
            )
