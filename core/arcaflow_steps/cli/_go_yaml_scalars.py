"""How the Go engine's YAML writer (gopkg.in/yaml.v3 3.0.1) reads and styles a scalar.

:func:`go_resolves_to_non_string` ports yaml.v3's ``resolve()``: the writer quotes a string
when its plain form would read back as something else there. :func:`analyze` ports libyaml's
``yaml_emitter_analyze_scalar`` as yaml.v3 has it, and :func:`select_style` its
``yaml_emitter_select_scalar_style``: which of plain, single-quoted, double-quoted or literal
a string may take. :func:`double_quoted` writes yaml.v3's escapes. Everything works on code
points; yaml.v3 looks at UTF-8 bytes, and the ranges below are its byte tests translated.
"""

from __future__ import annotations

import re
from typing import Final

import attrs

__all__ = [
    "Analysis",
    "Style",
    "analyze",
    "double_quoted",
    "go_resolves_to_non_string",
    "is_break",
]

# --- yaml.v3 resolve() -------------------------------------------------------------------

_RESOLVE_MAP: Final = frozenset(
    (
        *("true", "True", "TRUE", "false", "False", "FALSE", "", "~", "null", "Null", "NULL"),
        *(".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"),
        *("-.inf", "-.Inf", "-.INF", "<<"),
    )
)
#: The first characters yaml.v3's resolve table gives a hint for.
_HINTED: Final = frozenset("+-0123456789yYnNtTfFoO~.")
_YAML_STYLE_FLOAT: Final = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?\Z")
_DOT_FLOAT: Final = re.compile(r"\.[0-9]+([eE][-+]?[0-9]+)?\Z")  # Go ParseFloat on ".5e3"
_DIGITS: Final = {2: "[01]+", 8: "[0-7]+", 10: "[0-9]+", 16: "[0-9a-fA-F]+"}
_INT64: Final = (-(2**63), 2**63 - 1)
_UINT64_MAX: Final = 2**64 - 1
_TIMESTAMP: Final = re.compile(
    r"(?P<y>[0-9]{4})-(?P<mo>[0-9]{1,2})-(?P<d>[0-9]{1,2})"
    r"(?:(?P<sep>[Tt ])(?P<h>[0-9]{1,2}):(?P<mi>[0-9]{1,2}):(?P<s>[0-9]{1,2})"
    r"(?:[.,][0-9]+)?(?P<tz>Z|[-+][0-9]{2}:[0-9]{2})?)?\Z"
)
_MAX_HOUR: Final = 23
_MAX_MINUTE: Final = 59
_MAX_TZ_HOUR: Final = 24
_MAX_TZ_MINUTE: Final = 60


def _go_parse_int(text: str, base: int, *, signed: bool) -> int | None:
    """Go's strconv.ParseInt/ParseUint(text, base, 64): the value, or None on any error."""
    sign = 1
    if text[:1] in ("+", "-"):
        if not signed:
            return None
        sign = -1 if text[0] == "-" else 1
        text = text[1:]
    if base == 0:
        prefix = text[:2].lower()
        if prefix in ("0x", "0o", "0b"):
            base, text = {"0x": 16, "0o": 8, "0b": 2}[prefix], text[2:]
        elif text[:1] == "0" and len(text) > 1:
            base, text = 8, text[1:]
        else:
            base = 10
    if not re.fullmatch(_DIGITS[base], text):
        return None
    value = sign * int(text, base)
    if signed:
        return value if _INT64[0] <= value <= _INT64[1] else None
    return value if value <= _UINT64_MAX else None


def _go_float_ok(text: str) -> bool:
    """Whether Go's ParseFloat reads ``text`` (already in the YAML float syntax) in range."""
    try:
        return abs(float(text)) != float("inf")
    except (ValueError, OverflowError):
        return False


def _days_in_month(year: int, month: int) -> int:
    if month == 2:
        leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
        return 29 if leap else 28
    return 30 if month in (4, 6, 9, 11) else 31


def _go_timestamp(text: str) -> bool:
    """Whether yaml.v3's parseTimestamp accepts ``text`` (Go time.Parse with its 4 layouts)."""
    match = _TIMESTAMP.match(text)
    if match is None:
        return False
    year, month, day = int(match["y"]), int(match["mo"]), int(match["d"])
    if not 1 <= month <= 12 or not 1 <= day <= _days_in_month(year, month):
        return False
    if match["sep"] is None:
        return True
    zone = match["tz"]
    if (zone is None) != (match["sep"] == " "):
        return False  # "2006-1-2 15:4:5" has no zone, the T layouts require one
    if (
        int(match["h"]) > _MAX_HOUR
        or int(match["mi"]) > _MAX_MINUTE
        or int(match["s"]) > _MAX_MINUTE
    ):
        return False
    return (
        zone is None
        or zone == "Z"
        or (int(zone[1:3]) <= _MAX_TZ_HOUR and int(zone[4:6]) <= _MAX_TZ_MINUTE)
    )


