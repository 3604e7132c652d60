"""The validators' dispatch table: schema record type -> check function.

It has a module of its own so that the checks of composite types (lists and maps in
:mod:`._validate`, objects in :mod:`._objects`) recurse through it without importing each
other; :mod:`._validate` fills it when it is imported, before anything validates.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from .._error_records import ValidationProblem

if TYPE_CHECKING:
    from ._records import ScopeSchema

__all__ = ["CHECKERS", "Checker", "Problems"]

Problems = list[ValidationProblem]
Checker = Callable[[Any, Any, str, "ScopeSchema | None", Problems], Any]
#: Schema record type -> its check: ``check(schema, value, path, scope, problems) -> value``.
CHECKERS: Final[dict[type[Any], Checker]] = {}
