"""Reading the serialized schema form: typed field readers with paths, and the depth limit.

Every reader raises :class:`~arcaflow_steps.InvalidSchemaError` naming the path of the problem.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final, TypeVar

from .._errors import InvalidSchemaError

__all__ = [
    "MAX_SCHEMA_DEPTH",
    "check_depth",
    "read_bool",
    "read_int",
    "read_int_key",
    "read_keyed",
    "read_mapping",
    "read_opt_float",
    "read_opt_int",
    "read_opt_str",
    "read_required",
    "read_str",
    "read_str_key",
    "read_str_list",
]

_T = TypeVar("_T")

#: How deep mappings and lists may nest in a serialized schema (an inline object takes three).
MAX_SCHEMA_DEPTH: Final = 100
#: How much of a too deep path the error shows.
_SHOWN_PATH: Final = 160


def check_depth(data: Any, path: str) -> None:
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


def read_mapping(data: Any, path: str, what: str = "a mapping") -> Mapping[Any, Any]:
    if not isinstance(data, Mapping):
        raise InvalidSchemaError(f"expected {what}, got {type(data).__name__}", path=path)
    return data


def read_required(data: Mapping[Any, Any], key: str, path: str) -> Any:
    if key not in data or data[key] is None:
        raise InvalidSchemaError(f"missing required field {key!r}", path=path)
    return data[key]


def read_str(value: Any, path: str) -> str:
    if not isinstance(value, str):
        raise InvalidSchemaError(f"expected a string, got {value!r}", path=path)
    return value


def read_opt_str(data: Mapping[Any, Any], key: str, path: str) -> str | None:
    value = data.get(key)
    return None if value is None else read_str(value, f"{path}.{key}")


def read_int(value: Any, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidSchemaError(f"expected an integer, got {value!r}", path=path)
    return value


def read_opt_int(data: Mapping[Any, Any], key: str, path: str) -> int | None:
    value = data.get(key)
    return None if value is None else read_int(value, f"{path}.{key}")


def read_opt_float(data: Mapping[Any, Any], key: str, path: str) -> float | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidSchemaError(f"expected a number, got {value!r}", path=f"{path}.{key}")
    return value


def read_bool(data: Mapping[Any, Any], key: str, path: str, default: bool) -> bool:
    value = data.get(key)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise InvalidSchemaError(f"expected a boolean, got {value!r}", path=f"{path}.{key}")
    return value


def read_int_key(key: Any, path: str) -> int:
    if isinstance(key, str):
        try:
            return int(key)
        except ValueError:
            pass
    if isinstance(key, int) and not isinstance(key, bool):
        return key
    raise InvalidSchemaError(f"expected an integer key, got {key!r}", path=path)


def read_str_key(key: Any, path: str) -> str:
    if not isinstance(key, str):
        raise InvalidSchemaError(f"expected a string key, got {key!r}", path=path)
    return key


def read_str_list(
    data: Mapping[Any, Any], key: str, path: str, present: set[str]
) -> tuple[str, ...]:
    value = data.get(key)
    if value is None:
        return ()
    if not isinstance(value, list | tuple):
        raise InvalidSchemaError(f"expected a list, got {value!r}", path=f"{path}.{key}")
    if not value:
        present.add(key)
    return tuple(read_str(item, f"{path}.{key}[{index}]") for index, item in enumerate(value))


def read_keyed(
    data: Any,
    path: str,
    parse_key: Callable[[Any, str], Any],
    parse_value: Callable[[Any, str], _T],
) -> dict[Any, _T]:
    result: dict[Any, _T] = {}
    for key, value in read_mapping(data, path).items():
        item_path = f"{path}[{key!r}]"
        result[parse_key(key, item_path)] = parse_value(value, item_path)
    return result
