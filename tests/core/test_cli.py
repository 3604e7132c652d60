"""The CLI in-process with the installed built-in kinds: bad step files, options, formats."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from arcaflow_steps import Lifecycle, LifecycleStage, StepResult
from arcaflow_steps.cli import main
from arcaflow_steps.cli._diagram import lifecycle_mermaid
from arcaflow_steps.cli._run import exit_code

Capture = pytest.CaptureFixture[str]


def run_cli(capsys: Capture, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def step_file(tmp_path: Path, text: str, name: str = "steps.yaml") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            "kind: dummy\nname: [Arca\n",
            "invalid YAML at line 3, column 1: ",  # then libyaml's or PyYAML's wording
            id="invalid-yaml",
        ),
        pytest.param(
            "kind: dummy\nname: a\nname: b\n",
            "invalid YAML at line 3, column 1: duplicate key 'name'",
            id="duplicate-key",
        ),
        pytest.param(
            "kind: dumy\nname: Arca\n",
            "unknown provider kind 'dumy' in step 'steps'; valid kinds: ",
            id="unknown-kind",
        ),
        pytest.param("kind: dummy\n", "missing required field 'name' @ $", id="missing-field"),
        pytest.param(
            "kind: dummy\nname: 5.5\n", "expected a string, got 5.5 @ $.name", id="wrong-type"
        ),
        pytest.param(
            "kind: dummy\nname: Arca\ncolour: blue\n",
            "unknown key 'colour' in step 'steps' of kind 'dummy'; valid keys: ",
            id="extra-key",
        ),
        pytest.param(
            "steps:\n  hello:\n    kind: dummy\n    name: 5.5\n",
            "expected a string, got 5.5 @ $.steps.hello.name",
            id="path-in-steps-map",
        ),
        pytest.param(
            "- kind: dummy\n",
            "expected a step definition or a 'steps:' map, got a list @ $",
            id="not-a-mapping",
        ),
        pytest.param(
            "", "expected a step definition or a 'steps:' map, got nothing @ $", id="empty"
        ),
        pytest.param(
            "steps: {}\n",
            "'steps' must be a non-empty map of step id to step "
            "definition, got an empty map @ $.steps",
            id="empty-steps",
        ),
        pytest.param(
            "steps:\n  a: 1\n",
            "step 'a' must be a mapping, got int @ $.steps.a",
            id="step-not-mapping",
        ),
        pytest.param(
            "steps:\n  a: {kind: dummy, name: x}\nextra: 1\n",
            "unknown top-level key 'extra' beside 'steps' @ $; a step file is one step "
            "definition or a 'steps:' map of them",
            id="top-level-extra",
        ),
    ],
)
def test_bad_step_file_is_one_clear_message(
    capsys: Capture, tmp_path: Path, text: str, message: str
) -> None:
    """Each bad step file gives one message naming file and path, exit 1, no traceback."""
    file = step_file(tmp_path, text)
    code, out, err = run_cli(capsys, "run", file)
    assert (1, "") == (code, out)
    assert err.startswith(f"arcaflow-steps: error: {file}: {message}")
    assert 1 == err.count("\n")


def test_missing_file_is_an_error(capsys: Capture, tmp_path: Path) -> None:
    """A step file that does not exist is one clear error."""
    missing = str(tmp_path / "nope.yaml")
    assert (1, "", f"arcaflow-steps: error: step file {missing!r} does not exist\n") == run_cli(
        capsys, "run", missing
    )


def test_step_ids_must_be_unique_across_files(capsys: Capture, tmp_path: Path) -> None:
    """The same step id in two files is refused, naming both files."""
    first = step_file(tmp_path, "steps:\n  a: {kind: dummy, name: x}\n", "one.yaml")
    second = step_file(tmp_path, "steps:\n  a: {kind: dummy, name: y}\n", "two.yaml")
    code, _, err = run_cli(capsys, "run", first, second)
    assert 1 == code
    assert f"step id 'a' is defined in {first} and in {second}" in err


def test_run_dummy_prints_yaml_result(capsys: Capture, tmp_path: Path) -> None:
    """The README example: a dummy step prints its output id and data as YAML."""
    file = step_file(tmp_path, "kind: dummy\nname: Arca\n", "hello.yaml")
    code, out, err = run_cli(capsys, "run", file)
    assert 0 == code, err
    expected = {
        "hello": {
            "stage": "greet",
            "output_id": "success",
            "output_data": {"message": "Hello Arca!"},
        }
    }
    assert expected == yaml.safe_load(out)


def test_run_reads_stdin(capsys: Capture, monkeypatch: pytest.MonkeyPatch) -> None:
    """``-`` reads one step definition from stdin; its step id is ``step``."""
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO("kind: dummy\nname: In\n"))
    code, out, _ = run_cli(capsys, "run", "-q", "--format", "json", "-")
    assert (0, ["step"]) == (code, list(json.loads(out)))


def test_parallelism_must_be_positive(capsys: Capture, tmp_path: Path) -> None:
    """``--parallelism 0`` is refused with one message."""
    file = step_file(tmp_path, "kind: dummy\nname: x\n")
    code, _, err = run_cli(capsys, "run", "--parallelism", "0", file)
    assert (1, "arcaflow-steps: error: --parallelism must be at least 1, got 0\n") == (code, err)


def test_list_yaml_has_builtin_kinds(capsys: Capture) -> None:
    """``list --format yaml`` names the built-in kinds with their distribution."""
    code, out, _ = run_cli(capsys, "list", "--format", "yaml")
    providers = {entry["kind"]: entry for entry in yaml.safe_load(out)["providers"]}
    assert 0 == code
    assert "arcaflow-steps" == providers["dummy"]["distribution"]


def test_describe_dummy_yaml(capsys: Capture) -> None:
    """``describe dummy --format yaml`` shows keywords and the one-stage lifecycle."""
    code, out, _ = run_cli(capsys, "describe", "dummy", "--format", "yaml")
    data = yaml.safe_load(out)
    assert 0 == code
    assert "dummy" == data["provider_keyword"]
    assert "greet" == data["lifecycle"]["initial_stage"]


def test_help_lists_every_command(capsys: Capture) -> None:
    """``--help`` lists every command of the command table."""
    with pytest.raises(SystemExit) as excinfo:
        main(["--help"])
    out = capsys.readouterr().out
    assert 0 == excinfo.value.code
    for command in ("list", "describe", "check", "schema", "run", "new-provider"):
        assert command in out


def test_unknown_command_is_a_usage_error(capsys: Capture) -> None:
    """An unknown command exits 1 (2 means an error output) with argparse's usage message."""
    with pytest.raises(SystemExit) as excinfo:
        main(["lst"])
    assert 1 == excinfo.value.code
    assert "invalid choice: 'lst'" in capsys.readouterr().err


