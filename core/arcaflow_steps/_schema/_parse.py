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
from typing import Any, Final, TypeVar

from .._errors import InvalidSchemaError
from ._defaults import default_value
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
    PluginSchema,
    PropertySchema,
    RefSchema,
    ScopeSchema,
    SignalSchema,
    StepOutputSchema,
    StepSchema,
    StringEnumSchema,
    StringSchema,
    TypeSchema,
    Unit,
    Units,
)
from ._validate import check_value

__all__ = [
    "parse_plugin_schema",
    "parse_property",
    "parse_schema",
    "parse_scope",
    "parse_step",
]

_T = TypeVar("_T")

#: How deep mappings and lists may nest in a serialized schema (an inline object takes three).
MAX_SCHEMA_DEPTH: Final = 100
#: How much of a too deep path the error shows.
_SHOWN_PATH: Final = 160

# ---------------------------------------------------------------------------------------------
# reading


def _check_depth(data: Any, path: str) -> None:
    """Raise :class:`InvalidSchemaError` if ``data`` nests deeper than ``MAX_SCHEMA_DEPTH``."""
    stack: list[tuple[Any, int, str]] = [(data, 0, path)]
    while stack:
        value, depth, where = stack.pop()
        if isinstance(value, Mapping):
            children: list[tuple[Any, str]] = [
                (item, f"{where}[{key!r}]") for key, item in value.items()
            ]
        elif isinstance(value, list | tuple):
            children = [(item, f"{where}[{index}]") for index, item in enumerate(value)]
        else:
            continue
        if depth == MAX_SCHEMA_DEPTH:
            shown = where if len(where) <= _SHOWN_PATH else where[:_SHOWN_PATH] + "…"
            raise InvalidSchemaError(
                f"the schema nests deeper than {MAX_SCHEMA_DEPTH} mappings and lists", path=shown
            )
        stack.extend((item, depth + 1, item_path) for item, item_path in children)


def _mapping(data: Any, path: str, what: str = "a mapping") -> Mapping[Any, Any]:
    if not isinstance(data, Mapping):
        raise InvalidSchemaError(f"expected {what}, got {type(data).__name__}", path=path)
    return data


def _required(data: Mapping[Any, Any], key: str, path: str) -> Any:
    if key not in data or data[key] is None:
        raise InvalidSchemaError(f"missing required field {key!r}", path=path)
    return data[key]


def _str(value: Any, path: str) -> str:
    if not isinstance(value, str):
        raise InvalidSchemaError(f"expected a string, got {value!r}", path=path)
    return value


def _opt_str(data: Mapping[Any, Any], key: str, path: str) -> str | None:
    value = data.get(key)
    return None if value is None else _str(value, f"{path}.{key}")


