"""The built-in functions of the expression language (``intToString``, ``readFile``, …).

Each :class:`Function` has the Arcaflow parameter and result schemas the type checker uses
and the Python callable evaluation calls. ``FUNCTIONS`` maps every built-in name to it.

They behave as the Go engine's (``internal/builtinfunctions``), with these differences:

- result types carry no pattern (Go's ``floatToString`` declares ``^\\d+\\.\\d*$``, which
  then fails an output holding ``floatToString(2.0)``); parameters carry none either, so
  ``stringToInt("+5")`` is accepted, as Go does at run time;
- ``call`` checks its arguments (count and type: an ``int`` fits a ``float`` parameter, and
  a ``string`` one as its decimal text, as everywhere in our typing), because the type
  checker lets ``any`` values reach typed parameters and leaves the check to run time (Go
  rejects ``any`` arguments statically);
- ``floatToFormattedString`` refuses a format other than ``b e E f g G x X`` (Go returns
  ``%q`` and the output fails validation later), and a precision above 10,000;
- ``floatToInt`` clamps a finite float beyond int64 like an infinite one (Go on amd64 gives
  the minimum int64 for both signs);
- ``readFile`` reads UTF-8 text (Go passes any bytes through);
- ``splitString``'s list prints and binds like any list (Go's ``[]string`` did neither).

Thread safety: safe to share (immutable records, pure functions except ``readFile`` and
``getEnvVar``, which read the process's files and environment).
"""

from __future__ import annotations

import decimal
import math
import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

import attrs

from ..._yaml_limits import read_bounded
from ...schema import (
    AnySchema,
    BoolSchema,
    FloatSchema,
    IntSchema,
    ListSchema,
    ObjectSchema,
    PropertySchema,
    RefSchema,
    ScopeSchema,
    StringSchema,
    TypeSchema,
)
from ._go_strconv import format_float, parse_float, parse_int

__all__ = ["FUNCTIONS", "Function"]


@attrs.frozen(kw_only=True)
class Function:
    """A built-in function: its name, parameter and result types, and its implementation.

    ``call`` raises :class:`~arcaflow_steps.workflow.ExpressionEvaluationError`-worthy
    problems as ``ValueError`` with a message that says what was wrong (the evaluator adds
    the function name and the expression).

    Thread safety: safe to share (immutable).
    """

    name: str
    parameters: tuple[TypeSchema, ...]
    result: TypeSchema
    call: Callable[..., Any] = attrs.field(eq=False, hash=False)
    #: One line for users (shown in type errors and docs).
    description: str = ""
    #: The result type from the argument types, for a function whose result depends on them
    #: (``bindConstants``); ``None``: the result is always ``result``.
    infer_result: Callable[[Sequence[TypeSchema]], TypeSchema] | None = attrs.field(
        default=None, eq=False, hash=False
    )

    def result_type(self, arguments: Sequence[TypeSchema]) -> TypeSchema:
        """Return the result type for arguments of the given (already checked) types."""
        if self.infer_result is None:
            return self.result
        return self.infer_result(arguments)


_INT64_MIN: Final = -(2**63)
_INT64_MAX: Final = 2**63 - 1

_STRING: Final = StringSchema()
_INT: Final = IntSchema()
_FLOAT: Final = FloatSchema()
_BOOL: Final = BoolSchema()
_ANY: Final = AnySchema()
_TYPE_NAMES: Final[Mapping[type[Any], str]] = {
    StringSchema: "a string",
    IntSchema: "an integer",
    FloatSchema: "a float",
    BoolSchema: "a boolean",
    ListSchema: "a list",
}


def _argument(parameter: TypeSchema, value: Any, position: int) -> Any:
    """Return ``value`` checked (and an int made a float) for ``parameter``."""
    fits: bool
    if isinstance(parameter, IntSchema):
        fits = isinstance(value, int) and not isinstance(value, bool)
    elif isinstance(parameter, FloatSchema):
        fits = isinstance(value, int | float) and not isinstance(value, bool)
        if fits and isinstance(value, int):
            try:
                return float(value)
            except OverflowError:
                raise ValueError(
                    f"argument {position} ({value}) is too large for a float"
                ) from None
    elif isinstance(parameter, StringSchema):
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)  # as the SDKs give an integer to a string field
        fits = isinstance(value, str)
    elif isinstance(parameter, BoolSchema):
        fits = isinstance(value, bool)
    elif isinstance(parameter, ListSchema):
        fits = isinstance(value, list | tuple)
    else:
        fits = True
    if not fits:
        raise ValueError(
            f"argument {position} must be {_TYPE_NAMES[type(parameter)]}, got {value!r}"
        )
    return value


