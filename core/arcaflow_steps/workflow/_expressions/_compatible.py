"""Type compatibility: can a value of one schema type be given where another is expected?

:func:`assignable_problems` is the static check the planner runs for every expression or
template given to a typed place (a stage input field, a function parameter, a foreach item).
It follows the Go engine's rules (reference §5.4), adapted to our typed values:

=======================  ==============================================================
target                   accepted sources
=======================  ==============================================================
``any``                  everything
integer                  integer, integer enum
float                    float, integer, integer enum (an integer is a float value)
string                   string, string enum, integer, integer enum (the SDKs turn
                         integers into text)
pattern                  pattern, string
bool                     bool
string enum              string (membership checked at run time), string enum whose
                         values are all members
integer enum             integer (checked at run time), integer enum, values all members
list                     list whose items fit
map                      map whose keys and values fit; an object whose properties fit
                         the values (and whose names fit the keys)
object (object, scope,   object: ids compared only when both are enforced (inferred and
ref)                     ``bindConstants`` objects are not); every source property exists
                         in the target and fits; every required target property exists
                         in the source. A one-of: every option fits.
one-of                   one-of with the same discriminator whose every option fits the
                         target's option of that key; an object that fits some option
=======================  ==============================================================

Every source fits when it is ``any``: such a value (an ``any`` plugin output, an ``any``
function result) is validated against the target when it is given, at run time. The Go
engine rejects it statically, which leaves ``any`` data unusable. Constraints (bounds,
lengths, patterns) are run-time checks too: a fresh ``integer`` fits ``integer (min 1)``.

Thread safety: safe to share (pure functions over immutable records).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

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
    PropertySchema,
    ScopeSchema,
    StringEnumSchema,
    StringSchema,
    TypeSchema,
)
from ._scoped import UnresolvedRefError, describe, resolve, sorted_keys

__all__ = ["assignable_problems"]

_Scope = ScopeSchema | None
#: The scalar targets and the source types each accepts (enums: see _enum_problems).
_SCALAR_SOURCES: dict[type[object], tuple[type[object], ...]] = {
    IntSchema: (IntSchema, IntEnumSchema),
    FloatSchema: (FloatSchema, IntSchema, IntEnumSchema),
    StringSchema: (StringSchema, StringEnumSchema, IntSchema, IntEnumSchema),
    PatternSchema: (PatternSchema, StringSchema),
    BoolSchema: (BoolSchema,),
    StringEnumSchema: (StringSchema,),
    IntEnumSchema: (IntSchema,),
}


def assignable_problems(source: TypeSchema, target: TypeSchema, *, path: str) -> list[str]:
    """Return why a value of type ``source`` cannot be given where ``target`` is expected,
    one message per problem with its path (``$.input.count: expected an integer, got a
    string``); ``[]`` when it can.

    Refs resolve in the innermost enclosing scope of their own side (a
    :class:`~arcaflow_steps.schema.ScopeSchema` at or above them). Recursive object types
    are compared once per pair of objects.
    """
    problems: list[str] = []
    _Check(problems).check(source, None, target, None, path)
    return problems


class _Check:
    """One comparison: its problems, and the object pairs already compared."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        self.seen: set[tuple[int, int, int]] = set()

    def check(
        self,
        source: TypeSchema,
        source_scope: _Scope,
        target: TypeSchema,
        target_scope: _Scope,
        path: str,
    ) -> None:
        if isinstance(target, AnySchema) or isinstance(source, AnySchema):
            return
        try:
            source, source_scope = resolve(source, source_scope)
            target, target_scope = resolve(target, target_scope)
        except UnresolvedRefError as exc:
            self.problems.append(f"{path}: schema error: {exc}")
            return
        if source is target and source_scope is target_scope:
            return  # the same type in the same scope (a plugin's object passed on as it is)
        sources = _SCALAR_SOURCES.get(type(target))
        if sources is not None:
            self._scalar(source, target, sources, path)
        elif isinstance(target, ListSchema):
            if isinstance(source, ListSchema):
                self.check(source.items, source_scope, target.items, target_scope, f"{path}[]")
            else:
                self._mismatch(source, target, path)
        elif isinstance(target, MapSchema):
            self._map(source, source_scope, target, target_scope, path)
        elif isinstance(target, ObjectSchema):
            self._object(source, source_scope, target, target_scope, path)
        else:
            self._one_of(source, source_scope, target, target_scope, path)  # type: ignore[arg-type]

    def _mismatch(self, source: TypeSchema, target: TypeSchema, path: str) -> None:
        self.problems.append(f"{path}: expected {describe(target)}, got {describe(source)}")

    def _scalar(
        self,
        source: TypeSchema,
        target: TypeSchema,
        sources: tuple[type[object], ...],
        path: str,
    ) -> None:
        if isinstance(target, StringEnumSchema | IntEnumSchema) and type(source) is type(target):
            missing = set(source.values) - set(target.values)
            if missing:
                values = sorted_keys(missing)
                self.problems.append(
                    f"{path}: expected {describe(target)}, got {describe(source)}; "
                    f"not in the target: {values}"
                )
            return
        if not isinstance(source, sources):
            self._mismatch(source, target, path)

    def _map(
        self,
        source: TypeSchema,
        source_scope: _Scope,
        target: MapSchema,
        target_scope: _Scope,
        path: str,
    ) -> None:
        if isinstance(source, MapSchema):
            self.check(source.keys, source_scope, target.keys, target_scope, f"{path} (keys)")
            self.check(source.values, source_scope, target.values, target_scope, f"{path}[]")
        elif isinstance(source, ObjectSchema) and isinstance(
            target.keys, StringSchema | StringEnumSchema
        ):
            keys = target.keys
            for name, prop in source.properties.items():
                if isinstance(keys, StringEnumSchema) and name not in keys.values:
                    self.problems.append(
                        f"{path}.{name}: key {name!r} is not one of the map's keys; "
                        f"valid: {', '.join(sorted(keys.values))}"
                    )
                    continue
                self.check(prop.type, source_scope, target.values, target_scope, f"{path}.{name}")
        else:
            self._mismatch(source, target, path)

    def _object(
        self,
        source: TypeSchema,
        source_scope: _Scope,
        target: ObjectSchema,
        target_scope: _Scope,
        path: str,
    ) -> None:
        if isinstance(source, OneOfStringSchema | OneOfIntSchema):
            for key, member in source.types.items():
                self._member_fits(
                    member,
                    member_scope=source_scope,
                    one_of=source,
                    target=target,
                    target_scope=target_scope,
                    path=f"{path}<{key}>",
                )
            return
        if not isinstance(source, ObjectSchema):
            self._mismatch(source, target, path)
            return
        if source.id != target.id and _enforced(source) and _enforced(target):
            self.problems.append(
                f"{path}: expected object {target.id!r}, got object {source.id!r} (both ids "
                "are enforced; reuse the target's object through its namespace)"
            )
            return
        if self._is_new((id(source), id(target), 0)):
            self._properties(
                source.properties,
                source_scope=source_scope,
                target=target,
                target_scope=target_scope,
                path=path,
            )

    def _is_new(self, pair: tuple[int, int, int]) -> bool:
        """Return whether this pair of objects is compared for the first time (so recursive
        types end)."""
        if pair in self.seen:
            return False
        self.seen.add(pair)
        return True

    def _properties(
        self,
        source: Mapping[str, PropertySchema],
        *,
        source_scope: _Scope,
        target: ObjectSchema,
        target_scope: _Scope,
        path: str,
    ) -> None:
        properties = target.properties
        for name, prop in source.items():
            target_prop = properties.get(name)
            if target_prop is None:
                self.problems.append(
                    f"{path}.{name}: object {target.id!r} has no field {name!r}; fields: "
                    + (", ".join(sorted(properties)) or "none")
                )
                continue
            self.check(prop.type, source_scope, target_prop.type, target_scope, f"{path}.{name}")
        for name, target_prop in properties.items():
            if target_prop.required and name not in source:
                self.problems.append(
                    f"{path}.{name}: required by object {target.id!r}, but not given"
                )

    def _member_fits(
        self,
        member: TypeSchema,
        *,
        member_scope: _Scope,
        one_of: OneOfStringSchema | OneOfIntSchema,
        target: ObjectSchema,
        target_scope: _Scope,
        path: str,
    ) -> None:
        """Check one option of a one-of source against an object target; the value carries
        the discriminator, so the target must accept that field too."""
        try:
            option, option_scope = resolve(member, member_scope)
        except UnresolvedRefError as exc:
            self.problems.append(f"{path}: schema error: {exc}")
            return
        if not isinstance(option, ObjectSchema):  # pragma: no cover - members are object-like
            self._mismatch(option, target, path)
            return
        field = one_of.discriminator_field_name
        properties = dict(option.properties)
        if field not in properties:
            discriminator = StringSchema() if isinstance(one_of, OneOfStringSchema) else IntSchema()
            properties[field] = PropertySchema(type=discriminator, required=True)
        if option.id != target.id and _enforced(option) and _enforced(target):
            self.problems.append(
                f"{path}: expected object {target.id!r}, got object {option.id!r} (both ids "
                "are enforced; reuse the target's object through its namespace)"
            )
            return
        if self._is_new((id(option), id(target), 1)):
            self._properties(
                properties,
                source_scope=option_scope,
                target=target,
                target_scope=target_scope,
                path=path,
            )

    def _one_of(
        self,
        source: TypeSchema,
        source_scope: _Scope,
        target: OneOfStringSchema | OneOfIntSchema,
        target_scope: _Scope,
        path: str,
    ) -> None:
        target_types: Mapping[Any, TypeSchema] = target.types
        if isinstance(source, OneOfStringSchema | OneOfIntSchema):
            if (
                type(source) is not type(target)
                or source.discriminator_field_name != target.discriminator_field_name
            ):
                self._mismatch(source, target, path)
                return
            for key, member in source.types.items():
                target_member = target_types.get(key)
                if target_member is None:
                    self.problems.append(
                        f"{path}: option {key!r} is not one of the target's: "
                        + sorted_keys(target_types)
                    )
                    continue
                self.check(member, source_scope, target_member, target_scope, f"{path}<{key}>")
            return
        if not isinstance(source, ObjectSchema):
            self._mismatch(source, target, path)
            return
        field = target.discriminator_field_name
        properties = {name: prop for name, prop in source.properties.items() if name != field}
        stripped = ObjectSchema(
            id=source.id, properties=properties, id_unenforced=source.id_unenforced
        )
        for option in target_types.values():
            trial = _Check([])
            trial.check(
                stripped, source_scope, _without(option, field, target_scope), target_scope, path
            )
            if not trial.problems:
                return
        self.problems.append(f"{path}: {describe(source)} fits no option of {describe(target)}")


def _without(member: TypeSchema, field: str, scope: _Scope) -> TypeSchema:
    """Return the one-of ``member`` without its (inlined) discriminator property."""
    try:
        option, _ = resolve(member, scope)
    except UnresolvedRefError:
        return member
    if not isinstance(option, ObjectSchema) or field not in option.properties:
        return member
    properties = {name: prop for name, prop in option.properties.items() if name != field}
    return ObjectSchema(id=option.id, properties=properties, id_unenforced=option.id_unenforced)


def _enforced(schema: ObjectSchema) -> bool:
    """Return whether the object's id must match (Arcaflow: unless ``id_unenforced``)."""
    return not schema.id_unenforced
