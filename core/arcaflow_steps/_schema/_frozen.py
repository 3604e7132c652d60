"""Immutable containers for schema records: a read-only hashable dict and its converters."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, NoReturn, TypeVar

__all__ = ["FrozenDict", "frozen_map", "frozen_strs", "optional_frozen_map", "str_tuple"]

_K = TypeVar("_K")
_V = TypeVar("_V")


class FrozenDict(dict[_K, _V]):
    """A read-only, hashable ``dict``: lookups cost what a ``dict`` lookup costs.

    Thread safety: safe to share (immutable).
    """

    __slots__ = ()

    def _readonly(self, *args: object, **kwargs: object) -> NoReturn:
        raise TypeError("schema mappings are read-only")

    __setitem__ = _readonly
    __delitem__ = _readonly
    clear = _readonly
    pop = _readonly
    popitem = _readonly
    setdefault = _readonly
    update = _readonly
    __ior__ = _readonly

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(frozenset(self.items()))

    def __reduce__(self) -> tuple[Any, ...]:
        return (FrozenDict, (dict(self),))


def frozen_map(value: Mapping[Any, Any] | None) -> FrozenDict[Any, Any]:
    if isinstance(value, FrozenDict):
        return value
    return FrozenDict(value or {})


def optional_frozen_map(value: Mapping[Any, Any] | None) -> FrozenDict[Any, Any] | None:
    return None if value is None else frozen_map(value)


def frozen_strs(values: Iterable[str]) -> frozenset[str]:
    return frozenset(values)


def str_tuple(values: Iterable[str] | None) -> tuple[str, ...]:
    if values is None:
        return ()
    if isinstance(values, str):
        return (values,)
    return tuple(values)
