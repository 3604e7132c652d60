"""The program's stderr: a reader that went away must not break the run.

``arcaflow-steps workflow … 2>&1 | head`` closes the pipe behind stderr while steps still
report progress and log from their own threads. Python ignores ``SIGPIPE``, so every later
write raises ``BrokenPipeError`` in whichever thread wrote: a progress line in a step's event
delivery, a log line in a handler, the final error line. :class:`ForgivingStderr` replaces
``sys.stderr`` while :func:`~arcaflow_steps.cli.console_main` runs the command line: the first
failed write or flush points descriptor 2 at ``/dev/null`` (so interpreter exit flushes
without a complaint) and the text is dropped from then on; the run goes on and ends as it
would have, its exit code unchanged. Callers of :func:`~arcaflow_steps.cli.main` keep their
own stderr.
"""

from __future__ import annotations

import os
import threading
from typing import Any, TextIO, cast, final

__all__ = ["ForgivingStderr", "forgiving"]


@final
class ForgivingStderr:
    """A text stream that forwards to ``stream`` until a write fails, then drops the text.

    Thread safety: safe to share; the switch to dropping happens once, under a lock.
    """

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        # Guards _gone.
        self._lock = threading.Lock()
        self._gone = False

    @property
    def gone(self) -> bool:
        """Whether a write failed and the text is being dropped."""
        return self._gone

    def write(self, text: str) -> int:
        """Write ``text``, or drop it once the reader is gone; never raises ``OSError``."""
        if not self._gone:
            try:
                return self._stream.write(text)
            except (OSError, ValueError):
                self._give_up()
        return len(text)

    def flush(self) -> None:
        """Flush, unless the reader is gone; never raises ``OSError``."""
        if not self._gone:
            try:
                self._stream.flush()
            except (OSError, ValueError):
                self._give_up()

    def _give_up(self) -> None:
        with self._lock:
            if self._gone:
                return
            self._gone = True
        try:  # what the stream still buffers goes nowhere, quietly, at exit too
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._stream.fileno())
            os.close(devnull)
        except (OSError, ValueError):
            pass

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def forgiving(stream: TextIO) -> TextIO:
    """Return ``stream`` wrapped in a :class:`ForgivingStderr` (once)."""
    if isinstance(stream, ForgivingStderr):
        return cast(TextIO, stream)
    return cast(TextIO, ForgivingStderr(stream))
