"""The conformance kit passes a correct provider and catches each rule a broken one breaks."""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from pathlib import Path

import pytest
from testing_kit.toy import Flaw, ToyProvider, ToyStage

from arcaflow_steps import testing as kit
from arcaflow_steps.testing import (
    ConformanceCase,
    ConformanceError,
    ProviderConformance,
    RecordingStageChangeHandler,
    RecordKind,
    Rule,
    RunStep,
    StartStep,
    check_conformance,
    check_kind_and_keywords,
    check_lifecycle,
    check_schemas,
    run_case,
)

pytest_plugins = ["pytester"]

# The kit's factory fixtures, used here without registering the plugin run-wide.
start_step = kit.start_step
run_step = kit.run_step

OK = ConformanceCase(
    id="ok",
    definition={"toy": {"delay": 0.0}, "value": 3, "go": True},
    expected_stage="done",
    expected_output_id="success",
    close_timeout=1.0,
)
NEGATIVE = ConformanceCase(
    id="negative",
    definition={"toy": {}, "value": -1, "go": True},
    expected_stage="failed",
    expected_output_id="error",
    close_timeout=1.0,
)
SLOW = ConformanceCase(
    id="slow",
    definition={"toy": {"delay": 30.0}, "value": 1, "go": True},
    expected_stage="closed",
    expected_output_id="result",
    close_after=0.1,
    close_timeout=1.0,
)


class TestToyConformance(ProviderConformance):
    """The whole suite passes for the correct toy provider."""

    @pytest.fixture
    def provider(self) -> ToyProvider:
        return ToyProvider()

    @pytest.fixture
    def conformance_cases(self) -> Sequence[ConformanceCase]:
        return [OK, NEGATIVE, SLOW]


