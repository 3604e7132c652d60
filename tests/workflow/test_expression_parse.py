"""Parsing expressions: the syntax tree for every form of the language, and the syntax errors.

The tables port arcaflow-expressions' `internal/ast/grammar_test.go` and tokenizer cases and
the reference's examples (reference/workflow.md §5), with our decisions where we differ from
Go (unary operators bind to their operand; `.5`, `1e3`, `0x10` are errors, not names).
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arcaflow_steps.workflow._errors import ExpressionSyntaxError
from arcaflow_steps.workflow._expressions import parse_expression
from arcaflow_steps.workflow._expressions._ast import (
    Attribute,
    Binary,
    BinaryOperator,
    Call,
    Expression,
    Index,
    Literal,
    Node,
    Root,
    Unary,
    UnaryOperator,
)
from arcaflow_steps.workflow._expressions._format import format_node
from arcaflow_steps.workflow._expressions._grammar import _parser
from arcaflow_steps.workflow._expressions._parser import MAX_DEPTH, _plain_path

B = BinaryOperator
U = UnaryOperator


def path(*segments: str | int | Node) -> Node:
    """``path("a", 0)`` is ``$.a[0]``: names become attributes, ints and nodes bracket keys."""
    node: Node = Root()
    for segment in segments:
        if isinstance(segment, str):
            node = Attribute(node, segment)
        elif isinstance(segment, int):
            node = Index(node, Literal(segment))
        else:
            node = Index(node, segment)
    return node


def lit(value: int | float | str | bool) -> Literal:
    return Literal(value)


PARSED = [
    # access (grammar_test.go)
    ("abc", path("abc")),
    ("$.test", path("test")),
    ("$", Root()),
    ('"test"', lit("test")),
    ("$.parent.child", path("parent", "child")),
    ('$.map["key"]', path("map", lit("key"))),
    ('$.a.b[0].c["k"]', path("a", "b", 0, "c", lit("k"))),
    ('$.a.b.c["key"].d', Attribute(path("a", "b", "c", lit("key")), "d")),
    ('$["a"]["b"][0]["c"]', path(lit("a"), lit("b"), 0, lit("c"))),
    ("$['a']", path(lit("a"))),
    ("$[$.a]", path(path("a"))),
    ('$.steps["my-step"].outputs', Attribute(path("steps", lit("my-step")), "outputs")),
    ("$.input.items[-1]", path("input", "items", Unary(U.NEGATE, lit(1)))),
    ("input.n", path("input", "n")),
    ("steps.a.outputs", path("steps", "a", "outputs")),
    ("$.true", path("true")),
    ("$.a[k]", path("a", path("k"))),  # a bare name in brackets is root-relative too
    # calls
    ("funcName()", Call("funcName", ())),
    ("funcName($.a)", Call("funcName", (path("a"),))),
    ('funcName($.a, 5, "test")', Call("funcName", (path("a"), lit(5), lit("test")))),
    ("funcName().a", Attribute(Call("funcName", ()), "a")),
    ('splitString("a,b", ",")[1]', Index(Call("splitString", (lit("a,b"), lit(","))), lit(1))),
    ("f(g(1), -2)", Call("f", (Call("g", (lit(1),)), Unary(U.NEGATE, lit(2))))),
    # literals (tokenizer_test.go, reference §5.1)
    ("0", lit(0)),
    ("42", lit(42)),
    ("9223372036854775807", lit(2**63 - 1)),
    ("1.5", lit(1.5)),
    ("1.", lit(1.0)),
    ("1.5e3", lit(1500.0)),
    ("1.5E-7", lit(1.5e-7)),
    ("1.e3", lit(1000.0)),
    ("0.25e+2", lit(25.0)),
    ("true", lit(True)),
    ("false", lit(False)),
    ("'single'", lit("single")),
    ("``", lit("")),
    ("`raw \\n ${x}\nsecond line`", lit("raw \\n ${x}\nsecond line")),
    # escapes (TestParseString_EscapedStrings)
    (r'"a\"b"', lit('a"b')),
    (r'"a\tb"', lit("a\tb")),
    (r'"a\\b"', lit("a\\b")),
    (r'"a\bb"', lit("a\bb")),
    (r'"a\nb"', lit("a\nb")),
    (r'"a\\nb"', lit("a\\nb")),
    (r"'\''", lit("'")),
    (r'"\r\0"', lit("\r\0")),
    (r'"\q\u0041"', lit(r"\q\u0041")),  # other escapes stay as written
    ("'a\"b'", lit('a"b')),
    # operators and precedence (grammar_test.go)
    ("2 + 2", Binary(B.ADD, lit(2), lit(2))),
    ("1.0 - 2.0 - 3.0", Binary(B.SUBTRACT, Binary(B.SUBTRACT, lit(1.0), lit(2.0)), lit(3.0))),
    (
        "7 + 50 * 6 / 10",
        Binary(B.ADD, lit(7), Binary(B.DIVIDE, Binary(B.MULTIPLY, lit(50), lit(6)), lit(10))),
    ),
    ("1 ^ 4 * 3", Binary(B.MULTIPLY, Binary(B.POWER, lit(1), lit(4)), lit(3))),
    ("2 ^ (4 * 3)", Binary(B.POWER, lit(2), Binary(B.MULTIPLY, lit(4), lit(3)))),
    ("2 ^ 3 ^ 2", Binary(B.POWER, Binary(B.POWER, lit(2), lit(3)), lit(2))),
    ("(4 + 3) * 2", Binary(B.MULTIPLY, Binary(B.ADD, lit(4), lit(3)), lit(2))),
    ("5 + -5", Binary(B.ADD, lit(5), Unary(U.NEGATE, lit(5)))),
    ("---5", Unary(U.NEGATE, Unary(U.NEGATE, Unary(U.NEGATE, lit(5))))),
    ("-(-5)", Unary(U.NEGATE, Unary(U.NEGATE, lit(5)))),
    ("!!true", Unary(U.NOT, Unary(U.NOT, lit(True)))),
    ("2 > 2", Binary(B.GREATER, lit(2), lit(2))),
    ("2 >= 2", Binary(B.GREATER_EQUAL, lit(2), lit(2))),
    ("2 <= 2", Binary(B.LESS_EQUAL, lit(2), lit(2))),
    ("2 < 2", Binary(B.LESS, lit(2), lit(2))),
    ("2 == 2", Binary(B.EQUAL, lit(2), lit(2))),
    ("2 != 2", Binary(B.NOT_EQUAL, lit(2), lit(2))),
    ("0 < 1 + 2", Binary(B.LESS, lit(0), Binary(B.ADD, lit(1), lit(2)))),
    ("true && false", Binary(B.AND, lit(True), lit(False))),
    ("true || false && false", Binary(B.OR, lit(True), Binary(B.AND, lit(False), lit(False)))),
    ("10 - 3 - 2", Binary(B.SUBTRACT, Binary(B.SUBTRACT, lit(10), lit(3)), lit(2))),
    ("7 % 3", Binary(B.MODULO, lit(7), lit(3))),
    (
        "2 * 3 + 4 > 2 % 5 || $.test && !true",
        Binary(
            B.OR,
            Binary(
                B.GREATER,
                Binary(B.ADD, Binary(B.MULTIPLY, lit(2), lit(3)), lit(4)),
                Binary(B.MODULO, lit(2), lit(5)),
            ),
            Binary(B.AND, path("test"), Unary(U.NOT, lit(True))),
        ),
    ),
    # our decision: unary binds to its operand (Go: -(2 + 3) and !(true && false))
    ("-2 + 3", Binary(B.ADD, Unary(U.NEGATE, lit(2)), lit(3))),
    ("!true && false", Binary(B.AND, Unary(U.NOT, lit(True)), lit(False))),
    ("-$.input.n + 10", Binary(B.ADD, Unary(U.NEGATE, path("input", "n")), lit(10))),
    ("!$.input.n > 5", Binary(B.GREATER, Unary(U.NOT, path("input", "n")), lit(5))),
    ("-2 ^ 2", Binary(B.POWER, Unary(U.NEGATE, lit(2)), lit(2))),
    ("2 ^ -1", Binary(B.POWER, lit(2), Unary(U.NEGATE, lit(1)))),
    ("-$.a.b[0]", Unary(U.NEGATE, path("a", "b", 0))),
    # whitespace, newlines, trimming
    ("  $.a  ", path("a")),
    ("\n$.a\n  +\t1\n", Binary(B.ADD, path("a"), lit(1))),
    ("$ . a [ 0 ]", path("a", 0)),
]


@pytest.mark.parametrize(("text", "expected"), PARSED, ids=[text for text, _ in PARSED])
def test_parse(text: str, expected: Node) -> None:
    """Each form parses into its syntax tree, with the text trimmed."""
    assert Expression(source=text.strip(), root=expected) == parse_expression(text)


ERRORS = [
    # (text, column, reason)
    ("", 1, "empty expression"),
    ("   \n ", 1, "empty expression"),
    ("[", 1, "unexpected '[' at column 1; expected a value"),
    ("()", 2, "unexpected ')' at column 2; expected a value"),
    ("))", 1, "unexpected ')' at column 1; expected a value"),
    ("$.$", 3, "unexpected '$' at column 3; expected a name"),
    ("$.a.", 5, "unexpected end of expression; expected a name"),
    ("$.(", 3, "unexpected '(' at column 3; expected a name"),
    ("$.a.5", 5, "unexpected '5' at column 5; expected a name"),
    ("$[)]", 3, "unexpected ')' at column 3; expected a value"),
    ("$)a", 2, "unexpected ')' at column 2; expected an operator or the end"),
    ("$.test[5)", 9, "unexpected ')' at column 9; expected an operator or ']'"),
    ("5 * (5 * 5]", 11, "unexpected ']' at column 11; expected an operator or ')'"),
    ('f(""1', 5, "unexpected '1' at column 5; expected an operator, ',' or ')'"),
    ('f("",', 6, "unexpected end of expression; expected a value"),
    ('(""', 4, "unexpected end of expression; expected an operator or ')'"),
    ("f(1", 4, "unexpected end of expression; expected an operator, ',' or ')'"),
    ("1 +", 4, "unexpected end of expression; expected a value"),
    ("-", 2, "unexpected end of expression; expected a value"),
    ("1 2", 3, "unexpected '2' at column 3; expected an operator or the end"),
    (
        "$.a.b c",
        7,
        "unexpected 'c' at column 7; expected an operator, '.', '[' or the end",
    ),
    ("$.a // x", 6, "unexpected '/' at column 6; expected a value"),
    ("2 = 2", 3, "unexpected character '=' at column 3; write '==' to compare"),
    ("$.a & $.b", 5, "unexpected character '&' at column 5; write '&&' for 'and'"),
    ("$.a | $.b", 5, "unexpected character '|' at column 5; write '||' for 'or'"),
    ("@.a", 1, "unexpected character '@' at column 1"),
    ("$.a[0:2]", 6, "unexpected character ':' at column 6"),
    ("1 ? 2 : 3", 3, "unexpected character '?' at column 3"),
    ("$.ä", 3, "unexpected character 'ä' at column 3"),
    ('"abc', 1, "the string starting at column 1 is not closed"),
    ("'abc", 1, "the string starting at column 1 is not closed"),
    ("`abc", 1, "the string starting at column 1 is not closed"),
    ('"a\nb"', 1, "the string starting at column 1 is not closed"),
    # postfix after a literal (TestParseExpression_Error_*, TestExpressionErrorChainLiteral)
    ("0[0]", 2, "'[' at column 2 cannot follow a literal"),
    ("0 .a", 3, "'.' at column 3 cannot follow a literal"),
    ("0(0 + 0)", 2, "'(' at column 2 cannot follow a literal"),
    ('"a".a', 4, "'.' at column 4 cannot follow a literal"),
    ("true.a", 5, "'.' at column 5 cannot follow a literal"),
    ("false[0]", 6, "'[' at column 6 cannot follow a literal"),
    ("true(1)", 1, "'(' cannot follow the literal true"),
    # number literals Go reads as names, or not at all (reference §5.1, §5.6)
    (".5", 1, "'.5' is not a number literal; write 0.5"),
    ("1 + .25", 5, "'.25' is not a number literal; write 0.25"),
    ("1e3", 1, "'1e3' is not a number literal; write 1.0e3"),
    ("2E-7", 1, "'2E-7' is not a number literal; write 2.0E-7"),
    ("0x10", 1, "'0x10' is not a number literal; write 16"),
    ("0o17", 1, "'0o17' is not a number literal; write 15"),
    ("007", 1, "'007' is not a number literal; write 7"),
    ("1_000", 1, "'1_000' is not a number literal; write 1000"),
    ("12ab", 1, "'12ab' is not a number literal"),
    (
        "9223372036854775808",
        1,
        "the integer 9223372036854775808 does not fit in 64 bits "
        "(the largest is 9223372036854775807)",
    ),
    ("1.0e999", 1, "the float 1.0e999 is out of range"),
]


@pytest.mark.parametrize(("text", "column", "reason"), ERRORS, ids=[e[0] for e in ERRORS])
def test_syntax_error(text: str, column: int, reason: str) -> None:
    """A text that is not an expression names the column and what would be valid there."""
    with pytest.raises(ExpressionSyntaxError) as raised:
        parse_expression(text)
    assert (reason, column, text.strip()) == (
        raised.value.reason,
        raised.value.column,
        raised.value.expression,
    )
    assert f"{reason} (in expression {text.strip()!r})" == str(raised.value)


@pytest.mark.parametrize(
    "text", ["9" * 5000, "0x" + "f" * 5000, "1" * 5000 + ".5", "1" * 5000 + "e3"]
)
def test_a_huge_number_literal_is_a_syntax_error(text: str) -> None:
    """A number literal of thousands of digits is refused by its length, not converted
    (Python refuses integers of more than 4,300 digits); the message quotes it shortened."""
    with pytest.raises(ExpressionSyntaxError) as raised:
        parse_expression(f"1 + {text}")
    reason = (
        f"a number literal of {len(text)} characters is too long "
        "(at most 100; the largest integer is 9223372036854775807)"
    )
    assert (reason, 5) == (raised.value.reason, raised.value.column)
    shown = repr(f"1 + {text}"[:160] + "…")
    assert f"{reason} (in expression {shown} ({len(text) + 4} characters))" == str(raised.value)
    assert isinstance(parse_expression("1" * 19).root, Literal)


def test_parse_from_many_threads() -> None:
    """The one shared parser serves threads at once: each gets its own text's tree or error."""
    texts = [text for text, _ in PARSED] + [text for text, _, _ in ERRORS]

    def outcome(text: str) -> object:
        try:
            return parse_expression(text)
        except ExpressionSyntaxError as error:
            return (error.reason, error.column)

    serial = [outcome(text) for text in texts]
    with ThreadPoolExecutor(max_workers=8) as pool:
        for _ in range(5):
            assert serial == list(pool.map(outcome, texts))


