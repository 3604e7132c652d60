"""Lazy exports (PEP 562): a package names the submodule of each public name and imports it on
first access, so importing the package itself costs almost nothing (``arcaflow-steps list``
and the path to ``run``'s warm-ups depend on it)."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str, sources: Mapping[str, str], public: Iterable[str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """Return the module-level ``__getattr__`` and ``__dir__`` of ``package``.

    ``sources`` maps each exported name to the (relative) submodule that defines it; an
    attribute is imported on first access and then cached in the package's namespace.
    """
    names = frozenset(public)

    def __getattr__(name: str) -> Any:  # noqa: N807 (the PEP 562 hook's name)
        module = sources.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module, package), name)
        vars(sys.modules[package])[name] = value
        return value

    def __dir__() -> list[str]:  # noqa: N807 (the PEP 562 hook's name)
        return sorted({*vars(sys.modules[package]), *names})

    return __getattr__, __dir__
