"""The workflow file's shape: top-level keys, version, input schema, steps and outputs.

:func:`parse_workflow` checks what the Go engine's workflow schema checks (reference §3.1,
``workflow/model.go``), with our own messages: each names its key path and what is valid. It
knows no provider: step definitions stay templates for the planner. Where the Go engine panics
(an input schema whose object key differs from its id, an unknown root or ref, a default that
is not JSON) we raise an :class:`InvalidWorkflowError` with the path.

Input schema defaults: the Arcaflow form writes a property's ``default`` (and ``examples``) as
JSON text. The Go engine reads every YAML scalar as text, so ``default: 5`` is the JSON ``5``
and, for a string property, a text that is not JSON (``default: hello``) is taken as the string
itself. Our YAML is typed, so a non-string default is written back as its JSON, and a string
property's default that is not the JSON of a string is that string.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from .._errors import InvalidSchemaError
from .._schema._parse import parse_display
from .._yaml_limits import read_bounded
from ..schema import ScopeSchema, StepOutputSchema, parse_scope
from ._errors import InvalidWorkflowError
from ._model import SUPPORTED_VERSION, WorkflowModel
from ._positions import SourcePositions
from ._template import Expr, OneOf, SoftOptional, WaitOptional, is_literal
from ._yaml import load_workflow_yaml_located

__all__ = ["parse_workflow", "read_workflow"]

_KEYS: Final = ("input", "output", "outputSchema", "outputs", "steps", "version")
_VERSION: Final = re.compile(r"v\d+\.\d+\.\d+\Z")
#: Step and output ids (Go: ``^[$@a-zA-Z0-9-_]+$``; step ids at most 255 characters).
_ID: Final = re.compile(r"[$@a-zA-Z0-9_-]+\Z")
_MAX_STEP_ID: Final = 255
_OUTPUT_SCHEMA_KEYS: Final = ("display", "error", "schema")
_MISSING: Final = {
    "version": f"the workflow schema version, {SUPPORTED_VERSION}",
    "input": "the input schema: 'root' and 'objects'",
    "steps": "a mapping of step id to step definition",
    "outputs": "a mapping of output id to output data; or the deprecated 'output'",
}


def read_workflow(path: Path) -> WorkflowModel:
    """Return the workflow in the file at ``path`` (its name as given is the source).

    Raises:
        InvalidWorkflowError: the file cannot be read, is empty, is not a workflow's YAML, or
            has the wrong shape.
    """
    source = str(path)
    try:
        data = read_bounded(path)
    except FileNotFoundError:
        raise InvalidWorkflowError(f"workflow file {source!r} does not exist") from None
    except IsADirectoryError:
        raise InvalidWorkflowError(f"workflow file {source!r} is a directory") from None
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise InvalidWorkflowError(f"cannot read workflow file {source!r}: {reason}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InvalidWorkflowError(
            f"workflow file {source!r} is not UTF-8 text: byte 0x{data[exc.start]:02x} at line "
            f"{line} cannot be decoded"
        ) from None
    data, positions = load_workflow_yaml_located(text, source)
    return parse_workflow(data, source=source, positions=positions)


def parse_workflow(
    data: Any, *, source: str, positions: SourcePositions | None = None
) -> WorkflowModel:
    """Return the workflow that ``data`` (from :func:`load_workflow_yaml`) describes;
    ``positions`` (from :func:`load_workflow_yaml_located`) place its problems in the file.

    Raises:
        InvalidWorkflowError: the first problem of its shape, with its path (and line and
            column when ``positions`` know it).
    """
    positions = positions or SourcePositions()
    try:
        return _parse(data, source, positions)
    except InvalidWorkflowError as exc:
        raise positions.place(exc, source) from None


def _parse(data: Any, source: str, positions: SourcePositions) -> WorkflowModel:
    if data is None:
        raise InvalidWorkflowError("empty workflow file", source=source)
    if not isinstance(data, dict):
        raise InvalidWorkflowError(
            f"a workflow file is a mapping of {', '.join(_KEYS)}; got {_describe(data)}",
            source=source,
        )
    for key in data:
        if key not in _KEYS:
            raise InvalidWorkflowError(
                f"unknown key {key!r}; valid keys: {', '.join(_KEYS)}", path=str(key), source=source
            )
    for key, what in _MISSING.items():
        if key not in data and not (key == "outputs" and "output" in data):
            raise InvalidWorkflowError(f"missing required key {key!r} ({what})", source=source)
    checker = _Checker(source)
    version = checker.version(data["version"])
    outputs, output_schema = checker.outputs(data)
    return WorkflowModel(
        version=version,
        input=checker.input(data["input"]),
        steps=checker.steps(data["steps"]),
        outputs=outputs,
        output_schema=output_schema,
        source=source,
        positions=positions,
    )


class _Checker:
    """The checks of one file's parts; raises with the file's name as the source."""

    def __init__(self, source: str) -> None:
        self.source = source

    def error(self, problem: str, path: str) -> InvalidWorkflowError:
        return InvalidWorkflowError(problem, path=path, source=self.source)

    def literal(self, value: Any, path: str, what: str) -> None:
        """Raise if ``value`` holds an engine tag anywhere (``what`` is plain data)."""
        if not is_literal(value):
            raise self.error(f"{what} cannot hold expressions or engine tags", _tag_path(value))

    def version(self, value: Any) -> str:
        self.literal(value, "version", "the version")
        if not isinstance(value, str) or not _VERSION.match(value):
            raise self.error(
                f"the version must look like {SUPPORTED_VERSION!r} (v<major>.<minor>.<patch>), "
                f"got {value!r}",
                "version",
            )
        if value != SUPPORTED_VERSION:
            raise self.error(
                f"unsupported workflow schema version: {value}; supported: {SUPPORTED_VERSION}",
                "version",
            )
        return value

    def input(self, value: Any) -> ScopeSchema:
        self.literal(value, "input", "the input schema")
        try:
            return parse_scope(_json_defaults(value), path="input")
        except InvalidSchemaError as exc:
            raise self.error(f"invalid input schema: {exc.reason}", _file_path(exc.path)) from None

    def steps(self, value: Any) -> dict[str, Mapping[str, Any]]:
        if not isinstance(value, dict) or not value:
            got = "an empty mapping" if value == {} else _describe(value)
            raise self.error(
                f"'steps' must be a mapping of step id to step definition with at least one "
                f"step; got {got}",
                "steps",
            )
        for step_id, definition in value.items():
            self.identifier(step_id, "steps", "step id", _MAX_STEP_ID)
            path = f"steps.{step_id}"
            if not isinstance(definition, dict):
                raise self.error(
                    f"a step definition must be a mapping (kind, its provider's keys and stage "
                    f"inputs); got {_describe(definition)}",
                    path,
                )
            kind = definition.get("kind")
            if "kind" in definition and (not isinstance(kind, str) or not kind):
                raise self.error(
                    f"'kind' must be a step kind's name (a literal string); got {_describe(kind)}",
                    f"{path}.kind",
                )
        return value

    def identifier(self, value: Any, path: str, what: str, longest: int | None = None) -> None:
        if (
            not isinstance(value, str)
            or not _ID.match(value)
            or (longest is not None and len(value) > longest)
        ):
            most = f" (at most {longest})" if longest else ""
            raise self.error(
                f"{what} {value!r} is not valid: use letters, digits and '-', '_', '$', '@'{most}",
                path,
            )

    def outputs(
        self, data: Mapping[str, Any]
    ) -> tuple[dict[str, Any], dict[str, StepOutputSchema] | None]:
        if "output" in data:
            for other in ("outputs", "outputSchema"):
                if other in data:
                    raise self.error(
                        f"'output' (deprecated: the one output 'success') conflicts with "
                        f"{other!r}; use 'outputs' alone",
                        other,
                    )
            return {"success": data["output"]}, None
        outputs = data["outputs"]
        if not isinstance(outputs, dict) or not outputs:
            got = "an empty mapping" if outputs == {} else _describe(outputs)
            raise self.error(
                f"'outputs' must be a mapping of output id to output data with at least one "
                f"output; got {got}",
                "outputs",
            )
        for output_id in outputs:
            self.identifier(output_id, "outputs", "output id")
        if "outputSchema" not in data:
            return outputs, None
        schemas = self.output_schema(data["outputSchema"])
        for output_id in outputs:
            if output_id not in schemas:
                raise self.error(
                    f"output {output_id!r} has no entry; with 'outputSchema', every output of "
                    f"'outputs' needs one",
                    "outputSchema",
                )
        return outputs, schemas

    def output_schema(self, value: Any) -> dict[str, StepOutputSchema]:
        self.literal(value, "outputSchema", "'outputSchema'")
        if not isinstance(value, dict) or not value:
            got = "an empty mapping" if value == {} else _describe(value)
            raise self.error(
                f"'outputSchema' must be a mapping of output id to its schema; got {got}",
                "outputSchema",
            )
        schemas: dict[str, StepOutputSchema] = {}
        for output_id, entry in value.items():
            self.identifier(output_id, "outputSchema", "output id")
            path = f"outputSchema.{output_id}"
            if not isinstance(entry, dict):
                raise self.error(
                    f"expected a mapping of {', '.join(_OUTPUT_SCHEMA_KEYS)}; got "
                    f"{_describe(entry)}",
                    path,
                )
            schemas[output_id] = self.step_output(entry, path)
        return schemas

    def step_output(self, entry: Mapping[str, Any], path: str) -> StepOutputSchema:
        for key in entry:
            if key not in _OUTPUT_SCHEMA_KEYS:
                raise self.error(
                    f"unknown key {key!r}; valid keys: {', '.join(_OUTPUT_SCHEMA_KEYS)}", path
                )
        if "schema" not in entry:
            raise self.error("missing required key 'schema' (the output's scope)", path)
        error = entry.get("error", False)
        if not isinstance(error, bool):
            raise self.error(f"expected true or false; got {error!r}", f"{path}.error")
        try:
            return StepOutputSchema(
                schema=parse_scope(_json_defaults(entry["schema"]), path=f"{path}.schema"),
                display=parse_display(entry.get("display"), f"{path}.display"),
                error=error,
            )
        except InvalidSchemaError as exc:
            raise self.error(f"invalid schema: {exc.reason}", _file_path(exc.path)) from None


def _json_defaults(value: Any) -> Any:
    """Return the schema form with every property's ``default`` and ``examples`` as JSON."""
    if isinstance(value, list):
        return [_json_defaults(item) for item in value]
    if not isinstance(value, dict):
        return value
    result = {key: _json_defaults(item) for key, item in value.items()}
    kind = result.get("type")
    if isinstance(kind, dict) and isinstance(kind.get("type_id"), str):
        is_string = kind["type_id"] == "string"
        if "default" in result:
            if result["default"] is None:
                del result["default"]
            else:
                result["default"] = _json_text(result["default"], is_string=is_string)
        if isinstance(result.get("examples"), list):
            result["examples"] = [
                _json_text(item, is_string=is_string) for item in result["examples"]
            ]
    return result


