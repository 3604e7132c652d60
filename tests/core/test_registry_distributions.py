"""The registry against real distributions installed into a fresh venv (tests/distributions/).

Every test runs the ``arcaflow-steps`` console script of that venv as a subprocess, so entry
points come from real ``.dist-info`` metadata, as they do for users.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from distributions._venv import TestVenv, shared_venv

LIST_IMPORT_PROBE = """
import json, sys
from arcaflow_steps.cli import main
before = set(sys.modules)
code = main(["list", "--format", "json"])
sys.stdout.flush()
print("\\nIMPORTED=" + json.dumps(sorted(set(sys.modules) - before)), file=sys.stderr)
sys.exit(code)
"""


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> TestVenv:
    """A venv with every test distribution installed."""
    return shared_venv(tmp_path_factory.getbasetemp())


def list_json(venv: TestVenv, *args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    result = venv.run_cli("list", "--format", "json", *args, env=env)
    assert (0, "") == (result.returncode, result.stderr)
    data: dict[str, Any] = json.loads(result.stdout)
    return data


_CHECKED: dict[Path, dict[str, dict[str, Any]]] = {}


def check_failures(venv: TestVenv) -> dict[str, dict[str, Any]]:
    """Return ``check --format json`` failures by kind (run once per venv)."""
    if venv.path not in _CHECKED:
        result = venv.run_cli("check", "--format", "json")
        assert 1 == result.returncode, result.stderr
        data = json.loads(result.stdout)
        _CHECKED[venv.path] = {
            failure.get("kind")
            or failure.get("deployer")
            or next(
                f"{key} {failure[key]}" for key in ("warm-up", "seed preparation") if key in failure
            ): failure
            for failure in data["failures"]
        }
    return _CHECKED[venv.path]


def test_list_shows_installed_distribution_with_version(venv: TestVenv) -> None:
    """A provider installed as a real distribution is listed with distribution and version."""
    providers = {entry["kind"]: entry for entry in list_json(venv)["providers"]}
    expected = {
        "kind": "echo",
        "distribution": "arcaflow-test-good-steps",
        "version": "1.2.0",
        "entry_point": "echo",
        "module": "good_steps",
    }
    assert expected == providers["echo"]
    assert "arcaflow-steps" == providers["plugin"]["distribution"]


def test_list_is_sorted_by_kind(venv: TestVenv) -> None:
    """Kinds are listed in sorted order, never in install order."""
    kinds = [entry["kind"] for entry in list_json(venv)["providers"]]
    assert sorted(kinds) == kinds


def test_list_imports_no_provider_module(venv: TestVenv) -> None:
    """``list`` reads metadata only: imports no provider module, nor rich, yaml, pluggy, attrs."""
    # With 'shell' (declared twice) blocked there is no problem to explain, so not even the
    # error classes (and attrs) load.
    result = venv.run_python(LIST_IMPORT_PROBE, env={"ARCAFLOW_STEPS_DISABLE_PLUGINS": "shell"})
    assert 0 == result.returncode, result.stderr
    imported = json.loads(result.stderr.rsplit("IMPORTED=", 1)[1])
    providers = {"good_steps", "broken_steps", "clash_steps", "badlife_steps", "acme_steps"}
    heavy = {"rich", "yaml", "cattrs", "pluggy", "attr", "attrs", "arcaflow_steps_builtin"}
    assert set() == {name.split(".")[0] for name in imported} & (providers | heavy)
    assert [
        "arcaflow_steps._blocked_names",
        "arcaflow_steps._entry_points",
        "arcaflow_steps.cli._common",
    ] == sorted(
        name for name in imported if name.startswith("arcaflow_steps.") and "_inspect" not in name
    )
    assert "echo" in {entry["kind"] for entry in json.loads(result.stdout)["providers"]}


def test_list_shows_duplicate_kind_conflict(venv: TestVenv) -> None:
    """Two distributions providing one kind: ``list`` reports the conflict from metadata."""
    data = list_json(venv)
    assert "shell" not in {entry["kind"] for entry in data["providers"]}
    expected = {
        "kind": "shell",
        "distributions": ["acme-steps 1.2", "shell-steps 0.3"],
        "entry_points": ["shell", "shell"],
        "error": "kind 'shell' is provided 2 times: by acme-steps 1.2 (entry point 'shell') "
        "and by shell-steps 0.3 (entry point 'shell')",
    }
    assert [expected] == data["failures"]


def test_list_table_shows_conflict(venv: TestVenv) -> None:
    """The table form of ``list`` marks both rows of a conflicting kind and explains it."""
    result = venv.run_cli("list")
    assert 0 == result.returncode, result.stderr
    rows = [line for line in result.stdout.splitlines() if line.startswith("│ shell ")]
    assert 2 == len(rows)
    assert all("conflict" in row for row in rows)
    assert "kind 'shell' is provided 2 times: by acme-steps 1.2" in result.stdout


def test_check_names_both_distributions_of_duplicate_kind(venv: TestVenv) -> None:
    """``check`` exits non-zero and names both distributions and entry points of a duplicate."""
    failure = check_failures(venv)["shell"]
    assert ["acme-steps 1.2", "shell-steps 0.3"] == failure["distributions"]
    assert (
        "kind 'shell' is provided 2 times: by acme-steps 1.2 (entry point 'shell') and by "
        "shell-steps 0.3 (entry point 'shell')"
    ) == failure["error"]


def test_check_reports_import_failure_with_cause(venv: TestVenv) -> None:
    """A module raising at import is a check failure naming distribution, entry point, cause."""
    failure = check_failures(venv)["broken"]
    assert (
        "provider for kind 'broken' from broken-steps 0.1 (entry point 'broken') failed to "
        "load: importing 'broken_steps' raised RuntimeError: broken_steps cannot be imported "
        "(on purpose)"
    ) == failure["error"]


def test_check_table_lists_every_failure(venv: TestVenv) -> None:
    """``check`` in table form prints each failure on its own line and exits 1."""
    result = venv.run_cli("check")
    assert 1 == result.returncode
    failed = [line for line in result.stdout.splitlines() if line.startswith("FAILED")]
    assert len(check_failures(venv)) == len(failed)
    assert "ok      kind 'echo'" in result.stdout


def test_check_reports_warm_ups_run_would_skip(venv: TestVenv) -> None:
    """A warm-up whose module fails to import, and one for a kind its distribution does not
    provide, are check failures; a good one is listed as ok."""
    failures = check_failures(venv)
    assert (
        "warm-up for kind 'broken' from broken-steps 0.1 (entry point 'broken') cannot be "
        "loaded: RuntimeError: broken_steps cannot be imported (on purpose)"
    ) == failures["warm-up broken"]["error"]
    assert failures["warm-up dummy"]["error"].startswith(
        "warm-up for kind 'dummy' from broken-steps 0.1 (entry point 'dummy') never called: the "
        "kind 'dummy' is provided by arcaflow-steps,"
    )
    assert ["broken-steps 0.1"] == failures["warm-up dummy"]["distributions"]
    result = venv.run_cli("check", "--format", "json")
    assert "echo" in json.loads(result.stdout)["warm_ups"]


def test_check_reports_seed_preparations_the_seed_would_skip(venv: TestVenv) -> None:
    """A start-up seed preparation whose module fails to import is a check failure; a good one
    is listed as ok."""
    failure = check_failures(venv)["seed preparation broken"]
    assert (
        "start-up seed preparation 'broken' from broken-steps 0.1 (entry point 'broken') cannot "
        "be loaded: RuntimeError: broken_steps cannot be imported (on purpose) (the seed skips it)"
    ) == failure["error"]
    assert ["broken-steps 0.1"] == failure["distributions"]
    result = venv.run_cli("check", "--format", "json")
    assert {"echo", "plugin"} <= set(json.loads(result.stdout)["seed_preparations"])


def test_run_calls_the_warm_up_first_and_closes_it_last(venv: TestVenv, tmp_path: Path) -> None:
    """``run`` hands the kind's warm-up every definition of that kind and closes what it
    returned after the steps ended."""
    steps = tmp_path / "steps.yaml"
    steps.write_text(
        "steps:\n"
        "  a: {kind: echo, echo: {prefix: ''}, input: {message: one}}\n"
        "  b: {kind: echo, echo: {prefix: '> '}, input: {message: two}}\n"
    )
    log = tmp_path / "warm-up.log"
    events = tmp_path / "events.log"
    result = venv.run_cli(
        "run",
        "-q",
        str(steps),
        env={"GOOD_STEPS_WARM_UP_LOG": str(log), "GOOD_STEPS_EVENT_LOG": str(events)},
    )
    assert 0 == result.returncode, result.stderr
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert [
        [
            "warm-up",
            [
                {"kind": "echo", "echo": {"prefix": ""}, "input": {"message": "one"}},
                {"kind": "echo", "echo": {"prefix": "> "}, "input": {"message": "two"}},
            ],
        ],
        ["closed"],
    ] == records
    assert events.read_text()  # the steps really ran between the two


@pytest.mark.parametrize(
    ("args", "env", "prepared"),
    [
        # The built-in 'plugin' preparation (importing the plugin SDK) is blocked in each
        # case: it runs first, and would otherwise take longer than this run's seed lives.
        ((), {"ARCAFLOW_STEPS_DISABLE_PLUGINS": "plugin"}, True),
        ((), {"ARCAFLOW_STEPS_DISABLE_PLUGINS": "plugin,echo"}, False),
        (("-p", "no:echo"), {}, False),
        (("run", "--disable-plugin=echo"), {}, False),
        # The options are not parsed when the seed is planted: any blocking option, even of
        # another name, means no preparation at all (the seed is still claimed as usual).
        (("-p", "no:plugin"), {}, False),
    ],
    ids=["echo-not-blocked", "environment", "option-first", "option-after-command", "other-name"],
)
def test_the_start_up_seed_runs_no_blocked_preparation(
    venv: TestVenv, tmp_path: Path, args: tuple[str, ...], env: dict[str, str], prepared: bool
) -> None:
    """A distribution blocked by name does not run its ``arcaflow.start_seed`` preparation in
    the seed either."""
    steps = tmp_path / "steps.yaml"
    steps.write_text("steps:\n  a: {kind: echo, echo: {prefix: ''}, input: {message: one}}\n")
    log = tmp_path / "seed.log"
    command = list(args) if args[:1] == ("run",) else [*args, "run"]
    result = venv.run_cli(*command, "-q", str(steps), env={"GOOD_STEPS_SEED_LOG": str(log), **env})
    echo_blocked = "echo" in " ".join([*args, *env.values()])
    assert (result.returncode != 0) == echo_blocked, result.stderr
    records = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    assert prepared == bool(records), records
    assert all(record[0] == "seed prepared" for record in records)


def test_broken_kind_does_not_affect_others(venv: TestVenv) -> None:
    """With a broken distribution installed, other kinds still describe and run."""
    result = venv.run_cli("describe", "echo", "--format", "json")
    assert 0 == result.returncode, result.stderr
    assert "echo" == json.loads(result.stdout)["kind"]


def test_running_broken_kind_names_its_distribution(venv: TestVenv) -> None:
    """Describing the broken kind fails with one message naming its distribution, exit 1."""
    result = venv.run_cli("describe", "broken")
    assert (1, "") == (result.returncode, result.stdout)
    assert (
        "arcaflow-steps: error: provider for kind 'broken' from broken-steps 0.1 (entry point "
        "'broken') failed to load: importing 'broken_steps' raised RuntimeError: broken_steps "
        "cannot be imported (on purpose)\n"
    ) == result.stderr


KEYWORD_RULE = (
    "the provider keyword, the run keyword and every stage input field must be distinct and "
    "none may be 'kind'"
)


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        pytest.param(
            "clash-run", f"run keyword 'cfg' is also the provider keyword; {KEYWORD_RULE}", id="run"
        ),
        pytest.param(
            "clash-kind",
            f"input field 'kind' of stage 'starting' is reserved for the step kind; {KEYWORD_RULE}",
            id="kind",
        ),
        pytest.param(
            "clash-field",
            f"input field 'step' of stage 'starting' is also the run keyword; {KEYWORD_RULE}",
            id="field-run",
        ),
        pytest.param(
            "clash-stages",
            "input field 'input' of stage 'starting' is also the input field of stage "
            f"'outputs'; {KEYWORD_RULE}",
            id="field-twice",
        ),
        pytest.param(
            "cycle",
            "lifecycle has a cycle: 'check' -> 'work' -> 'check'; a lifecycle must be a "
            "directed acyclic graph",
            id="cycle",
        ),
        pytest.param(
            "unknown-next",
            "stage 'work' names unknown next stage 'finish'; declared stages: 'done', 'start', "
            "'work'",
            id="unknown-next",
        ),
        pytest.param(
            "two-initial",
            "stages 'other', 'start' have no inbound transition; exactly one is allowed, the "
            "initial stage 'start'; unreachable from it: 'other'",
            id="two-initial",
        ),
        pytest.param(
            "unreachable",
            "stages 'orphan', 'start' have no inbound transition; exactly one is allowed, the "
            "initial stage 'start'; unreachable from it: 'lost', 'orphan'",
            id="unreachable",
        ),
    ],
)
def test_invalid_provider_is_refused(venv: TestVenv, kind: str, reason: str) -> None:
    """Colliding keywords and broken lifecycles are refused naming provider, keyword/stage, rule."""
    distribution = "badlife-steps 0.1" if kind[:5] != "clash" else "clash-steps 0.2"
    expected = (
        f"provider for kind {kind!r} from {distribution} (entry point {kind!r}) failed to load: "
        f"provider {kind!r} is invalid: {reason}"
    )
    assert expected == check_failures(venv)[kind]["error"]
    result = venv.run_cli("describe", kind)
    assert (1, f"arcaflow-steps: error: {expected}\n") == (result.returncode, result.stderr)


def test_entry_point_must_provide_its_kind(venv: TestVenv) -> None:
    """An entry point whose module does not provide that kind is refused, listing what it does."""
    assert (
        "provider for kind 'ghost' from clash-steps 0.2 (entry point 'ghost') failed to load: "
        "module 'clash_steps' does not provide kind 'ghost'; its arcaflow_steps_providers hook "
        "returned kinds: 'clash-field', 'clash-kind', 'clash-run', 'clash-stages'"
    ) == check_failures(venv)["ghost"]["error"]


def test_misspelled_hook_is_refused(venv: TestVenv) -> None:
    """A module with a misspelled hook fails pluggy's check_pending, listing the valid hooks."""
    error = check_failures(venv)["typo"]["error"]
    assert error.startswith(
        "provider for kind 'typo' from typo-steps 0.1 (entry point 'typo') failed to load: its "
        "hooks do not match arcaflow_steps.hookspecs: unknown hook 'arcaflow_steps_provider'"
    )
    assert error.endswith(
        "valid hooks: 'arcaflow_steps_providers', 'arcaflow_steps_stage_changed', "
        "'arcaflow_steps_step_completed'"
    )


