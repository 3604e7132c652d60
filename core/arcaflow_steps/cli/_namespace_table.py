"""The ``-get-namespaces`` table of ``arcaflow-steps workflow``, as the Go engine prints it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

__all__ = ["namespace_table"]

#: Go's ``text/tabwriter`` settings in the engine's table printer.
_MIN_WIDTH: Final = 6
_PADDING: Final = 3


def namespace_table(rows: Sequence[tuple[str, str]]) -> str:
    """Return the table of ``(object id, namespace)`` rows, byte for byte as the Go engine.

    The Go engine writes ``OBJECT\\tNAMESPACE\\t`` and, per row, ``object \\t namespace``
    (``fmt.Fprintln`` puts a space between its operands) into a ``text/tabwriter`` (min width
    6, padding 3, spaces). A line's last cell (after its last tab) is not aligned, so only the
    object column is; the header's ``NAMESPACE`` cell forms a column of its own (the header
    ends in three spaces), and each namespace starts one space right of it. No rows: nothing
    (the caller logs the Go engine's warning).
    """
    if not rows:
        return ""
    cells = [f"{object_id} " for object_id, _ in rows]
    width = max(_MIN_WIDTH, *(len(cell) + _PADDING for cell in ("OBJECT", *cells)))
    header = "OBJECT".ljust(width) + "NAMESPACE".ljust(max(_MIN_WIDTH, 9 + _PADDING))
    lines = [header]
    lines.extend(
        cell.ljust(width) + f" {namespace}"
        for cell, (_, namespace) in zip(cells, rows, strict=True)
    )
    return "\n".join(lines) + "\n"
