"""The stdout document of ``arcaflow-steps workflow``: byte for byte the Go engine's.

The Go engine 0.21.0 turns ``{output_id, output_data}`` into a yaml.v3 node tree (keys sorted,
floats always with a decimal point and never an exponent) and lets yaml.v3 3.0.1 write it with
a 4-space indent. This module is a port of that writer for plain data: the block mapping and
sequence layout of libyaml's emitter as yaml.v3 changed it (an item inside a sequence is
indented 2 past its ``-``, everything else to the next multiple of 4; empty collections are
``{}``/``[]``), and its choice of scalar style (:mod:`._go_yaml_scalars`).

Deliberate differences (docs/workflow-differences.md), each so that what is printed reads back
as exactly the data that was printed:

- a string is also quoted when a YAML 1.1 reader (PyYAML's ``safe_load``) or our YAML 1.2
  loader would read its plain form as something else: ``yes``, ``no``, ``on``, ``off``, ``y``,
  ``n``, ``1:30``, ``0b1``, ``1_000``, ``=``; yaml.v3 leaves those bare;
- integer mapping keys (foreach's error output) are printed as YAML integers, sorted by value
  before other keys; the Go engine cannot print such a map at all;
- a literal block scalar that needs an indentation indicator gets the right one (yaml.v3
  always writes 4, which is wrong inside sequences), and one that starts with a line break
  keeps it (yaml.v3 loses it: ``"\na"`` reads back as ``"a"``);
- a string with a line break other than ``\n`` (``\r``, NEL, LS, PS) is double-quoted with
  escapes; yaml.v3 writes LS and PS raw, which YAML 1.1 and 1.2 readers read differently.

An integer outside the 64-bit range is printed with its ``!!int`` tag, as yaml.v3 would.

Thread safety: safe to share (no state outside a call).
"""

from __future__ import annotations

import decimal
import math
from collections.abc import Mapping
from typing import Any, Final

from .._yaml12 import Yaml12SafeDumper
from ._go_yaml_scalars import Style, analyze, double_quoted, go_resolves_to_non_string, is_break

__all__ = ["format_output_document"]

_BEST_INDENT: Final = 4
_MAX_SIMPLE_KEY: Final = 128
_INT64: Final = (-(2**63), 2**64 - 1)  # yaml.v3 reads up to uint64 as an integer

#: YAML 1.1's booleans that PyYAML does not resolve but other 1.1 readers do.
_YAML11_EXTRA: Final = frozenset(("y", "Y", "n", "N"))
_OTHER_BREAKS: Final = frozenset("\r\x85\u2028\u2029")


def _readers_resolve(text: str) -> bool:
    """Whether PyYAML (YAML 1.1) or our YAML 1.2 loader reads plain ``text`` as a non-string."""
    if text in _YAML11_EXTRA:
        return True
    resolvers = Yaml12SafeDumper.yaml_implicit_resolvers
    for tag, pattern in resolvers.get(text[:1] if text else "", []):
        if tag != "tag:yaml.org,2002:str" and pattern.match(text):
            return True
    return False


def format_output_document(output_id: str, output_data: Any) -> str:
    """Return the Go engine's stdout document for an output: ``output_data`` then ``output_id``.

    Raises:
        TypeError: the data holds something other than mappings, lists, strings, numbers,
            booleans and null.
    """
    writer = _Writer()
    writer.node({"output_data": output_data, "output_id": output_id}, root=True)
    writer.write_indent()  # the document end
    return "".join(writer.out)


def _float_text(value: float) -> str:
    if math.isnan(value):
        return ".nan"
    if math.isinf(value):
        return ".inf" if value > 0 else "-.inf"
    # Go's strconv.FormatFloat(v, 'f', -1, 64): the shortest digits, never an exponent.
    text = format(decimal.Decimal(repr(value)), "f")
    return text if "." in text else text + ".0"


def _sort_key(key: Any) -> tuple[int, Any]:
    if isinstance(key, int) and not isinstance(key, bool):
        return (0, key)
    if isinstance(key, str):
        return (1, key)
    return (2, _scalar_text(key)[0])