def test_unknown_kind_lists_valid_kinds(venv: TestVenv) -> None:
    """An unknown kind is one error listing the valid kinds, exit 1, no traceback."""
    result = venv.run_cli("describe", "ech")
    assert 1 == result.returncode
    assert result.stderr.startswith("arcaflow-steps: error: unknown provider kind 'ech'; valid ")
    assert "'echo'" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("args", "env"),
    [
        pytest.param(("-p", "no:shell"), None, id="cli-p"),
        pytest.param(("--disable-plugin", "shell,broken"), None, id="cli-long"),
        pytest.param((), {"ARCAFLOW_STEPS_DISABLE_PLUGINS": "broken, shell"}, id="env"),
    ],
)
def test_blocked_entry_points_are_not_loaded(
    venv: TestVenv, args: tuple[str, ...], env: dict[str, str] | None
) -> None:
    """Entry points blocked by name (option or environment) are neither listed nor in conflict."""
    data = list_json(venv, *args, env=env)
    assert [] == data["failures"]
    assert "shell" in data["blocked"]
    assert "shell" not in {entry["kind"] for entry in data["providers"]}


def test_bad_plugin_option_is_an_error(venv: TestVenv) -> None:
    """``-p`` without ``no:`` is one clear error."""
    result = venv.run_cli("list", "-p", "shell")
    assert (
        1,
        "arcaflow-steps: error: -p takes 'no:NAME' to block the entry point NAME, got 'shell'\n",
    ) == (result.returncode, result.stderr)


