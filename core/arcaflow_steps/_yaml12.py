"""YAML 1.2 for every file a user writes: step files, workflow files, input and config files.

PyYAML resolves plain scalars by YAML 1.1 rules: ``yes`` and ``on`` are booleans, ``1:30`` a
sexagesimal integer, ``2024-01-01`` a date, ``0b1`` and ``1_000`` integers. The Go engine's
parser (yaml.v3) and Arcaflow's files follow YAML 1.2, whose *core schema* knows only null
(``null``, ``Null``, ``NULL``, ``~``, empty), booleans (``true``/``false`` in three casings),
integers (decimal, ``0o17``, ``0x1F``) and floats (``1.5``, ``1e-1``, ``.inf``, ``.nan``);
everything else is a string. :class:`Yaml12Loader` replaces PyYAML's implicit resolvers by
those, on libyaml's parser when PyYAML was built with it.

Theory of operation: :func:`compose_yaml` checks the limits of ``_yaml_limits`` and composes
the one document into nodes; :class:`DataBuilder` turns the nodes into plain data (dicts,
lists, ``str``, ``int``, ``float``, ``bool``, ``None``). Building from nodes rather than with
PyYAML's constructors keeps the key path of every value at hand: duplicate keys and tags outside
the core schema are refused with their line, column and path. The workflow loader extends the
builder with the engine tags (``!expr`` …). Merge keys (``<<: *defaults``), a YAML 1.1 feature
that yaml.v3 keeps too, still merge. Every problem is a :class:`YamlError`; each reader words
it for its own files. :class:`Yaml12SafeDumper` writes YAML that reads back the same under 1.1
and 1.2 (it quotes ``'1e3'`` as well as ``'yes'``).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from typing import Any, Final

import yaml

from ._yaml_limits import check_yaml_limits

__all__ = [
    "CORE_TAGS",
    "DataBuilder",
    "Path",
    "Yaml12Loader",
    "Yaml12SafeDumper",
    "YamlError",
    "compose_yaml",
    "format_path",
    "short_tag",
]

#: Where a value sits in its document: mapping keys and list indexes, outermost first.
Path = tuple[Any, ...]

_CORE: Final = "tag:yaml.org,2002:"
_STR: Final = _CORE + "str"
_NULL: Final = _CORE + "null"
_BOOL: Final = _CORE + "bool"
_INT: Final = _CORE + "int"
_FLOAT: Final = _CORE + "float"
_MAP: Final = _CORE + "map"
_SEQ: Final = _CORE + "seq"
_MERGE: Final = _CORE + "merge"

#: The tags of the core schema, as users write them.
CORE_TAGS: Final = ("!!bool", "!!float", "!!int", "!!map", "!!null", "!!seq", "!!str")

_NULL_TEXT: Final = re.compile(r"(?:~|null|Null|NULL|)\Z")
_BOOL_TEXT: Final = re.compile(r"(?:true|True|TRUE|false|False|FALSE)\Z")
_INT_TEXT: Final = re.compile(r"(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)\Z")
_FLOAT_TEXT: Final = re.compile(
    r"(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))\Z"
)
_MERGE_TEXT: Final = re.compile(r"<<\Z")

# libyaml's parser when PyYAML was built with it: several times faster on big files.
_Parser: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class Yaml12Loader(_Parser):  # type: ignore[valid-type,misc]
    """A safe loader whose plain scalars resolve by the YAML 1.2 core schema.

    Thread safety: not thread-safe; one instance per document (as every PyYAML loader).
    """


_Emitter: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class Yaml12SafeDumper(_Emitter):  # type: ignore[valid-type,misc]
    """A safe dumper whose output reads back the same under YAML 1.1 and YAML 1.2.

    PyYAML quotes a string only when YAML 1.1 would read it as something else (``yes``,
    ``1:30``); this one also quotes what YAML 1.2 would (``1e3``, ``0o17``), so our own files,
    the Go engine and any 1.2 reader see the string that was printed.

    Thread safety: not thread-safe; one instance per document (as every PyYAML dumper).
    """


Yaml12Loader.yaml_implicit_resolvers = {}
for _tag, _pattern, _first in (
    (_NULL, _NULL_TEXT, ["~", "n", "N", ""]),
    (_BOOL, _BOOL_TEXT, list("tTfF")),
    (_INT, _INT_TEXT, list("-+0123456789")),
    (_FLOAT, _FLOAT_TEXT, list("-+.0123456789")),
    (_MERGE, _MERGE_TEXT, ["<"]),
):
    Yaml12Loader.add_implicit_resolver(_tag, _pattern, _first)
    Yaml12SafeDumper.add_implicit_resolver(_tag, _pattern, _first)  # after YAML 1.1's


class YamlError(Exception):
    """What is wrong with a YAML document, where: 1-based line and column, and key path."""

    def __init__(self, problem: str, *, mark: yaml.Mark | None = None, path: Path = ()) -> None:
        self.problem = problem
        self.line: int | None = None if mark is None else mark.line + 1
        self.column: int | None = None if mark is None else mark.column + 1
        self.path = path
        super().__init__(problem)

    @property
    def location(self) -> str:
        """``line L, column C``, or ``""`` when the position is unknown."""
        return "" if self.line is None else f"line {self.line}, column {self.column}"


def short_tag(tag: str) -> str:
    """Return the tag as users write it: ``!!int`` for ``tag:yaml.org,2002:int``."""
    return "!!" + tag.removeprefix(_CORE) if tag.startswith(_CORE) else tag


def format_path(path: Iterable[Any]) -> str:
    """Return the path as the file's keys joined with dots, indexes as ``[i]``:
    ``outputs.success.items[2]``."""
    text = ""
    for part in path:
        if isinstance(part, int) and not isinstance(part, bool):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def compose_yaml(text: str) -> yaml.Node | None:
    """Return the one document of ``text`` as a node tree (``None`` when there is none).

    Raises:
        YamlError: a syntax error, a second document, or the limits of ``_yaml_limits``.
    """
    try:
        check_yaml_limits(text, Yaml12Loader)
        loader = Yaml12Loader(text)
        try:
            node: yaml.Node | None = loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        if exc.context == "expected a single document in the stream":
            raise YamlError(
                "a second document starts here; the file must hold exactly one",
                mark=exc.problem_mark,
            ) from None
        what = exc.problem or exc.context or "cannot be parsed"
        raise YamlError(what, mark=exc.problem_mark or exc.context_mark) from None
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow
        line = text.count("\n", 0, exc.position)
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1)
        mark = yaml.Mark("", exc.position, line, column, None, 0)
        raise YamlError(
            f"unacceptable character #x{exc.character:04x}: {exc.reason}", mark=mark
        ) from None
    return node


def _int(text: str) -> int:
    if text[:2] in ("0o", "0x"):
        value = int(text[2:], 8 if text[1] == "o" else 16)
        # Python reads these at any size but refuses to print them past its digit limit (a
        # traceback wherever the value is shown): refuse them here as decimal ones are.
        limit = sys.get_int_max_str_digits()
        if limit and abs(value) >= 10**limit:
            raise _IntegerTooLargeError(
                f"the integer {text[:12]}… has more than {limit} decimal digits, "
                "more than can be read"
            )
        return value
    return int(text)


class _IntegerTooLargeError(ValueError):
    """A hexadecimal or octal integer too large to be printed in decimal."""


def _float(text: str) -> float:
    lowered = text.lower()
    return float(lowered.replace(".", "") if lowered.endswith((".inf", ".nan")) else text)


#: core tag -> (the text it accepts, its value, what it is for messages)
_SCALARS: Final[dict[str, tuple[re.Pattern[str], Any, str]]] = {
    _STR: (re.compile(r".*", re.DOTALL), str, "a string"),
    _MERGE: (re.compile(r".*", re.DOTALL), str, "a string"),  # ``<<`` merges only as a key
    _NULL: (_NULL_TEXT, lambda text: None, "a null"),
    _BOOL: (_BOOL_TEXT, lambda text: text[0] in "tT", "a boolean"),
    _INT: (_INT_TEXT, _int, "an integer"),
    _FLOAT: (_FLOAT_TEXT, _float, "a float"),
}


def _scalar(node: yaml.ScalarNode, path: Path) -> Any:
    """Return the value of a scalar with a core tag (resolved or written)."""
    pattern, convert, kind = _SCALARS[node.tag]
    text = node.value
    if not pattern.match(text):
        raise YamlError(
            f"{text!r} is not {kind} ({short_tag(node.tag)} in YAML 1.2)",
            mark=node.start_mark,
            path=path,
        )
    try:
        return convert(text)
    except _IntegerTooLargeError as exc:
        raise YamlError(str(exc), mark=node.start_mark, path=path) from None
    except ValueError:  # an integer past Python's limit on digits
        raise YamlError(
            f"the integer has {len(text)} digits, more than can be read",
            mark=node.start_mark,
            path=path,
        ) from None


_SCALAR_TAGS: Final = frozenset(_SCALARS)
_KIND: Final = {
    yaml.ScalarNode: "a scalar",
    yaml.MappingNode: "a mapping",
    yaml.SequenceNode: "a list",
}


class DataBuilder:
    """Build plain data from composed nodes, by the core schema, refusing duplicate keys.

    Subclasses extend :meth:`build_tagged` (tags outside the core schema), :meth:`build_key`
    and :meth:`build_value` (a mapping's values). ``extra_tags`` lists the tags a subclass
    accepts, for the message that names the valid tags.

    Thread safety: not thread-safe; one instance per document.
    """

    extra_tags: tuple[str, ...] = ()

    def __init__(self, *, record_positions: bool = False, record_texts: bool = False) -> None:
        # The collections being built: an alias to one of them would build forever.
        self._open: set[int] = set()
        #: With ``record_positions``: the key path of every mapping entry and list item ->
        #: the 1-based (line, column) where it starts (a mapping entry: at its key).
        self.positions: dict[Path, tuple[int, int]] | None = {} if record_positions else None
        #: With ``record_texts``: the key path of every boolean, integer and float value ->
        #: its text as written (``0x10``, ``1.50``, ``TRUE``), which a string field takes.
        self.scalar_texts: dict[Path, str] | None = {} if record_texts else None

    def build(self, node: yaml.Node, path: Path) -> Any:
        """Return the data of ``node``, found at ``path``."""
        tag = node.tag
        if isinstance(node, yaml.ScalarNode):
            if tag in _SCALAR_TAGS:
                value = _scalar(node, path)
                if self.scalar_texts is not None and isinstance(value, bool | int | float):
                    self.scalar_texts[path] = node.value
                return value
            return self.build_tagged(node, path)
        if id(node) in self._open:
            raise YamlError(
                "an alias inside this anchored value names the value itself; a value cannot "
                "contain itself",
                mark=node.start_mark,
                path=path,
            )
        self._open.add(id(node))
        try:
            if isinstance(node, yaml.MappingNode) and tag == _MAP:
                return self.build_mapping(node, path)
            if isinstance(node, yaml.SequenceNode) and tag == _SEQ:
                return [
                    self._build_item(item, (*path, index)) for index, item in enumerate(node.value)
                ]
            return self.build_tagged(node, path)
        finally:
            self._open.discard(id(node))

    def build_tagged(self, node: yaml.Node, path: Path) -> Any:
        """Return the data of a node with a tag :meth:`build` does not know; here: refuse it."""
        raise self.tag_problem(node, path)

    def tag_problem(self, node: yaml.Node, path: Path) -> YamlError:
        """Return the problem of a tag that cannot be used on ``node``."""
        tag = short_tag(node.tag)
        if tag in CORE_TAGS:
            problem = f"{tag} cannot tag {_KIND[type(node)]}"
        else:
            valid = ", ".join((*sorted(self.extra_tags), *CORE_TAGS))
            problem = f"unknown tag {tag!r}; valid tags: {valid}"
        return YamlError(problem, mark=node.start_mark, path=path)

    def build_key(self, node: yaml.Node, path: Path) -> Any:
        """Return a mapping key: any scalar (typed as a value), never a list or mapping."""
        if not isinstance(node, yaml.ScalarNode):
            raise YamlError(
                f"{_KIND[type(node)]} cannot be a mapping key", mark=node.start_mark, path=path
            )
        if node.tag in _SCALAR_TAGS:
            return _scalar(node, path)  # a key's text is not its value's
        return self.build(node, path)

    def build_value(self, node: yaml.Node, path: Path) -> Any:
        """Return the data of a mapping's value."""
        return self.build(node, path)

    def build_mapping(self, node: yaml.MappingNode, path: Path) -> dict[Any, Any]:
        """Return a mapping's data; merge keys (``<<``) give defaults for the other keys."""
        result: dict[Any, Any] = {}
        merged: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                self._merge(value_node, path, merged)
                continue
            key = self.build_key(key_node, path)
            if key in result:
                raise YamlError(f"duplicate key {key!r}", mark=key_node.start_mark, path=path)
            if self.positions is not None:
                self._record((*path, key), key_node)
            result[key] = self.build_value(value_node, (*path, key))
        if merged:
            return {**merged, **result}
        return result

    def _build_item(self, node: yaml.Node, path: Path) -> Any:
        if self.positions is not None:
            self._record(path, node)
        return self.build(node, path)

    def _record(self, path: Path, start: yaml.Node) -> None:
        assert self.positions is not None
        mark = start.start_mark
        self.positions[path] = (mark.line + 1, mark.column + 1)

    def _merge(self, node: yaml.Node, path: Path, merged: dict[Any, Any]) -> None:
        sources = node.value if isinstance(node, yaml.SequenceNode) else [node]
        for source in sources:
            if not isinstance(source, yaml.MappingNode) or source.tag != _MAP:
                raise YamlError(
                    "a merge key (<<) needs a mapping or a list of mappings",
                    mark=source.start_mark,
                    path=path,
                )
            for key, value in self.build(source, path).items():
                merged.setdefault(key, value)  # the first mapping that has the key wins
