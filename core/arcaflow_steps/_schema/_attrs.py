"""Building a scope from an attrs class, so built-in providers declare configs as classes.

Each attribute becomes a property of the same name. Types map as follows: ``str``, ``int``,
``float``, ``bool``; ``enum.Enum`` subclasses (string or integer values) and ``Literal[...]``
become enums; ``list[T]``, ``tuple[T, ...]``, ``Sequence[T]``, ``frozenset[T]`` become lists;
``dict[K, V]`` and ``Mapping[K, V]`` maps; ``re.Pattern`` a pattern; ``Any`` any; a nested attrs
class a ref to its object in the same scope. ``T | None`` (``Optional[T]``) is not required;
every attribute with a default is not required, and its default (a value or an
``attrs.Factory``) becomes the JSON-encoded default.

Display and constraints come from ``attrs.field(metadata=...)`` with these keys: ``name``,
``description``, ``icon``, ``min``, ``max`` (length for strings, lists and maps; value for
numbers), ``pattern``, ``examples`` (values), ``required_if``, ``required_if_not``,
``conflicts``. A class may set ``__arcaflow_id__`` to choose its object id (default: its name).

Validated data (see :func:`arcaflow_steps.schema.validate`) structures into the class with cattrs::

    @attrs.frozen
    class Config:
        src: str = attrs.field(metadata={"name": "Source", "min": 1})
        retries: int = attrs.field(default=3, metadata={"min": 0})

    scope = scope_from_attrs(Config)
    config = cattrs.structure(validate(scope, {"src": "x"}), Config)
"""

from __future__ import annotations

import collections.abc
import enum
import json
import re
import types
import typing
from collections.abc import Mapping
from typing import Any, Final

import attrs

from .._errors import InvalidSchemaError
from ._records import (
    AnySchema,
    BoolSchema,
    DisplayValue,
    FloatSchema,
    IntEnumSchema,
    IntSchema,
    ListSchema,
    MapSchema,
    ObjectSchema,
    PatternSchema,
    PropertySchema,
    RefSchema,
    ScopeSchema,
    StringEnumSchema,
    StringSchema,
    TypeSchema,
)

__all__ = ["scope_from_attrs"]

_LIST_ORIGINS: Final = (
    list,
    tuple,
    frozenset,
    set,
    collections.abc.Sequence,
    collections.abc.Set,
    collections.abc.MutableSequence,
)
_MAP_ORIGINS: Final = (dict, collections.abc.Mapping, collections.abc.MutableMapping)
# attrs' stubs declare Factory as a function; at run time it is a class.
_FACTORY: Final[type[Any]] = type(attrs.Factory(list))


def scope_from_attrs(cls: type[Any]) -> ScopeSchema:
    """Return the scope whose root object describes the attrs class ``cls``.

    Raises:
        InvalidSchemaError: an attribute's type cannot be expressed (the path names it).
    """
    objects: dict[str, ObjectSchema] = {}
    root = _object_id(cls)
    _add_object(cls, objects, f"$.{root}")
    return ScopeSchema(root=root, objects=objects)


def _object_id(cls: type[Any]) -> str:
    return str(getattr(cls, "__arcaflow_id__", cls.__name__))


def _add_object(cls: type[Any], objects: dict[str, ObjectSchema], path: str) -> str:
    object_id = _object_id(cls)
    if object_id in objects:
        return object_id
    if not attrs.has(cls):
        raise InvalidSchemaError(f"{cls!r} is not an attrs class", path=path)
    # Reserve the id first so self-referencing classes terminate.
    objects[object_id] = ObjectSchema(id=object_id, properties={})
    try:
        # The class itself is in the local namespace so self-references resolve even when the
        # class is defined inside a function.
        hints = typing.get_type_hints(cls, localns={cls.__name__: cls})
    except NameError as exc:
        raise InvalidSchemaError(
            f"cannot resolve the annotations of {cls!r}: {exc}", path=path
        ) from None
    properties: dict[str, PropertySchema] = {}
    for attribute in attrs.fields(cls):
        if not attribute.init:
            continue
        attribute_path = f"{path}.{attribute.name}"
        hint = hints.get(attribute.name, Any)
        properties[attribute.name] = _property(attribute, hint, objects, attribute_path)
    objects[object_id] = ObjectSchema(id=object_id, properties=properties)
    return object_id


def _strip_optional(hint: Any) -> tuple[Any, bool]:
    origin = typing.get_origin(hint)
    if origin is typing.Union or origin is types.UnionType:
        args = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        optional = len(args) < len(typing.get_args(hint))
        if len(args) == 1:
            return args[0], optional
        return typing.Union[tuple(args)], optional  # noqa: UP007 (built at run time)
    return hint, False