#: flaw -> (the rule it breaks, a regex the message must match, the case that exposes it)
BROKEN = {
    Flaw.BAD_KIND: (
        Rule.KIND_AND_KEYWORDS,
        r"kind 'Toy Steps' is not a valid name; use lowercase \[a-z\]\[a-z0-9_-\]\*",
        OK,
    ),
    Flaw.RUN_KEYWORD_IS_KIND: (
        Rule.KIND_AND_KEYWORDS,
        r"run keyword 'kind' is reserved for the step kind; the provider keyword, the run "
        r"keyword and every stage input field must be distinct and none may be 'kind'",
        OK,
    ),
    Flaw.FIELD_IS_PROVIDER_KEYWORD: (
        Rule.KIND_AND_KEYWORDS,
        r"input field 'toy' of stage 'prepare' is also the provider keyword",
        OK,
    ),
    Flaw.CYCLE: (
        Rule.LIFECYCLE,
        r"provider 'toy' is invalid: lifecycle has a cycle: 'prepare' -> 'work' -> 'prepare'",
        OK,
    ),
    Flaw.TWO_ROOTS: (
        Rule.LIFECYCLE,
        r"stages 'orphan', 'prepare' have no inbound transition",
        OK,
    ),
    # The registry's validate_provider decides this one, so `check` says the same.
    Flaw.PROVIDER_SCHEMA_KEY: (
        Rule.KIND_AND_KEYWORDS,
        r"provider_schema\(\) must map exactly the provider keyword 'toy'",
        OK,
    ),
    Flaw.INPUT_SCHEMA_MISSING: (
        Rule.SCHEMAS,
        r"input schema of stage 'prepare' describes none; expected exactly 'go'",
        OK,
    ),
    Flaw.DANGLING_REF: (
        Rule.SCHEMAS,
        r"output 'success' of stage 'done' is not a valid schema: invalid schema: ref 'Missing' "
        r"does not name an object of the enclosing scope; declared objects: 'Success' @ ",
        OK,
    ),
    Flaw.WRONG_FIRST_STAGE: (
        Rule.INITIAL_STAGE,
        r"step 'ok-\d+' before its first stage: cannot start in stage 'work'; allowed: 'prepare' "
        r"\(record 1\)",
        OK,
    ),
    Flaw.UNDECLARED_TRANSITION: (
        Rule.DECLARED_TRANSITIONS,
        r"step 'ok-\d+' in stage 'prepare': cannot move to stage 'done'; allowed: 'closed', 'work' "
        r"\(record 3\)",
        OK,
    ),
    Flaw.UNDECLARED_OUTPUT: (
        Rule.DECLARED_TRANSITIONS,
        r"in stage 'done': reported undeclared output 'surprise' of stage 'done'; "
        r"allowed: 'success'",
        OK,
    ),
    Flaw.OUTPUT_MISMATCH: (
        Rule.DECLARED_TRANSITIONS,
        r"in stage 'done': reported output 'success' that does not match its schema \(expected an "
        r"integer, got '3!' @ \$\.value\)",
        OK,
    ),
    Flaw.COMPLETES_TWICE: (
        Rule.ONE_TERMINAL_STAGE,
        r"in stage 'done': reported completion after the step completed",
        OK,
    ),
    Flaw.COMPLETES_IN_WORK: (
        Rule.ONE_TERMINAL_STAGE,
        r"in stage 'work': completed in non-terminal stage 'work'; allowed: 'closed', 'done', "
        r"'failed'",
        OK,
    ),
    Flaw.NEVER_COMPLETES: (
        Rule.ONE_TERMINAL_STAGE,
        r"did not reach a terminal stage within 1.0 s; it is in stage 'done'",
        ConformanceCase(id="quick", definition=OK.definition, timeout=1.0, close_timeout=0.5),
    ),
    Flaw.NOT_REPORTED_WAITING: (
        Rule.WAITING_FOR_INPUT,
        r"entered 'prepare' without its input but reported waiting_for_input=False",
        OK,
    ),
    Flaw.STATE_RUNNING_WHILE_BLOCKED: (
        Rule.WAITING_FOR_INPUT,
        r"state\(\) is running while blocked in 'prepare' on its input; expected "
        r"'waiting_for_input'",
        OK,
    ),
    Flaw.IGNORES_INPUT: (
        Rule.WAITING_FOR_INPUT,
        r"(entered 'prepare' without its input but reported waiting_for_input=False"
        r"|moved on from 'prepare')",
        OK,
    ),
    Flaw.CLOSE_RAISES_TWICE: (
        Rule.CLOSE,
        r"close\(\) raised RuntimeError\('already closed'\)",
        OK,
    ),
    Flaw.CLOSE_HANGS: (
        Rule.CLOSE,
        r"close\(\) did not return within 0.5 s \(stage 'work'\)",
        ConformanceCase(
            id="slow",
            definition=SLOW.definition,
            close_after=0.1,
            close_timeout=0.5,
            expected_stage="closed",
        ),
    ),
    Flaw.FORCE_CLOSE_IGNORED: (
        Rule.FORCE_CLOSE,
        r"force_close\(\) returned but the step did not reach a terminal stage within 0.5 s",
        ConformanceCase(id="ok", definition=OK.definition, close_timeout=0.5),
    ),
    Flaw.THREAD_LEFT: (
        Rule.NO_THREAD_LEFT,
        r"1 thread\(s\) started by the step still running 1.0 s after close\(\) returned: "
        r"'toy-slow-\d+'",
        SLOW,
    ),
    Flaw.STALE_STATE: (
        Rule.CONSISTENT_STATE,
        r"inside on_stage_change for stage 'work' the step said current_stage\(\) 'prepare', "
        r"state\(\) 'running'; expected stage 'work' and a state other than 'starting' and "
        r"'finished' \(record 3\)",
        OK,
    ),
    Flaw.CRASHES: (
        Rule.NO_CRASH,
        r"step 'toy' crashed in stage 'work': stage method work\(\) raised KeyError\(\) "
        r"\(record 4\)",
        OK,
    ),
    Flaw.LOAD_RAISES: (
        Rule.CASE,
        r"load_schema\(\) raised RuntimeError\('boom'\); raise an ArcaflowStepsError instead",
        OK,
    ),
    Flaw.REFUSES_INPUT: (
        Rule.CASE,
        r"provide_stage_input\('prepare', \.\.\.\) raised ValueError\('no input for me'\)",
        OK,
    ),
}


