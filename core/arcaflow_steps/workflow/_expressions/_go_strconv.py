"""Go's ``strconv`` number formatting and parsing, as the built-in functions need them.

The Go engine's ``floatToString``, ``floatToFormattedString``, ``stringToInt`` and
``stringToFloat`` are thin wrappers of ``strconv.FormatFloat``, ``ParseInt`` and
``ParseFloat``; workflows see their exact text, so this module reproduces it.

Theory of operation (``format_float``): Go turns a float into decimal digits ``d`` and a
decimal point position ``dp`` (value = 0.d * 10^dp, no trailing zeros; zero has no digits),
then lays the digits out per format (``fmtE``, ``fmtF``, the ``%e``/``%f`` choice of ``g``).
The digits come from Python: the shortest round-tripping digits are those of ``repr`` (both
languages pick the shortest string closest to the value), fixed precisions round the exact
binary value half to even with :mod:`decimal`, as Go's ``decimal.Round`` and Ryū-fixed do.
``b``, ``x`` and ``X`` work on the binary mantissa and exponent, ported as they are.

Thread safety: safe to share (pure functions; decimal contexts are local).
"""

from __future__ import annotations

import decimal
import math
import re
import struct
from typing import Final

__all__ = ["FLOAT_FORMATS", "format_float", "parse_float", "parse_int"]

#: The format characters ``strconv.FormatFloat`` knows.
FLOAT_FORMATS: Final = "beEfgGxX"
#: A bound on the precision we format (Go has none; 1,100 digits exceed any float64's exact
#: decimal expansion, so more only pads zeros — and a huge one would exhaust memory).
MAX_PRECISION: Final = 10_000

_MANTISSA_BITS: Final = 52
_EXPONENT_BIAS: Final = -1023
_INT64_MIN: Final = -(2**63)
_INT64_MAX: Final = 2**63 - 1


def format_float(value: float, fmt: str, precision: int) -> str:
    """Return ``strconv.FormatFloat(value, fmt, precision, 64)``.

    Raises:
        ValueError: ``fmt`` is not one of ``b e E f g G x X``, or ``precision`` exceeds
            :data:`MAX_PRECISION`.
    """
    if len(fmt) != 1 or fmt not in FLOAT_FORMATS:
        raise ValueError(f"format must be one of {', '.join(FLOAT_FORMATS)}; got {fmt!r}")
    if precision > MAX_PRECISION:
        raise ValueError(f"precision {precision} is above the maximum, {MAX_PRECISION}")
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    negative = math.copysign(1.0, value) < 0
    if fmt == "b":
        return _format_b(value, negative)
    if fmt in "xX":
        return _format_x(value, negative, fmt, precision)
    return ("-" if negative else "") + _format_decimal(abs(value), fmt, precision)


def _format_decimal(value: float, fmt: str, precision: int) -> str:
    """Return the ``e E f g G`` form of ``value`` (≥ 0, finite)."""
    shortest = precision < 0
    if shortest:
        digits, point = _shortest_digits(value)
        if fmt in "eE":
            precision = max(len(digits) - 1, 0)
        elif fmt == "f":
            precision = max(len(digits) - point, 0)
        else:
            precision = len(digits)
    elif fmt in "eE":
        digits, point = _significant_digits(value, precision + 1)
    elif fmt == "f":
        digits, point = _fraction_digits(value, precision)
    else:
        precision = max(precision, 1)
        digits, point = _significant_digits(value, precision)
    if fmt == "f":
        return _layout_f(digits, point, precision)
    if fmt in "eE":
        return _layout_e(digits, point, precision, fmt)
    return _layout_g(digits, point, precision, fmt, shortest=shortest)


def _shortest_digits(value: float) -> tuple[str, int]:
    """Return the shortest round-tripping digits of ``value`` (≥ 0) and the point position."""
    if value == 0:
        return "", 0
    sign_digits_exponent = decimal.Decimal(repr(value)).as_tuple()
    return _trim(sign_digits_exponent.digits, int(sign_digits_exponent.exponent))