def _property(
    attribute: attrs.Attribute[Any],
    hint: Any,
    objects: dict[str, ObjectSchema],
    path: str,
) -> PropertySchema:
    metadata: Mapping[str, Any] = attribute.metadata
    hint, optional = _strip_optional(hint)
    type_schema = _type(hint, metadata, objects, path)
    has_default = attribute.default is not attrs.NOTHING
    default: str | None = None
    if has_default:
        value: Any = attribute.default
        if isinstance(value, _FACTORY):
            factory: Any = value
            value = None if factory.takes_self else factory.factory()
        if value is not None:
            default = _json_default(value, path)
    display = None
    if any(key in metadata for key in ("name", "description", "icon")):
        display = DisplayValue(
            name=metadata.get("name"),
            description=metadata.get("description"),
            icon=metadata.get("icon"),
        )
    return PropertySchema(
        type=type_schema,
        display=display,
        required=not (optional or has_default),
        required_if=tuple(metadata.get("required_if", ())),
        required_if_not=tuple(metadata.get("required_if_not", ())),
        conflicts=tuple(metadata.get("conflicts", ())),
        default=default,
        examples=tuple(_json_default(example, path) for example in metadata.get("examples", ())),
    )


def _type(  # noqa: PLR0911, PLR0912 (one branch per kind of type)
    hint: Any, metadata: Mapping[str, Any], objects: dict[str, ObjectSchema], path: str
) -> TypeSchema:
    minimum, maximum = metadata.get("min"), metadata.get("max")
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if hint is Any or hint is object:
        return AnySchema()
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return _enum(hint, path)
    if hint is bool:
        return BoolSchema()
    if hint is int:
        return IntSchema(min=minimum, max=maximum)
    if hint is float:
        return FloatSchema(min=minimum, max=maximum)
    if hint is str:
        return StringSchema(min=minimum, max=maximum, pattern=metadata.get("pattern"))
    if hint is re.Pattern or origin is re.Pattern:
        return PatternSchema()
    if origin is typing.Literal:
        if all(isinstance(arg, str) for arg in args):
            return StringEnumSchema(values={arg: DisplayValue(name=arg) for arg in args})
        if all(isinstance(arg, int) and not isinstance(arg, bool) for arg in args):
            return IntEnumSchema(values={arg: DisplayValue(name=str(arg)) for arg in args})
    if isinstance(hint, type) and attrs.has(hint):
        return RefSchema(id=_add_object(hint, objects, path))
    if origin in _LIST_ORIGINS:
        if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis):
            raise InvalidSchemaError(
                f"fixed-length tuple {hint!r} is not supported; use tuple[T, ...]", path=path
            )
        item = args[0] if args else Any
        return ListSchema(items=_type(item, {}, objects, f"{path}[]"), min=minimum, max=maximum)
    if origin in _MAP_ORIGINS:
        key_hint, value_hint = args if args else (str, Any)
        keys = _type(key_hint, {}, objects, f"{path}.keys")
        if not isinstance(keys, StringSchema | IntSchema | StringEnumSchema | IntEnumSchema):
            raise InvalidSchemaError(
                f"map keys must be str, int or an enum, not {key_hint!r}", path=path
            )
        return MapSchema(
            keys=keys,
            values=_type(value_hint, {}, objects, f"{path}.values"),
            min=minimum,
            max=maximum,
        )
    raise InvalidSchemaError(
        f"cannot express type {hint!r} in a schema; supported: str, int, float, bool, enums, "
        "Literal, list/tuple[T, ...]/Sequence, dict/Mapping, re.Pattern, Any, attrs classes "
        "and Optional of those",
        path=path,
    )


def _enum(hint: type[enum.Enum], path: str) -> TypeSchema:
    members = list(hint)
    if members and all(isinstance(member.value, str) for member in members):
        return StringEnumSchema(
            values={member.value: DisplayValue(name=member.name) for member in members}
        )
    if members and all(
        isinstance(member.value, int) and not isinstance(member.value, bool) for member in members
    ):
        return IntEnumSchema(
            values={member.value: DisplayValue(name=member.name) for member in members}
        )
    raise InvalidSchemaError(
        f"enum {hint.__name__} needs all-string or all-integer values", path=path
    )


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if attrs.has(type(value)):
        return {key: _plain(item) for key, item in attrs.asdict(value, recurse=False).items()}
    if isinstance(value, Mapping):
        return {
            str(key) if not isinstance(key, str) else key: _plain(item)
            for key, item in ((_plain(k), v) for k, v in value.items())
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(item) for item in value]
    if isinstance(value, re.Pattern):
        return value.pattern
    return value


def _json_default(value: Any, path: str) -> str:
    try:
        return json.dumps(_plain(value))
    except (TypeError, ValueError) as exc:
        raise InvalidSchemaError(
            f"default {value!r} cannot be JSON-encoded: {exc}", path=path
        ) from None
