"""Loading workflow files and the data files beside them: YAML 1.2 with the engine tags.

Both loaders read YAML 1.2's core schema (``arcaflow_steps._yaml12``: ``yes``, ``on``, ``1:30``
and dates are strings, ``1e-1`` a float, ``0x10`` an int), one document per file, no duplicate
keys, aliases only within ``_yaml_limits``' bounds. :func:`load_data_yaml` (input, config and
step-like files) knows no other tag. :func:`load_workflow_yaml` turns the engine tags into the
template records of ``_template``:

- ``!expr TEXT`` on a scalar: :class:`Expr`, compiled here (a syntax error names its path);
- ``!oneof`` on a mapping of exactly ``discriminator`` and ``one_of``: :class:`OneOf`;
- ``!ordisabled PATH``: the :class:`OneOf` it abbreviates, as the Go engine expands it;
- ``!wait-optional`` / ``!soft-optional`` as a mapping's value: :class:`WaitOptional` /
  :class:`SoftOptional`.

Mapping keys of a workflow file are strings: a plain scalar key is its text as written
(``1: x`` has the key ``"1"``, as in the Go engine); a list or mapping as a key is an error.
Every problem is an :class:`InvalidWorkflowError` with the key path (``steps.b.input.name``,
``outputs.success.items[2]``) and the line and column.
"""

from __future__ import annotations

import re
from typing import Any, Final

import yaml

from .._yaml12 import DataBuilder, Path, YamlError, compose_yaml, format_path
from ._errors import ExpressionSyntaxError, InvalidWorkflowError, quote_expression
from ._expressions import parse_expression
from ._expressions._ast import Expression
from ._positions import SourcePositions
from ._template import Expr, OneOf, SoftOptional, WaitOptional

__all__ = [
    "load_data_yaml",
    "load_data_yaml_texts",
    "load_workflow_yaml",
    "load_workflow_yaml_located",
]

_EXPR: Final = "!expr"
_ONEOF: Final = "!oneof"
_ORDISABLED: Final = "!ordisabled"
_WAIT_OPTIONAL: Final = "!wait-optional"
_SOFT_OPTIONAL: Final = "!soft-optional"
_OPTIONAL: Final = {_WAIT_OPTIONAL: WaitOptional, _SOFT_OPTIONAL: SoftOptional}

#: The Go engine's pattern for ``!ordisabled``'s text: group 1 is the step's path.
_STEP_PATH: Final = re.compile(r"((?:\$.)?steps\.[^.]+)(\..+)")
_ONEOF_KEYS: Final = ("discriminator", "one_of")


def load_data_yaml(text: str, source: str) -> Any:
    """Return the data of a YAML 1.2 data file (input, config): no tags beyond the core ones.

    Mapping keys keep their YAML types (``1: x`` has the int key 1). ``None`` for an empty file.

    Raises:
        InvalidWorkflowError: the text is not one YAML document of plain data.
    """
    return _load(text, source, DataBuilder())


def load_workflow_yaml(text: str, source: str) -> Any:
    """Return a workflow file's YAML as a template: plain data with the engine tags' records.

    ``None`` for a file without a document (empty, or only comments).

    Raises:
        InvalidWorkflowError: a YAML problem, a misplaced or malformed engine tag, or an
            expression that does not parse; the error names the path, line and column.
    """
    return _load(text, source, _WorkflowBuilder())


def load_workflow_yaml_located(text: str, source: str) -> tuple[Any, SourcePositions]:
    """Return what :func:`load_workflow_yaml` returns and where each of its values starts.

    Raises:
        InvalidWorkflowError: as :func:`load_workflow_yaml`.
    """
    builder = _WorkflowBuilder(record_positions=True, record_texts=True)
    data = _load(text, source, builder)
    return data, SourcePositions(builder.positions or {}, builder.scalar_texts or {})


