"""What the program writes on stderr: once its reader is gone, text is dropped, nothing
raises, and the descriptor points at /dev/null so the flush at exit succeeds too; once the
run is over, no late progress line comes after the command's own last line."""

from __future__ import annotations

import logging
import os

import pytest

from arcaflow_steps.cli._stderr import ForgivingStderr, forgiving
from arcaflow_steps.cli._workflow_log import WorkflowLog, bridged_logging


def test_a_closed_reader_turns_writes_into_nothing() -> None:
    read, write = os.pipe()
    stream = os.fdopen(write, "w")
    stderr = ForgivingStderr(stream)
    try:
        assert 6 == stderr.write("first\n")
        stderr.flush()
        assert b"first\n" == os.read(read, 100)
        os.close(read)  # the reader goes away
        assert 7 == stderr.write("second\n")
        stderr.flush()
        assert stderr.gone
        assert os.path.samestat(os.fstat(stream.fileno()), os.stat(os.devnull))
        assert 6 == stderr.write("third\n")  # dropped, quietly
        stderr.flush()
        assert stream.fileno() == stderr.fileno()  # everything else is the stream's
    finally:
        stream.close()


def test_wrapping_is_done_once() -> None:
    read, write = os.pipe()
    os.close(read)
    with os.fdopen(write, "w") as stream:
        wrapped = forgiving(stream)
        assert wrapped is forgiving(wrapped)


def test_a_log_line_that_cannot_be_written_does_not_raise_into_the_logger(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The bridge from Python logging into the workflow log keeps the logging contract: a
    failing write goes to ``handleError``, never into the code that logged."""

    class Closed:
        def write(self, text: str) -> int:
            raise BrokenPipeError(32, "Broken pipe")

        def flush(self) -> None:
            raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(logging, "raiseExceptions", False)  # handleError stays quiet
    with bridged_logging(WorkflowLog("info")):
        monkeypatch.setattr("sys.stderr", Closed())
        logging.getLogger("arcaflow_steps.test").warning("into a closed pipe")


def test_progress_writes_no_line_once_stopped(capsys: pytest.CaptureFixture[str]) -> None:
    """A step's last event may reach the progress display from the step's thread after the
    run is over; once stopped it writes nothing, so the command's own last line stays last."""
    from arcaflow_steps import StepEvent, StepEventKind
    from arcaflow_steps.cli._progress import LineProgress

    progress = LineProgress([])
    finished = StepEvent(
        step_id="s",
        sequence=3,
        kind=StepEventKind.COMPLETED,
        stage="failed",
        previous_output_id="error",
    )
    progress.on_event(finished)
    progress.stop()
    progress.on_event(finished)
    assert "s  finished in failed: error\n" == capsys.readouterr().err
