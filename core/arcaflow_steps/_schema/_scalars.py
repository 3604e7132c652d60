"""Checking scalar values (strings, numbers, booleans, enums, patterns, ``any``) and wording
the problems; containers, objects and one-ofs are in :mod:`._validate`.

Each check accepts what the ``arcaflow-plugin-sdk`` 0.14.3 type's ``unserialize`` accepts and
returns what it returns (the conversions a plugin applies to its own input): an integer (or a
boolean, ``str(True)``) for a string; a string for an integer or a float (``int()`` /
``float()``, or an amount with the schema's units); ``0``/``1`` and the words ``yes``, ``no``,
``on``, ``off``, ``y``, ``n``, ``true``, ``false``, ``enable(d)``, ``disable(d)`` (any case) for
a boolean; a value equal to an integer enum member. One deliberate difference: a boolean given
for an integer (the SDK keeps the ``bool``) comes back as the ``int`` 0 or 1, so the value has
the type the schema names.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from .._error_records import ValidationProblem
from ._display import Units
from ._records import (
    AnySchema,
    BoolSchema,
    FloatSchema,
    IntEnumSchema,
    IntSchema,
    PatternSchema,
    ScopeSchema,
    StringEnumSchema,
    StringSchema,
)
from ._scalar_texts import scalar_text
from ._units import parse_units, unit_names

__all__ = ["describe_value"]

_Problems = list[ValidationProblem]

_MAX_SHOWN: Final = 60
#: Larger integers are described by their size (``repr`` of a huge int is slow or refused).
_MAX_SHOWN_BITS: Final = 192


def describe_value(value: Any) -> str:
    """Return a short description of a value for messages (``'ten'``, ``a list``)."""
    if isinstance(value, int) and value.bit_length() > _MAX_SHOWN_BITS:
        return f"an integer of {value.bit_length()} bits"
    if value is None or isinstance(value, bool | int | float | str):
        text = repr(value)
        return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 4] + "...'"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    return f"a value of type {type(value).__name__}"


def _quote_sorted(values: Any) -> str:
    items = sorted(values, key=lambda value: (isinstance(value, str), value))
    return ", ".join(repr(item) for item in items) if items else "none"


def _key_path(path: str, key: Any) -> str:
    return f"{path}[{key!r}]"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _check_string(
    schema: StringSchema, value: Any, path: str, scope: ScopeSchema | None, problems: _Problems
) -> Any:
    if not isinstance(value, str):
        # The text it was written as, in a workflow (see _scalar_texts); else as the SDK: an
        # integer becomes its decimal string, and so a boolean 'True'.
        converted = scalar_text(value, path)
        if converted is None and isinstance(value, int):
            converted = _int_to_str(value)
        if converted is None:
            problems.append(
                ValidationProblem(
                    path=path, message=f"expected a string, got {describe_value(value)}"
                )
            )
            return value
        value = converted
    if schema.min is not None and len(value) < schema.min:
        problems.append(
            ValidationProblem(
                path=path,
                message=f"expected at least {_plural(schema.min, 'character')}, got {len(value)}",
            )
        )
    if schema.max is not None and len(value) > schema.max:
        problems.append(
            ValidationProblem(
                path=path,
                message=f"expected at most {_plural(schema.max, 'character')}, got {len(value)}",
            )
        )
    compiled = schema.compiled_pattern
    if compiled is not None and compiled.match(value) is None:
        problems.append(
            ValidationProblem(
                path=path,
                message=f"{describe_value(value)} does not match the pattern {schema.pattern!r}",
            )
        )
    return value


def _check_pattern(
    schema: PatternSchema, value: Any, path: str, scope: ScopeSchema | None, problems: _Problems
) -> Any:
    if not isinstance(value, str):
        problems.append(
            ValidationProblem(
                path=path,
                message=f"expected a regular expression string, got {describe_value(value)}",
            )
        )
        return value
    try:
        re.compile(value)
    except re.error as exc:
        problems.append(
            ValidationProblem(
                path=path,
                message=f"{describe_value(value)} is not a valid regular expression: {exc}",
            )
        )
    return value


def _check_bounds(
    schema: IntSchema | FloatSchema, value: float, path: str, problems: _Problems
) -> None:
    if schema.min is not None and value < schema.min:
        problems.append(
            ValidationProblem(
                path=path, message=f"expected at least {schema.min}, got {describe_value(value)}"
            )
        )
    if schema.max is not None and value > schema.max:
        problems.append(
            ValidationProblem(
                path=path, message=f"expected at most {schema.max}, got {describe_value(value)}"
            )
        )


def _int_to_str(value: int) -> str | None:
    try:
        return str(value)
    except ValueError:  # more digits than Python converts (sys.get_int_max_str_digits)
        return None


def _units_hint(units: Units | None) -> str:
    return "" if units is None else f" or an amount in {unit_names(units)}"


def _int_from_str(value: str, units: Units | None) -> int | None:
    if units is not None:
        amount = parse_units(units, value)
        return amount if isinstance(amount, int) else None
    try:
        return int(value)
    except ValueError:
        return None


def _check_int(
    schema: IntSchema, value: Any, path: str, scope: ScopeSchema | None, problems: _Problems
) -> Any:
    if type(value) is not int:
        if isinstance(value, int):
            value = int(value)  # a bool: the SDK keeps it, we give the plugin 0 or 1
        else:
            converted = _int_from_str(value, schema.units) if isinstance(value, str) else None
            if converted is None:
                problems.append(
                    ValidationProblem(
                        path=path,
                        message=f"expected an integer{_units_hint(schema.units)}, "
                        f"got {describe_value(value)}",
                    )
                )
                return value
            value = converted
    _check_bounds(schema, value, path, problems)
    return value


def _float_from(value: Any, units: Units | None) -> float | None:
    if isinstance(value, str):
        if units is not None:
            amount = parse_units(units, value)
            if amount is None:
                return None
            value = amount
        else:
            try:
                return float(value)
            except ValueError:
                return None
    if isinstance(value, int):  # also a bool, as in the SDK: 1.0 or 0.0
        try:
            return float(value)
        except OverflowError:
            return None
    return value if isinstance(value, float) else None


def _check_float(
    schema: FloatSchema, value: Any, path: str, scope: ScopeSchema | None, problems: _Problems
) -> Any:
    if type(value) is not float:
        converted = _float_from(value, schema.units)
        if converted is None:
            problems.append(
                ValidationProblem(
                    path=path,
                    message=f"expected a number{_units_hint(schema.units)}, "
                    f"got {describe_value(value)}",
                )
            )
            return value
        value = converted
    _check_bounds(schema, value, path, problems)
    return value


#: The strings the SDK reads as booleans, compared after ``str.lower()``.
_BOOL_WORDS: Final[dict[str, bool]] = {
    **dict.fromkeys(("1", "enable", "enabled", "on", "true", "y", "yes"), True),
    **dict.fromkeys(("0", "disable", "disabled", "false", "n", "no", "off"), False),
}


def _check_bool(
    schema: BoolSchema, value: Any, path: str, scope: ScopeSchema | None, problems: _Problems
) -> Any:
    if isinstance(value, bool):
        return value
    converted: bool | None = None
    if isinstance(value, int):
        converted = {0: False, 1: True}.get(value)
    elif isinstance(value, str):
        converted = _BOOL_WORDS.get(value.lower())
    if converted is None:
        problems.append(
            ValidationProblem(path=path, message=f"expected a boolean, got {describe_value(value)}")
        )
        return value
    return converted


def _check_string_enum(
    schema: StringEnumSchema,
    value: Any,
    path: str,
    scope: ScopeSchema | None,
    problems: _Problems,
) -> Any:
    if not isinstance(value, str) or value not in schema.values:
        problems.append(
            ValidationProblem(
                path=path,
                message=f"expected one of {_quote_sorted(schema.values)}, "
                f"got {describe_value(value)}",
            )
        )
    return value


def _check_int_enum(
    schema: IntEnumSchema, value: Any, path: str, scope: ScopeSchema | None, problems: _Problems
) -> Any:
    # The SDK takes the member equal to the value: True is 1 and 2.0 is 2, "1" is no member.
    if not isinstance(value, int | float) or value not in schema.values:
        problems.append(
            ValidationProblem(
                path=path,
                message=f"expected one of {_quote_sorted(schema.values)}, "
                f"got {describe_value(value)}",
            )
        )
        return value
    return int(value)


_TYPE_NAMES: Final[dict[type[Any], str]] = {
    str: "string",
    int: "integer",
    float: "float",
    bool: "boolean",
    dict: "mapping",
    list: "list",
    type(None): "null",
}


def _check_any(
    schema: AnySchema, value: Any, path: str, scope: ScopeSchema | None, problems: _Problems
) -> Any:
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, list | tuple):
        if value:
            first = type(value[0])
            first_name = _TYPE_NAMES.get(first, first.__name__)
            for index, item in enumerate(value):
                if type(item) is not first:
                    problems.append(
                        ValidationProblem(
                            path=f"{path}[{index}]",
                            message=f"expected list items of one type ({first_name} like item 0), "
                            f"got {describe_value(item)}",
                        )
                    )
        return [
            _check_any(schema, item, f"{path}[{index}]", scope, problems)
            for index, item in enumerate(value)
        ]
    if isinstance(value, Mapping):
        result = {}
        for key, item in value.items():
            if key is not None and not isinstance(key, str | int | float | bool):
                problems.append(
                    ValidationProblem(
                        path=path,
                        message="expected a string, number, boolean or null key, got "
                        f"{describe_value(key)}",
                    )
                )
            result[key] = _check_any(schema, item, _key_path(path, key), scope, problems)
        return result
    problems.append(
        ValidationProblem(
            path=path,
            message="expected a mapping, list, string, number, boolean or null, got "
            f"{describe_value(value)}",
        )
    )
    return value
