"""Where things are in a workflow file: key paths to lines and columns, for messages, and
the text numbers and booleans were written as, for string fields.

The YAML loader records where every mapping entry (at its key) and list item starts
(``DataBuilder(record_positions=True)``). Problems found later — the file's shape, the plan —
name their place as a key path in the file's own terms (``steps.b.input.name``);
:meth:`SourcePositions.place` adds the line and column of that path, or of its nearest
ancestor that was written in the file (a missing key is reported where its mapping starts).

Thread safety: safe to share (immutable).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

import attrs

from .._yaml12 import format_path
from ._errors import InvalidWorkflowError

__all__ = ["SourcePositions"]

#: The last part of a key path as messages write it: ``.key``, ``[index]`` or ``[]`` (any
#: item of a list), or the first key.
_LAST_PART: Final = re.compile(r"(?:\.[^.\[]*|\[[^\]]*\]|^[^.\[]+)$")


@attrs.frozen
class SourcePositions:
    """Key path (a tuple of keys and indexes) -> 1-based ``(line, column)`` in one file."""

    by_path: Mapping[tuple[Any, ...], tuple[int, int]] = attrs.field(factory=dict)
    #: Key path -> the text of a boolean, integer or float as written (for string fields).
    scalar_texts: Mapping[tuple[Any, ...], str] = attrs.field(factory=dict)

    def texts(self) -> dict[str, str]:
        """Return the written text of every boolean, integer and float by formatted key path
        (``steps.a.input.name``), for :func:`arcaflow_steps._schema._scalar_texts.scalar_texts`."""
        return {format_path(path): text for path, text in self.scalar_texts.items()}

    def locate(self, path: str) -> tuple[int, int] | None:
        """Return where ``path`` (formatted as in messages) or its nearest written ancestor
        starts; None when nothing of it is in the file (or nothing was recorded)."""
        if not self.by_path:
            return None
        # Built on demand: positions are only looked up for an error.
        by_text = {format_path(key_path): position for key_path, position in self.by_path.items()}
        while path:
            position = by_text.get(path)
            if position is not None:
                return position
            parent = _LAST_PART.sub("", path)
            if parent == path:  # not a path we can walk up
                return None
            path = parent
        return None

    def place(self, error: InvalidWorkflowError, source: str) -> InvalidWorkflowError:
        """Return ``error`` with its line and column when it is about this file's ``source``
        and its path is known here; else ``error`` itself."""
        if error.line is not None or error.source != source or not error.path:
            return error
        position = self.locate(error.path)
        return error if position is None else error.located(*position)