def test_syntax_error_is_a_value_error() -> None:
    """Callers that catch ValueError (as for every static problem) catch syntax errors too."""
    with pytest.raises(ValueError, match=r"^unexpected end of expression; expected a value"):
        parse_expression("1 +")


def test_nesting_limit() -> None:
    """Nesting beyond MAX_DEPTH is a syntax error, not a RecursionError later."""
    assert isinstance(parse_expression("1" + " + 1" * (MAX_DEPTH - 1)).root, Binary)
    with pytest.raises(ExpressionSyntaxError) as raised:
        parse_expression("1" + " + 1" * MAX_DEPTH)
    assert f"the expression nests deeper than {MAX_DEPTH} levels" == raised.value.reason
    assert isinstance(parse_expression("-" * (MAX_DEPTH - 1) + "1").root, Unary)
    right_nested = "(1 + " * MAX_DEPTH + "1" + ")" * MAX_DEPTH
    for text in (
        "-" * MAX_DEPTH + "1",
        right_nested,
        "f(" * (MAX_DEPTH + 1) + ")" * (MAX_DEPTH + 1),
    ):
        with pytest.raises(ExpressionSyntaxError, match="nests deeper than"):
            parse_expression(text)


# Round trip: random trees, written by format_node, parse back to the same tree.