def test_describe_json_has_keywords_and_lifecycle(venv: TestVenv) -> None:
    """``describe --format json`` has provider keyword, run keyword and stages with next stages."""
    result = venv.run_cli("describe", "echo", "--format", "json")
    data = json.loads(result.stdout)
    assert ("echo", "mode") == (data["provider_keyword"], data["run_keyword"])
    assert ("arcaflow-test-good-steps", "1.2.0") == (data["distribution"], data["version"])
    stages = {stage["id"]: stage for stage in data["lifecycle"]["stages"]}
    assert "starting" == data["lifecycle"]["initial_stage"]
    assert ["closed", "outputs"] == stages["starting"]["next_stages"]
    assert ["input"] == stages["starting"]["input_fields"]
    assert (True, True) == (stages["closed"]["terminal"], stages["closed"]["fatal"])


def test_describe_table_shows_mermaid_lifecycle(venv: TestVenv) -> None:
    """``describe`` in table form shows the lifecycle as a Mermaid diagram from the table."""
    result = venv.run_cli("describe", "echo")
    assert 0 == result.returncode, result.stderr
    diagram = result.stdout.split("```mermaid\n", 1)[1].split("```", 1)[0]
    expected = (
        "flowchart TD\n"
        "    start(( ))\n"
        '    s_starting["starting"]\n'
        '    s_outputs(["outputs"])\n'
        '    s_closed(["closed (fatal)"])\n'
        "    start --> s_starting\n"
        "    s_starting --> s_closed\n"
        "    s_starting --> s_outputs\n"
    )
    assert expected == diagram


