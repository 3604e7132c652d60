"""How schema items present themselves to people: names, descriptions, icons and units."""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from ._frozen import optional_frozen_map

__all__ = ["DisplayValue", "Unit", "Units"]


@attrs.frozen(kw_only=True)
class DisplayValue:
    """Name, description and icon of an item, for user interfaces.

    Thread safety: safe to share (immutable).
    """

    name: str | None = None
    description: str | None = None
    #: SVG icon (64x64).
    icon: str | None = None


@attrs.frozen(kw_only=True)
class Unit:
    """One scale of measurement, such as a second.

    Thread safety: safe to share (immutable).
    """

    name_short_singular: str
    name_short_plural: str
    name_long_singular: str
    name_long_plural: str


@attrs.frozen(kw_only=True)
class Units:
    """Several scales of the same unit: the base unit and multiples of it (5m30s).

    Thread safety: safe to share (immutable).
    """

    base_unit: Unit
    #: multiplier of the base unit -> unit; ``None`` when the form omits it.
    multipliers: Mapping[int, Unit] | None = attrs.field(
        default=None, converter=optional_frozen_map
    )


for _cls in (DisplayValue, Unit, Units):
    _cls.__module__ = "arcaflow_steps"