def _scalar_text(value: Any) -> tuple[str, bool]:
    """Return a non-string scalar's text and whether yaml.v3 would keep its tag."""
    if value is None:
        return "null", False
    if isinstance(value, bool):
        return ("true" if value else "false"), False
    if isinstance(value, int):
        text = str(int(value))
        return text, not _INT64[0] <= value <= _INT64[1]
    if isinstance(value, float):
        return _float_text(value), False
    raise TypeError(f"cannot print a value of type {type(value).__name__} in the output document")


class _Writer:
    """The parts of libyaml's emitter (as in yaml.v3) that block-style plain data uses."""

    def __init__(self) -> None:
        self.out: list[str] = []
        self.column = 0
        self.whitespace = True
        self.indention = True
        self.indent = -1
        self.indents: list[int] = []

    # -- low level (put, put_break, write_indent, write_indicator) ------------------------

    def put(self, text: str) -> None:
        self.out.append(text)
        self.column += len(text)

    def put_break(self) -> None:
        self.out.append("\n")
        self.column = 0
        self.indention = True

    def write_indent(self) -> None:
        indent = max(self.indent, 0)
        if (
            not self.indention
            or self.column > indent
            or (self.column == indent and not self.whitespace)
        ):
            self.put_break()
        if self.column < indent:
            self.put(" " * (indent - self.column))
        self.whitespace = True

    def write_indicator(
        self, indicator: str, *, need_whitespace: bool, is_whitespace: bool, is_indention: bool
    ) -> None:
        if need_whitespace and not self.whitespace:
            self.put(" ")
        self.put(indicator)
        self.whitespace = is_whitespace
        self.indention = self.indention and is_indention

    def increase_indent(self, *, flow: bool, in_sequence: bool) -> None:
        self.indents.append(self.indent)
        if self.indent < 0:
            self.indent = _BEST_INDENT if flow else 0
        elif in_sequence:
            self.indent += 2  # yaml.v3: the first indent inside a sequence skips "- "
        else:
            self.indent = _BEST_INDENT * ((self.indent + _BEST_INDENT) // _BEST_INDENT)

    def decrease_indent(self) -> None:
        self.indent = self.indents.pop()

    # -- nodes ------------------------------------------------------------------------------

    def node(
        self, value: Any, *, root: bool = False, in_sequence: bool = False, simple_key: bool = False
    ) -> None:
        if isinstance(value, Mapping):
            if not value:
                self.empty("{", "}", in_sequence=in_sequence)
            else:
                self.mapping(value, in_sequence=in_sequence)
        elif isinstance(value, list | tuple):
            if not value:
                self.empty("[", "]", in_sequence=in_sequence)
            else:
                self.sequence(value, in_sequence=in_sequence)
        else:
            self.scalar(value, in_sequence=in_sequence, simple_key=simple_key)

    def empty(self, start: str, end: str, *, in_sequence: bool) -> None:
        self.write_indicator(start, need_whitespace=True, is_whitespace=True, is_indention=False)
        self.increase_indent(flow=True, in_sequence=in_sequence)
        self.decrease_indent()
        if self.column == 0:
            self.write_indent()
        self.write_indicator(end, need_whitespace=False, is_whitespace=False, is_indention=False)

    def sequence(self, items: list[Any] | tuple[Any, ...], *, in_sequence: bool) -> None:
        self.increase_indent(flow=False, in_sequence=in_sequence)
        for item in items:
            self.write_indent()
            self.write_indicator("-", need_whitespace=True, is_whitespace=False, is_indention=True)
            self.node(item, in_sequence=True)
        self.decrease_indent()

    def mapping(self, entries: Mapping[Any, Any], *, in_sequence: bool) -> None:
        self.increase_indent(flow=False, in_sequence=in_sequence)
        keys = entries.keys()
        ordered = sorted(keys) if all(type(key) is str for key in keys) else None
        for key in ordered if ordered is not None else sorted(keys, key=_sort_key):
            self.write_indent()
            if self.is_simple_key(key):
                self.node(key, simple_key=True)
                self.write_indicator(
                    ":", need_whitespace=False, is_whitespace=False, is_indention=False
                )
            else:
                self.write_indicator(
                    "?", need_whitespace=True, is_whitespace=False, is_indention=True
                )
                self.node(key)
                self.write_indent()
                self.write_indicator(
                    ":", need_whitespace=True, is_whitespace=False, is_indention=True
                )
            self.node(entries[key])
        self.decrease_indent()

    def is_simple_key(self, key: Any) -> bool:
        if not isinstance(key, str):
            return True
        if any(is_break(char) for char in key):
            return False
        # yaml.v3 counts the bytes of the value (and of a tag, which a string key never has)
        return len(key.encode("utf-8", "surrogatepass")) <= _MAX_SIMPLE_KEY

    def scalar(self, value: Any, *, in_sequence: bool, simple_key: bool) -> None:
        if isinstance(value, str):
            text, tag = str.__str__(value), None
            style = self.string_style(text, simple_key=simple_key)
        else:
            text, keep_tag = _scalar_text(value)
            tag = "!!int" if keep_tag else None
            style = Style.PLAIN
        parent_indent = self.indent
        if tag is not None:
            self.write_indicator(tag, need_whitespace=True, is_whitespace=False, is_indention=False)
        self.increase_indent(flow=True, in_sequence=in_sequence)
        if style == Style.PLAIN:
            if text and not self.whitespace:
                self.put(" ")
            self.put(text)
            self.whitespace = self.indention = False
        elif style == Style.SINGLE:
            self.write_indicator("'", need_whitespace=True, is_whitespace=False, is_indention=False)
            self.put(text.replace("'", "''"))
            self.write_indicator(
                "'", need_whitespace=False, is_whitespace=False, is_indention=False
            )
        elif style == Style.DOUBLE:
            self.write_indicator(
                double_quoted(text), need_whitespace=True, is_whitespace=False, is_indention=False
            )
        else:
            self.literal(text, parent_indent)
        self.decrease_indent()

    def string_style(self, text: str, *, simple_key: bool) -> str:
        """yaml.v3's choice for a ``!!str`` node: ``encoder.node`` then ``select_scalar_style``."""
        analysis = analyze(text)
        if any(char in _OTHER_BREAKS for char in text):
            # yaml.v3 writes these raw (and indents after them inside quotes); YAML 1.2 does
            # not read them as line breaks, YAML 1.1 does: escape them.
            return Style.DOUBLE
        if "\n" in text:
            style = Style.LITERAL
        elif go_resolves_to_non_string(text) or _readers_resolve(text):
            style = Style.DOUBLE
        else:
            style = Style.PLAIN
        if simple_key and analysis.multiline:
            style = Style.DOUBLE
        if style == Style.PLAIN and (not analysis.block_plain_allowed or (not text and simple_key)):
            style = Style.SINGLE
        if style == Style.SINGLE and not analysis.single_quoted_allowed:
            style = Style.DOUBLE
        if style == Style.LITERAL and (not analysis.block_allowed or simple_key):
            style = Style.DOUBLE
        return style

    def literal(self, text: str, parent_indent: int) -> None:
        self.write_indicator("|", need_whitespace=True, is_whitespace=False, is_indention=False)
        if text[0] == " " or is_break(text[0]):
            # yaml.v3 writes its best indent (4); the indicator is relative to the parent
            hint = self.indent - max(parent_indent, 0)
            self.write_indicator(
                str(hint), need_whitespace=False, is_whitespace=False, is_indention=False
            )
        chomp = ""
        if not is_break(text[-1]):
            chomp = "-"
        elif len(text) == 1 or is_break(text[-2]):
            chomp = "+"
        if chomp:
            self.write_indicator(
                chomp, need_whitespace=False, is_whitespace=False, is_indention=False
            )
        if is_break(text[0]):
            # libyaml ends the header line here; yaml.v3 dropped that, and a leading line
            # break then only ends the header: "\na" came out as "a".
            self.put_break()
        self.whitespace = True
        breaks = True
        for char in text:
            if is_break(char):
                if char == "\n":
                    self.put_break()
                else:
                    self.out.append(char)
                    self.column = 0
                    self.indention = True
                breaks = True
            else:
                if breaks:
                    self.write_indent()
                self.put(char)
                self.indention = False
                breaks = False
