"""The plugin provider passes the conformance kit (arcaflow_steps.testing)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from plugin_support import HELLO, descendants, plugin, wait_gone

from arcaflow_steps.testing import ConformanceCase, check_conformance
from arcaflow_steps_builtin.deployers import arcaflow_steps_deployers
from arcaflow_steps_builtin.plugin import PluginProvider

CASES = [
    ConformanceCase(
        id="success",
        definition={"plugin": plugin(HELLO), "input": {"name": "Arca"}},
        expected_stage="outputs",
        expected_output_id="success",
    ),
    ConformanceCase(
        id="error-output",
        definition={"plugin": plugin(), "step": "fail", "input": {}},
        expected_stage="outputs",
        expected_output_id="error",
    ),
    ConformanceCase(
        id="raise",
        definition={"plugin": plugin(), "step": "raise", "input": {}},
        expected_stage="crashed",
        expected_output_id="error",
    ),
    ConformanceCase(
        id="os-exit",
        definition={"plugin": plugin(), "step": "exit", "input": {}},
        expected_stage="crashed",
        expected_output_id="error",
    ),
    ConformanceCase(
        id="disabled",
        definition={"plugin": plugin(HELLO), "enabled": False, "input": {"name": "x"}},
        expected_stage="disabled",
        expected_output_id="output",
    ),
    ConformanceCase(
        id="deploy-failed",
        definition={
            "plugin": plugin(HELLO),
            "deploy": {"deployer_name": "python", "pythonPath": "/nonexistent/python"},
            "input": {"name": "x"},
        },
        expected_stage="deploy_failed",
        expected_output_id="error",
    ),
    ConformanceCase(
        id="hang",
        definition={"plugin": plugin(), "step": "hang", "input": {}},
        expected_stage="closed",
        expected_output_id="result",
        close_after=0.5,
    ),
    ConformanceCase(
        id="ignore-cancel",
        definition={
            "plugin": plugin(),
            "step": "ignore-cancel",
            "closure_wait_timeout": 200,
            "input": {},
        },
        expected_stage="closed",
        expected_output_id="result",
        close_after=0.5,
    ),
]


@pytest.fixture
def provider() -> Iterator[PluginProvider]:
    provider = PluginProvider(arcaflow_steps_deployers)
    yield provider
    provider.close()
    assert set() == wait_gone(descendants()), "processes left behind"


def test_plugin_provider_passes_the_conformance_kit(provider: PluginProvider) -> None:
    """Every rule of the kit holds for the plugin provider across its stage paths."""
    check_conformance(provider, CASES)
