"""The log of ``arcaflow-steps workflow`` on stderr, in the Go engine's line format.

A line is ``<UTC time, RFC 3339, seconds>\\t<level>\\t<labels>\\t<message>``; a multi-line
message continues unprefixed, as the Go engine writes it. Lines below the configured level
(``log.level`` in the config, ``debug`` with ``-debug``) are dropped. Stage progress is not
logged here: it is the progress display ``run`` shows (``._progress``). Records of the
``arcaflow_steps`` Python loggers (the executor's warnings, a warm-up's debug notes) go through
the same log while a workflow command runs (:func:`bridged_logging`), labelled with their
logger's name.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any, Final

from .._events import StepEvent, StepEventKind
from ._common import plain
from ._workflow_config import LOG_LEVELS

__all__ = ["LoggedOutputs", "WorkflowLog", "bridged_logging"]

_RANK: Final = {level: rank for rank, level in enumerate(LOG_LEVELS)}
#: Our levels as Python logging levels.
_PYTHON_LEVELS: Final = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}
_OUR_LOGGER: Final = "arcaflow_steps"


class WorkflowLog:
    """Writes log lines at or above ``level`` to stderr.

    Thread safety: safe to share; lines are written under a lock.
    """

    def __init__(self, level: str = "info") -> None:
        self.level = level
        self._minimum = _RANK[level]
        # Guards writes to stderr, so lines from provider threads never interleave.
        self._lock = threading.Lock()

    def is_enabled(self, level: str) -> bool:
        """Return whether a line at ``level`` is written."""
        return _RANK[level] >= self._minimum

    def log(self, level: str, message: str, *, labels: Mapping[str, str] | None = None) -> None:
        """Write one entry (if ``level`` is enabled)."""
        if not self.is_enabled(level):
            return
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        label_text = ";".join(f"{key}={value}" for key, value in (labels or {}).items())
        with self._lock:
            sys.stderr.write(f"{stamp}\t{level}\t{label_text}\t{message}\n")
            sys.stderr.flush()


class LoggedOutputs:
    """The config's ``logged_outputs``: a step observer that logs every stage output whose id
    is listed, at its level (``Output ID for step "s" is "error".``, then the data as JSON).

    Thread safety: safe to share (writes go through :class:`WorkflowLog`).
    """

    def __init__(self, log: WorkflowLog, levels: Mapping[str, str]) -> None:
        self._log = log
        self._levels = dict(levels)

    def on_event(self, event: StepEvent) -> None:
        """Log the output a stage ended with, if its id is listed."""
        if event.kind not in (StepEventKind.STAGE_CHANGED, StepEventKind.COMPLETED):
            return
        output_id = event.previous_output_id
        level = self._levels.get(output_id) if output_id is not None else None
        if level is None or not self._log.is_enabled(level):
            return
        data = _json(event.previous_output)
        self._log.log(
            level,
            f"Output ID for step {json.dumps(event.step_id)} is {json.dumps(output_id)}.\n"
            f"Output data: {data}",
            labels={"source": "workflow"},
        )


def _json(value: Any) -> str:
    return json.dumps(plain(value), sort_keys=True, ensure_ascii=False)


class _Bridge(logging.Handler):
    """Writes Python log records into a :class:`WorkflowLog`."""

    def __init__(self, log: WorkflowLog) -> None:
        super().__init__()
        self._log = log

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._emit(record)
        except Exception:  # the logging contract: a handler never raises into the logger
            self.handleError(record)

    def _emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.ERROR:
            level = "error"
        elif record.levelno >= logging.WARNING:
            level = "warning"
        elif record.levelno >= logging.INFO:
            level = "info"
        else:
            level = "debug"
        message = record.getMessage()
        if record.exc_info:
            message = f"{message}\n{logging.Formatter().formatException(record.exc_info)}"
        self._log.log(level, message, labels={"source": record.name})


@contextlib.contextmanager
def bridged_logging(log: WorkflowLog) -> Iterator[None]:
    """Route the ``arcaflow_steps`` loggers' records into ``log`` inside the block (at its
    level; Python's last-resort handler would print bare warnings instead)."""
    logger = logging.getLogger(_OUR_LOGGER)
    handler = _Bridge(log)
    previous = logger.level
    logger.addHandler(handler)
    logger.setLevel(_PYTHON_LEVELS[log.level])
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)