def _significant_digits(value: float, count: int) -> tuple[str, int]:
    """Return ``value`` (≥ 0) rounded half to even to ``count`` significant digits."""
    if value == 0:
        return "", 0
    context = decimal.Context(prec=count, rounding=decimal.ROUND_HALF_EVEN)
    rounded = context.plus(decimal.Decimal(value)).as_tuple()
    return _trim(rounded.digits, int(rounded.exponent))


def _fraction_digits(value: float, count: int) -> tuple[str, int]:
    """Return ``value`` (≥ 0) rounded half to even to ``count`` fraction digits."""
    exact = decimal.Decimal(value)
    context = decimal.Context(prec=MAX_PRECISION + 400, rounding=decimal.ROUND_HALF_EVEN)
    rounded = exact.quantize(decimal.Decimal(1).scaleb(-count), context=context).as_tuple()
    return _trim(rounded.digits, int(rounded.exponent))


def _trim(digit_tuple: tuple[int, ...], exponent: int) -> tuple[str, int]:
    """Return (digits without leading and trailing zeros, decimal point position)."""
    digits = "".join(map(str, digit_tuple)).lstrip("0")
    if not digits:
        return "", 0
    stripped = digits.rstrip("0")
    point = len(digits) + exponent
    return stripped, point


def _layout_e(digits: str, point: int, precision: int, fmt: str) -> str:
    """Go's ``fmtE``: ``d.ddddde±dd``."""
    text = digits[:1] or "0"
    if precision > 0:
        text += "." + digits[1 : precision + 1].ljust(precision, "0")
    exponent = point - 1 if digits else 0
    sign = "-" if exponent < 0 else "+"
    return f"{text}{fmt}{sign}{abs(exponent):02d}"


def _layout_f(digits: str, point: int, precision: int) -> str:
    """Go's ``fmtF``: ``ddddddd.ddddd``."""
    text = digits[:point].ljust(point, "0") if point > 0 else "0"
    if precision > 0:
        fraction = "".join(
            digits[index] if 0 <= index < len(digits) else "0"
            for index in range(point, point + precision)
        )
        text += "." + fraction
    return text


def _layout_g(digits: str, point: int, precision: int, fmt: str, *, shortest: bool) -> str:
    """Go's ``%g``: ``%e`` for large or small exponents, else ``%f``."""
    exponent_limit = precision
    if exponent_limit > len(digits) >= point:
        exponent_limit = len(digits)
    if shortest:
        exponent_limit = 6
    exponent = point - 1
    if exponent < -4 or exponent >= exponent_limit:
        precision = min(precision, len(digits))
        return _layout_e(digits, point, precision - 1, "e" if fmt == "g" else "E")
    if precision > point:
        precision = len(digits)
    return _layout_f(digits, point, max(precision - point, 0))


def _bits(value: float) -> tuple[int, int]:
    """Return Go's (mantissa with the implicit bit, unbiased exponent) of ``value``."""
    (raw,) = struct.unpack("<Q", struct.pack("<d", value))
    exponent = (raw >> _MANTISSA_BITS) & 0x7FF
    mantissa = raw & ((1 << _MANTISSA_BITS) - 1)
    if exponent == 0:
        exponent += 1
    else:
        mantissa |= 1 << _MANTISSA_BITS
    return mantissa, exponent + _EXPONENT_BIAS


def _format_b(value: float, negative: bool) -> str:
    """Go's ``fmtB``: ``-ddddp±ddd`` (decimal mantissa, binary exponent)."""
    mantissa, exponent = _bits(value)
    exponent -= _MANTISSA_BITS
    sign = "-" if negative else ""
    return f"{sign}{mantissa}p{'+' if exponent >= 0 else ''}{exponent}"