def test_mermaid_marks_input_only_terminal_and_fatal_stages() -> None:
    """The Mermaid diagram comes from the table: input-only stages get dotted edges."""
    lifecycle = Lifecycle(
        initial_stage="deploy",
        stages=(
            LifecycleStage(id="deploy", next_stages={"outputs", "deploy_failed"}),
            LifecycleStage(id="deploy_failed", fatal=True),
            LifecycleStage(id="outputs"),
            LifecycleStage(id="cancelled", input_only=True, next_stages={"outputs"}),
        ),
    )
    expected = (
        "flowchart TD\n"
        "    start(( ))\n"
        '    s_deploy["deploy"]\n'
        '    s_deploy_failed(["deploy_failed (fatal)"])\n'
        '    s_outputs(["outputs"])\n'
        '    s_cancelled{{"cancelled"}}\n'
        "    start --> s_deploy\n"
        "    s_deploy --> s_deploy_failed\n"
        "    s_deploy --> s_outputs\n"
        "    s_cancelled -.-> s_outputs\n"
    )
    assert expected == lifecycle_mermaid(lifecycle)


def result(
    stage: str, output_id: str | None, *, is_error: bool = False, error: str | None = None
) -> StepResult:
    return StepResult(
        step_id="s",
        stage=stage,
        output_id=output_id,
        output_data={},
        is_error=is_error,
        events=(),
        error=error,
    )


