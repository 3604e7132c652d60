"""expression_paths: every root path an expression reads, for the planner's dependency edges.

Cases from arcaflow-expressions' `expression_dependencies_test.go` (with full data
requirements: literal keys and list indexes stay on the path) and reference §5.8.
"""

from __future__ import annotations

import pytest

from arcaflow_steps.workflow._expressions import expression_paths, parse_expression

PATHS = [
    # expression_dependencies_test.go
    ("$.foo.bar", [("foo", "bar")]),
    ('$["foo"].bar', [("foo", "bar")]),
    ("$.faz", [("faz",)]),
    ('$.faz["foo"]', [("faz", "foo")]),
    ("$.foo[$.faz.foo]", [("faz", "foo"), ("foo",)]),
    ("$.int_list[0]", [("int_list", 0)]),
    ("$.int_list[$.simple_int]", [("int_list",), ("simple_int",)]),
    ('"test"', []),
    ("foo.bar", [("foo", "bar")]),
    ("voidFunc()", []),
    ("intIn(5)", []),
    ("intIn($.simple_int)", [("simple_int",)]),
    ("twoIntIn($.simple_int, $.simple_int)", [("simple_int",)]),
    ("$.faz[test($.simple_int, $.simple_str)]", [("faz",), ("simple_int",), ("simple_str",)]),
    ("test(5, $.simple_int, $.simple_str)", [("simple_int",), ("simple_str",)]),
    ("intInOut(intInOut($.simple_int))", [("simple_int",)]),
    # reference §5.8 and the spec contract
    ("$", [()]),
    (
        "$.steps.a.outputs.success.items[0].name",
        [("steps", "a", "outputs", "success", "items", 0, "name")],
    ),
    ('$.steps["my-step"].outputs', [("steps", "my-step", "outputs")]),
    (
        "$.input.items[-1]",
        [
            ("input", "items"),
        ],
    ),  # -1 is the expression -(1): computed
    ("$.input.m[1 + 1].x", [("input", "m")]),
    ("$.input.m[true]", [("input", "m")]),
    ("$.input.m[1.5]", [("input", "m")]),
    (
        "$[$]",
        [
            (),
        ],
    ),
    ('splitString($.input.s, ",")[1]', [("input", "s")]),
    ("f($.a).b.c", [("a",)]),
    (
        "$.steps.a.outputs.success.n + $.steps.b.outputs.success.n * 2 > $.input.limit",
        [
            ("input", "limit"),
            ("steps", "a", "outputs", "success", "n"),
            ("steps", "b", "outputs", "success", "n"),
        ],
    ),
    ("!$.input.flag && -$.input.n < 0", [("input", "flag"), ("input", "n")]),
    ("$.a.b + $.a.b.c + $.a.b", [("a", "b"), ("a", "b", "c")]),  # prefixes stay, once each
    ('$.m[1].x + $.m[0] + $.m.x + $.m["a"]', [("m", 0), ("m", 1, "x"), ("m", "a"), ("m", "x")]),
    ("1 + 2 * 3", []),
]


@pytest.mark.parametrize(("text", "expected"), PATHS, ids=[text for text, _ in PATHS])
def test_paths(text: str, expected: list[tuple[str | int, ...]]) -> None:
    """Every root path read, literal keys on the path, sorted with ints first, once each."""
    assert tuple(expected) == expression_paths(parse_expression(text))