def _builtin(
    name: str,
    parameters: tuple[TypeSchema, ...],
    result: TypeSchema,
    implementation: Callable[..., Any],
    description: str,
    *,
    infer_result: Callable[[Sequence[TypeSchema]], TypeSchema] | None = None,
) -> Function:
    """Return the :class:`Function` whose ``call`` checks its arguments, then runs."""

    def call(*arguments: Any) -> Any:
        if len(arguments) != len(parameters):
            raise ValueError(f"takes {len(parameters)} arguments, got {len(arguments)}")
        checked = [
            _argument(parameter, value, position)
            for position, (parameter, value) in enumerate(
                zip(parameters, arguments, strict=True), 1
            )
        ]
        return implementation(*checked)

    return Function(
        name=name,
        parameters=parameters,
        result=result,
        call=call,
        description=description,
        infer_result=infer_result,
    )


def _float_to_int(value: float) -> int:
    """Go's ``floatToInt``; a finite float beyond int64 clamps too (Go: platform-specific)."""
    if math.isnan(value):
        raise ValueError("cannot convert NaN to an integer")
    if math.isinf(value):
        return _INT64_MAX if value > 0 else _INT64_MIN
    return max(_INT64_MIN, min(_INT64_MAX, int(value)))


def _int_to_float(value: int) -> float:
    try:
        return float(value)
    except OverflowError:
        raise ValueError(f"{value} is too large for a float") from None


def _string_to_bool(text: str) -> bool:
    lowered = _to_lower(text)
    if lowered in ("1", "t", "true"):
        return True
    if lowered in ("0", "f", "false"):
        return False
    raise ValueError(f"{text!r} is not a boolean; valid: 1, 0, t, f, true, false (any case)")


def _round(value: float) -> float:
    """Go's ``math.Round``: half away from zero; ±0, ±inf and NaN unchanged."""
    if math.isnan(value) or math.isinf(value):
        return value
    rounded = decimal.Decimal(value).to_integral_value(rounding=decimal.ROUND_HALF_UP)
    return math.copysign(float(rounded), value)


def _ceil(value: float) -> float:
    if math.isnan(value) or math.isinf(value):
        return value
    return math.copysign(float(math.ceil(value)), value)


def _floor(value: float) -> float:
    if math.isnan(value) or math.isinf(value):
        return value
    return math.copysign(float(math.floor(value)), value)


#: Go's unicode.ToUpper / ToLower map one character to one character (simple case mapping);
#: Python's str.upper/lower use the full mapping. Where the full mapping is longer, keep the
#: character, except for these whose simple mapping is another single character.
_SIMPLE_UPPER: Final[Mapping[str, str]] = {
    **{
        chr(code): chr(code + 8)
        for start in (0x1F80, 0x1F90, 0x1FA0)
        for code in range(start, start + 8)
    },
    "\u1fb3": "\u1fbc",
    "\u1fc3": "\u1fcc",
    "\u1ff3": "\u1ffc",
}
_SIMPLE_LOWER: Final[Mapping[str, str]] = {"\u0130": "i"}


def _map_case(text: str, full: Callable[[str], str], simple: Mapping[str, str]) -> str:
    if text.isascii():
        return full(text)
    mapped = []
    for char in text:
        candidate = full(char)
        mapped.append(candidate if len(candidate) == 1 else simple.get(char, char))
    return "".join(mapped)


def _to_lower(text: str) -> str:
    return _map_case(text, str.lower, _SIMPLE_LOWER)


def _to_upper(text: str) -> str:
    return _map_case(text, str.upper, _SIMPLE_UPPER)


def _split_string(text: str, separator: str) -> list[str]:
    """Go's ``strings.Split``: an empty separator splits into characters."""
    if not separator:
        return list(text)
    return text.split(separator)


def _read_file(path: str) -> str:
    try:
        return read_bounded(os.path.abspath(path)).decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"file {path!r} is not UTF-8 text") from None
    except OSError as exc:
        raise ValueError(f"cannot read file {path!r}: {exc.strerror or exc}") from None


def _get_env_var(name: str, default: str) -> str:
    return os.environ.get(name, default) if name and "=" not in name else default


def _bind_constants(items: Sequence[Any], constant: Any) -> list[dict[str, Any]]:
    return [{"item": item, "constant": constant} for item in items]


