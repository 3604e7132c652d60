"""evaluate: Go semantics for values, operators and access, and a clear error for every failure.

The tables port arcaflow-expressions' `expression_evaluate_test.go` (its data moved under
`$.input`, since our root is always `{input, steps}`) and the reference's measured results
(reference/workflow.md §5.2, §5.5), with our decisions where we differ from Go.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arcaflow_steps.workflow._errors import ExpressionEvaluationError
from arcaflow_steps.workflow._expressions import evaluate, parse_expression
from arcaflow_steps.workflow._expressions._ast import Binary, BinaryOperator, Expression, Literal

ROOT: dict[str, Any] = {
    "input": {
        "message": "Hello world!",
        "container": {"message": "Hello world!"},
        "letters": ["a", "b", "c"],
        "single": ["a"],
        "l1": {"l2": ["a", "b", "c"]},
        "n": 7,
        "val": 5,
        "a": 1,
        "b": 2,
        "f": 1.5,
        "flag": True,
        "labels": {"app-name": "web", "tier": "front"},
        "by_index": {0: "zero", 1: "one"},
        "by_bool": {True: "yes"},
        "empty": {},
        "nothing": None,
        "i": 1,
        "key": "tier",
    },
    "steps": {
        "a": {"outputs": {"success": {"id": 1, "name": "Arca"}}},
        "my-step": {"outputs": {"success": {"items": [{"name": "first"}]}}},
    },
}


def run(text: str) -> Any:
    return evaluate(parse_expression(text), ROOT)


VALUES = [
    # access (expression_evaluate_test.go)
    ("$.input.message", "Hello world!"),
    ("   $.input.message    \n", "Hello world!"),
    ('$.input["message"]', "Hello world!"),
    ("$.input.container.message", "Hello world!"),
    ("$.input.single[0]", "a"),
    ("$.input.letters[1]", "b"),
    ("$.input.l1.l2[1]", "b"),
    ("$.input.single[-1]", "a"),
    ("$.input.letters[-3]", "a"),
    # access: ours
    ("input.n", 7),
    ('$["input"]["n"]', 7),
    ("$.input.labels.tier", "front"),  # dot access on a map
    ('$.input.labels["app-name"]', "web"),
    ('$.steps["my-step"].outputs.success.items[0].name', "first"),
    ("$.steps.a.outputs.success", {"id": 1, "name": "Arca"}),
    ("$.input.by_index[1]", "one"),
    ("$.input.by_bool[true]", "yes"),
    ("$.input.letters[$.input.i]", "b"),
    ("$.input.labels[$.input.key]", "front"),
    ("$.input.letters[1 + 1]", "c"),
    ("$.input.nothing", None),
    # functions (the real built-ins)
    ("intToString($.input.val)", "5"),
    ("toUpper(toLower($.input.message))", "HELLO WORLD!"),
    ('splitString("a,b", ",")[1]', "b"),
    # arithmetic (expression_evaluate_test.go)
    ("5 + 5", 10),
    ("$.input.a + $.input.b", 3),
    ("5 - 1", 4),
    ("2 * 2", 4),
    ("2 / 2", 1),
    ("3 % 2", 1),
    ("2 ^ 3", 8),
    ("5.0 + 5.0", 10.0),
    ("5.0E-5 + 4.0e2", 400.00005),
    ("5.0 - 1.0", 4.0),
    ("2.0 * 2.0", 4.0),
    ("2.0 / 2.0", 1.0),
    ("3.0 % 2.0", 1.0),
    ("2.0 ^ 3.0", 8.0),
    ('"a" + "b"', "ab"),
    ("-5", -5),
    ("--5", 5),
    ("-(-5)", 5),
    ("--(-5)", -5),
    ("-5.0", -5.0),
    ("5 - -5", 10),
    # comparisons and logic (expression_evaluate_test.go)
    ("1 == 1", True),
    ("1 == 2", False),
    ("1 != 1", False),
    ("1 != 2", True),
    ("1 > 1", False),
    ("2 > 1", True),
    ("1 < 1", False),
    ("0 < 1", True),
    ("1 >= 1", True),
    ("0 >= 1", False),
    ("1 <= 1", True),
    ("2 <= 1", False),
    ("1.0 == 1.0", True),
    ("1.0 == 2.0", False),
    ("1.0 != 1.0", False),
    ("1.0 != 2.0", True),
    ("1.0 > 1.0", False),
    ("1.01 > 1.0", True),
    ("1.0 < 1.01", True),
    ("1.0 >= 1.0", True),
    ("0.1 >= 1.0", False),
    ("1.0 <= 1.0", True),
    ("1.1 <= 1.0", False),
    ("false == false", True),
    ("false == true", False),
    ("false != true", True),
    ("false != false", False),
    ("true && true", True),
    ("true && false", False),
    ("false && true", False),
    ("false && false", False),
    ("true || false", True),
    ("false || false", False),
    ("true || true", True),
    ("false || true", True),
    ('"a" == "a"', True),
    ('"a" == "A"', False),
    ('"a" != "a"', False),
    ('"a" != "A"', True),
    ('"a" > "b"', False),
    ('"b" > "a"', True),
    ('"a" < "b"', True),
    ('"c" < "b"', False),
    ('"a" >= "a"', True),
    ('"a" >= "b"', False),
    ('"a" <= "b"', True),
    ('"c" <= "b"', False),
    ('"Z" < "a"', True),  # bytewise
    ('"é" > "z"', True),  # UTF-8 bytes (code points) order, not locale
    ("!true", False),
    ("!false", True),
    ("!(5 != 5) && !false", True),
    # reference §5.2 measured results, and the unary decision (Go: -5, -17, true)
    ("2 + 3 * 4", 14),
    ("10 - 3 - 2", 5),
    ("true || false && false", True),
    ("($.input.n + 1) * 2", 16),
    ("7 / 2", 3),
    ("7 % 3", 1),
    ("7.0 / 2.0", 3.5),
    ("-2 + 3", 1),
    ("-$.input.n + 10", 3),
    ("!true && false", False),
    ("!($.input.n > 5)", False),
    ("2 ^ 3 ^ 2", 64),
    # Go int64 semantics (reference §5.5)
    ("-7 / 2", -3),
    ("7 / -2", -3),
    ("-7 % 3", -1),
    ("7 % -3", 1),
    ("2 ^ -1", 0),
    ("1 ^ -5", 1),
    ("(-1) ^ -3", -1),
    ("(-1) ^ -2", 1),
    ("2 ^ 0", 1),
    ("(-2) ^ 63", -(2**63)),
    ("3 ^ 39", 3**39),  # exact (Go computes in float64: 4052555153018976256)
    ("9223372036854775807 + 0", 2**63 - 1),
    ("-9223372036854775807 - 1", -(2**63)),
    # floats: IEEE
    ("1.0 / 0.0", math.inf),
    ("-1.0 / 0.0", -math.inf),
    ("1.0 / -0.0", -math.inf),
    ("10.0 ^ 400.0", math.inf),
    ("(-10.0) ^ 401.0", -math.inf),
    ("0.0 ^ -1.0", math.inf),
    ("2.0 ^ 0.5", math.sqrt(2.0)),
    ("5.5 % 2.0", 1.5),
    ("-5.5 % 2.0", -1.5),
    # short-circuit: the right side is not evaluated when the left decides
    ("false && $.input.missing", False),
    ("true || $.input.missing", True),
    ("$.input.flag && $.input.n > 5", True),
]


@pytest.mark.parametrize(("text", "expected"), VALUES, ids=[text for text, _ in VALUES])
def test_value(text: str, expected: Any) -> None:
    """Each expression has the Go engine's value (or ours, where we decided to differ)."""
    actual = run(text)
    assert expected == actual
    assert type(expected) is type(actual)