def _format_x(value: float, negative: bool, fmt: str, precision: int) -> str:
    """Go's ``fmtX``: ``-0x1.yyyyp±dd`` (hexadecimal mantissa, binary exponent)."""
    mantissa, exponent = _bits(value)
    if mantissa == 0:
        exponent = 0
    mask60 = (1 << 60) - 1
    mantissa <<= 60 - _MANTISSA_BITS
    while mantissa != 0 and mantissa & (1 << 60) == 0:
        mantissa <<= 1
        exponent -= 1
    if 0 <= precision < 15:
        shift = precision * 4
        extra = (mantissa << shift) & mask60
        mantissa >>= 60 - shift
        if extra | (mantissa & 1) > 1 << 59:
            mantissa += 1
        mantissa <<= 60 - shift
        if mantissa & (1 << 61):
            mantissa >>= 1
            exponent += 1
    hex_digits = "0123456789abcdef" if fmt == "x" else "0123456789ABCDEF"
    text = ("-" if negative else "") + "0" + fmt + str((mantissa >> 60) & 1)
    mantissa = (mantissa << 4) & ((1 << 64) - 1)  # Go's uint64 drops the leading digit
    if precision < 0 and mantissa != 0:
        text += "."
        while mantissa != 0:
            text += hex_digits[(mantissa >> 60) & 15]
            mantissa = (mantissa << 4) & ((1 << 64) - 1)
    elif precision > 0:
        text += "."
        for _ in range(precision):
            text += hex_digits[(mantissa >> 60) & 15]
            mantissa = (mantissa << 4) & ((1 << 64) - 1)
    marker = "p" if fmt == "x" else "P"
    sign = "-" if exponent < 0 else "+"
    return f"{text}{marker}{sign}{abs(exponent):02d}"


_INT_SYNTAX: Final = re.compile(r"[+-]?[0-9]+")
_DECIMAL_FLOAT: Final = re.compile(
    r"[+-]?(?=[_.]*[0-9])[0-9_]*(?:\.[0-9_]*)?(?:[eE][+-]?[0-9][0-9_]*)?"
)
_HEX_FLOAT: Final = re.compile(
    r"[+-]?0[xX](?=[_.]*[0-9a-fA-F])[0-9a-fA-F_]*(?:\.[0-9a-fA-F_]*)?[pP][+-]?[0-9][0-9_]*"
)
_SPECIAL_FLOAT: Final = re.compile(r"[+-]?(?:inf|infinity)|nan", re.IGNORECASE)


def parse_int(text: str) -> int:
    """Return ``strconv.ParseInt(text, 10, 64)``: optional sign, ASCII digits, int64 range.

    Raises:
        ValueError: the text is not a base-10 integer, or is out of the 64-bit range.
    """
    if not _INT_SYNTAX.fullmatch(text):
        raise ValueError(f"{text!r} is not a base-10 integer")
    number = int(text)
    if not _INT64_MIN <= number <= _INT64_MAX:
        raise ValueError(f"{text!r} is out of the 64-bit integer range")
    return number


def parse_float(text: str) -> float:
    """Return ``strconv.ParseFloat(text, 64)``: Go's float literal syntax.

    Accepts decimal (``1.5``, ``5e+5``, ``1_000.5``), hexadecimal with a ``p`` exponent
    (``0x1.8p1``), ``inf``/``infinity`` with an optional sign and ``nan``, case-insensitive.

    Raises:
        ValueError: the text is not a float, or its magnitude is beyond float64.
    """
    if _SPECIAL_FLOAT.fullmatch(text):
        return float(text)
    is_hex = _HEX_FLOAT.fullmatch(text) is not None
    if not (is_hex or _DECIMAL_FLOAT.fullmatch(text)) or not _underscores_ok(text):
        raise ValueError(f"{text!r} is not a floating-point number")
    plain = text.replace("_", "")
    try:
        number = float.fromhex(plain) if is_hex else float(plain)
    except OverflowError:
        number = math.inf
    if math.isinf(number):
        raise ValueError(f"{text!r} is out of the 64-bit floating-point range")
    return number


def _underscores_ok(text: str) -> bool:
    """Go's ``underscoreOK``: each ``_`` sits between digits (or a base prefix and a digit)."""
    if text[:1] in ("+", "-"):
        text = text[1:]
    seen = "^"  # ^ start, 0 digit or prefix, _ underscore, ! anything else
    index = 0
    is_hex = False
    if len(text) >= 2 and text[0] == "0" and text[1].lower() in "box":
        index = 2
        seen = "0"
        is_hex = text[1].lower() == "x"
    for char in text[index:]:
        if "0" <= char <= "9" or (is_hex and "a" <= char.lower() <= "f"):
            seen = "0"
        elif char == "_":
            if seen != "0":
                return False
            seen = "_"
        elif seen == "_":
            return False
        else:
            seen = "!"
    return seen != "_"
