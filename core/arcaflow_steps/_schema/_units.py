"""Reading amounts written with units (``"5m30s"``, ``"2kB"``) as the plugin SDK reads them.

The regular expression is built exactly as ``arcaflow-plugin-sdk`` 0.14.3 builds it in
``Units.parse``, quirks included, so that a string a plugin accepts is accepted here with the
same number: one optional ``<digits><unit>`` group per multiplier (in reverse declaration
order), then an optional base amount whose unit may be left out. The base amount may carry a
fraction (``1.5s``, a float); the SDK's ``.`` there matches any character, and an amount such
as ``1x5`` then fails to convert: we refuse it (the SDK fails with a ``ValueError``).
"""

from __future__ import annotations

import functools
import re
from typing import Final

from ._display import Units

__all__ = ["parse_units", "unit_names"]

_CACHE_SIZE: Final = 256


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _unit_pattern(units: Units) -> re.Pattern[str] | None:
    parts = []
    multipliers = units.multipliers or {}
    for multiplier in reversed(tuple(multipliers)):
        unit = multipliers[multiplier]
        names = "|".join(
            re.escape(name)
            for name in (
                unit.name_short_singular,
                unit.name_short_plural,
                unit.name_long_singular,
                unit.name_long_plural,
            )
        )
        parts.append(f"(?:|(?P<g{multiplier}>[0-9]+)\\s*({names}))")
    base = units.base_unit
    base_names = "|".join(
        re.escape(name)
        for name in (
            base.name_short_singular,
            base.name_short_plural,
            base.name_long_singular,
            base.name_long_plural,
        )
    )
    parts.append(f"(?:|(?P<g1>[0-9]+(|.[0-9]+))\\s*(|{base_names}))")
    try:
        return re.compile("^\\s*" + "\\s*".join(parts) + "\\s*$")
    except re.error:
        # A multiplier of 1 (or a repeated one) names a group twice: the SDK cannot parse
        # such units either.
        return None


def parse_units(units: Units, text: str) -> int | float | None:
    """Return the amount ``text`` stands for in the base unit, or ``None`` if it is not one.

    An amount is an ``int`` unless its base part has a fraction (``"1.5s"``).
    """
    if not text.strip():
        return None
    pattern = _unit_pattern(units)
    match = None if pattern is None else pattern.match(text)
    if match is None:
        return None
    number: int | float = 0
    for multiplier in units.multipliers or {}:
        digits = match.group(f"g{multiplier}")
        if digits is not None:
            number += int(digits) * multiplier
    base = match.group("g1")
    if base is not None:
        if "." in base:
            number += float(base)
        else:
            try:
                number += int(base)
            except ValueError:
                return None  # "1x5": the SDK's unescaped "." matched a non-digit
    return number


def unit_names(units: Units) -> str:
    """Return the short unit names, smallest first, for messages (``'B', 'kB', 'MB'``)."""
    names = [units.base_unit.name_short_singular]
    multipliers = units.multipliers or {}
    names.extend(multipliers[key].name_short_singular for key in sorted(multipliers))
    return ", ".join(repr(name) for name in dict.fromkeys(names))