def _json_text(value: Any, *, is_string: bool) -> str:
    if not isinstance(value, str):
        if is_string and isinstance(value, int | float) and not isinstance(value, bool):
            return json.dumps(str(value))
        return json.dumps(value)
    if is_string:
        try:
            decoded = json.loads(value)
        except ValueError:
            decoded = None
        if not isinstance(decoded, str):
            return json.dumps(value)
    return value


_BRACKET: Final = re.compile(r"\[('(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")\]")


def _file_path(schema_path: str) -> str:
    """Return a schema parser's path (``input.objects['R']``) as a file path
    (``input.objects.R``)."""
    return _BRACKET.sub(lambda match: "." + str(ast.literal_eval(match.group(1))), schema_path)


def _tag_path(value: Any) -> str:
    """Return the path of the first engine record inside ``value``."""
    if isinstance(value, Expr | OneOf):
        return value.path
    if isinstance(value, WaitOptional | SoftOptional):
        return value.expr.path
    items = value.values() if isinstance(value, dict) else value
    return next(_tag_path(item) for item in items if not is_literal(item))


def _describe(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, Expr | OneOf | WaitOptional | SoftOptional):
        return "an engine tag"
    names: dict[type, str] = {dict: "a mapping", list: "a list", str: "a string"}
    return names.get(type(value), repr(value))
