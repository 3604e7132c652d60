"""The shell provider runs real commands, obeys the conformance kit and kills its process group."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import pytest
from arcaflow_steps_shell import ShellProvider

from arcaflow_steps.testing import ConformanceCase, ProviderConformance, RunStep, StartStep

PYTHON = sys.executable


class TestShellConformance(ProviderConformance):
    """The shell provider passes the whole conformance kit."""

    @pytest.fixture
    def provider(self) -> ShellProvider:
        return ShellProvider()

    @pytest.fixture
    def conformance_cases(self) -> Sequence[ConformanceCase]:
        return [
            ConformanceCase(
                id="success",
                definition={"command": ["true"]},
                expected_stage="success",
                expected_output_id="success",
            ),
            ConformanceCase(
                id="failure",
                definition={"command": ["sh", "-c", "exit 3"]},
                expected_stage="failure",
                expected_output_id="error",
            ),
            ConformanceCase(
                id="timeout",
                definition={"command": ["sleep", "30"], "shell": {"timeout": 0.2}},
                expected_stage="timeout",
                expected_output_id="timeout",
            ),
            ConformanceCase(
                id="runs-until-closed",
                definition={"command": ["sleep", "30"], "shell": {"grace_period": 1.0}},
                expected_stage="closed",
                expected_output_id="closed",
                close_after=0.2,
            ),
            ConformanceCase(
                id="not-found",
                definition={"command": ["/nonexistent/program"]},
                expected_stage="failure",
                expected_output_id="error",
            ),
        ]


def test_success_keeps_exit_code_and_output_tails(run_step: RunStep) -> None:
    """A command's exit code, stdout and stderr appear in the success output."""
    outcome = run_step(
        ShellProvider(),
        {"command": ["sh", "-c", "echo out; echo err >&2"]},
    )
    outcome.assert_output(
        "success", stage="success", data={"exit_code": 0, "stdout": "out\n", "stderr": "err\n"}
    )


def test_stdin_is_fed_to_the_command(run_step: RunStep) -> None:
    """The ``stdin`` stage input reaches the command's standard input."""
    outcome = run_step(ShellProvider(), {"command": ["cat"], "stdin": "hello\n"})
    outcome.assert_output("success", data={"exit_code": 0, "stdout": "hello\n", "stderr": ""})


def test_failure_says_how_it_ended(run_step: RunStep) -> None:
    """A non-zero exit is the error output with the status in words."""
    outcome = run_step(ShellProvider(), {"command": ["sh", "-c", "echo bad >&2; exit 3"]})
    outcome.assert_error("error")
    assert outcome.output_data == {
        "exit_code": 3,
        "message": "exit status 3",
        "stdout": "",
        "stderr": "bad\n",
    }


def test_missing_program_fails_to_start(run_step: RunStep) -> None:
    """A program that does not exist ends in failure straight from start."""
    outcome = run_step(ShellProvider(), {"command": ["/nonexistent/program"]})
    outcome.assert_error("error")
    assert outcome.stages_entered == ("start", "failure")
    assert "cannot start '/nonexistent/program'" in outcome.output_data["message"]


def test_tails_keep_only_the_last_bytes(run_step: RunStep) -> None:
    """Only the last ``tail_bytes`` of a long output are kept."""
    outcome = run_step(
        ShellProvider(),
        {
            "command": [PYTHON, "-c", "print('a' * 100000 + 'END')"],
            "shell": {"tail_bytes": 10},
        },
    )
    outcome.assert_success()
    assert outcome.output_data["stdout"] == "aaaaaaEND\n"


def test_env_and_cwd_apply(run_step: RunStep, tmp_path: Path) -> None:
    """The provider keyword's ``env`` and ``cwd`` reach the command."""
    outcome = run_step(
        ShellProvider(),
        {
            "command": ["sh", "-c", 'echo "$GREETING from $(pwd)"'],
            "shell": {"env": {"GREETING": "hi"}, "cwd": str(tmp_path)},
        },
    )
    outcome.assert_success()
    assert outcome.output_data["stdout"] == f"hi from {tmp_path}\n"


def test_timeout_stops_the_command(run_step: RunStep) -> None:
    """A command running past ``timeout`` ends in the timeout stage, quickly."""
    started = time.monotonic()
    outcome = run_step(ShellProvider(), {"command": ["sleep", "30"], "shell": {"timeout": 0.2}})
    outcome.assert_output("timeout", stage="timeout")
    assert time.monotonic() - started < 5


def _alive(pid: int) -> bool:
    """Return whether ``pid`` runs (a zombie waiting for init to reap it counts as dead)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def _wait_for_file(path: Path, timeout: float = 5.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.read_text().strip():
            return path.read_text().strip()
        time.sleep(0.02)
    raise AssertionError(f"{path} never appeared")


@pytest.mark.parametrize("force", [False, True], ids=["close", "force_close"])
def test_close_kills_the_whole_process_group(
    start_step: StartStep, tmp_path: Path, force: bool
) -> None:
    """Closing a step kills the command and its grandchildren, even ones ignoring SIGTERM."""
    pid_file = tmp_path / "grandchild.pid"
    script = f"trap '' TERM; sleep 60 & echo $! > {pid_file}; wait"
    step = start_step(
        ShellProvider(),
        {"command": ["sh", "-c", script], "shell": {"grace_period": 0.3}},
    )
    assert step.wait_for_stage("running")
    grandchild = int(_wait_for_file(pid_file))
    assert _alive(grandchild)
    assert step.close(force=force)
    outcome = step.wait()
    outcome.assert_output("closed", stage="closed")
    assert outcome.output_data["cancelled"] is True
    deadline = time.monotonic() + 2
    while _alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not _alive(grandchild)


def test_background_leftovers_are_killed_after_exit(run_step: RunStep, tmp_path: Path) -> None:
    """A background job left by a command that exited does not outlive the step."""
    pid_file = tmp_path / "leftover.pid"
    outcome = run_step(
        ShellProvider(),
        {"command": ["sh", "-c", f"sleep 60 > /dev/null 2>&1 & echo $! > {pid_file}"]},
    )
    outcome.assert_success()
    leftover = int(pid_file.read_text())
    deadline = time.monotonic() + 2
    while _alive(leftover) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not _alive(leftover)
