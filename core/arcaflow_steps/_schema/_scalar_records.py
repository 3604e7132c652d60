"""Frozen records of the schema model's scalar types: strings, patterns, numbers, booleans and
enums (re-exported by :mod:`._records`, which holds the composite types and the unions).

Thread safety: every record is immutable and safe to share.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import ClassVar

import attrs

from .._errors import InvalidSchemaError
from ._display import DisplayValue, Units
from ._frozen import frozen_map

__all__ = [
    "BoolSchema",
    "FloatSchema",
    "IntEnumSchema",
    "IntSchema",
    "PatternSchema",
    "StringEnumSchema",
    "StringSchema",
]


@attrs.frozen(kw_only=True)
class StringSchema:
    """A string with optional length bounds (inclusive) and a regular expression it must match.

    Thread safety: safe to share (immutable).
    """

    TYPE_ID: ClassVar[str] = "string"

    min: int | None = None
    max: int | None = None
    #: Regular expression the string must match from its start (``re.match``, as in the SDK).
    pattern: str | None = None
    _compiled: re.Pattern[str] | None = attrs.field(
        init=False, eq=False, hash=False, repr=False, default=None
    )

    def __attrs_post_init__(self) -> None:
        if self.pattern is not None:
            try:
                compiled = re.compile(self.pattern)
            except re.error as exc:
                raise InvalidSchemaError(
                    f"invalid pattern {self.pattern!r}: {exc}", path="$.pattern"
                ) from None
            object.__setattr__(self, "_compiled", compiled)

    @property
    def compiled_pattern(self) -> re.Pattern[str] | None:
        """Return the compiled ``pattern``, or ``None``."""
        return self._compiled


@attrs.frozen(kw_only=True)
class PatternSchema:
    """A string that is itself a regular expression.

    Thread safety: safe to share (immutable).
    """

    TYPE_ID: ClassVar[str] = "pattern"


@attrs.frozen(kw_only=True)
class IntSchema:
    """A 64-bit integer with optional bounds (inclusive) and units.

    Thread safety: safe to share (immutable).
    """

    TYPE_ID: ClassVar[str] = "integer"

    min: int | None = None
    max: int | None = None
    units: Units | None = None


@attrs.frozen(kw_only=True)
class FloatSchema:
    """A 64-bit float with optional bounds (inclusive) and units; integers are accepted.

    Thread safety: safe to share (immutable).
    """

    TYPE_ID: ClassVar[str] = "float"

    min: float | None = None
    max: float | None = None
    units: Units | None = None


@attrs.frozen(kw_only=True)
class BoolSchema:
    """A boolean; validation also converts what the plugin SDK converts (``0``/``1``, and
    ``yes``/``no``, ``on``/``off``, ``true``/``false`` … in any case, see
    ``docs/schema-differences.md``).

    Thread safety: safe to share (immutable).
    """

    TYPE_ID: ClassVar[str] = "bool"


@attrs.frozen(kw_only=True)
class StringEnumSchema:
    """One of a fixed set of strings, each with display information.

    Thread safety: safe to share (immutable).
    """

    TYPE_ID: ClassVar[str] = "enum_string"

    values: Mapping[str, DisplayValue] = attrs.field(converter=frozen_map)


@attrs.frozen(kw_only=True)
class IntEnumSchema:
    """One of a fixed set of integers, each with display information.

    Thread safety: safe to share (immutable).
    """

    TYPE_ID: ClassVar[str] = "enum_integer"

    values: Mapping[int, DisplayValue] = attrs.field(converter=frozen_map)
    units: Units | None = None