def test_describe_plugin_shows_deployers_per_type(venv: TestVenv) -> None:
    """``describe plugin`` lists deployers per deployment type, including installed ones."""
    result = venv.run_cli("describe", "plugin", "--format", "json")
    assert 0 == result.returncode, result.stderr
    deployers = json.loads(result.stdout)["deployers"]
    assert [{"deployer_name": "fake", "default": True}] == deployers["fake"]
    assert "python" in {entry["deployer_name"] for entry in deployers["python"]}


def test_schema_has_a_typed_branch_per_kind(venv: TestVenv, tmp_path: Path) -> None:
    """``schema`` writes a JSON Schema with one ``if kind then`` branch per kind that loads,
    and warns on stderr about each kind it leaves out."""
    out = tmp_path / "steps.schema.json"
    result = venv.run_cli("schema", "--output", str(out))
    assert 0 == result.returncode, result.stderr
    document = json.loads(out.read_text())
    kinds = document["$defs"]["step"]["properties"]["kind"]["enum"]
    assert {"echo", "plugin", "dummy"} <= set(kinds)
    assert "broken" not in kinds
    assert {"then": {"$ref": "#/$defs/kind.echo"}} == {
        "then": document["$defs"]["step"]["allOf"][kinds.index("echo")]["then"]
    }
    echo = document["$defs"]["kind.echo"]
    assert ["kind", "echo"] == echo["required"]
    assert {"kind", "echo", "mode", "input"} == set(echo["properties"])
    assert False is echo["additionalProperties"]
    assert (
        "arcaflow-steps: warning: kind 'broken' left out of the schema: provider for kind "
        "'broken' from broken-steps 0.1 (entry point 'broken') failed to load: importing "
        "'broken_steps' raised RuntimeError: broken_steps cannot be imported (on purpose)"
    ) in result.stderr.splitlines()


