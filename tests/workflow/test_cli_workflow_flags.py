"""``arcaflow-steps workflow``'s command line: the Go ``flag`` package's rules, our usage errors."""

from __future__ import annotations

import pytest

from arcaflow_steps.cli._workflow_flags import UsageError, WorkflowFlags, parse_flags

ALL_FLAGS = (
    "-config, -context, -debug, -disable-plugin, -format, -get-namespaces, -h, -help, "
    "-input, -p, -version, -workflow"
)


def test_defaults_are_the_go_engines() -> None:
    """No flags: context '.', workflow 'workflow.yaml', no input, no config, YAML."""
    assert WorkflowFlags(
        context=".", workflow="workflow.yaml", input=None, config=None, output_format="yaml"
    ) == parse_flags([])


@pytest.mark.parametrize(
    "argv",
    [
        ["-context", "/wf", "-input", "in.yaml"],
        ["--context", "/wf", "--input", "in.yaml"],
        ["-context=/wf", "-input=in.yaml"],
        ["--context=/wf", "--input=in.yaml"],
        ["-input", "x.yaml", "-context", "/wf", "-input", "in.yaml"],  # the last one wins
    ],
    ids=["one-dash", "two-dashes", "one-dash-equals", "two-dashes-equals", "repeated"],
)
def test_value_flags_in_every_go_spelling(argv: list[str]) -> None:
    """``-x v``, ``--x v``, ``-x=v`` and ``--x=v`` are one flag; a repeated flag keeps its
    last value."""
    flags = parse_flags(argv)
    assert ("/wf", "in.yaml") == (flags.context, flags.input)


def test_a_value_may_start_with_a_dash() -> None:
    """As in Go, the argument after a value flag is its value even when it looks like a flag."""
    assert "-odd.yaml" == parse_flags(["-workflow", "-odd.yaml"]).workflow


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["-debug"], True),
        (["--debug"], True),
        (["-debug=true"], True),
        (["-debug=1"], True),
        (["-debug=T"], True),
        (["-debug=false"], False),
        (["-debug=0"], False),
        (["-debug", "-debug=False"], False),
    ],
)
def test_boolean_flags_take_no_value_or_an_equals(argv: list[str], expected: bool) -> None:
    """Booleans: ``-debug`` alone is true; ``-debug=BOOL`` takes Go's ParseBool values."""
    assert expected is parse_flags(argv).debug


def test_every_flag() -> None:
    """Every flag lands in its field; ``-p`` and ``-disable-plugin`` collect their values."""
    flags = parse_flags(
        [
            "-config=c.yaml",
            "-workflow",
            "w.yaml",
            "-get-namespaces",
            "--format",
            "json",
            "-p",
            "no:acme",
            "-disable-plugin=a,b",
            "-p=no:other",
            "-version",
            "-h",
        ]
    )
    assert (
        WorkflowFlags(
            config="c.yaml",
            workflow="w.yaml",
            get_namespaces=True,
            output_format="json",
            plugin_options=("no:acme", "no:other"),
            disabled_plugins=("a,b",),
            version=True,
            help=True,
        )
        == flags
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["-x"], f"flag provided but not defined: -x; valid flags: {ALL_FLAGS}"),
        (["--no-such=1"], f"flag provided but not defined: -no-such; valid flags: {ALL_FLAGS}"),
        (["-workflow"], "flag needs an argument: -workflow"),
        (["-context", ".", "-input"], "flag needs an argument: -input"),
        (
            ["-debug=yes"],
            "invalid boolean value 'yes' for -debug; valid values: "
            "1, t, T, TRUE, true, True, 0, f, F, FALSE, false, False",
        ),
        (["--format=xml"], "invalid value 'xml' for -format; valid values: 'json', 'yaml'"),
        (["---context", "."], "bad flag syntax: ---context"),
        (["-=x"], "bad flag syntax: -=x"),
        (
            ["extra", "-workflow", "x.yaml"],
            "unexpected argument 'extra': 'workflow' takes only flags; give files with "
            "-workflow, -input and -config (see 'arcaflow-steps workflow -h')",
        ),
        (
            ["-workflow", "x.yaml", "-"],
            "unexpected argument '-': 'workflow' takes only flags; give files with "
            "-workflow, -input and -config (see 'arcaflow-steps workflow -h')",
        ),
        (
            ["--", "in.yaml"],
            "unexpected argument 'in.yaml': 'workflow' takes only flags; give files with "
            "-workflow, -input and -config (see 'arcaflow-steps workflow -h')",
        ),
    ],
)
def test_usage_errors_say_what_is_valid(argv: list[str], message: str) -> None:
    """Unknown flags, missing values, bad booleans and positional arguments are usage errors
    (Go ignores everything after a positional argument and exits 2 for an unknown flag)."""
    with pytest.raises(UsageError) as excinfo:
        parse_flags(argv)
    assert message == str(excinfo.value)


def test_double_dash_alone_ends_the_flags() -> None:
    """``--`` with nothing after it is accepted (Go's terminator)."""
    assert "w.yaml" == parse_flags(["-workflow", "w.yaml", "--"]).workflow