def _schema_name(schema: TypeSchema) -> str:
    """Go's ``BuildSchemaNames`` joined by ``_``: object id, else the type id; lists prefix
    ``list_``."""
    names = []
    while isinstance(schema, ListSchema):
        names.append(ListSchema.TYPE_ID)
        schema = schema.items
    if isinstance(schema, ObjectSchema | RefSchema):
        names.append(schema.id)
    elif isinstance(schema, ScopeSchema):
        names.append(schema.root)
    else:
        names.append(schema.TYPE_ID)
    return "_".join(names)


def _bind_constants_type(arguments: Sequence[TypeSchema]) -> TypeSchema:
    """Return the list of ``{item, constant}`` objects (id ``<item>__<constant>``,
    unenforced, both properties optional) for the argument types."""
    items, constant = arguments
    item = items.items if isinstance(items, ListSchema) else _ANY
    return ListSchema(
        items=ObjectSchema(
            id=f"{_schema_name(item)}__{_schema_name(constant)}",
            properties={
                "item": PropertySchema(type=item),
                "constant": PropertySchema(type=constant),
            },
            id_unenforced=True,
        )
    )


_ALL: Final = (
    _builtin("intToFloat", (_INT,), _FLOAT, _int_to_float, "the integer as a float"),
    _builtin(
        "floatToInt",
        (_FLOAT,),
        _INT,
        _float_to_int,
        "the float truncated toward zero (±inf: the int64 bounds; NaN: an error)",
    ),
    _builtin("intToString", (_INT,), _STRING, str, "the integer in base 10"),
    _builtin(
        "floatToString",
        (_FLOAT,),
        _STRING,
        lambda value: format_float(value, "f", -1),
        "the float in the shortest decimal form without exponent (11.0 gives '11')",
    ),
    _builtin(
        "floatToFormattedString",
        (_FLOAT, _STRING, _INT),
        _STRING,
        format_float,
        "the float in a Go format (b, e, E, f, g, G, x, X) with a precision (-1: shortest)",
    ),
    _builtin(
        "boolToString",
        (_BOOL,),
        _STRING,
        lambda value: "true" if value else "false",
        "'true' or 'false'",
    ),
    _builtin(
        "stringToInt",
        (_STRING,),
        _INT,
        parse_int,
        "the base-10 integer in the string (optional sign, leading zeros allowed)",
    ),
    _builtin(
        "stringToFloat",
        (_STRING,),
        _FLOAT,
        parse_float,
        "the float in the string, in Go syntax ('1.5', '5e+5', 'Inf', '1_000.5', '0x1p-2')",
    ),
    _builtin(
        "stringToBool",
        (_STRING,),
        _BOOL,
        _string_to_bool,
        "true for '1', 't', 'true', false for '0', 'f', 'false' (any case)",
    ),
    _builtin("ceil", (_FLOAT,), _FLOAT, _ceil, "the least integer value ≥ the float"),
    _builtin("floor", (_FLOAT,), _FLOAT, _floor, "the greatest integer value ≤ the float"),
    _builtin("round", (_FLOAT,), _FLOAT, _round, "the nearest integer value, half away from zero"),
    _builtin("abs", (_FLOAT,), _FLOAT, abs, "the absolute value of the float"),
    _builtin("toLower", (_STRING,), _STRING, _to_lower, "the string in lower case"),
    _builtin("toUpper", (_STRING,), _STRING, _to_upper, "the string in upper case"),
    _builtin(
        "splitString",
        (_STRING, _STRING),
        ListSchema(items=_STRING),
        _split_string,
        "the string split at every separator (an empty separator: every character)",
    ),
    _builtin(
        "readFile",
        (_STRING,),
        _STRING,
        _read_file,
        "the UTF-8 text of the file (a path relative to the working directory)",
    ),
    _builtin(
        "getEnvVar",
        (_STRING, _STRING),
        _STRING,
        _get_env_var,
        "the environment variable's value if it is set (even empty), else the default",
    ),
    _builtin(
        "bindConstants",
        (ListSchema(items=_ANY), _ANY),
        _bind_constants_type((ListSchema(items=_ANY), _ANY)),
        _bind_constants,
        "[{item: <each item>, constant: <the constant>}, …] for foreach items",
        infer_result=_bind_constants_type,
    ),
)

#: Every built-in function by name.
FUNCTIONS: Final[Mapping[str, Function]] = {function.name: function for function in _ALL}