def load_data_yaml_texts(text: str, source: str) -> tuple[Any, dict[str, str]]:
    """Return what :func:`load_data_yaml` returns and the text every boolean, integer and float
    was written as, by formatted key path (``items[0].name``).

    Raises:
        InvalidWorkflowError: as :func:`load_data_yaml`.
    """
    builder = DataBuilder(record_texts=True)
    data = _load(text, source, builder)
    return data, SourcePositions(scalar_texts=builder.scalar_texts or {}).texts()


def _load(text: str, source: str, builder: DataBuilder) -> Any:
    try:
        node = compose_yaml(text)
    except YamlError as exc:  # worded as step files word it
        where = f" at {exc.location}" if exc.location else ""
        raise InvalidWorkflowError(f"invalid YAML{where}: {exc.problem}", source=source) from None
    try:
        return None if node is None else builder.build(node, ())
    except YamlError as exc:
        raise InvalidWorkflowError(
            exc.problem,
            path=format_path(exc.path),
            source=source,
            line=exc.line,
            column=exc.column,
        ) from None


class _WorkflowBuilder(DataBuilder):
    """The data builder with the engine tags and string keys of workflow files.

    Thread safety: not thread-safe; one instance per file (it caches compiled expressions).
    """

    extra_tags = (_EXPR, _ONEOF, _ORDISABLED, _SOFT_OPTIONAL, _WAIT_OPTIONAL)

    def __init__(self, *, record_positions: bool = False, record_texts: bool = False) -> None:
        super().__init__(record_positions=record_positions, record_texts=record_texts)
        # Expression text -> its tree: generated workflows repeat the same expressions.
        self._compiled: dict[str, Expression] = {}

    def build_key(self, node: yaml.Node, path: Path) -> Any:
        if isinstance(node, yaml.ScalarNode) and not node.tag.startswith("!"):
            return node.value  # the text as written, as the Go engine keys its maps
        if isinstance(node, yaml.ScalarNode):
            problem = f"the tag {node.tag} cannot be used on a mapping key"
        else:
            kind = "a mapping" if isinstance(node, yaml.MappingNode) else "a list"
            problem = f"{kind} cannot be a mapping key"
        raise YamlError(problem, mark=node.start_mark, path=path)

    def build_value(self, node: yaml.Node, path: Path) -> Any:
        optional = _OPTIONAL.get(node.tag)
        if optional is not None:
            return optional(self._expr(node, path))
        return self.build(node, path)

    def build_tagged(self, node: yaml.Node, path: Path) -> Any:
        tag = node.tag
        if tag == _EXPR:
            return self._expr(node, path)
        if tag == _ONEOF:
            return self._oneof(node, path)
        if tag == _ORDISABLED:
            return self._ordisabled(node, path)
        if tag in _OPTIONAL:
            raise YamlError(
                f"{tag} is only allowed as the value of a mapping key (it makes that key optional)",
                mark=node.start_mark,
                path=path,
            )
        raise self.tag_problem(node, path)

    def _text(self, node: yaml.Node, path: Path) -> str:
        """Return the trimmed text of the scalar an engine tag needs."""
        if not isinstance(node, yaml.ScalarNode):
            kind = "a mapping" if isinstance(node, yaml.MappingNode) else "a list"
            raise YamlError(
                f"{node.tag} needs an expression (a string), not {kind}",
                mark=node.start_mark,
                path=path,
            )
        text: str = node.value.strip()
        if not text:
            raise YamlError(
                f"{node.tag} is empty; write an expression after it",
                mark=node.start_mark,
                path=path,
            )
        return text

    def _compile(self, text: str, node: yaml.Node, path: Path) -> Expression:
        expression = self._compiled.get(text)
        if expression is None:
            try:
                expression = parse_expression(text)
            except ExpressionSyntaxError as exc:
                raise YamlError(
                    f"invalid expression {quote_expression(text)}: {exc.reason}",
                    mark=node.start_mark,
                    path=path,
                ) from None
            self._compiled[text] = expression
        return expression

    def _expr(self, node: yaml.Node, path: Path) -> Expr:
        text = self._text(node, path)
        return Expr(self._compile(text, node, path), format_path(path))

    def _oneof(self, node: yaml.Node, path: Path) -> OneOf:
        if not isinstance(node, yaml.MappingNode):
            raise YamlError(
                f"{_ONEOF} needs a mapping with 'discriminator' and 'one_of', not "
                f"{'a list' if isinstance(node, yaml.SequenceNode) else 'a scalar'}",
                mark=node.start_mark,
                path=path,
            )
        fields: dict[str, yaml.Node] = {}
        for key_node, value_node in node.value:
            key = self.build_key(key_node, path)
            if key not in _ONEOF_KEYS:
                raise YamlError(
                    f"unknown key {key!r} in {_ONEOF}; valid keys: 'discriminator', 'one_of'",
                    mark=key_node.start_mark,
                    path=path,
                )
            if key in fields:
                raise YamlError(f"duplicate key {key!r}", mark=key_node.start_mark, path=path)
            fields[key] = value_node
        for key in _ONEOF_KEYS:
            if key not in fields:
                raise YamlError(f"{_ONEOF} needs the key {key!r}", mark=node.start_mark, path=path)
        return OneOf(
            discriminator=self._discriminator(fields["discriminator"], (*path, "discriminator")),
            options=self._options(fields["one_of"], (*path, "one_of")),
            path=format_path(path),
        )

    def _discriminator(self, node: yaml.Node, path: Path) -> str:
        value = self.build(node, path)
        if not isinstance(value, str) or not value:
            got = "an empty string" if value == "" else _describe(value)
            raise YamlError(
                f"the discriminator of {_ONEOF} must be a non-empty string, got {got}",
                mark=node.start_mark,
                path=path,
            )
        return value

    def _options(self, node: yaml.Node, path: Path) -> tuple[tuple[str, Any], ...]:
        if not isinstance(node, yaml.MappingNode) or node.tag != "tag:yaml.org,2002:map":
            raise YamlError(
                f"'one_of' of {_ONEOF} must be a mapping of option id to its data, got "
                f"{_describe(self.build(node, path))}",
                mark=node.start_mark,
                path=path,
            )
        options: dict[str, Any] = {}
        for key_node, value_node in node.value:
            option_id = self.build_key(key_node, path)
            if option_id in options:
                raise YamlError(f"duplicate key {option_id!r}", mark=key_node.start_mark, path=path)
            if value_node.tag in _OPTIONAL:
                raise YamlError(
                    f"{value_node.tag} cannot be an option of {_ONEOF}; an option is its data",
                    mark=value_node.start_mark,
                    path=(*path, option_id),
                )
            options[option_id] = self.build(value_node, (*path, option_id))
        if not options:
            raise YamlError(
                f"'one_of' of {_ONEOF} needs at least one option", mark=node.start_mark, path=path
            )
        return tuple(options.items())

    def _ordisabled(self, node: yaml.Node, path: Path) -> OneOf:
        text = self._text(node, path)
        enabled = self._compile(text, node, path)
        match = _STEP_PATH.search(text)
        if match is None:
            raise YamlError(
                f"unable to parse expression in {_ORDISABLED}; got {text!r}; must be in format "
                "$.steps.step_name.outputs.output",
                mark=node.start_mark,
                path=path,
            )
        disabled = self._compile(f"{match.group(1)}.disabled.output", node, path)
        where = format_path(path)
        return OneOf(
            discriminator="result",
            options=(("enabled", Expr(enabled, where)), ("disabled", Expr(disabled, where))),
            path=where,
        )


def _describe(value: Any) -> str:
    if value is None:
        return "nothing"
    names: dict[type, str] = {dict: "a mapping", list: "a list", str: "a string"}
    return names.get(type(value), f"{value!r}")
