"""Checking scalar values (strings, numbers, booleans, enums, patterns, ``any``) and wording
the problems; containers, objects and one-ofs are in :mod:`._validate`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from .._error_records import ValidationProblem
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

__all__ = ["describe_value"]

_Problems = list[ValidationProblem]

_MAX_SHOWN: Final = 60


def describe_value(value: Any) -> str:
    """Return a short description of a value for messages (``'ten'``, ``a list``)."""
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
        problems.append(
            ValidationProblem(path=path, message=f"expected a string, got {describe_value(value)}")
        )
        return value
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
            ValidationProblem(path=path, message=f"expected at least {schema.min}, got {value!r}")
        )
    if schema.max is not None and value > schema.max:
        problems.append(
            ValidationProblem(path=path, message=f"expected at most {schema.max}, got {value!r}")
        )


def _check_int(
    schema: IntSchema, value: Any, path: str, scope: ScopeSchema | None, problems: _Problems
) -> Any:
    if isinstance(value, bool) or not isinstance(value, int):
        problems.append(
            ValidationProblem(
                path=path, message=f"expected an integer, got {describe_value(value)}"
            )
        )
        return value
    _check_bounds(schema, value, path, problems)
    return value


def _check_float(
    schema: FloatSchema, value: Any, path: str, scope: ScopeSchema | None, problems: _Problems
) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        problems.append(
            ValidationProblem(path=path, message=f"expected a number, got {describe_value(value)}")
        )
        return value
    value = float(value)
    _check_bounds(schema, value, path, problems)
    return value


def _check_bool(
    schema: BoolSchema, value: Any, path: str, scope: ScopeSchema | None, problems: _Problems
) -> Any:
    if not isinstance(value, bool):
        problems.append(
            ValidationProblem(path=path, message=f"expected a boolean, got {describe_value(value)}")
        )
    return value


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
    if isinstance(value, bool) or not isinstance(value, int) or value not in schema.values:
        problems.append(
            ValidationProblem(
                path=path,
                message=f"expected one of {_quote_sorted(schema.values)}, "
                f"got {describe_value(value)}",
            )
        )
    return value


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
            if not isinstance(key, str | int | float | bool):
                problems.append(
                    ValidationProblem(
                        path=path,
                        message=f"expected a string or number key, got {describe_value(key)}",
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