def _int(value: Any, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidSchemaError(f"expected an integer, got {value!r}", path=path)
    return value


def _opt_int(data: Mapping[Any, Any], key: str, path: str) -> int | None:
    value = data.get(key)
    return None if value is None else _int(value, f"{path}.{key}")


def _opt_float(data: Mapping[Any, Any], key: str, path: str) -> float | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidSchemaError(f"expected a number, got {value!r}", path=f"{path}.{key}")
    return value


def _bool(data: Mapping[Any, Any], key: str, path: str, default: bool) -> bool:
    value = data.get(key)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise InvalidSchemaError(f"expected a boolean, got {value!r}", path=f"{path}.{key}")
    return value


def _int_key(key: Any, path: str) -> int:
    if isinstance(key, str):
        try:
            return int(key)
        except ValueError:
            pass
    if isinstance(key, int) and not isinstance(key, bool):
        return key
    raise InvalidSchemaError(f"expected an integer key, got {key!r}", path=path)


def _str_key(key: Any, path: str) -> str:
    if not isinstance(key, str):
        raise InvalidSchemaError(f"expected a string key, got {key!r}", path=path)
    return key


def _str_list(data: Mapping[Any, Any], key: str, path: str, present: set[str]) -> tuple[str, ...]:
    value = data.get(key)
    if value is None:
        return ()
    if not isinstance(value, list | tuple):
        raise InvalidSchemaError(f"expected a list, got {value!r}", path=f"{path}.{key}")
    if not value:
        present.add(key)
    return tuple(_str(item, f"{path}.{key}[{index}]") for index, item in enumerate(value))


def _keyed(
    data: Any,
    path: str,
    parse_key: Callable[[Any, str], Any],
    parse_value: Callable[[Any, str], _T],
) -> dict[Any, _T]:
    result: dict[Any, _T] = {}
    for key, value in _mapping(data, path).items():
        item_path = f"{path}[{key!r}]"
        result[parse_key(key, item_path)] = parse_value(value, item_path)
    return result


def parse_display(data: Any, path: str = "$") -> DisplayValue | None:
    """Return the display value of the form (``None`` when absent)."""
    if data is None:
        return None
    data = _mapping(data, path)
    return DisplayValue(
        name=_opt_str(data, "name", path),
        description=_opt_str(data, "description", path),
        icon=_opt_str(data, "icon", path),
    )


def _parse_unit(data: Any, path: str) -> Unit:
    data = _mapping(data, path)
    return Unit(
        name_short_singular=_str(_required(data, "name_short_singular", path), path),
        name_short_plural=_str(_required(data, "name_short_plural", path), path),
        name_long_singular=_str(_required(data, "name_long_singular", path), path),
        name_long_plural=_str(_required(data, "name_long_plural", path), path),
    )


def _parse_units(data: Any, path: str) -> Units | None:
    if data is None:
        return None
    data = _mapping(data, path)
    multipliers = data.get("multipliers")
    return Units(
        base_unit=_parse_unit(_required(data, "base_unit", path), f"{path}.base_unit"),
        multipliers=None
        if multipliers is None
        else _keyed(multipliers, f"{path}.multipliers", _int_key, _parse_unit),
    )


def _parse_string(data: Mapping[Any, Any], path: str) -> StringSchema:
    minimum, maximum = _opt_int(data, "min", path), _opt_int(data, "max", path)
    pattern = _opt_str(data, "pattern", path)
    try:
        return StringSchema(min=minimum, max=maximum, pattern=pattern)
    except InvalidSchemaError as exc:  # the pattern does not compile
        raise InvalidSchemaError(exc.reason, path=f"{path}.pattern") from None


def _parse_int(data: Mapping[Any, Any], path: str) -> IntSchema:
    return IntSchema(
        min=_opt_int(data, "min", path),
        max=_opt_int(data, "max", path),
        units=_parse_units(data.get("units"), f"{path}.units"),
    )


def _parse_float(data: Mapping[Any, Any], path: str) -> FloatSchema:
    return FloatSchema(
        min=_opt_float(data, "min", path),
        max=_opt_float(data, "max", path),
        units=_parse_units(data.get("units"), f"{path}.units"),
    )


def _parse_display_value(data: Any, path: str) -> DisplayValue:
    display = parse_display(data, path)
    return DisplayValue() if display is None else display


def _parse_string_enum(data: Mapping[Any, Any], path: str) -> StringEnumSchema:
    values = _keyed(
        _required(data, "values", path), f"{path}.values", _str_key, _parse_display_value
    )
    if not values:
        raise InvalidSchemaError("an enum needs at least one value", path=f"{path}.values")
    return StringEnumSchema(values=values)


def _parse_int_enum(data: Mapping[Any, Any], path: str) -> IntEnumSchema:
    values = _keyed(
        _required(data, "values", path), f"{path}.values", _int_key, _parse_display_value
    )
    if not values:
        raise InvalidSchemaError("an enum needs at least one value", path=f"{path}.values")
    return IntEnumSchema(values=values, units=_parse_units(data.get("units"), f"{path}.units"))


def _parse_list(data: Mapping[Any, Any], path: str) -> ListSchema:
    return ListSchema(
        items=_parse_type(_required(data, "items", path), f"{path}.items"),
        min=_opt_int(data, "min", path),
        max=_opt_int(data, "max", path),
    )


_MAP_KEY_TYPES: Final = (StringSchema, IntSchema, StringEnumSchema, IntEnumSchema)


def _parse_map(data: Mapping[Any, Any], path: str) -> MapSchema:
    keys = _parse_type(_required(data, "keys", path), f"{path}.keys")
    if not isinstance(keys, _MAP_KEY_TYPES):
        raise InvalidSchemaError(
            f"map keys must be of type 'enum_integer', 'enum_string', 'integer' or 'string', "
            f"not {type(keys).TYPE_ID!r}",
            path=f"{path}.keys",
        )
    return MapSchema(
        keys=keys,
        values=_parse_type(_required(data, "values", path), f"{path}.values"),
        min=_opt_int(data, "min", path),
        max=_opt_int(data, "max", path),
    )


def parse_property(data: Any, *, path: str = "$") -> PropertySchema:
    """Return the property schema of the form (outside any scope: it may not contain refs)."""
    _check_depth(data, path)
    result = _parse_property(data, path)
    _check_property_meaning(result, None, path)
    return result


def _parse_property(data: Any, path: str) -> PropertySchema:
    data = _mapping(data, path)
    present: set[str] = set()
    fields: dict[str, Any] = {
        "type": _parse_type(_required(data, "type", path), f"{path}.type"),
        "display": parse_display(data.get("display"), f"{path}.display"),
        "required": _bool(data, "required", path, default=True),
        "required_if": _str_list(data, "required_if", path, present),
        "required_if_not": _str_list(data, "required_if_not", path, present),
        "conflicts": _str_list(data, "conflicts", path, present),
        "default": _opt_str(data, "default", path),
        "examples": _str_list(data, "examples", path, present),
    }
    try:
        return PropertySchema(**fields, present_empty=present)
    except InvalidSchemaError as exc:  # the default is not JSON
        raise InvalidSchemaError(exc.reason, path=f"{path}.default") from None


def _parse_properties(data: Any, path: str) -> dict[str, PropertySchema]:
    return _keyed(data, path, _str_key, _parse_property)


def _parse_object(data: Mapping[Any, Any], path: str) -> ObjectSchema:
    id_unenforced = data.get("id_unenforced")
    return ObjectSchema(
        id=_str(_required(data, "id", path), f"{path}.id"),
        properties=_parse_properties(_required(data, "properties", path), f"{path}.properties"),
        id_unenforced=None if id_unenforced is None else _bool(data, "id_unenforced", path, False),
    )


def _parse_ref(data: Mapping[Any, Any], path: str) -> RefSchema:
    return RefSchema(
        id=_str(_required(data, "id", path), f"{path}.id"),
        display=parse_display(data.get("display"), f"{path}.display"),
    )


def _parse_scope(data: Mapping[Any, Any], path: str) -> ScopeSchema:
    objects = _keyed(
        _required(data, "objects", path),
        f"{path}.objects",
        _str_key,
        lambda value, item_path: _parse_object(_mapping(value, item_path), item_path),
    )
    root = _str(_required(data, "root", path), f"{path}.root")
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
        types=_keyed(_required(data, "types", path), f"{path}.types", _str_key, _parse_object_like),
        discriminator_field_name=_opt_str(data, "discriminator_field_name", path) or "_type",
        discriminator_inlined=_bool(data, "discriminator_inlined", path, default=False),
    )


