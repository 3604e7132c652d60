"""A person running the gate with ``arcaflow-steps run`` answers on the terminal or by file.

For the terminal, the real CLI runs in a pseudo-terminal (its controlling terminal); the test
reads the prompt and types the answer, as a person would. For the file, the test writes the
answer file named in the step definition while the CLI waits. This needs the package installed
(its entry point), so the CLI can find the ``approval`` kind.
"""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from importlib.metadata import entry_points
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(
    not entry_points(group="arcaflow.step_providers", name="approval"),
    reason="arcaflow-steps-approval is not installed (pip install -e contrib/approval)",
)

PROMPT = b"approve? [yes/no]"


def _read_until(fd: int, marker: bytes | None, timeout: float = 30.0) -> bytes:
    """Read the terminal until ``marker`` appears (or, with None, until the program exits)."""
    data = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if marker is not None and marker in data:
            return data
        ready, _, _ = select.select([fd], [], [], 0.1)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: the program exited and closed the terminal
            chunk = b""
        if not chunk:
            if marker is None:
                return data
            break
        data += chunk
    raise AssertionError(f"terminal never showed {marker!r}; it showed:\n{data.decode()}")


def _run_in_terminal(step_file: Path, answer: bytes) -> tuple[int, str]:
    """Run ``arcaflow-steps run STEP_FILE`` in a pty, type ``answer`` at the prompt."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: become the CLI, with the pty as its controlling terminal
        try:
            os.execv(
                sys.executable,
                [sys.executable, "-m", "arcaflow_steps.cli", "run", str(step_file)],
            )
        finally:
            os._exit(127)
    try:
        shown = _read_until(fd, PROMPT)
        os.write(fd, answer)
        shown += _read_until(fd, None)
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    return os.waitstatus_to_exitcode(status), shown.decode(errors="replace")


@pytest.mark.parametrize(
    ("answer", "exit_code", "output_id"),
    [(b"yes\n", 0, "approved"), (b"maybe\nno\n", 2, "rejected")],
    ids=["yes", "no-after-unclear"],
)
def test_person_answers_on_the_terminal(
    tmp_path: Path, answer: bytes, exit_code: int, output_id: str
) -> None:
    """The CLI asks on the terminal; the typed answer decides the step and its exit code."""
    step_file = tmp_path / "gate.yaml"
    step_file.write_text(
        "kind: approval\nquestion: Ship release 1.4?\napproval: {terminal: true, deadline: 30}\n"
    )
    code, shown = _run_in_terminal(step_file, answer)
    assert "Ship release 1.4?" in shown
    assert f"output_id: {output_id}" in shown, shown
    assert "source: terminal" in shown, shown
    assert exit_code == code, shown


def test_answer_file_decides_a_cli_run(tmp_path: Path) -> None:
    """The CLI waits on the gate until the answer file named in the step appears."""
    answer = tmp_path / "answer"
    step_file = tmp_path / "gate.yaml"
    step_file.write_text(
        "kind: approval\n"
        "question: Ship release 1.4?\n"
        f"approval: {{answer_file: {answer}, deadline: 30, poll_interval: 0.05}}\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "arcaflow_steps.cli", "run", str(step_file)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(0.5)
        assert process.poll() is None, "the CLI did not wait for the answer"
        partial = tmp_path / "answer.partial"
        partial.write_text("yes\nlooks good\n")
        partial.rename(answer)
        stdout, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, stdout + stderr
    assert "output_id: approved" in stdout
    assert "source: file" in stdout
    assert "comment: looks good" in stdout
