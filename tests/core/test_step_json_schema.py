"""``arcaflow-steps schema``: typed per kind, so editors report the real problem of a file."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
import yaml
from jsonschema.exceptions import best_match

from arcaflow_steps import ArcaflowStepsError, Registry, prepare_step

GOOD = {
    "dummy-minimal": "kind: dummy\nname: Arca\n",
    "dummy-full": "kind: dummy\ndummy: {greeting: Hi}\nstep: greet\nname: Arca\nnickname: A\n",
    "steps-map": "steps:\n  a: {kind: dummy, name: A}\n  b: {kind: dummy, name: B}\n",
    "plugin-default-kind": "plugin: {src: x, deployment_type: python}\ninput: {any: 1}\n",
    "plugin-explicit": (
        "kind: plugin\nplugin: {src: x, deployment_type: image}\nstep: hello\nenabled: true\n"
    ),
}

#: file -> the message an editor shows (jsonschema's best match), naming the real problem.
BAD = {
    "name-not-a-string": ("kind: dummy\nname: 5.5\n", "5.5 is not of type 'string'"),
    "name-missing": ("kind: dummy\n", "'name' is a required property"),
    "nickname-too-short": ("kind: dummy\nname: A\nnickname: ''\n", "'' should be non-empty"),
    "unknown-step": (
        "kind: dummy\nname: A\nstep: wave\n",
        "'wave' is not one of ['greet']",
    ),
    "config-wrong-type": (
        "kind: dummy\nname: A\ndummy: {greeting: [1]}\n",
        "[1] is not of type 'string'",
    ),
    "config-unknown-field": (
        "kind: dummy\nname: A\ndummy: {greting: Hi}\n",
        "Unevaluated properties are not allowed ('greting' was unexpected)",
    ),
    "unknown-key": (
        "kind: dummy\nname: A\nnmae: B\n",
        "Additional properties are not allowed ('nmae' was unexpected)",
    ),
    "unknown-kind": (
        "kind: dumy\nname: A\n",
        "'dumy' is not one of ['dummy', 'foreach', 'plugin']",
    ),
    "map-member-bad": (
        "steps:\n  a: {kind: dummy, name: [x]}\n",
        "['x'] is not of type 'string'",
    ),
    "plugin-without-plugin": ("step: hello\n", "'plugin' is a required property"),
    "plugin-src-not-a-string": (
        "plugin: {src: 1, deployment_type: python}\n",
        "1 is not of type 'string'",
    ),
}


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry.from_entry_points(environ={})


@pytest.fixture(scope="module")
def validator(registry: Registry) -> jsonschema.Draft202012Validator:
    schema = registry.step_definition_json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.mark.parametrize("text", GOOD.values(), ids=GOOD.keys())
def test_good_files_validate(validator: jsonschema.Draft202012Validator, text: str) -> None:
    """Every good step file is valid for the schema."""
    assert [] == [error.message for error in validator.iter_errors(yaml.safe_load(text))]


@pytest.mark.parametrize(("text", "message"), BAD.values(), ids=BAD.keys())
def test_bad_files_are_refused_with_the_real_problem(
    validator: jsonschema.Draft202012Validator, text: str, message: str
) -> None:
    """Every bad step file is refused, and the editor's message names its real problem."""
    error = best_match(validator.iter_errors(yaml.safe_load(text)))
    assert error is not None
    assert message == error.message


@pytest.mark.parametrize(
    ("text", "_"), [value for key, value in BAD.items() if "dummy" in value[0]]
)
def test_run_refuses_what_the_schema_refuses(registry: Registry, text: str, _: str) -> None:
    """``run`` (prepare_step) refuses the same dummy files the schema refuses.

    (The schema also flags values validation converts, e.g. ``name: 5``: see its docstring.)
    """
    with pytest.raises(ArcaflowStepsError):
        prepare_all(registry, yaml.safe_load(text))


def prepare_all(registry: Registry, data: Any) -> None:
    for step_id, definition in data.get("steps", {"s": data}).items():
        prepare_step(registry, step_id, definition)


def test_schema_warns_only_about_kinds_it_leaves_out(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With every kind loading, schema writes no warning (the distributions test has one)."""
    from arcaflow_steps.cli import main

    monkeypatch.setenv("ARCAFLOW_STEPS_DISABLE_PLUGINS", "")
    assert 0 == main(["schema"])
    out, err = capsys.readouterr()
    assert "" == err
    assert '"kind.dummy"' in out
