"""Where a decision can come from besides stage input: an answer file and the terminal.

Both sources are polled by the step's own thread (never a blocking read), so closing the step
is bounded: :class:`AnswerFile` is read every poll interval, and :class:`TerminalPrompt` reads
the controlling terminal (``/dev/tty``) only when ``select`` says a line is ready.

An answer is either a mapping (JSON or YAML) ``{approved: true|false, by: ..., comment: ...}``
or a word: ``yes``/``y``/``approve``/``approved`` or ``no``/``n``/``reject``/``rejected``,
optionally followed by a comment on the next lines.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import select
from pathlib import Path
from typing import Any, Final

import attrs
import yaml

__all__ = ["AnswerFile", "Decision", "TerminalPrompt", "parse_answer"]

_YES: Final = frozenset({"y", "yes", "approve", "approved"})
_NO: Final = frozenset({"n", "no", "reject", "rejected"})


@attrs.frozen(kw_only=True)
class Decision:
    """A person's answer.

    Thread safety: safe to share (immutable).
    """

    approved: bool
    by: str
    comment: str
    #: Where it came from: ``input``, ``file`` or ``terminal``.
    source: str

    def as_output(self) -> dict[str, Any]:
        """Return the decision as output data."""
        return {"by": self.by, "comment": self.comment, "source": self.source}


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry, no LOGNAME
        return "unknown"


def parse_answer(text: str, *, source: str) -> Decision | None:
    """Return the decision ``text`` holds, or None when it holds none (yet)."""
    stripped = text.strip()
    if not stripped:
        return None
    first, _, rest = stripped.partition("\n")
    word = first.strip().lower()
    if word in _YES or word in _NO:
        return Decision(approved=word in _YES, by=_user(), comment=rest.strip(), source=source)
    try:
        data = yaml.safe_load(stripped)
    except yaml.YAMLError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("approved"), bool):
        return None
    return Decision(
        approved=data["approved"],
        by=str(data.get("by") or _user()),
        comment=str(data.get("comment") or ""),
        source=source,
    )


class AnswerFile:
    """Polls a file for an answer (write it elsewhere, then rename it into place).

    Thread safety: not thread-safe; confine to the step's thread.
    """

    def __init__(self, path: str) -> None:
        self.path: Final = Path(path)

    def poll(self) -> Decision | None:
        """Return the decision in the file, or None while there is none."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except (FileNotFoundError, IsADirectoryError, UnicodeDecodeError):
            return None
        return parse_answer(text, source="file")


class TerminalPrompt:
    """Asks on the controlling terminal and reads the answer without blocking.

    Thread safety: not thread-safe; confine to the step's thread.
    """

    def __init__(self, prompt: str) -> None:
        self._prompt = prompt
        self._fd: int | None = None
        self._buffer = b""

    def open(self) -> bool:
        """Open ``/dev/tty`` and show the prompt; return False when there is no terminal."""
        try:
            self._fd = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY)
        except OSError:
            return False
        self._write(self._prompt)
        return True

    def poll(self, timeout: float) -> Decision | None:
        """Wait up to ``timeout`` seconds for a line; return its decision, re-asking if unclear."""
        if self._fd is None:
            return None
        ready, _, _ = select.select([self._fd], [], [], timeout)
        if not ready:
            return None
        try:
            chunk = os.read(self._fd, 1024)
        except OSError:
            self.close()
            return None
        if not chunk:  # the terminal went away
            self.close()
            return None
        self._buffer += chunk
        while b"\n" in self._buffer:
            line, _, self._buffer = self._buffer.partition(b"\n")
            word = line.decode(errors="replace").strip().lower()
            if word in _YES or word in _NO:
                self._write("thank you\n")
                return Decision(approved=word in _YES, by=_user(), comment="", source="terminal")
            self._write("please answer 'yes' or 'no': ")
        return None

    def close(self) -> None:
        """Close the terminal (idempotent)."""
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)

    def _write(self, text: str) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.write(self._fd, text.encode())