@pytest.mark.parametrize(
    ("results", "expected"),
    [
        pytest.param([result("outputs", "success")], 0, id="ok"),
        pytest.param(
            [result("outputs", "success"), result("outputs", "error", is_error=True)],
            2,
            id="error-output",
        ),
        pytest.param([result("crashed", "error", is_error=True)], 3, id="crashed"),
        pytest.param([result("deploy_failed", "error", is_error=True)], 3, id="fatal"),
        pytest.param(
            [result("outputs", None, is_error=True, error="refused")], 3, id="runner-ended"
        ),
    ],
)
def test_exit_codes(results: list[StepResult], expected: int) -> None:
    """Exit codes follow DESIGN §7: 0 ok, 2 error output, 3 a fatal stage of the step's own
    lifecycle (the plugin's crashed and deploy_failed); no stage is fatal by its name."""
    by_id = {f"s{index}": item for index, item in enumerate(results)}
    fatal = dict.fromkeys(by_id, frozenset({"deploy_failed", "crashed"}))
    assert expected == exit_code(by_id, fatal)


def test_no_stage_is_fatal_by_its_name() -> None:
    """A stage called ``crashed`` that its lifecycle does not mark fatal is an error output (2)."""
    assert 2 == exit_code({"s": result("crashed", "error", is_error=True)}, {"s": frozenset()})


def test_live_progress_shows_a_table_of_steps(capsys: Capture, tmp_path: Path) -> None:
    """``--live`` draws a table of every step's stage and status (final state kept)."""
    file = step_file(
        tmp_path, "steps:\n  one: {kind: dummy, name: A}\n  two: {kind: dummy, name: ' '}\n"
    )
    code, out, err = run_cli(capsys, "run", "--live", file)
    assert 2 == code, err
    rows = [line.split() for line in err.splitlines() if line.startswith(("one", "two"))]
    assert [["one", "greet", "greeted:", "success"], ["two", "greet", "greeted:", "error"]] == (
        rows[-2:]
    )
    assert ["one", "two"] == list(yaml.safe_load(out))


def test_version(capsys: Capture) -> None:
    """``--version`` prints the installed distribution's version."""
    from importlib.metadata import version

    with pytest.raises(SystemExit) as excinfo:
        main(["--version"])
    assert (0, f"arcaflow-steps {version('arcaflow-steps')}\n") == (
        excinfo.value.code,
        capsys.readouterr().out,
    )


def test_plugin_that_cannot_deploy_exits_3(capsys: Capture, tmp_path: Path) -> None:
    """A plugin that fails to deploy while its schema loads is a deploy failure: exit 3."""
    file = step_file(tmp_path, "plugin: {src: 'false', deployment_type: command}\ninput: {}\n")
    code, out, err = run_cli(capsys, "run", file)
    assert (3, "") == (code, out)
    assert err.startswith(f"arcaflow-steps: error: {file}: plugin 'false' did not start: ")


def test_unknown_deployment_type_is_invalid_input(capsys: Capture, tmp_path: Path) -> None:
    """An unknown deployment type is invalid input (exit 1) and lists the valid ones."""
    file = step_file(tmp_path, "plugin: {src: x, deployment_type: nope}\ninput: {}\n")
    code, _, err = run_cli(capsys, "run", file)
    assert 1 == code
    assert "unknown deployment type 'nope'; valid: " in err


def test_describe_table_lists_provider_keyword_fields(capsys: Capture) -> None:
    """``describe`` in table form lists the provider keyword's fields with type and description."""
    code, out, _ = run_cli(capsys, "describe", "dummy")
    rows = [line for line in out.splitlines() if line.startswith("│ greeting")]
    assert 0 == code
    assert 1 == len(rows)
    cells = [cell.strip() for cell in rows[0].strip("│").split("│")]
    assert ["greeting", "string", ""] == cells[:3]  # optional: required column empty
    assert cells[3]  # a description