@pytest.mark.parametrize("text", ["0.0 / 0.0", "5.0 % 0.0", "(-8.0) ^ (1.0 / 3.0)"])
def test_nan(text: str) -> None:
    """Float operations without a number give NaN, as in Go, instead of raising."""
    assert math.isnan(run(text))


def test_root_alone() -> None:
    """`$` is the whole root (Go panics at parse time)."""
    assert ROOT is run("$")


ERRORS = [
    # access (expression_evaluate_test.go error cases, and the brief's messages)
    ("$.input.single[-2]", "$.input.single[-2]: index -2 out of range for a list of 1 item"),
    ("$.input.single[10]", "$.input.single[10]: index 10 out of range for a list of 1 item"),
    ("$.input.letters[5]", "$.input.letters[5]: index 5 out of range for a list of 3 items"),
    (
        '$.input.letters["0"]',
        "$.input.letters: a list index must be an integer, got a string ('0')",
    ),
    (
        "$.input.letters[true]",
        "$.input.letters: a list index must be an integer, got a boolean (true)",
    ),
    (
        "$.steps.a.outputs.success.nme",
        "$.steps.a.outputs.success: no key 'nme'; keys: id, name",
    ),
    ('$.input.labels["x"]', "$.input.labels: no key 'x'; keys: app-name, tier"),
    ("$.input.empty.x", "$.input.empty: no key 'x'; the map is empty"),
    ("$.input.by_index[2]", "$.input.by_index: no key 2; keys: 0, 1"),
    ("$.input.by_index[true]", "$.input.by_index: no key true; keys: 0, 1"),
    ("$.input.by_index[1.0]", "$.input.by_index: no key 1.0; keys: 0, 1"),
    ("$.input.by_bool[1]", "$.input.by_bool: no key 1; keys: true"),
    (
        "$.input.labels[$.input.letters]",
        "$.input.labels: a key must be a string, integer, float or boolean, got a list",
    ),
    ("$.input.n.x", "$.input.n: cannot read 'x' of an integer"),
    ("$.input.nothing.x", "$.input.nothing: cannot read 'x' of null"),
    ("$.input.message[0]", "$.input.message: cannot index a string"),
    ("$.input.letters.x", "$.input.letters: cannot read 'x' of a list"),
    ("$.nope", "$: no key 'nope'; keys: input, steps"),
    (
        "true && $.input.missing",
        "$.input: no key 'missing'; keys: " + ", ".join(sorted(ROOT["input"])),
    ),
    # arithmetic
    ("5 / 0", "integer division by zero"),
    ("5 % 0", "integer division by zero"),
    ("$.input.n / ($.input.a - 1)", "integer division by zero"),
    (
        "9223372036854775807 + 1",
        "integer overflow: 9223372036854775807 + 1 does not fit in 64 bits",
    ),
    (
        "-9223372036854775807 - 2",
        "integer overflow: -9223372036854775807 - 2 does not fit in 64 bits",
    ),
    (
        "4611686018427387904 * 2",
        "integer overflow: 4611686018427387904 * 2 does not fit in 64 bits",
    ),
    (
        "(-9223372036854775807 - 1) / -1",
        "integer overflow: -9223372036854775808 / -1 does not fit in 64 bits",
    ),
    (
        "-(-9223372036854775807 - 1)",
        "integer overflow: -(-9223372036854775808) does not fit in 64 bits",
    ),
    ("2 ^ 63", "integer overflow: 2 ^ 63 does not fit in 64 bits"),
    ("10 ^ 1000000000", "integer overflow: 10 ^ 1000000000 does not fit in 64 bits"),
    ("0 ^ -1", "0 ^ -1: zero to a negative power is infinite"),
    # types (expression_evaluate_test.go error cases)
    ("1 && 1", "cannot apply '&&' to an integer"),
    ("1 || 1", "cannot apply '||' to an integer"),
    ("true && 1", "cannot apply '&&' to an integer"),
    ("true + false", "cannot apply '+' to booleans"),
    ("true > false", "cannot apply '>' to booleans"),
    ('"5" - "6"', "cannot apply '-' to strings"),
    ('"5" && "6"', "cannot apply '&&' to a string"),
    ("5 + 5.0", "cannot apply '+' to an integer and a float"),
    ("$.input.f * 2", "cannot apply '*' to a float and an integer"),
    ("1 == true", "cannot apply '==' to an integer and a boolean"),
    ('1 == "1"', "cannot apply '==' to an integer and a string"),
    ("$.input.letters == $.input.letters", "cannot apply '==' to lists"),
    ("$.input.nothing == $.input.nothing", "cannot apply '==' to nulls"),
    ("$.input.labels + 1", "cannot apply '+' to an object and an integer"),
    ("-true", "cannot apply '-' to a boolean"),
    ('-"a"', "cannot apply '-' to a string"),
    ("!5", "cannot apply '!' to an integer"),
    # functions
    ('stringToInt("abc")', "stringToInt(\"abc\"): 'abc' is not a base-10 integer"),
    (
        "intToString($.input.message)",
        "intToString($.input.message): argument 1 must be an integer, got 'Hello world!'",
    ),
]


