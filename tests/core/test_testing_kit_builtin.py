"""The built-in ``dummy`` provider passes the conformance kit, loaded as the registry loads it.

(The ``plugin`` provider runs the kit in ``tests/builtin/test_plugin_conformance.py``.)
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from arcaflow_steps import AnyProvider, Registry
from arcaflow_steps.testing import ConformanceCase, ProviderConformance


class TestDummyConformance(ProviderConformance):
    """The dummy provider obeys every rule the kit checks."""

    @pytest.fixture
    def provider(self) -> AnyProvider:
        return Registry.from_entry_points().get("dummy")

    @pytest.fixture
    def conformance_cases(self) -> Sequence[ConformanceCase]:
        return [
            ConformanceCase(
                id="greet",
                definition={"name": "Arca", "dummy": {"greeting": "Hi"}},
                expected_stage="greet",
                expected_output_id="success",
            ),
            ConformanceCase(
                id="nickname",
                definition={"name": "Arca", "nickname": "Arcy"},
                expected_stage="greet",
                expected_output_id="success",
            ),
            ConformanceCase(
                id="blank",
                definition={"name": " "},
                expected_stage="greet",
                expected_output_id="error",
            ),
        ]
