"""Limits a YAML file (step, workflow, input or config file) must keep before it is built.

YAML aliases make a small file stand for a large document (600 bytes of nested aliases, the
"billion laughs", name ~10^8 values; every consumer that walks or serializes the data expands
them), and deep nesting makes the recursive constructor, validator and serializers raise
``RecursionError``. :func:`check_yaml_limits` reads the file's event stream (iteratively,
nothing is built) and measures, per node, its expanded size and height, counting an alias as a
copy of what it names. It raises a ``MarkedYAMLError`` at the first node past a limit, which
the readers report with its line and column like any other YAML error.

Before that, :func:`read_bounded` reads at most :data:`MAX_FILE_BYTES` of a file: a path
such as ``/dev/zero`` (or a runaway generator on stdin) would otherwise be read until memory
runs out.
"""

from __future__ import annotations

import errno
import os
from typing import BinaryIO, Final, cast

import yaml

__all__ = [
    "MAX_ALIAS_EXPANSION",
    "MAX_FILE_BYTES",
    "MAX_YAML_DEPTH",
    "check_yaml_limits",
    "read_bounded",
]

#: How deep lists and mappings may nest in a file (aliases included).
MAX_YAML_DEPTH: Final = 100
#: How much aliases may add to a file: one per value plus each scalar's length.
MAX_ALIAS_EXPANSION: Final = 10_000_000
#: The largest file (step, workflow, input, config, or one ``readFile`` reads) read at all.
MAX_FILE_BYTES: Final = 64 * 1024 * 1024


def read_bounded(source: str | os.PathLike[str] | BinaryIO) -> bytes:
    """Return the bytes of a file (a path, or an open binary stream such as stdin).

    Raises:
        OSError: it cannot be read, or (``errno.EFBIG``) it holds more than
            :data:`MAX_FILE_BYTES`; ``strerror`` says which, for the caller's message.
    """
    if isinstance(source, str | os.PathLike):
        with open(source, "rb") as stream:
            return read_bounded(stream)
    data = source.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise OSError(errno.EFBIG, f"larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB")
    return data


_START: Final = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
_END: Final = (yaml.MappingEndEvent, yaml.SequenceEndEvent)


def check_yaml_limits(text: str, loader: type[yaml.SafeLoader]) -> None:
    """Raise ``yaml.MarkedYAMLError`` if ``text`` nests or expands past the limits.

    Syntax errors raise as the loader raises them.
    """
    # Per open collection: its anchor, expanded size so far, and its children's max height.
    anchors_open: list[str | None] = []
    sizes: list[int] = [0]
    heights: list[int] = [0]
    anchored: dict[str, tuple[int, int]] = {}  # anchor -> (expanded size, height)
    added = 0
    for event in yaml.parse(text, Loader=loader):
        if isinstance(event, _START):
            if len(anchors_open) >= MAX_YAML_DEPTH:
                _refuse(event, f"lists and mappings nest deeper than {MAX_YAML_DEPTH} levels")
            anchors_open.append(event.anchor)
            sizes.append(1)
            heights.append(0)
        elif isinstance(event, _END):
            anchor = anchors_open.pop()
            size, height = sizes.pop(), heights.pop() + 1
            if anchor is not None:
                anchored[anchor] = (size, height)
            sizes[-1] += size
            heights[-1] = max(heights[-1], height)
        elif isinstance(event, yaml.ScalarEvent):
            size = 1 + len(event.value)
            if event.anchor is not None:
                anchored[event.anchor] = (size, 0)
            sizes[-1] += size
        elif isinstance(event, yaml.AliasEvent):
            # An alias of an anchor still open (recursive) or unknown: the loader reports it.
            size, height = anchored.get(event.anchor or "", (1, 0))
            added += size
            if added > MAX_ALIAS_EXPANSION:
                _refuse(
                    event,
                    f"aliases expand the file by more than {MAX_ALIAS_EXPANSION} bytes (each "
                    "alias counts as a copy of what it names)",
                )
            if len(anchors_open) + height > MAX_YAML_DEPTH:
                _refuse(
                    event,
                    f"lists and mappings nest deeper than {MAX_YAML_DEPTH} levels through "
                    f"alias *{event.anchor}",
                )
            sizes[-1] += size
            heights[-1] = max(heights[-1], height)


def _refuse(event: yaml.Event, problem: str) -> None:
    mark = cast("yaml.error.Mark | None", event.start_mark)  # libyaml's Mark has the same fields
    raise yaml.composer.ComposerError(None, None, problem, mark)
