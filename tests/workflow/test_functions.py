"""The built-in functions: the Go engine's cases (``functions_test.go``) and their edges."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import pytest

from arcaflow_steps.schema import (
    AnySchema,
    FloatSchema,
    IntSchema,
    ListSchema,
    ObjectSchema,
    PropertySchema,
    StringSchema,
)
from arcaflow_steps.workflow._expressions._functions import FUNCTIONS

NAN = math.nan
INF = math.inf
NEGATIVE_ZERO = -0.0

#: (function, arguments, expected result): ported from the engine's TestFunctionsBulk.
GO_CASES: list[tuple[str, tuple[Any, ...], Any]] = [
    ("intToFloat", (1,), 1.0),
    ("intToFloat", (-1,), -1.0),
    ("intToFloat", (0,), 0.0),
    ("floatToInt", (1.0,), 1),
    ("floatToInt", (-1.0,), -1),
    ("floatToInt", (-1.9,), -1),
    ("floatToInt", (0.0,), 0),
    ("floatToInt", (NEGATIVE_ZERO,), 0),
    ("floatToInt", (INF,), 2**63 - 1),
    ("floatToInt", (-INF,), -(2**63)),
    ("intToString", (11,), "11"),
    ("intToString", (0,), "0"),
    ("intToString", (-11,), "-11"),
    ("floatToString", (11.0,), "11"),
    ("floatToString", (-11.0,), "-11"),
    ("floatToString", (11.1,), "11.1"),
    ("floatToString", (-11.1,), "-11.1"),
    ("floatToString", (0.0,), "0"),
    ("floatToString", (NEGATIVE_ZERO,), "-0"),
    ("floatToString", (NAN,), "NaN"),
    ("floatToString", (INF,), "+Inf"),
    ("floatToString", (-INF,), "-Inf"),
    ("boolToString", (True,), "true"),
    ("boolToString", (False,), "false"),
    ("stringToInt", ("11",), 11),
    ("stringToInt", ("-11",), -11),
    ("stringToInt", ("0",), 0),
    ("stringToInt", ("-00005",), -5),
    ("stringToFloat", ("11.1",), 11.1),
    ("stringToFloat", ("-11.1",), -11.1),
    ("stringToFloat", ("0",), 0.0),
    ("stringToFloat", ("-0",), NEGATIVE_ZERO),
    ("stringToFloat", ("Inf",), INF),
    ("stringToFloat", ("+Inf",), INF),
    ("stringToFloat", ("-Inf",), -INF),
    ("stringToFloat", ("5e+5",), 500000.0),
    ("stringToFloat", ("5E-5",), 0.00005),
    ("stringToBool", ("true",), True),
    ("stringToBool", ("True",), True),
    ("stringToBool", ("TRUE",), True),
    ("stringToBool", ("t",), True),
    ("stringToBool", ("T",), True),
    ("stringToBool", ("1",), True),
    ("stringToBool", ("false",), False),
    ("stringToBool", ("False",), False),
    ("stringToBool", ("FALSE",), False),
    ("stringToBool", ("f",), False),
    ("stringToBool", ("F",), False),
    ("stringToBool", ("0",), False),
    ("ceil", (0.0,), 0.0),
    ("ceil", (0.1,), 1.0),
    ("ceil", (0.99,), 1.0),
    ("ceil", (-0.1,), NEGATIVE_ZERO),  # Go: -0 (its table compares with ==)
    ("floor", (0.0,), 0.0),
    ("floor", (1.1,), 1.0),
    ("floor", (2.9999,), 2.0),
    ("floor", (-0.1,), -1.0),
    ("round", (0.0,), 0.0),
    ("round", (0.1,), 0.0),
    ("round", (0.4,), 0.0),
    ("round", (0.5,), 1.0),
    ("round", (0.9,), 1.0),
    ("round", (-0.9,), -1.0),
    ("round", (-0.5,), -1.0),
    ("round", (-0.01,), NEGATIVE_ZERO),  # Go: -0 (its table compares with ==)
    ("abs", (0.0,), 0.0),
    ("abs", (-1.0,), 1.0),
    ("abs", (1.0,), 1.0),
    ("toLower", ("",), ""),
    ("toLower", ("abc",), "abc"),
    ("toLower", ("ABC",), "abc"),
    ("toLower", ("aBc",), "abc"),
    ("toUpper", ("",), ""),
    ("toUpper", ("abc",), "ABC"),
    ("toUpper", ("ABC",), "ABC"),
    ("toUpper", ("aBc",), "ABC"),
    ("splitString", ("", ","), [""]),
    ("splitString", ("abc", ","), ["abc"]),
    ("splitString", ("a,b", ","), ["a", "b"]),
    ("splitString", ("a,b,c,d", ","), ["a", "b", "c", "d"]),
    ("splitString", ("1,,2,", ","), ["1", "", "2", ""]),
]

#: Beyond the engine's table: edges the reference (§6) and Go's strconv document.
EDGE_CASES: list[tuple[str, tuple[Any, ...], Any]] = [
    ("floatToInt", (5,), 5),
    ("floatToInt", (1e300,), 2**63 - 1),  # clamped like +inf (Go on amd64: min int64)
    ("intToString", (2**63 - 1,), "9223372036854775807"),
    ("floatToString", (5000.5,), "5000.5"),
    ("floatToString", (1e21,), "1000000000000000000000"),
    ("floatToString", (1e-7,), "0.0000001"),
    ("floatToString", (0.1 + 0.2,), "0.30000000000000004"),
    ("stringToInt", ("+5",), 5),
    ("stringToInt", ("9223372036854775807",), 2**63 - 1),
    ("stringToInt", ("-9223372036854775808",), -(2**63)),
    ("stringToFloat", ("1_000.5",), 1000.5),
    ("stringToFloat", ("inf",), INF),
    ("stringToFloat", ("-Infinity",), -INF),
    ("stringToFloat", ("5.",), 5.0),
    ("stringToFloat", (".5",), 0.5),
    ("stringToFloat", ("0x1p-2",), 0.25),
    ("stringToFloat", ("0x_1.8p1",), 3.0),
    ("stringToFloat", ("1e-400",), 0.0),
    ("stringToFloat", ("07",), 7.0),
    ("round", (2.5,), 3.0),
    ("round", (-2.5,), -3.0),
    ("round", (0.49999999999999994,), 0.0),
    ("round", (4503599627370497.0,), 4503599627370497.0),
    ("round", (INF,), INF),
    ("ceil", (-INF,), -INF),
    ("abs", (-INF,), INF),
    ("abs", (-3,), 3.0),
    ("toUpper", (5,), "5"),  # an integer fits a string parameter as its decimal text
    ("stringToInt", (-7,), -7),
    ("toUpper", ("straße",), "STRAßE"),
    ("toLower", ("İSTANBUL",), "istanbul"),
    ("toUpper", ("\u1f80",), "\u1f88"),
    ("toUpper", ("ǆ",), "Ǆ"),
    ("splitString", ("abc", ""), ["a", "b", "c"]),
    ("splitString", ("", ""), []),
    ("splitString", ("a::b", "::"), ["a", "b"]),
    (
        "bindConstants",
        ([1, 2], {"c": 3}),
        [
            {"item": 1, "constant": {"c": 3}},
            {"item": 2, "constant": {"c": 3}},
        ],
    ),
    ("bindConstants", ([], "x"), []),
]


def _same(expected: Any, actual: Any) -> bool:
    """Return whether the results are equal, with NaN equal to NaN and ±0 told apart."""
    if isinstance(expected, float) and isinstance(actual, float):
        if math.isnan(expected):
            return math.isnan(actual)
        return expected == actual and math.copysign(1, expected) == math.copysign(1, actual)
    return type(expected) is type(actual) and expected == actual


@pytest.mark.parametrize(
    ("name", "arguments", "expected"),
    GO_CASES + EDGE_CASES,
    ids=[f"{name}{arguments!r}" for name, arguments, _ in GO_CASES + EDGE_CASES],
)
def test_function_result(name: str, arguments: tuple[Any, ...], expected: Any) -> None:
    """Each function gives the Go engine's result (the type too: ints stay ints)."""
    actual = FUNCTIONS[name].call(*arguments)
    assert _same(expected, actual), f"{name}{arguments!r}: expected {expected!r}, got {actual!r}"


