"""Reading the Arcaflow serialized schema form.

The form is what ``arcaflow-plugin-sdk`` emits (``schema.SCHEMA_SCHEMA.serialize``) and sends in
the ATP hello message: every type is a mapping with a ``type_id`` discriminator (``string``,
``pattern``, ``integer``, ``float``, ``bool``, ``enum_string``, ``enum_integer``, ``list``,
``map``, ``object``, ``ref``, ``scope``, ``one_of_string``, ``one_of_int``, ``any``); optional
fields are omitted when unset; property defaults and examples are JSON-encoded strings; integer
keys (enum values, unit multipliers, one_of_int types) are integers (decimal strings, as JSON
must write them, are accepted too). A scope used as a step input, output or signal schema has no
``type_id``; a scope used as a type has ``type_id: scope``.

Reading checks the structure and the meaning (refs name objects of their enclosing scope, a
scope's root exists, defaults are valid values of their type) and raises
:class:`InvalidSchemaError` with the path of the first problem. Keys the form does not define are
ignored, so a newer plugin SDK that adds fields still loads (tolerant reader).

Reading recurses on the form, and so do checking, validating and rendering a schema: a form
nesting deeper than :data:`MAX_SCHEMA_DEPTH` mappings and lists is refused up front, with the
path where it passes the limit, instead of ending in a ``RecursionError``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

from .._errors import InvalidSchemaError
from ._form import (
    check_depth,
    read_bool,
    read_int_key,
    read_keyed,
    read_mapping,
    read_opt_float,
    read_opt_int,
    read_opt_str,
    read_required,
    read_str,
    read_str_key,
    read_str_list,
)
from ._meaning import check_meaning, check_property_meaning
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
    OneOfIntSchema,
    OneOfStringSchema,
    PatternSchema,
    PropertySchema,
    RefSchema,
    ScopeSchema,
    StringEnumSchema,
    StringSchema,
    TypeSchema,
    Unit,
    Units,
)

__all__ = ["parse_display", "parse_property", "parse_schema", "parse_scope"]


def parse_display(data: Any, path: str = "$") -> DisplayValue | None:
    """Return the display value of the form (``None`` when absent)."""
    if data is None:
        return None
    data = read_mapping(data, path)
    return DisplayValue(
        name=read_opt_str(data, "name", path),
        description=read_opt_str(data, "description", path),
        icon=read_opt_str(data, "icon", path),
    )


def _parse_unit(data: Any, path: str) -> Unit:
    data = read_mapping(data, path)
    return Unit(
        name_short_singular=read_str(read_required(data, "name_short_singular", path), path),
        name_short_plural=read_str(read_required(data, "name_short_plural", path), path),
        name_long_singular=read_str(read_required(data, "name_long_singular", path), path),
        name_long_plural=read_str(read_required(data, "name_long_plural", path), path),
    )


def _parse_units(data: Any, path: str) -> Units | None:
    if data is None:
        return None
    data = read_mapping(data, path)
    multipliers = data.get("multipliers")
    return Units(
        base_unit=_parse_unit(read_required(data, "base_unit", path), f"{path}.base_unit"),
        multipliers=None
        if multipliers is None
        else read_keyed(multipliers, f"{path}.multipliers", read_int_key, _parse_unit),
    )


def _parse_string(data: Mapping[Any, Any], path: str) -> StringSchema:
    minimum, maximum = read_opt_int(data, "min", path), read_opt_int(data, "max", path)
    pattern = read_opt_str(data, "pattern", path)
    try:
        return StringSchema(min=minimum, max=maximum, pattern=pattern)
    except InvalidSchemaError as exc:  # the pattern does not compile
        raise InvalidSchemaError(exc.reason, path=f"{path}.pattern") from None


def _parse_int(data: Mapping[Any, Any], path: str) -> IntSchema:
    return IntSchema(
        min=read_opt_int(data, "min", path),
        max=read_opt_int(data, "max", path),
        units=_parse_units(data.get("units"), f"{path}.units"),
    )


def _parse_float(data: Mapping[Any, Any], path: str) -> FloatSchema:
    return FloatSchema(
        min=read_opt_float(data, "min", path),
        max=read_opt_float(data, "max", path),
        units=_parse_units(data.get("units"), f"{path}.units"),
    )


def _parse_display_value(data: Any, path: str) -> DisplayValue:
    display = parse_display(data, path)
    return DisplayValue() if display is None else display


def _parse_string_enum(data: Mapping[Any, Any], path: str) -> StringEnumSchema:
    values = read_keyed(
        read_required(data, "values", path), f"{path}.values", read_str_key, _parse_display_value
    )
    if not values:
        raise InvalidSchemaError("an enum needs at least one value", path=f"{path}.values")
    return StringEnumSchema(values=values)


def _parse_int_enum(data: Mapping[Any, Any], path: str) -> IntEnumSchema:
    values = read_keyed(
        read_required(data, "values", path), f"{path}.values", read_int_key, _parse_display_value
    )
    if not values:
        raise InvalidSchemaError("an enum needs at least one value", path=f"{path}.values")
    return IntEnumSchema(values=values, units=_parse_units(data.get("units"), f"{path}.units"))


def _parse_list(data: Mapping[Any, Any], path: str) -> ListSchema:
    return ListSchema(
        items=_parse_type(read_required(data, "items", path), f"{path}.items"),
        min=read_opt_int(data, "min", path),
        max=read_opt_int(data, "max", path),
    )


_MAP_KEY_TYPES: Final = (StringSchema, IntSchema, StringEnumSchema, IntEnumSchema)


def _parse_map(data: Mapping[Any, Any], path: str) -> MapSchema:
    keys = _parse_type(read_required(data, "keys", path), f"{path}.keys")
    if not isinstance(keys, _MAP_KEY_TYPES):
        raise InvalidSchemaError(
            f"map keys must be of type 'enum_integer', 'enum_string', 'integer' or 'string', "
            f"not {type(keys).TYPE_ID!r}",
            path=f"{path}.keys",
        )
    return MapSchema(
        keys=keys,
        values=_parse_type(read_required(data, "values", path), f"{path}.values"),
        min=read_opt_int(data, "min", path),
        max=read_opt_int(data, "max", path),
    )


def parse_property(data: Any, *, path: str = "$") -> PropertySchema:
    """Return the property schema of the form (outside any scope: it may not contain refs)."""
    check_depth(data, path)
    result = _parse_property(data, path)
    check_property_meaning(result, None, path)
    return result


def _parse_property(data: Any, path: str) -> PropertySchema:
    data = read_mapping(data, path)
    present: set[str] = set()
    fields: dict[str, Any] = {
        "type": _parse_type(read_required(data, "type", path), f"{path}.type"),
        "display": parse_display(data.get("display"), f"{path}.display"),
        "required": read_bool(data, "required", path, default=True),
        "required_if": read_str_list(data, "required_if", path, present),
        "required_if_not": read_str_list(data, "required_if_not", path, present),
        "conflicts": read_str_list(data, "conflicts", path, present),
        "default": read_opt_str(data, "default", path),
        "examples": read_str_list(data, "examples", path, present),
    }
    try:
        return PropertySchema(**fields, present_empty=present)
    except InvalidSchemaError as exc:  # the default is not JSON
        raise InvalidSchemaError(exc.reason, path=f"{path}.default") from None


def _parse_properties(data: Any, path: str) -> dict[str, PropertySchema]:
    return read_keyed(data, path, read_str_key, _parse_property)


def _parse_object(data: Mapping[Any, Any], path: str) -> ObjectSchema:
    id_unenforced = data.get("id_unenforced")
    return ObjectSchema(
        id=read_str(read_required(data, "id", path), f"{path}.id"),
        properties=_parse_properties(read_required(data, "properties", path), f"{path}.properties"),
        id_unenforced=None
        if id_unenforced is None
        else read_bool(data, "id_unenforced", path, False),
    )


def _parse_ref(data: Mapping[Any, Any], path: str) -> RefSchema:
    return RefSchema(
        id=read_str(read_required(data, "id", path), f"{path}.id"),
        display=parse_display(data.get("display"), f"{path}.display"),
        namespace=read_opt_str(data, "namespace", path),
    )


def _parse_scope(data: Mapping[Any, Any], path: str) -> ScopeSchema:
    objects = read_keyed(
        read_required(data, "objects", path),
        f"{path}.objects",
        read_str_key,
        lambda value, item_path: _parse_object(read_mapping(value, item_path), item_path),
    )
    root = read_str(read_required(data, "root", path), f"{path}.root")
    if root not in objects:
        raise InvalidSchemaError(
            f"root object {root!r} is not declared; declared objects: "
            + (", ".join(repr(key) for key in sorted(objects)) or "none"),
            path=f"{path}.root",
        )
    return ScopeSchema(root=root, objects=objects)


_OBJECT_LIKE: Final = ("object", "ref", "scope")


def _parse_object_like(value: Any, path: str) -> ObjectSchema | RefSchema | ScopeSchema:
    parsed = _parse_type(value, path)
    if not isinstance(parsed, ObjectSchema | RefSchema | ScopeSchema):
        raise InvalidSchemaError(
            f"one-of members must be of type 'object', 'ref' or 'scope', not "
            f"{type(parsed).TYPE_ID!r}",
            path=path,
        )
    return parsed


def _parse_one_of_string(data: Mapping[Any, Any], path: str) -> OneOfStringSchema:
    return OneOfStringSchema(
        types=read_keyed(
            read_required(data, "types", path), f"{path}.types", read_str_key, _parse_object_like
        ),
        discriminator_field_name=read_opt_str(data, "discriminator_field_name", path) or "_type",
        discriminator_inlined=read_bool(data, "discriminator_inlined", path, default=False),
    )


def _parse_one_of_int(data: Mapping[Any, Any], path: str) -> OneOfIntSchema:
    return OneOfIntSchema(
        types=read_keyed(
            read_required(data, "types", path), f"{path}.types", read_int_key, _parse_object_like
        ),
        discriminator_field_name=read_opt_str(data, "discriminator_field_name", path) or "_type",
        discriminator_inlined=read_bool(data, "discriminator_inlined", path, default=False),
    )


_PARSERS: Final[dict[str, Callable[[Mapping[Any, Any], str], Any]]] = {
    "string": _parse_string,
    "pattern": lambda data, path: PatternSchema(),
    "integer": _parse_int,
    "float": _parse_float,
    "bool": lambda data, path: BoolSchema(),
    "enum_string": _parse_string_enum,
    "enum_integer": _parse_int_enum,
    "list": _parse_list,
    "map": _parse_map,
    "object": _parse_object,
    "ref": _parse_ref,
    "scope": _parse_scope,
    "one_of_string": _parse_one_of_string,
    "one_of_int": _parse_one_of_int,
    "any": lambda data, path: AnySchema(),
}


def _parse_type(data: Any, path: str) -> TypeSchema:
    data = read_mapping(data, path)
    type_id = data.get("type_id")
    parser = _PARSERS.get(type_id) if isinstance(type_id, str) else None
    if parser is None:
        valid = ", ".join(repr(key) for key in sorted(_PARSERS))
        problem = "missing 'type_id'" if type_id is None else f"unknown type_id {type_id!r}"
        raise InvalidSchemaError(f"{problem}; valid type ids: {valid}", path=path)
    result: TypeSchema = parser(data, path)
    return result


def parse_schema(data: Any, *, path: str = "$") -> TypeSchema:
    """Return the type schema of the serialized form, checked for refs and defaults.

    Raises:
        InvalidSchemaError: the data is not a valid schema; the error names the path.
    """
    check_depth(data, path)
    result = _parse_type(data, path)
    check_meaning(result, None, path)
    return result


def parse_scope(data: Any, *, path: str = "$") -> ScopeSchema:
    """Return the scope of the form (``type_id`` optional, as in step inputs and outputs)."""
    check_depth(data, path)
    data = read_mapping(data, path)
    type_id = data.get("type_id", "scope")
    if type_id != "scope":
        raise InvalidSchemaError(f"expected a scope, got type_id {type_id!r}", path=path)
    result = _parse_scope(data, path)
    check_meaning(result, None, path)
    return result