@pytest.mark.parametrize(("text", "reason"), ERRORS, ids=[text for text, _ in ERRORS])
def test_error(text: str, reason: str) -> None:
    """Every run-time failure is an ExpressionEvaluationError saying what and where."""
    with pytest.raises(ExpressionEvaluationError) as raised:
        run(text)
    assert (reason, text.strip()) == (raised.value.reason, raised.value.expression)
    assert f"{reason} (in expression {text.strip()!r})" == str(raised.value)


def test_unknown_function() -> None:
    """A call of a function that does not exist (only possible unchecked) lists the valid ones."""
    with pytest.raises(ExpressionEvaluationError) as raised:
        run("nofunc(1)")
    assert raised.value.reason.startswith("unknown function 'nofunc'; valid functions: abs, ")
    assert "intToString" in raised.value.reason


def test_wrong_argument_count() -> None:
    """A call with the wrong number of arguments (the type checker's job) fails cleanly."""
    with pytest.raises(ExpressionEvaluationError, match=r"^intToString\(1, 2\): takes 1 "):
        run("intToString(1, 2)")


def test_a_function_that_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    """A ValueError from a function becomes an evaluation error naming the call."""
    from arcaflow_steps.workflow._expressions import _functions

    original = _functions.FUNCTIONS["toLower"]

    def broken(value: str) -> str:
        raise ValueError(f"cannot lower {value!r}")

    monkeypatch.setitem(
        _functions.FUNCTIONS,
        "toLower",
        _functions.Function(
            name="toLower",
            parameters=original.parameters,
            result=original.result,
            call=broken,
        ),
    )
    with pytest.raises(ExpressionEvaluationError) as raised:
        run("toLower($.input.message)")
    assert "toLower($.input.message): cannot lower 'Hello world!'" == raised.value.reason


