"""Frozen records of the Arcaflow schema model.

The records mirror the Arcaflow serialized schema form field by field (see
:mod:`arcaflow_steps._schema._serialize`), so a schema sent by a plugin over ATP reads into these
records and writes back to the same data. Mappings are stored as :class:`FrozenDict` and lists as
tuples, so every record is immutable and hashable and can be shared between threads. The scalar
types live in :mod:`._scalar_records` and are re-exported here.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar, Final, TypeAlias

import attrs

from .._errors import InvalidSchemaError
from ._display import DisplayValue, Unit, Units
from ._frozen import FrozenDict, frozen_map, frozen_strs, str_tuple
from ._scalar_records import (
    BoolSchema,
    FloatSchema,
    IntEnumSchema,
    IntSchema,
    PatternSchema,
    StringEnumSchema,
    StringSchema,
)

__all__ = [
    "AnySchema",
    "BoolSchema",
    "DisplayValue",
    "FloatSchema",
    "FrozenDict",
    "IntEnumSchema",
    "IntSchema",
    "ListSchema",
    "MapKeySchema",
    "MapSchema",
    "ObjectLikeSchema",
    "ObjectSchema",
    "OneOfIntSchema",
    "OneOfStringSchema",
    "PatternSchema",
    "PropertySchema",
    "RefSchema",
    "ScopeSchema",
    "StringEnumSchema",
    "StringSchema",
    "TypeSchema",
    "Unit",
    "Units",
    "object_scope",
]


@attrs.frozen(kw_only=True)
class ListSchema:
    """A list of items of one type, with optional bounds on its length.

    Thread safety: safe to share (immutable).
    """

    TYPE_ID: ClassVar[str] = "list"

    items: TypeSchema
    min: int | None = None
    max: int | None = None


@attrs.frozen(kw_only=True)
class MapSchema:
    """A mapping from keys of one type to values of another, with optional size bounds.

    Thread safety: safe to share (immutable).
    """

    TYPE_ID: ClassVar[str] = "map"

    keys: MapKeySchema
    values: TypeSchema
    min: int | None = None
    max: int | None = None


_MISSING: Final = object()
_IMMUTABLE_DEFAULTS: Final = (str, int, float, bool, type(None))


@attrs.frozen(kw_only=True)
class PropertySchema:
    """One named property of an object (or a provider keyword, or a stage input field).

    ``default`` is JSON-encoded, as in the Arcaflow form (``'"red"'``, ``'3'``, ``'[]'``); it is
    applied when an optional property is missing. ``required_if`` makes the property required
    when any listed property is set, ``required_if_not`` when none of them is, and ``conflicts``
    forbids it when any listed property is set.

    Thread safety: safe to share (immutable).
    """

    type: TypeSchema
    display: DisplayValue | None = None
    required: bool = False
    required_if: tuple[str, ...] = attrs.field(default=(), converter=str_tuple)
    required_if_not: tuple[str, ...] = attrs.field(default=(), converter=str_tuple)
    conflicts: tuple[str, ...] = attrs.field(default=(), converter=str_tuple)
    #: JSON-encoded default value, or ``None``.
    default: str | None = None
    #: JSON-encoded example values.
    examples: tuple[str, ...] = attrs.field(default=(), converter=str_tuple)
    #: Keys of optional empty collections that the serialized form had anyway (``[]``/``{}``
    #: rather than absent), so the form round-trips exactly; not part of equality.
    present_empty: frozenset[str] = attrs.field(
        default=frozenset(), eq=False, hash=False, repr=False, converter=frozen_strs
    )
    _default_value: Any = attrs.field(
        init=False, eq=False, hash=False, repr=False, default=_MISSING
    )

    def __attrs_post_init__(self) -> None:
        if self.default is not None:
            try:
                decoded = json.loads(self.default)
            except ValueError as exc:
                raise InvalidSchemaError(
                    f"default {self.default!r} is not valid JSON: {exc}", path="$.default"
                ) from None
            object.__setattr__(self, "_default_value", decoded)

    @property
    def has_default(self) -> bool:
        """Return whether the property has a default value."""
        return self.default is not None

    def default_value(self) -> Any:
        """Return a fresh copy of the decoded default value (``None`` when there is none)."""
        value = self._default_value
        if value is _MISSING:
            return None
        if isinstance(value, _IMMUTABLE_DEFAULTS):
            return value
        if not value:  # the frequent '[]' and '{}': a fresh empty container, no decoding
            return type(value)()
        return json.loads(self.default)  # type: ignore[arg-type]


@attrs.frozen(kw_only=True)
class ObjectSchema:
    """An object with named properties; ``id`` is unique within its scope.

    Thread safety: safe to share (immutable).
    """

    TYPE_ID: ClassVar[str] = "object"

    id: str
    properties: Mapping[str, PropertySchema] = attrs.field(converter=frozen_map)
    #: Arcaflow's ``id_unenforced`` (``None`` when the form omits it).
    id_unenforced: bool | None = None


@attrs.frozen(kw_only=True)
class RefSchema:
    """A reference to an object of the enclosing scope, by id.

    With a ``namespace`` (workflow input schemas only) the object is one a workflow step
    publishes under that name (``$.steps.p.starting.inputs.input``); the workflow planner
    resolves it, and until then the ref names nothing in its enclosing scope.

    Thread safety: safe to share (immutable).
    """

    TYPE_ID: ClassVar[str] = "ref"

    id: str
    display: DisplayValue | None = None
    namespace: str | None = None


@attrs.frozen(kw_only=True)
class ScopeSchema:
    """A set of objects refs can point to, and the root object the scope stands for.

    Thread safety: safe to share (immutable).
    """

    TYPE_ID: ClassVar[str] = "scope"

    root: str
    objects: Mapping[str, ObjectSchema] = attrs.field(converter=frozen_map)

    @property
    def root_object(self) -> ObjectSchema:
        """Return the root object (raises ``InvalidSchemaError`` when it is not declared)."""
        try:
            return self.objects[self.root]
        except KeyError:
            raise InvalidSchemaError(
                f"root object {self.root!r} is not declared; declared objects: "
                + (", ".join(repr(key) for key in sorted(self.objects)) or "none"),
                path="$.root",
            ) from None


@attrs.frozen(kw_only=True)
class OneOfStringSchema:
    """One of several object types, selected by a string discriminator field.

    When ``discriminator_inlined`` is false the discriminator is not a property of the member
    objects; it is added to (and removed from) the value around them.

    Thread safety: safe to share (immutable).
    """

    TYPE_ID: ClassVar[str] = "one_of_string"

    types: Mapping[str, ObjectLikeSchema] = attrs.field(converter=frozen_map)
    discriminator_field_name: str = "_type"
    discriminator_inlined: bool = False


@attrs.frozen(kw_only=True)
class OneOfIntSchema:
    """One of several object types, selected by an integer discriminator field.

    Thread safety: safe to share (immutable).
    """

    TYPE_ID: ClassVar[str] = "one_of_int"

    types: Mapping[int, ObjectLikeSchema] = attrs.field(converter=frozen_map)
    discriminator_field_name: str = "_type"
    discriminator_inlined: bool = False


@attrs.frozen(kw_only=True)
class AnySchema:
    """Any JSON-like value: mappings, lists, strings, integers, floats, booleans.

    Thread safety: safe to share (immutable).
    """

    TYPE_ID: ClassVar[str] = "any"


#: The union of all type records (what a property's ``type`` can be); usable with isinstance.
TypeSchema: TypeAlias = (
    StringSchema
    | PatternSchema
    | IntSchema
    | FloatSchema
    | BoolSchema
    | StringEnumSchema
    | IntEnumSchema
    | ListSchema
    | MapSchema
    | ObjectSchema
    | RefSchema
    | ScopeSchema
    | OneOfStringSchema
    | OneOfIntSchema
    | AnySchema
)
#: The key types a map may have.
MapKeySchema: TypeAlias = StringSchema | IntSchema | StringEnumSchema | IntEnumSchema
#: What a one-of member may be.
ObjectLikeSchema: TypeAlias = RefSchema | ScopeSchema | ObjectSchema


def object_scope(object_id: str, /, **properties: PropertySchema) -> ScopeSchema:
    """Return a scope holding one object with the given properties (a convenience builder).

    ``object_scope("Greeting", text=PropertySchema(type=StringSchema(), required=True))``
    """
    return ScopeSchema(
        root=object_id, objects={object_id: ObjectSchema(id=object_id, properties=properties)}
    )


#: Type records by their ``type_id`` in the serialized form.
TYPES_BY_ID: Final[Mapping[str, type[Any]]] = {
    cls.TYPE_ID: cls
    for cls in (
        StringSchema,
        PatternSchema,
        IntSchema,
        FloatSchema,
        BoolSchema,
        StringEnumSchema,
        IntEnumSchema,
        ListSchema,
        MapSchema,
        ObjectSchema,
        RefSchema,
        ScopeSchema,
        OneOfStringSchema,
        OneOfIntSchema,
        AnySchema,
    )
}


def _iter_public() -> Iterator[type[Any]]:
    yield PropertySchema
    yield from TYPES_BY_ID.values()


for _cls in _iter_public():
    _cls.__module__ = "arcaflow_steps"
