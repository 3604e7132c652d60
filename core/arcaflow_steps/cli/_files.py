"""Reading step files: YAML 1.2 with line and column in every error, no duplicate keys.

A step file holds one step definition (its step id is the file name without extension) or a
``steps:`` map of named definitions. Problems are :class:`StepDefinitionError`s that name the
file and the path of the problem, so the CLI prints one clear message and exits 1.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

from .._errors import StepDefinitionError
from .._yaml12 import DataBuilder, YamlError, compose_yaml
from .._yaml_limits import MAX_FILE_BYTES, read_bounded

__all__ = ["StepSpec", "read_step_files"]


class StepSpec(NamedTuple):
    """One step definition read from a file, with where it came from.

    A ``NamedTuple`` rather than an attrs record: ``run`` reads step files before it calls the
    warm-ups, and everything imported before them delays the start they exist to bring forward.
    """

    step_id: str
    definition: Mapping[str, Any]
    #: The file name, for messages.
    source: str
    #: JSON path of the definition inside the file (``$`` or ``$.steps.<id>``).
    path: str


def _load_yaml(text: str, source: str) -> Any:
    try:
        node = compose_yaml(text)
        return None if node is None else DataBuilder().build(node, ())
    except YamlError as exc:
        where = f" at {exc.location}" if exc.location else ""
        raise StepDefinitionError(f"invalid YAML{where}: {exc.problem}", source=source) from None


def _describe(value: Any) -> str:
    if value is None:
        return "nothing"
    names: dict[type, str] = {dict: "a mapping", list: "a list", str: "a string"}
    return names.get(type(value), type(value).__name__)


def _read_stdin() -> bytes:
    binary = getattr(sys.stdin, "buffer", None)  # None when replaced by a text-only stream
    if binary is not None:
        return read_bounded(binary)
    text = str(sys.stdin.read(MAX_FILE_BYTES + 1))
    return read_bounded(io.BytesIO(text.encode("utf-8", "surrogateescape")))


def _read(file: str) -> tuple[str, str]:
    source = "<stdin>" if file == "-" else file
    try:
        data = _read_stdin() if file == "-" else read_bounded(Path(file))
    except FileNotFoundError:
        raise StepDefinitionError(f"step file {file!r} does not exist") from None
    except IsADirectoryError:
        raise StepDefinitionError(f"step file {file!r} is a directory") from None
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise StepDefinitionError(f"cannot read step file {source!r}: {reason}") from None
    try:
        return data.decode("utf-8"), source
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise StepDefinitionError(
            f"step file {source!r} is not UTF-8 text: byte 0x{data[exc.start]:02x} at line "
            f"{line} cannot be decoded"
        ) from None


def read_step_files(files: list[str]) -> list[StepSpec]:
    """Return the step definitions of every file, in file order; step ids must be unique."""
    specs: list[StepSpec] = []
    seen: dict[str, str] = {}
    if files.count("-") > 1:
        raise StepDefinitionError("'-' (stdin) is given more than once; it can be read once")
    for file in files:
        text, source = _read(file)
        for step_id, definition, path in _definitions(_load_yaml(text, source), source):
            if not step_id.strip():
                raise StepDefinitionError(
                    f"step id {step_id!r} is empty; name each step @ {path}", source=source
                )
            if step_id in seen:
                raise StepDefinitionError(
                    f"step id {step_id!r} is defined in {seen[step_id]} and in {source}; step ids "
                    "must be unique across files"
                )
            seen[step_id] = source
            if not isinstance(definition, dict):
                raise StepDefinitionError(
                    f"step {step_id!r} must be a mapping, got {_describe(definition)} @ {path}",
                    source=source,
                )
            specs.append(StepSpec(step_id=step_id, definition=definition, source=source, path=path))
    return specs


def _definitions(document: Any, source: str) -> list[tuple[str, Any, str]]:
    """Return ``(step id, definition, path)`` of each step of one file's document."""
    if not isinstance(document, dict):
        raise StepDefinitionError(
            f"expected a step definition or a 'steps:' map, got {_describe(document)} @ $",
            source=source,
        )
    if "steps" not in document:
        stem = Path(source).stem if source != "<stdin>" else "step"
        return [(stem, document, "$")]
    extra = sorted(str(key) for key in document if key != "steps")
    if extra:
        raise StepDefinitionError(
            f"unknown top-level key {extra[0]!r} beside 'steps' @ $; a step file is "
            "one step definition or a 'steps:' map of them",
            source=source,
        )
    steps = document["steps"]
    if not isinstance(steps, dict) or not steps:
        raise StepDefinitionError(
            f"'steps' must be a non-empty map of step id to step definition, got "
            f"{_describe(steps) if steps != {} else 'an empty map'} @ $.steps",
            source=source,
        )
    for step_id in steps:
        if not isinstance(step_id, str):
            raise StepDefinitionError(
                f"step id {step_id!r} must be a string (quote it) @ $.steps", source=source
            )
    return [(step_id, value, f"$.steps.{step_id}") for step_id, value in steps.items()]