def test_every_flaw_is_covered() -> None:
    """Each flaw of the toy provider has an expectation, and every rule is broken by one."""
    assert set(Flaw) - {Flaw.NONE} == set(BROKEN)
    assert set(Rule) == {rule for rule, _, _ in BROKEN.values()}


@pytest.mark.parametrize("flaw", list(BROKEN), ids=[flaw.name.lower() for flaw in BROKEN])
def test_kit_catches_each_broken_rule(flaw: Flaw) -> None:
    """The kit names the broken rule and what happened; runtime rules show the history."""
    rule, message, case = BROKEN[flaw]
    with pytest.raises(ConformanceError, match=message) as excinfo:
        check_conformance(ToyProvider(flaw), [case])
    assert rule in excinfo.value.rules
    assert f"[{rule.value}]" in str(excinfo.value)
    if rule not in {Rule.KIND_AND_KEYWORDS, Rule.LIFECYCLE, Rule.SCHEMAS} and (
        flaw is not Flaw.LOAD_RAISES  # no step ran, so there is no history to show
    ):
        assert "stage history of" in str(excinfo.value)
        assert "(start) -> " in str(excinfo.value)


def test_correct_provider_passes_check_conformance() -> None:
    """check_conformance raises nothing for the correct toy provider."""
    check_conformance(ToyProvider(), [OK, NEGATIVE, SLOW])


def test_error_message_shows_rule_case_and_history() -> None:
    """A runtime violation names provider, case, rule and prints the numbered history."""
    outcome = run_case(ToyProvider(Flaw.UNDECLARED_TRANSITION), OK)
    with pytest.raises(ConformanceError) as excinfo:
        outcome.assert_conforms()
    lines = str(excinfo.value).splitlines()
    assert lines[0] == "provider 'toy' in case 'ok' breaks 2 rules:"
    assert re.fullmatch(
        r"  \[only declared transitions and outputs\] step 'ok-\d+' in stage 'prepare': cannot "
        r"move to stage 'done'; allowed: 'closed', 'work' \(record 3\)",
        lines[1],
    )
    del lines[1:3]  # the refused completion that follows is the second rule broken
    assert lines[1].startswith("stage history of 'ok-")
    assert "1. +" in lines[2]
    assert "(start) -> 'prepare'" in lines[2]
    assert "test: provide_stage_input('prepare', {'go': True})" in str(excinfo.value)
    assert "'prepare' -> 'done'" in str(excinfo.value)
    assert "completed in 'done' with output 'success': {'value': 3}" in str(excinfo.value)


def test_case_with_unknown_key_is_refused_with_valid_keys() -> None:
    """A case whose definition has a key the provider does not know lists the valid keys."""
    case = ConformanceCase(id="typo", definition={"toy": {}, "valeu": 1, "go": True})
    with pytest.raises(
        ConformanceError, match="unknown key 'valeu'; valid keys: 'go', 'toy', 'value'"
    ):
        check_schemas(ToyProvider(), [case])


def test_case_with_invalid_stage_input_names_the_path() -> None:
    """A case whose stage input does not validate shows the validation problem with its path."""
    case = ConformanceCase(id="bad-go", definition={"toy": {}, "value": 1, "go": "maybe"})
    with pytest.raises(
        ConformanceError, match=r"stage input of 'prepare' is invalid: .*\$\.prepare\.go"
    ):
        check_schemas(ToyProvider(), [case])


def test_declaration_checks_pass_for_correct_provider() -> None:
    """Kind, keyword and lifecycle checks accept the correct provider."""
    check_kind_and_keywords(ToyProvider())
    check_lifecycle(ToyProvider())


def test_outcome_assert_success_and_error(run_step: RunStep) -> None:
    """run_step returns outcomes whose helpers tell success from error outputs."""
    good = run_step(ToyProvider(), {"toy": {}, "value": 7, "go": True})
    good.assert_success("success")
    good.assert_output("success", stage="done", data={"value": 7})
    assert good.stages_entered == ("prepare", "work", "done")
    bad = run_step(ToyProvider(), {"toy": {}, "value": -2, "go": True})
    bad.assert_error("error")
    with pytest.raises(ConformanceError, match="expected a successful output, got 'error'"):
        bad.assert_success()


