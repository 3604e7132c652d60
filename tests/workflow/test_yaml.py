"""The workflow YAML loader: YAML 1.2 scalars, the engine tags, and one-line errors with path,
line and column (the Go engine's ``workflow/yaml_test.go`` cases are ported here)."""

from __future__ import annotations

from typing import Any

import pytest

from arcaflow_steps.workflow import InvalidWorkflowError
from arcaflow_steps.workflow._expressions import parse_expression
from arcaflow_steps.workflow._template import Expr, OneOf, SoftOptional, WaitOptional
from arcaflow_steps.workflow._yaml import load_data_yaml, load_workflow_yaml

VALID_TAGS = "!!bool, !!float, !!int, !!map, !!null, !!seq, !!str"
ENGINE_TAGS = "!expr, !oneof, !ordisabled, !soft-optional, !wait-optional"


def expr(text: str, path: str) -> Expr:
    return Expr(parse_expression(text), path)


def load(text: str) -> Any:
    return load_workflow_yaml(text, "workflow.yaml")


def error(text: str) -> str:
    with pytest.raises(InvalidWorkflowError) as info:
        load(text)
    return str(info.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("yes", "yes"),
        ("on", "on"),
        ("1:30", "1:30"),
        ("2024-01-01", "2024-01-01"),
        ("0b1", "0b1"),
        ("1_000", "1_000"),
        ("1e-1", 0.1),
        ("0x10", 16),
        ("0o7", 7),
        ("5", 5),
        ("1.5", 1.5),
        ("true", True),
        ("False", False),
        ("null", None),
        ("~", None),
        ("", None),
        (".inf", float("inf")),
        ("'5'", "5"),
        ("!!str 5", "5"),
    ],
)
def test_scalars_are_yaml_1_2(text: str, expected: Any) -> None:
    """Workflow and data files resolve scalars by the YAML 1.2 core schema, typed (the Go
    engine keeps every scalar as its text; we keep the type YAML 1.2 gives it)."""
    for loader in (load_workflow_yaml, load_data_yaml):
        value = loader(f"v: {text}\n", "f.yaml")["v"]
        assert (type(expected), expected) == (type(value), value)


def test_a_workflow_maps_keys_are_their_text() -> None:
    """A plain scalar key is its text as written, as the Go engine keys its maps; a data file
    keeps the key's YAML type."""
    text = "1: a\n1.0: b\n~: c\ntrue: d\n'5': e\n"  # 1, 1.0 and True are one dict key
    assert {"1": "a", "1.0": "b", "~": "c", "true": "d", "5": "e"} == load(text)
    assert {1: "a", None: "c", False: "d", "5": "e"} == load_data_yaml(
        "1: a\n~: c\nfalse: d\n'5': e\n", "in.yaml"
    )


def test_an_empty_file_has_no_document() -> None:
    """An empty or comment-only file loads as ``None`` (the workflow reader words it)."""
    assert [None, None, None] == [load(""), load("# nothing\n"), load_data_yaml("\n", "i")]


def test_expr_compiles_the_trimmed_text() -> None:
    """``!expr`` compiles its scalar (block scalars too, trimmed) into an ``Expr`` that knows
    its key path; equal texts share one tree."""
    data = load(
        "steps:\n"
        "  b:\n"
        "    input:\n"
        "      name: !expr $.input.name\n"
        "      items:\n"
        "      - !expr |\n"
        "          $.steps.a.outputs.success\n"
        "      - !expr $.input.name\n"
    )
    step_input = data["steps"]["b"]["input"]
    assert expr("$.input.name", "steps.b.input.name") == step_input["name"]
    assert [
        expr("$.steps.a.outputs.success", "steps.b.input.items[0]"),
        expr("$.input.name", "steps.b.input.items[1]"),
    ] == step_input["items"]
    assert step_input["name"].expression is step_input["items"][1].expression


def test_oneof_simple() -> None:
    """Go ``TestBuildOneOfExpression_Simple``: options in file order, each a template."""
    data = load(
        "v: !oneof\n"
        "  discriminator: d\n"
        "  one_of:\n"
        "    a: !expr some_expr\n"
        "    b: !expr some_other_expr\n"
        "    c: {x: !expr $.input.x, y: 1}\n"
    )
    expected = OneOf(
        discriminator="d",
        options=(
            ("a", expr("some_expr", "v.one_of.a")),
            ("b", expr("some_other_expr", "v.one_of.b")),
            ("c", {"x": expr("$.input.x", "v.one_of.c.x"), "y": 1}),
        ),
        path="v",
    )
    assert expected == data["v"]