def test_check_refuses_deployer_name_twice_per_type(venv: TestVenv) -> None:
    """A deployer name offered twice for one deployment type is refused, naming both."""
    failure = check_failures(venv)["twin"]
    assert ["twin-a 1.0", "twin-b 2.0"] == failure["distributions"]
    assert (
        "deployer 'twin' of deployment type 'twin' is provided 2 times: by twin-a 1.0 (entry "
        "point 'twin') and by twin-b 2.0 (entry point 'twin'); neither is used"
    ) == failure["error"]


def test_deployer_entry_point_must_provide_its_name(venv: TestVenv) -> None:
    """A deployer entry point whose module does not offer that deployer name is refused."""
    assert (
        "deployer 'ghostly' from twin-a 1.0 (entry point 'ghostly') failed to load: module "
        "'twin_a' does not provide deployer 'ghostly'; its arcaflow_steps_deployers hook returned "
        "deployers: 'twin'"
    ) == check_failures(venv)["ghostly"]["error"]


def test_list_shows_deployers_from_metadata(venv: TestVenv) -> None:
    """``list`` names deployer entry points with their distributions, without importing them."""
    deployers = {
        (entry["deployer"], entry["distribution"]) for entry in list_json(venv)["deployers"]
    }
    assert {("fake", "arcaflow-test-good-steps"), ("twin", "twin-a"), ("twin", "twin-b")} <= (
        deployers
    )