def test_start_step_gives_input_after_start(start_step: StartStep) -> None:
    """start_step can hold a stage's input back and provide it once the step waits for it."""
    step = start_step(ToyProvider(), {"toy": {}, "value": 1, "go": True}, withhold=["prepare"])
    assert step.wait_for_stage("prepare")
    assert step.handler.wait_for(lambda: step.running.state().value == "waiting_for_input", 2)
    step.provide_stage_input("prepare")
    step.wait().assert_success("success")


def test_recording_handler_without_lifecycle_only_records() -> None:
    """Without a lifecycle the recording handler records anything and finds no violation."""
    handler = RecordingStageChangeHandler()
    step = ToyProvider().load_schema({"toy": {}}).start({"value": 1}, handler, "r")
    step.provide_stage_input(ToyStage.PREPARE, {"go": True})
    assert handler.wait_for_completion(5)
    step.close()
    assert handler.violations() == ()
    kinds = [record.kind for record in handler.records()]
    assert kinds == [RecordKind.STAGE_CHANGE] * 3 + [RecordKind.COMPLETE]
    assert handler.stages_entered() == ("prepare", "work", "done")


def test_recording_handler_accepts_callbacks_from_many_threads() -> None:
    """Callbacks from several threads at once are all recorded with distinct sequence numbers."""
    handler = RecordingStageChangeHandler()

    def report(number: int) -> None:
        for _ in range(50):
            handler.on_stage_failure(None, f"s{number}", None)  # type: ignore[arg-type]

    threads = [threading.Thread(target=report, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert list(range(1, 201)) == [record.sequence for record in handler.records()]


def test_suite_reports_the_broken_rule_through_pytest(pytester: pytest.Pytester) -> None:
    """An author's suite subclass fails exactly the test of the broken rule, with its history."""
    pytester.makepyfile(
        """
        import pytest
        from arcaflow_steps.testing import ConformanceCase, ProviderConformance
        from testing_kit.toy import Flaw, ToyProvider

        pytest_plugins = ["arcaflow_steps.testing"]

        class TestBrokenToy(ProviderConformance):
            @pytest.fixture
            def provider(self):
                return ToyProvider(Flaw.STATE_RUNNING_WHILE_BLOCKED)

            @pytest.fixture
            def conformance_cases(self):
                return [ConformanceCase(
                    id="ok", definition={"toy": {}, "value": 1, "go": True}, close_timeout=1.0
                )]
        """
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=12, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*FAILED*test_reports_waiting_for_input_while_blocked*",
        ]
    )
    assert "stage history of 'ok-" in result.stdout.str()
    assert "withholding the input of 'prepare'" in result.stdout.str()


def test_kit_exports_are_sorted_and_complete() -> None:
    """`arcaflow_steps.testing.__all__` is sorted and lists every public name."""
    public = {
        name
        for name in vars(kit)
        if not name.startswith("_") and not isinstance(getattr(kit, name), type(kit))
    }
    public -= {"annotations"}
    assert sorted(kit.__all__) == kit.__all__
    assert set(kit.__all__) == public


def test_kit_never_imports_pytest_internals() -> None:
    """The kit imports only pytest's public API (no `_pytest`), as a plugin for outsiders must."""
    sources = (Path(kit.__file__).parent).glob("*.py")
    offenders = [path.name for path in sources if "_pytest" in path.read_text()]
    assert offenders == []


def test_kit_is_opt_in_and_sets_nothing_up_unasked(pytester: pytest.Pytester) -> None:
    """Without opting in its fixtures are unknown; opted in, a test that asks for none gets none."""
    pytester.makepyfile(
        """
        def test_plain():
            assert True

        def test_wants_kit(run_step):
            assert run_step is not None
        """
    )
    without = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    without.assert_outcomes(passed=1, errors=1)
    without.stdout.fnmatch_lines(["*fixture 'run_step' not found*"])
    with_kit = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-p", "arcaflow_steps.testing", "--setup-show", "-k", "plain"
    )
    with_kit.assert_outcomes(passed=1, deselected=1)
    assert "start_step" not in with_kit.stdout.str()
    assert "run_step" not in with_kit.stdout.str()