def test_oneof_nests_and_a_non_object_option_is_left_to_typing() -> None:
    """A ``!oneof`` option may be another ``!oneof``; an option that is not an object (Go's
    last ``InputValidation`` case) loads, and type inference refuses it."""
    data = load(
        "v: !oneof\n"
        "  discriminator: outer\n"
        "  one_of:\n"
        "    a: test\n"
        "    b: !oneof {discriminator: inner, one_of: {c: !expr $.x}}\n"
    )
    inner = OneOf(
        discriminator="inner",
        options=(("c", expr("$.x", "v.one_of.b.one_of.c")),),
        path="v.one_of.b",
    )
    assert (
        OneOf(discriminator="outer", options=(("a", "test"), ("b", inner)), path="v") == data["v"]
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            "v: !oneof 'thisisastring'\n",
            "v: !oneof needs a mapping with 'discriminator' and 'one_of', not a scalar "
            "(line 1, column 4)",
            id="not-a-map",
        ),
        pytest.param(
            "v: !oneof\n  wrong_key: ''\n  one_of: {}\n",
            "v: unknown key 'wrong_key' in !oneof; valid keys: 'discriminator', 'one_of' "
            "(line 2, column 3)",
            id="wrong-discriminator-key",
        ),
        pytest.param(
            "v: !oneof\n  one_of: {a: {}}\n",
            "v: !oneof needs the key 'discriminator' (line 1, column 4)",
            id="no-discriminator",
        ),
        pytest.param(
            "v: !oneof\n  discriminator: {}\n  one_of: {}\n",
            "v.discriminator: the discriminator of !oneof must be a non-empty string, got a "
            "mapping (line 2, column 18)",
            id="discriminator-not-a-string",
        ),
        pytest.param(
            "v: !oneof\n  discriminator: 5\n  one_of: {}\n",
            "v.discriminator: the discriminator of !oneof must be a non-empty string, got 5 "
            "(line 2, column 18)",
            id="discriminator-int",
        ),
        pytest.param(
            "v: !oneof\n  discriminator: ''\n  one_of: {}\n",
            "v.discriminator: the discriminator of !oneof must be a non-empty string, got an "
            "empty string (line 2, column 18)",
            id="empty-discriminator",
        ),
        pytest.param(
            "v: !oneof\n  discriminator: valid\n  one_of_wrong: {}\n",
            "v: unknown key 'one_of_wrong' in !oneof; valid keys: 'discriminator', 'one_of' "
            "(line 3, column 3)",
            id="wrong-one-of-key",
        ),
        pytest.param(
            "v: !oneof\n  discriminator: valid\n  options: {a: {}}\n",
            "v: unknown key 'options' in !oneof; valid keys: 'discriminator', 'one_of' "
            "(line 3, column 3)",
            id="options-as-the-docs-say",
        ),
        pytest.param(
            "v: !oneof\n  discriminator: valid\n",
            "v: !oneof needs the key 'one_of' (line 1, column 4)",
            id="no-one-of",
        ),
        pytest.param(
            "v: !oneof\n  discriminator: valid\n  one_of: wrong\n",
            "v.one_of: 'one_of' of !oneof must be a mapping of option id to its data, got a "
            "string (line 3, column 11)",
            id="one-of-not-a-map",
        ),
        pytest.param(
            "v: !oneof\n  discriminator: valid\n  one_of: {}\n",
            "v.one_of: 'one_of' of !oneof needs at least one option (line 3, column 11)",
            id="no-options",
        ),
        pytest.param(
            "v: !oneof\n  discriminator: d\n  discriminator: e\n  one_of: {a: {}}\n",
            "v: duplicate key 'discriminator' (line 3, column 3)",
            id="duplicate-discriminator",
        ),
        pytest.param(
            "v: !oneof\n  discriminator: d\n  one_of: {a: {}, a: {}}\n",
            "v.one_of: duplicate key 'a' (line 3, column 19)",
            id="duplicate-option",
        ),
        pytest.param(
            "v: !oneof\n  discriminator: d\n  one_of: {a: !wait-optional $.x}\n",
            "v.one_of.a: !wait-optional cannot be an option of !oneof; an option is its data "
            "(line 3, column 15)",
            id="optional-option",
        ),
    ],
)
def test_oneof_input_validation(text: str, message: str) -> None:
    """Go ``TestBuildOneOfExpression_InputValidation`` and more: every malformed ``!oneof``
    is one line with the path, line and column."""
    assert f"workflow.yaml: {message}" == error(text)