@pytest.mark.parametrize(
    ("name", "arguments", "message"),
    [
        ("floatToInt", (NAN,), "cannot convert NaN to an integer"),
        ("stringToInt", ("zero",), "'zero' is not a base-10 integer"),
        ("stringToInt", ("1.0",), "'1.0' is not a base-10 integer"),
        ("stringToInt", ("",), "'' is not a base-10 integer"),
        ("stringToInt", ("0b1",), "'0b1' is not a base-10 integer"),
        ("stringToInt", ("0o1",), "'0o1' is not a base-10 integer"),
        ("stringToInt", ("0x1",), "'0x1' is not a base-10 integer"),
        ("stringToInt", ("1_000_000",), "'1_000_000' is not a base-10 integer"),
        ("stringToInt", (" 5",), "' 5' is not a base-10 integer"),
        ("stringToInt", ("٣",), "'٣' is not a base-10 integer"),
        (
            "stringToInt",
            ("9223372036854775808",),
            "'9223372036854775808' is out of the 64-bit integer range",
        ),
        ("stringToFloat", ("",), "'' is not a floating-point number"),
        ("stringToFloat", ("ten",), "'ten' is not a floating-point number"),
        ("stringToFloat", ("5E+500",), "'5E+500' is out of the 64-bit floating-point range"),
        ("stringToFloat", ("0x1p99999",), "'0x1p99999' is out of the 64-bit floating-point range"),
        ("stringToFloat", ("1__0",), "'1__0' is not a floating-point number"),
        ("stringToFloat", ("_1",), "'_1' is not a floating-point number"),
        ("stringToFloat", ("1_",), "'1_' is not a floating-point number"),
        ("stringToFloat", ("1_.5",), "'1_.5' is not a floating-point number"),
        ("stringToFloat", ("0x1.8",), "'0x1.8' is not a floating-point number"),
        ("stringToFloat", ("+nan",), "'+nan' is not a floating-point number"),
        ("stringToFloat", ("infin",), "'infin' is not a floating-point number"),
        ("stringToFloat", (" 1",), "' 1' is not a floating-point number"),
        ("stringToFloat", ("1e",), "'1e' is not a floating-point number"),
        ("stringToFloat", (".",), "'.' is not a floating-point number"),
        ("stringToBool", ("",), "'' is not a boolean; valid: 1, 0, t, f, true, false (any case)"),
        (
            "stringToBool",
            ("abc",),
            "'abc' is not a boolean; valid: 1, 0, t, f, true, false (any case)",
        ),
        (
            "stringToBool",
            ("yes",),
            "'yes' is not a boolean; valid: 1, 0, t, f, true, false (any case)",
        ),
        (
            "floatToFormattedString",
            (1.0, "q", -1),
            "format must be one of b, e, E, f, g, G, x, X; got 'q'",
        ),
        (
            "floatToFormattedString",
            (1.0, "ff", -1),
            "format must be one of b, e, E, f, g, G, x, X; got 'ff'",
        ),
        (
            "floatToFormattedString",
            (1.0, "f", 10_001),
            "precision 10001 is above the maximum, 10000",
        ),
        ("intToString", ("5",), "argument 1 must be an integer, got '5'"),
        ("intToString", (True,), "argument 1 must be an integer, got True"),
        ("intToFloat", (2**1024,), f"{2**1024} is too large for a float"),
        ("ceil", ("1.5",), "argument 1 must be a float, got '1.5'"),
        ("ceil", (2**1024,), f"argument 1 ({2**1024}) is too large for a float"),
        ("toLower", (True,), "argument 1 must be a string, got True"),
        ("boolToString", (1,), "argument 1 must be a boolean, got 1"),
        ("bindConstants", ("ab", 1), "argument 1 must be a list, got 'ab'"),
        ("getEnvVar", ("HOME",), "takes 2 arguments, got 1"),
        ("intToString", (1, 2), "takes 1 arguments, got 2"),
    ],
    ids=lambda value: repr(value) if isinstance(value, tuple) else None,
)
def test_function_failure(name: str, arguments: tuple[Any, ...], message: str) -> None:
    """A failing call raises ValueError saying what was wrong (the Go engine panics)."""
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        FUNCTIONS[name].call(*arguments)


