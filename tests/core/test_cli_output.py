"""How `arcaflow-steps run` prints results: large strings are streamed, the YAML stays valid."""

from __future__ import annotations

import json

import pytest
import yaml

from arcaflow_steps.cli._run import _write_results


@pytest.mark.parametrize("output_format", ["yaml", "json"])
def test_large_strings_round_trip(output_format: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Strings past 1 MiB (non-ASCII, DEL, quotes, newlines) print as the same value."""
    large = 'é\x7f"\n\\ x' * 200_000
    data = {
        "a": {"stage": "outputs", "output_data": {"big": large, "list": [large, "small", 1]}},
        "b": {"stage": "outputs", "output_data": {"text": "arcaflow-steps-large-text-0;"}},
    }
    _write_results(data, output_format)
    printed = capsys.readouterr().out
    load = json.loads if output_format == "json" else yaml.safe_load
    assert data == load(printed)