def test_console_main_exits_with_mains_code(
    tmp_path: Path, capsys: Capture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The console script runs main() and exits with its code, after freezing the collector."""
    import gc
    import sys

    from arcaflow_steps.cli import console_main

    path = step_file(tmp_path, "kind: dummy\nname: Arca\n", "greet.yaml")
    monkeypatch.setattr(sys, "argv", ["arcaflow-steps", "run", "-q", path])
    try:
        with pytest.raises(SystemExit) as exited:
            console_main()
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
    assert exited.value.code == 0
    assert "greet:" in capsys.readouterr().out


def test_describe_shows_run_and_stage_schemas_and_outputs(capsys: Capture) -> None:
    """``describe`` shows the run keyword's and the stages' input schemas (required fields,
    defaults) and every output with its error flag, as CONTRIBUTING promises."""
    code, out, _ = run_cli(capsys, "describe", "dummy", "--format", "yaml")
    data = yaml.safe_load(out)
    assert 0 == code
    assert ('"greet"', False) == (
        data["run_schema"]["step"]["default"],
        data["run_schema"]["step"]["required"],
    )
    greet = data["stage_schemas"]["greet"]
    assert (True, False) == (
        greet["input_schema"]["name"]["required"],
        greet["input_schema"]["nickname"]["required"],
    )
    assert {"success": False, "error": True} == {
        output_id: output["error"] for output_id, output in greet["outputs"].items()
    }
    code, out, _ = run_cli(capsys, "describe", "dummy")
    rows = [[cell.strip() for cell in line.strip("│").split("│")] for line in out.splitlines()]
    assert ["greet", "error", "yes", "error: string"] in rows
    assert ["greet", "name", "string", "yes", "", "Who to greet."] in rows
    assert ["step", "one of greet", "", '"greet"', "What to run; the dummy only greets."] in rows


def test_describe_says_why_schemas_need_a_provider_keyword(capsys: Capture) -> None:
    """A provider that cannot load without its provider keyword says so instead of schemas."""
    code, out, _ = run_cli(capsys, "describe", "plugin", "--format", "json")
    assert 0 == code
    assert (
        "the run keyword's and stages' schemas depend on the provider keyword; without one: "
        "missing required field 'plugin' @ $"
    ) == json.loads(out)["schemas_unavailable"]


@pytest.mark.parametrize(
    "argv",
    [
        ["-p", "no:dummy", "describe", "dummy"],
        ["describe", "dummy", "-p", "no:dummy"],
        ["--disable-plugin", "dummy", "describe", "dummy"],
    ],
    ids=["before-command", "after-command", "long-before-command"],
)
def test_blocking_works_before_and_after_the_command(capsys: Capture, argv: list[str]) -> None:
    """``-p no:NAME`` blocks before the command too (as the README shows); a blocked kind
    says "blocked", not "unknown"."""
    code, out, err = run_cli(capsys, *argv)
    assert (1, "") == (code, out)
    assert (
        "arcaflow-steps: error: provider kind 'dummy' is blocked (ARCAFLOW_STEPS_DISABLE_PLUGINS "
        "or -p no:dummy); valid kinds: 'foreach', 'plugin'\n"
    ) == err


def test_run_of_a_blocked_kind_says_blocked(capsys: Capture, tmp_path: Path) -> None:
    """``run`` of a step whose kind is blocked names the block, not an unknown kind."""
    file = step_file(tmp_path, "kind: dummy\nname: Arca\n", "hello.yaml")
    code, _, err = run_cli(capsys, "-p", "no:dummy", "run", file)
    assert 1 == code
    assert (
        f"arcaflow-steps: error: {file}: provider kind 'dummy' in step 'hello' is blocked "
        "(ARCAFLOW_STEPS_DISABLE_PLUGINS or -p no:dummy); valid kinds: 'foreach', 'plugin'\n"
    ) == err


def test_start_up_objects_are_frozen_only_when_the_command_line_is_the_program(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Right before steps start, ``run`` and ``workflow`` move what start-up made out of the
    collector's reach, but only as the program: a caller of ``main`` keeps its collector."""
    import gc

    from arcaflow_steps import cli
    from arcaflow_steps.cli._common import freeze_start_up_objects

    monkeypatch.setattr(cli, "_as_program", False)
    gc.unfreeze()
    freeze_start_up_objects()
    assert 0 == gc.get_freeze_count()
    monkeypatch.setattr(cli, "_as_program", True)
    try:
        freeze_start_up_objects()
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