FORMAT_INPUTS = (123.0, 12300.0, 0.000123, 1.0 / 8.0, 2.0 / 3.0, INF, -INF, NAN, 0.0, -0.0)
#: format -> precision -> expected text per FORMAT_INPUTS: Test_floatToFormattedString_success.
FORMAT_RESULTS: dict[str, dict[int, tuple[str, ...]]] = {
    "b": {
        0: (
            "8655355533852672p-46", "6761996510822400p-39", "4537899042132550p-65",
            "4503599627370496p-55", "6004799503160661p-53", "+Inf", "-Inf", "NaN",
            "0p-1074", "-0p-1074",
        ),
    },
    "e": {
        0: ("1e+02", "1e+04", "1e-04", "1e-01", "7e-01", "+Inf", "-Inf", "NaN", "0e+00", "-0e+00"),
        1: (
            "1.2e+02", "1.2e+04", "1.2e-04", "1.2e-01", "6.7e-01", "+Inf", "-Inf",
            "NaN", "0.0e+00", "-0.0e+00",
        ),
        -1: (
            "1.23e+02", "1.23e+04", "1.23e-04", "1.25e-01", "6.666666666666666e-01",
            "+Inf", "-Inf", "NaN", "0e+00", "-0e+00",
        ),
        15: (
            "1.230000000000000e+02", "1.230000000000000e+04", "1.230000000000000e-04",
            "1.250000000000000e-01", "6.666666666666666e-01", "+Inf", "-Inf", "NaN",
            "0.000000000000000e+00", "-0.000000000000000e+00",
        ),
    },
    "E": {
        0: ("1E+02", "1E+04", "1E-04", "1E-01", "7E-01", "+Inf", "-Inf", "NaN", "0E+00", "-0E+00"),
        1: (
            "1.2E+02", "1.2E+04", "1.2E-04", "1.2E-01", "6.7E-01", "+Inf", "-Inf",
            "NaN", "0.0E+00", "-0.0E+00",
        ),
        -1: (
            "1.23E+02", "1.23E+04", "1.23E-04", "1.25E-01", "6.666666666666666E-01",
            "+Inf", "-Inf", "NaN", "0E+00", "-0E+00",
        ),
        15: (
            "1.230000000000000E+02", "1.230000000000000E+04", "1.230000000000000E-04",
            "1.250000000000000E-01", "6.666666666666666E-01", "+Inf", "-Inf", "NaN",
            "0.000000000000000E+00", "-0.000000000000000E+00",
        ),
    },
    "f": {
        0: ("123", "12300", "0", "0", "1", "+Inf", "-Inf", "NaN", "0", "-0"),
        1: ("123.0", "12300.0", "0.0", "0.1", "0.7", "+Inf", "-Inf", "NaN", "0.0", "-0.0"),
        -1: (
            "123", "12300", "0.000123", "0.125", "0.6666666666666666", "+Inf",
            "-Inf", "NaN", "0", "-0",
        ),
        15: (
            "123.000000000000000", "12300.000000000000000", "0.000123000000000",
            "0.125000000000000", "0.666666666666667", "+Inf", "-Inf", "NaN",
            "0.000000000000000", "-0.000000000000000",
        ),
    },
    "g": {
        0: ("1e+02", "1e+04", "0.0001", "0.1", "0.7", "+Inf", "-Inf", "NaN", "0", "-0"),
        1: ("1e+02", "1e+04", "0.0001", "0.1", "0.7", "+Inf", "-Inf", "NaN", "0", "-0"),
        -1: (
            "123", "12300", "0.000123", "0.125", "0.6666666666666666", "+Inf",
            "-Inf", "NaN", "0", "-0",
        ),
        15: (
            "123", "12300", "0.000123", "0.125", "0.666666666666667", "+Inf",
            "-Inf", "NaN", "0", "-0",
        ),
    },
    "G": {
        0: ("1E+02", "1E+04", "0.0001", "0.1", "0.7", "+Inf", "-Inf", "NaN", "0", "-0"),
        1: ("1E+02", "1E+04", "0.0001", "0.1", "0.7", "+Inf", "-Inf", "NaN", "0", "-0"),
        -1: (
            "123", "12300", "0.000123", "0.125", "0.6666666666666666", "+Inf",
            "-Inf", "NaN", "0", "-0",
        ),
        15: (
            "123", "12300", "0.000123", "0.125", "0.666666666666667", "+Inf",
            "-Inf", "NaN", "0", "-0",
        ),
    },
    "x": {
        0: (
            "0x1p+07", "0x1p+14", "0x1p-13", "0x1p-03", "0x1p-01", "+Inf",
            "-Inf", "NaN", "0x0p+00", "-0x0p+00",
        ),
        1: (
            "0x1.fp+06", "0x1.8p+13", "0x1.0p-13", "0x1.0p-03", "0x1.5p-01",
            "+Inf", "-Inf", "NaN", "0x0.0p+00", "-0x0.0p+00",
        ),
        -1: (
            "0x1.ecp+06", "0x1.806p+13", "0x1.01f31f46ed246p-13", "0x1p-03",
            "0x1.5555555555555p-01", "+Inf", "-Inf", "NaN", "0x0p+00", "-0x0p+00",
        ),
        15: (
            "0x1.ec0000000000000p+06", "0x1.806000000000000p+13",
            "0x1.01f31f46ed24600p-13", "0x1.000000000000000p-03",
            "0x1.555555555555500p-01", "+Inf", "-Inf", "NaN",
            "0x0.000000000000000p+00", "-0x0.000000000000000p+00",
        ),
    },
    "X": {
        0: (
            "0X1P+07", "0X1P+14", "0X1P-13", "0X1P-03", "0X1P-01", "+Inf",
            "-Inf", "NaN", "0X0P+00", "-0X0P+00",
        ),
        1: (
            "0X1.FP+06", "0X1.8P+13", "0X1.0P-13", "0X1.0P-03", "0X1.5P-01",
            "+Inf", "-Inf", "NaN", "0X0.0P+00", "-0X0.0P+00",
        ),
        -1: (
            "0X1.ECP+06", "0X1.806P+13", "0X1.01F31F46ED246P-13", "0X1P-03",
            "0X1.5555555555555P-01", "+Inf", "-Inf", "NaN", "0X0P+00", "-0X0P+00",
        ),
        15: (
            "0X1.EC0000000000000P+06", "0X1.806000000000000P+13",
            "0X1.01F31F46ED24600P-13", "0X1.000000000000000P-03",
            "0X1.555555555555500P-01", "+Inf", "-Inf", "NaN",
            "0X0.000000000000000P+00", "-0X0.000000000000000P+00",
        ),
    },
}  # fmt: skip
FORMAT_CASES = [
    (value, fmt, precision, expected)
    for fmt, precisions in FORMAT_RESULTS.items()
    for precision, results in precisions.items()
    for value, expected in zip(FORMAT_INPUTS, results, strict=True)
]