@pytest.mark.parametrize(
    ("text", "enabled", "disabled"),
    [
        ("steps.test.outputs", "steps.test.outputs", "steps.test.disabled.output"),
        ("$.steps.test.outputs", "$.steps.test.outputs", "$.steps.test.disabled.output"),
        (
            "$.steps.test.outputs.success",
            "$.steps.test.outputs.success",
            "$.steps.test.disabled.output",
        ),
        (
            "  $.steps.my-step.outputs.success.message  ",
            "$.steps.my-step.outputs.success.message",
            "$.steps.my-step.disabled.output",
        ),
    ],
)
def test_ordisabled_expands_into_its_oneof(text: str, enabled: str, disabled: str) -> None:
    """Go ``TestBuildResultOrDisabledExpression_Simple``: ``!ordisabled PATH`` is the
    ``!oneof`` of discriminator ``result``, options ``enabled`` (PATH) and ``disabled`` (the
    step's disabled output)."""
    expected = OneOf(
        discriminator="result",
        options=(("enabled", expr(enabled, "out.v")), ("disabled", expr(disabled, "out.v"))),
        path="out.v",
    )
    assert expected == load(f"out:\n  v: !ordisabled {text}\n")["out"]["v"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            "$.steps.test",
            "unable to parse expression in !ordisabled; got '$.steps.test'; must be in format "
            "$.steps.step_name.outputs.output",
            id="missing-output",
        ),
        pytest.param(
            "$.steps.test.",
            "invalid expression '$.steps.test.': unexpected end of expression; expected a name",
            id="trailing-period",
        ),
        pytest.param(
            "$.stepswrong.test",
            "unable to parse expression in !ordisabled; got '$.stepswrong.test'; must be in "
            "format $.steps.step_name.outputs.output",
            id="misspelled-steps",
        ),
        pytest.param(
            "$.input.x",
            "unable to parse expression in !ordisabled; got '$.input.x'; must be in format "
            "$.steps.step_name.outputs.output",
            id="input-path",
        ),
    ],
)
def test_ordisabled_invalid_pattern(text: str, message: str) -> None:
    """Go ``TestBuildResultOrDisabledExpression_InvalidPattern``: the text must parse and
    name a step's path below ``steps.<id>``."""
    assert f"workflow.yaml: v: {message} (line 1, column 4)" == error(f"v: !ordisabled {text}\n")