def _parse_one_of_int(data: Mapping[Any, Any], path: str) -> OneOfIntSchema:
    return OneOfIntSchema(
        types=_keyed(_required(data, "types", path), f"{path}.types", _int_key, _parse_object_like),
        discriminator_field_name=_opt_str(data, "discriminator_field_name", path) or "_type",
        discriminator_inlined=_bool(data, "discriminator_inlined", path, default=False),
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
    data = _mapping(data, path)
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
    _check_depth(data, path)
    result = _parse_type(data, path)
    _check_meaning(result, None, path)
    return result


def parse_scope(data: Any, *, path: str = "$") -> ScopeSchema:
    """Return the scope of the form (``type_id`` optional, as in step inputs and outputs)."""
    _check_depth(data, path)
    data = _mapping(data, path)
    type_id = data.get("type_id", "scope")
    if type_id != "scope":
        raise InvalidSchemaError(f"expected a scope, got type_id {type_id!r}", path=path)
    result = _parse_scope(data, path)
    _check_meaning(result, None, path)
    return result


def _parse_signal(data: Any, path: str) -> SignalSchema:
    data = _mapping(data, path)
    return SignalSchema(
        id=_str(_required(data, "id", path), f"{path}.id"),
        data_schema=parse_scope(_required(data, "data_schema", path), path=f"{path}.data_schema"),
        display=parse_display(data.get("display"), f"{path}.display"),
    )


def _parse_output(data: Any, path: str) -> StepOutputSchema:
    data = _mapping(data, path)
    return StepOutputSchema(
        schema=parse_scope(_required(data, "schema", path), path=f"{path}.schema"),
        display=parse_display(data.get("display"), f"{path}.display"),
        error=_bool(data, "error", path, default=False),
    )


def parse_step(data: Any, *, path: str = "$") -> StepSchema:
    """Return the step schema of the form."""
    _check_depth(data, path)
    data = _mapping(data, path)
    present: set[str] = set()
    signals: dict[str, dict[str, SignalSchema]] = {}
    for key in ("signal_handlers", "signal_emitters"):
        value = data.get(key)
        if value is not None:
            signals[key] = _keyed(value, f"{path}.{key}", _str_key, _parse_signal)
            if not signals[key]:
                present.add(key)
    return StepSchema(
        id=_str(_required(data, "id", path), f"{path}.id"),
        input=parse_scope(_required(data, "input", path), path=f"{path}.input"),
        outputs=_keyed(
            _required(data, "outputs", path), f"{path}.outputs", _str_key, _parse_output
        ),
        signal_handlers=signals.get("signal_handlers", {}),
        signal_emitters=signals.get("signal_emitters", {}),
        display=parse_display(data.get("display"), f"{path}.display"),
        present_empty=present,
    )


def parse_plugin_schema(data: Any, *, path: str = "$") -> PluginSchema:
    """Return the plugin schema of the form (what the ATP hello message carries).

    Raises:
        InvalidSchemaError: the data is not a valid plugin schema; the error names the path.
    """
    _check_depth(data, path)
    data = _mapping(data, path)
    steps_path = f"{path}.steps"
    return PluginSchema(
        steps=_keyed(
            _required(data, "steps", path),
            steps_path,
            _str_key,
            lambda value, item_path: parse_step(value, path=item_path),
        )
    )


# ---------------------------------------------------------------------------------------------
# meaning: refs resolve in their enclosing scope, defaults are valid


def _check_meaning(schema: TypeSchema, scope: ScopeSchema | None, path: str) -> None:
    _check_bounds(schema, path)
    if isinstance(schema, ScopeSchema):
        for key, obj in schema.objects.items():
            if obj.id != key:
                raise InvalidSchemaError(
                    f"object declared as {key!r} has id {obj.id!r}; each object of a scope "
                    "must be declared under its own id, so ids are unique",
                    path=f"{path}.objects[{key!r}].id",
                )
            _check_meaning(obj, schema, f"{path}.objects[{key!r}]")
    elif isinstance(schema, ObjectSchema):
        for name, prop in schema.properties.items():
            _check_property_meaning(prop, scope, f"{path}.properties[{name!r}]")
    elif isinstance(schema, RefSchema):
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
        _check_meaning(schema.items, scope, f"{path}.items")
    elif isinstance(schema, MapSchema):
        _check_meaning(schema.values, scope, f"{path}.values")
    elif isinstance(schema, OneOfStringSchema | OneOfIntSchema):
        for member_key, member in schema.types.items():
            _check_meaning(member, scope, f"{path}.types[{member_key!r}]")


def _check_bounds(schema: TypeSchema, path: str) -> None:
    """Raise when a schema's ``min`` is above its ``max`` (no value could match)."""
    low, high = getattr(schema, "min", None), getattr(schema, "max", None)
    if low is not None and high is not None and low > high:
        raise InvalidSchemaError(
            f"min {low!r} is greater than max {high!r}; no value can match", path=f"{path}.min"
        )


def _check_property_meaning(prop: PropertySchema, scope: ScopeSchema | None, path: str) -> None:
    _check_meaning(prop.type, scope, f"{path}.type")
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