names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True)
literals = st.one_of(
    st.integers(min_value=0, max_value=2**63 - 1),
    st.floats(min_value=0, allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.booleans(),
).map(Literal)


def paths(children: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
    bases = st.one_of(
        st.just(Root()),
        st.builds(
            Call,
            names.filter(lambda name: name not in ("true", "false")),
            st.lists(children, max_size=3).map(tuple),
        ),
    )
    steps = st.lists(st.one_of(names, children), max_size=4)

    def extend(base: Node, segments: list[str | Node]) -> Node:
        for segment in segments:
            base = Attribute(base, segment) if isinstance(segment, str) else Index(base, segment)
        return base

    return st.builds(extend, bases, steps)


trees = st.recursive(
    st.one_of(literals, st.just(Root())),
    lambda children: st.one_of(
        paths(children),
        st.builds(Unary, st.sampled_from(UnaryOperator), children),
        st.builds(Binary, st.sampled_from(BinaryOperator), children, children),
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(trees)
def test_round_trip(tree: Node) -> None:
    """format_node writes every parser-buildable tree so that it parses back unchanged."""
    assert tree == parse_expression(format_node(tree)).root


plain_paths = st.builds(
    lambda start, segments: start + "".join(segments),
    st.one_of(st.just("$"), names),
    st.lists(
        st.one_of(
            names.map(lambda name: f".{name}"),
            st.integers(min_value=0, max_value=10**18).map(lambda index: f"[{index}]"),
            st.text(max_size=6).map(lambda key: f"[{format_node(Literal(key))}]"),
            st.text(alphabet="0123456789 ()-'", max_size=3).map(lambda junk: f"[{junk}]"),
        ),
        max_size=6,
    ),
)


@settings(max_examples=500, deadline=None)
@given(plain_paths)
def test_plain_path_fast_path_agrees_with_the_grammar(text: str) -> None:
    """Where the plain-path fast path answers, its tree is the grammar's; else the grammar's."""
    try:
        from_grammar: Node | None = _parser().parse(text)
    except Exception:  # a syntax error: the fast path must not accept it either
        from_grammar = None
    from_fast_path = _plain_path(text)
    if from_fast_path is not None:
        assert from_grammar == from_fast_path


def test_fast_path_covers_the_common_forms() -> None:
    """Plain paths with names, int indexes and quoted keys take the fast path."""
    for text in ("$.steps.a.outputs.success.items[0].name", 'input.m["b-c"]', "$", "x"):
        assert _plain_path(text) is not None, text
    for text in ("true", "$.a[-1]", "$.a['k']", '$.a["\\n"]', "$ .a", "f(x).a", "$.a[007]"):
        assert _plain_path(text) is None, text


@pytest.mark.parametrize(
    "text",
    [
        "$.steps.a.outputs.success.items[0].name",
        'intToString($.steps.a.outputs.success.n + 1) + "s"',
    ],
)
def test_parse_time(text: str) -> None:
    """A typical expression parses in well under 2 ms, even under coverage and load.

    Measured without either: ~6 µs for a plain path, ~100 µs otherwise. The bound catches a
    parser rebuilt per call (~35 ms) or a pathological grammar change.
    """
    parse_expression(text)  # builds the parser
    rounds = 200
    started = time.process_time()
    for _ in range(rounds):
        parse_expression(text)
    per_parse = (time.process_time() - started) / rounds
    assert per_parse < 0.002, f"{per_parse * 1e6:.0f} µs per parse"