def test_wait_and_soft_optional_as_mapping_values() -> None:
    """Go ``TestBuildWaitOptionalExpr_Simple`` / ``TestBuildSoftOptionalExpr_Simple``: as a
    mapping's value the tags wrap the expression."""
    data = load("o:\n  w: !wait-optional some_expr\n  s: !soft-optional $.steps.a.outputs\n")
    assert {
        "w": WaitOptional(expr("some_expr", "o.w")),
        "s": SoftOptional(expr("$.steps.a.outputs", "o.s")),
    } == data["o"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            "o:\n  s:\n    n: !expr {a: 1}\n",
            "o.s.n: !expr needs an expression (a string), not a mapping (line 3, column 8)",
            id="expr-on-map",
        ),
        pytest.param(
            "o: !expr [a]\n",
            "o: !expr needs an expression (a string), not a list (line 1, column 4)",
            id="expr-on-list",
        ),
        pytest.param(
            "o: !expr\n",
            "o: !expr is empty; write an expression after it (line 1, column 4)",
            id="expr-empty",
        ),
        pytest.param(
            "o: !expr '  '\n",
            "o: !expr is empty; write an expression after it (line 1, column 4)",
            id="expr-blank",
        ),
        pytest.param(
            "o: {n: !expr $.input..x}\n",
            "o.n: invalid expression '$.input..x': unexpected '.' at column 9; expected a name "
            "(line 1, column 8)",
            id="expr-syntax",
        ),
        pytest.param(
            "o:\n  w: !wait-optional ....\n",
            "o.w: invalid expression '....': unexpected '.' at column 1; expected a value "
            "(line 2, column 6)",
            id="wait-optional-syntax",
        ),
        pytest.param(
            "o:\n  w: !wait-optional {}\n",
            "o.w: !wait-optional needs an expression (a string), not a mapping (line 2, column 6)",
            id="wait-optional-on-map",
        ),
        pytest.param(
            "o: [!wait-optional $.a]\n",
            "o[0]: !wait-optional is only allowed as the value of a mapping key (it makes that "
            "key optional) (line 1, column 5)",
            id="wait-optional-in-list",
        ),
        pytest.param(
            "!soft-optional $.a\n",
            "!soft-optional is only allowed as the value of a mapping key (it makes that key "
            "optional) (line 1, column 1)",
            id="soft-optional-top-level",
        ),
        pytest.param(
            "o: !custom x\n",
            f"o: unknown tag '!custom'; valid tags: {ENGINE_TAGS}, {VALID_TAGS} (line 1, column 4)",
            id="custom-tag",
        ),
        pytest.param(
            "o:\n  - 1\n  - !!binary aGk=\n",
            f"o[1]: unknown tag '!!binary'; valid tags: {ENGINE_TAGS}, {VALID_TAGS} "
            "(line 3, column 5)",
            id="binary-tag",
        ),
        pytest.param(
            "o: !!int 1_000\n",
            "o: '1_000' is not an integer (!!int in YAML 1.2) (line 1, column 4)",
            id="int-tag-text",
        ),
        pytest.param(
            "o: {a: 1, a: 2}\n", "o: duplicate key 'a' (line 1, column 11)", id="duplicate-key"
        ),
        pytest.param(
            "o: {1: a, '1': b}\n",
            "o: duplicate key '1' (line 1, column 11)",
            id="duplicate-text-key",
        ),
        pytest.param(
            "o:\n  ? [a]\n  : 1\n",
            "o: a list cannot be a mapping key (line 2, column 5)",
            id="list-key",
        ),
        pytest.param(
            "? {a: 1}\n: 1\n", "a mapping cannot be a mapping key (line 1, column 3)", id="map-key"
        ),
        pytest.param(
            "o: {!expr a: 1}\n",
            "o: the tag !expr cannot be used on a mapping key (line 1, column 5)",
            id="tagged-key",
        ),
    ],
)
def test_a_misplaced_tag_or_key_is_one_line(text: str, message: str) -> None:
    """Go ``TestBuildExpression_WrongType``, ``TestBuildWaitOptionalExpr_InvalidExpr`` and
    the rest: each problem names the key path, line and column."""
    assert f"workflow.yaml: {message}" == error(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            "a: [1\n",
            "invalid YAML at line 2, column 1: did not find expected ',' or ']'",
            id="syntax",
        ),
        pytest.param(
            "a: 1\n---\na: 2\n",
            "invalid YAML at line 2, column 1: a second document starts here; the file must "
            "hold exactly one",
            id="two-documents",
        ),
        pytest.param(
            "a0: &a0 ["
            + ", ".join(["lol"] * 9)
            + "]\n"
            + "".join(
                f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]\n" for i in range(1, 9)
            ),
            "invalid YAML at line 7, column 25: aliases expand the file by more than 10000000 "
            "bytes (each alias counts as a copy of what it names)",
            id="alias-bomb",
        ),
        pytest.param(
            "a: 1\nb: x\x07y\n",
            "invalid YAML at line 2, column 5: unacceptable character #x0007: control "
            "characters are not allowed",
            id="control-character",
        ),
        pytest.param(
            "a: *nope\n",
            "invalid YAML at line 1, column 4: found undefined alias",
            id="undefined-alias",
        ),
    ],
)
def test_yaml_that_does_not_parse_is_one_line(text: str, message: str) -> None:
    """Syntax errors, a second document and alias bombs name the line and column."""
    assert f"workflow.yaml: {message}" == error(text)


def test_anchors_and_aliases_are_allowed() -> None:
    """Anchors, aliases and merge keys work within the limits (the Go engine rejects them)."""
    data = load(
        "defaults: &defaults\n"
        "  plugin: {src: x, deployment_type: python}\n"
        "  input: {name: !expr $.input.name}\n"
        "steps:\n"
        "  a: *defaults\n"
        "  b:\n"
        "    <<: *defaults\n"
        "    step: other\n"
    )
    assert expr("$.input.name", "steps.a.input.name") == data["steps"]["a"]["input"]["name"]
    assert {
        "plugin": {"src": "x", "deployment_type": "python"},
        "input": {"name": expr("$.input.name", "steps.b.input.name")},
        "step": "other",
    } == data["steps"]["b"]


def test_data_files_refuse_engine_tags() -> None:
    """Input and config files are plain data: ``!expr`` there is an unknown tag."""
    with pytest.raises(InvalidWorkflowError) as info:
        load_data_yaml("name: !expr $.input.name\n", "input.yaml")
    assert (
        f"input.yaml: name: unknown tag '!expr'; valid tags: {VALID_TAGS} (line 1, column 7)"
        == str(info.value)
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("a: &a [*a]\n", "a[0]: ", id="list"),
        pytest.param("a: &a {b: [{c: *a}]}\n", "a.b[0].c: ", id="mapping"),
        pytest.param("a: &a {<<: *a}\n", "a: ", id="merge"),
        pytest.param(
            "a: &a !oneof {discriminator: d, one_of: {x: *a}}\n", "a.one_of.x: ", id="oneof"
        ),
    ],
)
def test_a_value_that_contains_itself_is_an_error(text: str, message: str) -> None:
    """An alias inside the value its anchor names (a recursive structure) is one line, not
    endless recursion."""
    assert (
        f"workflow.yaml: {message}an alias inside this anchored value names the value itself; "
        "a value cannot contain itself (line 1, column 4)"
    ) == error(text)