def go_resolves_to_non_string(text: str) -> bool:  # noqa: PLR0911 (one per yaml.v3 rule)
    """Return whether yaml.v3 reads the plain scalar ``text`` as anything but a string."""
    first = text[:1]
    if first and first not in _HINTED:
        return False  # yaml.v3 looks nothing up without a hint: "<<" stays a string
    if text in _RESOLVE_MAP:
        return True
    if first == ".":
        return _DOT_FLOAT.match(text) is not None and _go_float_ok(text)
    if not first or first not in "+-0123456789":
        return False
    if _go_timestamp(text):
        return True
    plain = text.replace("_", "")
    if _go_parse_int(plain, 0, signed=True) is not None:
        return True
    if _go_parse_int(plain, 0, signed=False) is not None:
        return True
    if _YAML_STYLE_FLOAT.match(plain) and _go_float_ok(plain):
        return True
    for prefix, base in (("0b", 2), ("0o", 8)):
        if plain.startswith(prefix):
            rest = plain[2:]
            return (
                _go_parse_int(rest, base, signed=True) is not None
                or _go_parse_int(rest, base, signed=False) is not None
            )
        if plain.startswith("-" + prefix):
            return _go_parse_int("-" + plain[3:], base, signed=True) is not None
    return False


# --- libyaml's scalar analysis, as in yaml.v3 --------------------------------------------

_BREAKS: Final = frozenset("\r\n\x85\u2028\u2029")


def is_break(char: str) -> bool:
    """Return whether libyaml counts ``char`` as a line break."""
    return char in _BREAKS


def _is_printable(char: str) -> bool:
    code = ord(char)
    return (
        code == 0x0A
        or 0x20 <= code <= 0x7E
        or 0xA0 <= code <= 0xD7FF
        or (0xE000 <= code <= 0xFFFD and code != 0xFEFF)
    )


class Style:
    """The scalar styles of libyaml."""

    PLAIN: Final = "plain"
    SINGLE: Final = "single"
    DOUBLE: Final = "double"
    LITERAL: Final = "literal"


@attrs.frozen
class Analysis:
    """What libyaml's ``analyze_scalar`` finds out about a scalar's text."""

    multiline: bool
    block_plain_allowed: bool
    single_quoted_allowed: bool
    block_allowed: bool


_FIRST_INDICATORS: Final = frozenset("#,[]{}&*!|>'\"%@`")


def analyze(value: str) -> Analysis:  # noqa: PLR0912 (a port of one libyaml function)
    """Return libyaml's analysis of ``value`` (block context; flow is never used here)."""
    if not value:
        return Analysis(
            multiline=False,
            block_plain_allowed=True,
            single_quoted_allowed=True,
            block_allowed=False,
        )
    block_indicators = value.startswith(("---", "..."))
    line_breaks = special = tabs = False
    leading_space = leading_break = trailing_space = trailing_break = False
    break_space = space_break = False
    preceded_by_whitespace = True
    previous_space = previous_break = False
    last = len(value) - 1
    for index, char in enumerate(value):
        followed_by_whitespace = index == last or value[index + 1] in " \t"
        if index == 0:
            if char in _FIRST_INDICATORS or (char in "?:-" and followed_by_whitespace):
                block_indicators = True
        elif (char == ":" and followed_by_whitespace) or (char == "#" and preceded_by_whitespace):
            block_indicators = True
        if char == "\t":
            tabs = True
        elif not _is_printable(char):
            special = True
        if char == " ":
            leading_space = leading_space or index == 0
            trailing_space = index == last
            break_space = break_space or previous_break
            previous_space, previous_break = True, False
        elif char in _BREAKS:
            line_breaks = True
            leading_break = leading_break or index == 0
            trailing_break = index == last
            space_break = space_break or previous_space
            previous_space, previous_break = False, True
        else:
            previous_space = previous_break = False
        preceded_by_whitespace = char in " \t\0" or char in _BREAKS
    block_plain = single = block = True
    if leading_space or leading_break or trailing_space or trailing_break:
        block_plain = False
    if trailing_space:
        block = False
    if break_space:
        block_plain = single = False
    if space_break or tabs or special:
        block_plain = single = False
    if space_break or special:
        block = False
    if line_breaks or block_indicators:
        block_plain = False
    return Analysis(
        multiline=line_breaks,
        block_plain_allowed=block_plain,
        single_quoted_allowed=single,
        block_allowed=block,
    )


_ESCAPES: Final = {
    0x00: "0",
    0x07: "a",
    0x08: "b",
    0x09: "t",
    0x0A: "n",
    0x0B: "v",
    0x0C: "f",
    0x0D: "r",
    0x1B: "e",
    0x22: '"',
    0x5C: "\\",
    0x85: "N",
    0xA0: "_",
    0x2028: "L",
    0x2029: "P",
}


def double_quoted(value: str) -> str:
    """Return ``value`` written as yaml.v3 writes a double-quoted scalar (no line folding)."""
    # yaml.v3's is_bom() looks at the value's first bytes, whatever the position: a value that
    # starts with a byte-order mark has every character escaped.
    escape_all = value.startswith("\ufeff")
    parts = ['"']
    for char in value:
        code = ord(char)
        if escape_all or not _is_printable(char) or char in _BREAKS or char in '"\\':
            short = _ESCAPES.get(code)
            if short is not None:
                parts.append("\\" + short)
            elif code <= 0xFF:
                parts.append(f"\\x{code:02X}")
            elif code <= 0xFFFF:
                parts.append(f"\\u{code:04X}")
            else:
                parts.append(f"\\U{code:08X}")
        else:
            parts.append(char)
    parts.append('"')
    return "".join(parts)
