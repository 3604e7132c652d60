"""Messages show stage ids and field names as the user writes them, never an enum repr."""

from __future__ import annotations

import enum

import pytest

from arcaflow_steps import SchemaValidationError
from arcaflow_steps.schema import IntSchema, PropertySchema, validate_properties


class Field(enum.StrEnum):
    COUNT = "count"


def test_a_missing_enum_keyed_field_is_named_plainly() -> None:
    """A provider that keys its stage input schema by a StrEnum gets 'count', not the repr."""
    with pytest.raises(SchemaValidationError) as excinfo:
        validate_properties({Field.COUNT: PropertySchema(type=IntSchema(), required=True)}, {})
    assert "missing required field 'count' @ $" == str(excinfo.value)
