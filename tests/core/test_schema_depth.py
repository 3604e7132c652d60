"""Serialized schemas nested past the limit are refused with a path, not a RecursionError."""

from __future__ import annotations

from typing import Any

import pytest

from arcaflow_steps import InvalidSchemaError
from arcaflow_steps.schema import parse_schema, parse_scope


def nested_lists(depth: int) -> dict[str, Any]:
    schema: dict[str, Any] = {"type_id": "string"}
    for _ in range(depth):
        schema = {"type_id": "list", "items": schema}
    return schema


def test_schema_at_the_limit_parses() -> None:
    """100 nested mappings (99 lists around a string) are read as usual."""
    assert parse_schema(nested_lists(99)) is not None


@pytest.mark.parametrize("depth", [100, 5000])
def test_schema_past_the_limit(depth: int) -> None:
    """One level more, or thousands, is one InvalidSchemaError with a shortened path."""
    with pytest.raises(InvalidSchemaError) as excinfo:
        parse_schema(nested_lists(depth))
    assert (
        "invalid schema: the schema nests deeper than 100 mappings and lists @ "
        + ("$" + "['items']" * 18)[:160]
        + "…"
    ) == str(excinfo.value)


def test_scope_past_the_limit_names_its_path() -> None:
    """In a scope the path starts at the scope's own path."""
    scope = {
        "root": "In",
        "objects": {
            "In": {"id": "In", "properties": {"x": {"type": nested_lists(120), "required": True}}}
        },
    }
    with pytest.raises(
        InvalidSchemaError, match=r"nests deeper than 100 .* @ \$\.input\['objects'"
    ):
        parse_scope(scope, path="$.input")
