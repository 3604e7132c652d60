"""The message a failed run quotes from the output of the step that failed it."""

from __future__ import annotations

from typing import Any

import pytest

from arcaflow_steps.workflow._explain import _one_text


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"error": "plugin says no"}, "plugin says no"),
        ({"error": "first line\nsecond line"}, "first line\nsecond line"),
        (
            {"data": {0: {"message": "hi"}}, "messages": {1: "item 1 failed: no"}},
            "item 1 failed: no",
        ),
        (
            {"data": {}, "messages": {10: "item 10 failed", 2: "item 2 failed\nmore"}},
            "item 2 failed (and 1 more)",
        ),
        ({"messages": {"b": "of b", 1: "of 1"}}, "of 1 (and 1 more)"),
        ({"message": "a", "other": "b"}, None),
        ({"count": 1}, None),
        ({"messages": {}}, None),
        ("text", None),
        (None, None),
    ],
)
def test_the_one_text_field_of_an_output_is_its_message(data: Any, expected: str | None) -> None:
    assert _one_text(data) == expected
