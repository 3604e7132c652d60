"""How `arcaflow-steps run` prints results: large strings are streamed, the YAML stays valid."""

from __future__ import annotations

import json

import pytest
import yaml

from arcaflow_steps._yaml12 import DataBuilder, compose_yaml
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


def test_strings_yaml_1_2_would_misread_are_quoted(capsys: pytest.CaptureFixture[str]) -> None:
    """A string that YAML 1.1 or YAML 1.2 reads as another type is printed quoted, so both
    readers (PyYAML's ``safe_load``, our step files, the Go engine) get the string back."""
    strings = ["1e3", "1E-5", "0o17", "0x1F", "+1", "1.", ".5", "yes", "on", "1:30", "Null", "~"]
    data = {"a": {"stage": "outputs", "output_data": {"strings": strings, "int": 16}}}
    _write_results(data, "yaml")
    printed = capsys.readouterr().out
    assert data == yaml.safe_load(printed)
    assert data == DataBuilder().build(compose_yaml(printed), ())