def test_an_expression_reads_the_data_it_is_given() -> None:
    """The same expression evaluates against each root it is given (nothing is cached)."""
    expression = parse_expression("$.input.n * 2")
    assert (2, 4) == (
        evaluate(expression, {"input": {"n": 1}}),
        evaluate(expression, {"input": {"n": 2}}),
    )


int64s = st.integers(min_value=-(2**63), max_value=2**63 - 1)


@given(int64s, int64s.filter(lambda value: value != 0))
def test_division_identity(dividend: int, divisor: int) -> None:
    """Go's int64 division: truncated quotient, remainder with the dividend's sign."""
    if dividend == -(2**63) and divisor == -1:
        return  # the one overflow (tested above)
    quotient = evaluate(_binary(BinaryOperator.DIVIDE, dividend, divisor), {})
    remainder = evaluate(_binary(BinaryOperator.MODULO, dividend, divisor), {})
    assert dividend == quotient * divisor + remainder
    assert abs(remainder) < abs(divisor)
    assert remainder == 0 or (remainder < 0) == (dividend < 0)


@given(
    int64s,
    int64s,
    st.sampled_from([BinaryOperator.ADD, BinaryOperator.SUBTRACT, BinaryOperator.MULTIPLY]),
)
def test_int64_range(left: int, right: int, operator: BinaryOperator) -> None:
    """An integer result is exact within int64 and an overflow error outside it."""
    exact = {BinaryOperator.ADD: left + right, BinaryOperator.SUBTRACT: left - right}.get(
        operator, left * right
    )
    expression = _binary(operator, left, right)
    if -(2**63) <= exact < 2**63:
        assert exact == evaluate(expression, {})
    else:
        with pytest.raises(ExpressionEvaluationError, match=r"^integer overflow: "):
            evaluate(expression, {})


def _binary(operator: BinaryOperator, left: int, right: int) -> Expression:
    return Expression(source="(generated)", root=Binary(operator, Literal(left), Literal(right)))