@pytest.mark.parametrize(
    ("value", "fmt", "precision", "expected"),
    FORMAT_CASES,
    ids=[f"{fmt}:{precision}:{value!r}" for value, fmt, precision, _ in FORMAT_CASES],
)
def test_float_to_formatted_string(value: float, fmt: str, precision: int, expected: str) -> None:
    """floatToFormattedString gives Go's FormatFloat text for all 290 of the engine's cases."""
    assert expected == FUNCTIONS["floatToFormattedString"].call(value, fmt, precision)


@pytest.mark.parametrize(
    ("value", "fmt", "precision", "expected"),
    [
        (2.5, "f", 0, "2"),  # an exact tie rounds half to even, as Go's decimal does
        (3.5, "f", 0, "4"),
        (0.125, "f", 2, "0.12"),
        (0.0096, "f", 2, "0.01"),
        (1e21, "g", -1, "1e+21"),
        (123456.0, "g", -1, "123456"),
        (1234567.0, "g", -1, "1.234567e+06"),
        (0.00001, "g", -1, "1e-05"),
        (100.0, "g", 2, "1e+02"),
        (5e-324, "e", -1, "5e-324"),
        (5e-324, "x", -1, "0x1p-1074"),
        (5e-324, "b", -1, "1p-1074"),
        (1.7976931348623157e308, "e", 3, "1.798e+308"),
        (1.7976931348623157e308, "x", 0, "0x1p+1024"),
        (0.9999999, "x", 2, "0x1.00p+00"),
        (1e22, "f", -1, "10000000000000000000000"),
        (1.5, "f", 30, "1.500000000000000000000000000000"),
        (0.1, "e", 25, "1.0000000000000000555111512e-01"),
        (5, "g", -1, "5"),
    ],
)
def test_float_to_formatted_string_edges(
    value: float, fmt: str, precision: int, expected: str
) -> None:
    """Ties, the ``%g`` switch to exponents, subnormals and the largest float, as Go."""
    assert expected == FUNCTIONS["floatToFormattedString"].call(value, fmt, precision)


