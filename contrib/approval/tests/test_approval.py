"""The approval gate obeys the kit and takes its decision from input, a file or the terminal."""

from __future__ import annotations

import getpass
import os
import time
from collections.abc import Sequence
from pathlib import Path

import pytest
from arcaflow_steps_approval import ApprovalProvider, parse_answer

from arcaflow_steps import RunningStepState, StageInputError
from arcaflow_steps.testing import ConformanceCase, ProviderConformance, RunStep, StartStep


class TestApprovalConformance(ProviderConformance):
    """The approval provider passes the whole conformance kit."""

    @pytest.fixture
    def provider(self) -> ApprovalProvider:
        return ApprovalProvider()

    @pytest.fixture
    def conformance_cases(self) -> Sequence[ConformanceCase]:
        return [
            ConformanceCase(
                id="approved",
                definition={"question": "ship?", "decision": {"approved": True, "by": "ci"}},
                expected_stage="approved",
                expected_output_id="approved",
            ),
            ConformanceCase(
                id="rejected",
                definition={"question": "ship?", "decision": {"approved": False}},
                expected_stage="rejected",
                expected_output_id="rejected",
            ),
            ConformanceCase(
                id="expired",
                definition={"question": "ship?", "approval": {"deadline": 0.2}},
                expected_stage="expired",
                expected_output_id="expired",
            ),
            ConformanceCase(
                id="nobody-answers",
                definition={"question": "ship?"},
                expected_stage="closed",
                expected_output_id="closed",
                close_after=0.2,
            ),
        ]


def test_decision_provided_after_the_step_started(start_step: StartStep) -> None:
    """A decision given while the gate waits (incremental stage input) opens it."""
    step = start_step(ApprovalProvider(), {"question": "ship 1.4?"})
    assert step.wait_for_stage("decide")
    assert step.handler.wait_for(
        lambda: step.running.state() is RunningStepState.WAITING_FOR_INPUT, 2
    )
    step.provide_stage_input(
        "decide", {"decision": {"approved": True, "by": "alice", "comment": "fine"}}
    )
    outcome = step.wait()
    outcome.assert_output(
        "approved",
        stage="approved",
        data={"by": "alice", "comment": "fine", "source": "input"},
    )
    assert outcome.stages_entered == ("ask", "decide", "approved")


def test_late_decision_wakes_the_gate_at_once(start_step: StartStep) -> None:
    """Stage input wakes the waiting gate at once, not at its next poll (no sleep-polling)."""
    step = start_step(
        ApprovalProvider(),
        {"question": "ship?", "approval": {"poll_interval": 30.0, "deadline": 60.0}},
    )
    assert step.wait_for_stage("decide")
    assert step.handler.wait_for(
        lambda: step.running.state() is RunningStepState.WAITING_FOR_INPUT, 2
    )
    began = time.monotonic()
    step.provide_stage_input("decide", {"decision": {"approved": True, "by": "bob"}})
    assert step.handler.wait_for_completion(5)
    assert time.monotonic() - began < 1.0
    step.wait().assert_output("approved", stage="approved")


def test_second_decision_is_refused(start_step: StartStep) -> None:
    """Only one decision is taken; a second one is refused with a clear error."""
    step = start_step(ApprovalProvider(), {"question": "ship?", "approval": {"poll_interval": 2.0}})
    assert step.wait_for_stage("decide")
    step.provide_stage_input("decide", {"decision": {"approved": False}})
    with pytest.raises(
        StageInputError, match="stage 'decide': input field 'decision' was already provided"
    ):
        step.running.provide_stage_input("decide", {"decision": {"approved": True}})
    step.wait().assert_error("rejected")


def test_unknown_field_in_late_input_is_refused(start_step: StartStep) -> None:
    """A late input with a field the stage does not take is refused, naming the valid one."""
    step = start_step(ApprovalProvider(), {"question": "ship?", "approval": {"deadline": 0.5}})
    assert step.wait_for_stage("decide")
    with pytest.raises(
        StageInputError, match="unknown input field 'vote'; valid fields: 'decision'"
    ):
        step.running.provide_stage_input("decide", {"vote": "yes"})
    step.wait().assert_error("expired")


def _answer(path: Path, text: str) -> None:
    """Write an answer the way the README says: elsewhere first, then rename into place."""
    partial = path.with_suffix(".partial")
    partial.write_text(text)
    partial.rename(path)


def test_answer_file_rejects_with_comment(start_step: StartStep, tmp_path: Path) -> None:
    """A 'no' written to the answer file rejects, keeping the comment of the next lines."""
    answer = tmp_path / "answer"
    step = start_step(
        ApprovalProvider(), {"question": "ship?", "approval": {"answer_file": str(answer)}}
    )
    assert step.wait_for_stage("decide")
    _answer(answer, "no\nnot on a Friday\n")
    outcome = step.wait()
    outcome.assert_error("rejected")
    assert outcome.output_data == {
        "by": getpass.getuser(),
        "comment": "not on a Friday",
        "source": "file",
    }


def test_answer_file_as_yaml_mapping(start_step: StartStep, tmp_path: Path) -> None:
    """The answer file may hold a YAML mapping with approved, by and comment."""
    answer = tmp_path / "answer.yaml"
    step = start_step(
        ApprovalProvider(), {"question": "ship?", "approval": {"answer_file": str(answer)}}
    )
    assert step.wait_for_stage("decide")
    _answer(answer, "approved: true\nby: bob\ncomment: go\n")
    step.wait().assert_output("approved", data={"by": "bob", "comment": "go", "source": "file"})


def test_deadline_expires(run_step: RunStep) -> None:
    """Without a decision before the deadline the gate ends in the expired error output."""
    outcome = run_step(ApprovalProvider(), {"question": "ship?", "approval": {"deadline": 0.1}})
    outcome.assert_error("expired")
    assert outcome.output_data == {"deadline": 0.1}


@pytest.mark.parametrize(
    ("text", "approved", "comment"),
    [
        ("yes", True, ""),
        ("Y\n", True, ""),
        ("approve\nship it", True, "ship it"),
        ("no", False, ""),
        ("rejected\n\ntoo risky\n", False, "too risky"),
        ("approved: false\ncomment: later", False, "later"),
    ],
)
def test_parse_answer_words_and_mappings(text: str, approved: bool, comment: str) -> None:
    """Yes/no words and YAML mappings are decisions; the comment follows the first line."""
    decision = parse_answer(text, source="file")
    assert decision is not None
    assert (decision.approved, decision.comment) == (approved, comment)


@pytest.mark.parametrize("text", ["", "   \n", "maybe", "approved: perhaps", "[1, 2]", ": :"])
def test_parse_answer_ignores_what_is_not_a_decision(text: str) -> None:
    """Empty, unclear or malformed answers are not decisions (the gate keeps waiting)."""
    assert parse_answer(text, source="file") is None


def test_terminal_without_a_terminal_still_waits_for_other_sources(
    start_step: StartStep, tmp_path: Path
) -> None:
    """With terminal set but no controlling terminal, the file still decides."""
    if _has_controlling_terminal():
        pytest.skip("this test needs a process without a controlling terminal")
    answer = tmp_path / "answer"
    step = start_step(
        ApprovalProvider(),
        {"question": "ship?", "approval": {"terminal": True, "answer_file": str(answer)}},
    )
    assert step.wait_for_stage("decide")
    _answer(answer, "yes")
    step.wait().assert_success("approved")


def _has_controlling_terminal() -> bool:
    try:
        fd = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY)
    except OSError:
        return False
    os.close(fd)
    return True
