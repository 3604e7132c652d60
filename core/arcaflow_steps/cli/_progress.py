"""Stage progress of ``arcaflow-steps run`` on stderr: plain lines, or a live table on a terminal.

Both are ``StepObserver``s: events arrive on provider threads, so every write happens under a
lock (lines) or the table reads a snapshot taken under one (live).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

from .._events import StepEvent, StepEventKind

if TYPE_CHECKING:
    from rich.console import Console
    from rich.live import Live

    from .._step_definition import PreparedStep

__all__ = ["LineProgress", "LiveProgress", "Progress", "make_progress"]


class Progress(Protocol):
    """What ``run`` needs from a progress display."""

    def start(self) -> None:
        """Begin showing progress."""

    def stop(self) -> None:
        """Stop, leaving the final state visible."""

    def line(self, step_id: str, text: str) -> None:
        """Show a message about one step (or ``*`` for all)."""

    def on_event(self, event: StepEvent) -> None:
        """Observe a step event."""


def _stage_names(steps: Sequence[PreparedStep]) -> dict[tuple[str, str], tuple[str, str, str]]:
    names: dict[tuple[str, str], tuple[str, str, str]] = {}
    for step in steps:
        for stage in step.lifecycle.stages:
            base = stage.stage
            names[(step.step_id, str(stage.id))] = (
                base.waiting_name,
                base.running_name,
                base.finished_name,
            )
    return names


class LineProgress:
    """One line per change on stderr, step ids aligned. Good for logs and pipes.

    Thread safety: safe to share; lines are written under a lock.
    """

    def __init__(self, steps: Sequence[PreparedStep], *, quiet: bool = False) -> None:
        self._quiet = quiet
        self._names = _stage_names(steps)
        self._width = max((len(step.step_id) for step in steps), default=0)
        # Guards writes to stderr and _stopped, so lines from provider threads never
        # interleave. Re-entrant: the signal handler writes a line on the main thread, which
        # may hold it already.
        self._lock = threading.RLock()
        self._stopped = False

    def start(self) -> None:
        """Nothing to set up."""

    def stop(self) -> None:
        """Write no more lines: a step's last event may still be on its way from the step's
        thread when the run is over, and the command's own last line (an error) must be the
        last one."""
        with self._lock:
            self._stopped = True

    def line(self, step_id: str, text: str) -> None:
        """Write one line: the step id, then the text (nothing once stopped)."""
        if self._quiet:
            return
        with self._lock:
            if self._stopped:
                return
            sys.stderr.write(f"{step_id.ljust(self._width)}  {text}\n")
            sys.stderr.flush()

    def on_event(self, event: StepEvent) -> None:
        """Write a line for stage changes, completion, refusals and failed stages."""
        stage = event.stage or "?"
        if event.kind == StepEventKind.STAGE_CHANGED:
            waiting, running, _ = self._names.get((event.step_id, stage), ("", "", ""))
            name = waiting if event.waiting_for_input else running
            detail = f" ({name})" if name and name != stage else ""
            self.line(event.step_id, f"-> {stage}{detail}")
        elif event.kind == StepEventKind.COMPLETED:
            output = event.previous_output_id or "no output"
            self.line(event.step_id, f"finished in {stage}: {output}")
        elif event.kind == StepEventKind.REFUSED:
            self.line(event.step_id, f"refused a report: {event.error}")
        elif event.kind == StepEventKind.STAGE_FAILED:
            self.line(event.step_id, f"stage {stage} failed: {event.error}")


class LiveProgress:
    """A table of every step (stage, what it is doing) redrawn in place on a terminal.

    Thread safety: safe to share; rows are updated and copied under a lock.
    """

    def __init__(self, steps: Sequence[PreparedStep], console: Console) -> None:
        self._names = _stage_names(steps)
        self._console = console
        # Guards _rows (step id -> [stage, activity]).
        self._lock = threading.Lock()
        self._rows: dict[str, list[str]] = {step.step_id: ["", "queued"] for step in steps}
        self._live: Live | None = None

    def start(self) -> None:
        """Start redrawing the table (a few times a second)."""
        from rich.live import Live

        self._live = Live(
            get_renderable=self.table, console=self._console, refresh_per_second=8, transient=False
        )
        self._live.start()

    def stop(self) -> None:
        """Draw the final table and stop."""
        if self._live is not None:
            self._live.stop()
            self._live = None

    def line(self, step_id: str, text: str) -> None:
        """Print a message above the table."""
        from rich.text import Text

        self._console.print(Text(f"{step_id}  {text}"))

    def on_event(self, event: StepEvent) -> None:
        """Update the step's row."""
        stage = event.stage or ""
        waiting, running, finished = self._names.get((event.step_id, stage), ("", "", ""))
        with self._lock:
            row = self._rows.setdefault(event.step_id, ["", ""])
            if event.kind == StepEventKind.STAGE_CHANGED:
                row[:] = [stage, (waiting or "waiting") if event.waiting_for_input else running]
            elif event.kind == StepEventKind.COMPLETED:
                output = event.previous_output_id or "no output"
                row[:] = [stage, f"{finished or 'finished'}: {output}"]
            elif event.kind == StepEventKind.REFUSED:
                row[1] = f"refused a report: {event.error}"

    def table(self) -> Any:
        """Return the table to draw now."""
        from rich.table import Table
        from rich.text import Text

        with self._lock:
            rows = [(step_id, *row) for step_id, row in self._rows.items()]
        table = Table(box=None, show_header=True, pad_edge=False)
        for column in ("step", "stage", "status"):
            table.add_column(column)
        for step_id, stage, status in rows:
            table.add_row(Text(step_id), Text(stage), Text(status))
        return table


def make_progress(
    steps: Sequence[PreparedStep], *, quiet: bool, live: bool | None
) -> LineProgress | LiveProgress:
    """Return the progress display: live on a terminal (unless asked otherwise), else lines."""
    if quiet or not (sys.stderr.isatty() if live is None else live):
        return LineProgress(steps, quiet=quiet)
    from ._common import console

    return LiveProgress(steps, console(sys.stderr))