def test_read_file_is_relative_to_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """readFile reads the whole file, relative to the process's working directory."""
    (tmp_path / "hello-world.yaml").write_text("hello: world\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert "hello: world\n" == FUNCTIONS["readFile"].call("hello-world.yaml")


def test_read_file_failures(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A missing file, a directory or non-UTF-8 bytes fail with the path in the message."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "binary").write_bytes(b"\xff\xfe")
    read_file = FUNCTIONS["readFile"].call
    with pytest.raises(
        ValueError, match=r"^cannot read file 'nope.yaml': No such file or directory$"
    ):
        read_file("nope.yaml")
    with pytest.raises(ValueError, match=r"^cannot read file '\.': Is a directory$"):
        read_file(".")
    with pytest.raises(ValueError, match=r"^file 'binary' is not UTF-8 text$"):
        read_file("binary")


def test_get_env_var(monkeypatch: pytest.MonkeyPatch) -> None:
    """getEnvVar returns a set variable's value, even empty, else the default."""
    monkeypatch.setenv("ARCAFLOW_TEST_PRESENT", "known value")
    monkeypatch.setenv("ARCAFLOW_TEST_EMPTY", "")
    monkeypatch.delenv("ARCAFLOW_TEST_ABSENT", raising=False)
    get_env_var = FUNCTIONS["getEnvVar"].call
    assert "known value" == get_env_var("ARCAFLOW_TEST_PRESENT", "default")
    assert "" == get_env_var("ARCAFLOW_TEST_EMPTY", "default")
    assert "default" == get_env_var("ARCAFLOW_TEST_ABSENT", "default")
    assert "default" == get_env_var("", "default")
    assert "default" == get_env_var("A=B", "default")


def test_every_go_builtin_is_there() -> None:
    """FUNCTIONS holds exactly the Go engine's 19 built-ins, each with a description."""
    assert {
        "abs", "bindConstants", "boolToString", "ceil", "floatToFormattedString",
        "floatToInt", "floatToString", "floor", "getEnvVar", "intToFloat", "intToString",
        "readFile", "round", "splitString", "stringToBool", "stringToFloat", "stringToInt",
        "toLower", "toUpper",
    } == set(FUNCTIONS)  # fmt: skip
    assert all(function.description for function in FUNCTIONS.values())
    assert all(name == function.name for name, function in FUNCTIONS.items())


def test_result_types_carry_no_pattern() -> None:
    """Result types are plain (Go's floatToString pattern leaked into outputs; ours not)."""
    assert StringSchema() == FUNCTIONS["floatToString"].result
    assert StringSchema() == FUNCTIONS["floatToFormattedString"].result
    assert ListSchema(items=StringSchema()) == FUNCTIONS["splitString"].result


ITEM_OBJECT = ObjectSchema(id="ObjectTitle", properties={"a": PropertySchema(type=StringSchema())})
CONSTANTS = ObjectSchema(id="Constants", properties={"p": PropertySchema(type=IntSchema())})


@pytest.mark.parametrize(
    ("items", "constant", "expected_id"),
    [
        (ListSchema(items=IntSchema()), CONSTANTS, "integer__Constants"),
        (ListSchema(items=ITEM_OBJECT), CONSTANTS, "ObjectTitle__Constants"),
        (ListSchema(items=ITEM_OBJECT), StringSchema(), "ObjectTitle__string"),
        (ListSchema(items=StringSchema()), IntSchema(), "string__integer"),
        (
            ListSchema(items=StringSchema()),
            ListSchema(items=ITEM_OBJECT),
            "string__list_ObjectTitle",
        ),
        (
            ListSchema(items=ListSchema(items=ListSchema(items=IntSchema()))),
            FloatSchema(),
            "list_list_integer__float",
        ),
        (AnySchema(), AnySchema(), "any__any"),
    ],
)
def test_bind_constants_type(items: Any, constant: Any, expected_id: str) -> None:
    """bindConstants' result: a list of unenforced-id {item, constant} objects named as Go."""
    item_type = items.items if isinstance(items, ListSchema) else AnySchema()
    expected = ListSchema(
        items=ObjectSchema(
            id=expected_id,
            properties={
                "item": PropertySchema(type=item_type),
                "constant": PropertySchema(type=constant),
            },
            id_unenforced=True,
        )
    )
    assert expected == FUNCTIONS["bindConstants"].result_type((items, constant))


def test_fixed_result_type_ignores_arguments() -> None:
    """A function with a fixed result type returns it whatever the argument types."""
    assert FloatSchema() == FUNCTIONS["ceil"].result_type((AnySchema(),))
