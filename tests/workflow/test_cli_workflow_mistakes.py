"""``arcaflow-steps workflow`` under user mistakes: one clear line on stderr, exit 1.

Every case runs the installed CLI on a broken file and asserts the whole stderr: what was
wrong, where (file, YAML path, line and column) and what is valid; never a traceback.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_support import STEPS, descendants, wait_gone, workflow_cli

PREFIX = "arcaflow-steps: error: "
INPUT = "input: {root: R, objects: {R: {id: R, properties: {n: {type: {type_id: integer}}}}}}\n"
HEADER = "version: v0.2.0\n" + INPUT
DUMMY = "steps: {a: {kind: dummy, name: x}}\n"
HUGE_HEX = "0x" + "f" * 5000
LONG_SUM = "+".join(["1"] * 20000)

WORKFLOW_MISTAKES = [
    pytest.param(
        HEADER + DUMMY + f"outputs: {{a: {{x: {HUGE_HEX}}}}}\n",
        "outputs.a.x: the integer 0xffffffffff… has more than 4300 decimal digits, more than "
        "can be read (line 4, column 18)",
        id="huge-hex-integer-in-an-output",
    ),
    pytest.param(
        HEADER + DUMMY + "outputs: {a: {x: !expr 1 + " + "9" * 5000 + "}}\n",
        "outputs.a.x: invalid expression '1 + "
        + "9" * 156
        + "…' (5004 characters): a number literal of 5000 characters is too long (at most "
        "100; the largest integer is 9223372036854775807) (line 4, column 18)",
        id="huge-integer-in-an-expression",
    ),
    pytest.param(
        HEADER + DUMMY + f'outputs: {{a: {{x: !expr "{LONG_SUM}"}}}}\n',
        f"outputs.a.x: invalid expression {LONG_SUM[:160] + '…'!r} (39999 characters): the "
        "expression nests deeper than 200 levels (line 4, column 18)",
        id="huge-expression-is-quoted-short",
    ),
    pytest.param(
        HEADER + "steps: []\noutputs: {a: {}}\n",
        "steps: 'steps' must be a mapping of step id to step definition with at least one "
        "step; got a list (line 3, column 1)",
        id="steps-a-list",
    ),
    pytest.param(
        "version: v0.2.0\ninput: hello\n" + DUMMY + "outputs: {a: {}}\n",
        "input: invalid input schema: expected a mapping, got str (line 2, column 1)",
        id="input-a-string",
    ),
    pytest.param(
        HEADER + DUMMY + "outputs: 5\n",
        "outputs: 'outputs' must be a mapping of output id to output data with at least one "
        "output; got 5 (line 4, column 1)",
        id="outputs-a-number",
    ),
    pytest.param(
        HEADER + "steps: {a: [1]}\noutputs: {a: {}}\n",
        "steps.a: a step definition must be a mapping (kind, its provider's keys and stage "
        "inputs); got a list (line 3, column 9)",
        id="step-a-list",
    ),
    pytest.param(
        HEADER + "steps: {a: {kind: nope}}\noutputs: {a: {}}\n",
        "steps.a.kind: unknown provider kind 'nope' in step 'a'; valid kinds: 'dummy', "
        "'foreach', 'plugin' (line 3, column 13)",
        id="unknown-kind",
    ),
    pytest.param(
        HEADER + "steps: {a: {kind: foreach}}\noutputs: {a: {}}\n",
        "steps.a: missing required field 'workflow' (line 3, column 9)",
        id="foreach-without-workflow",
    ),
    pytest.param(
        HEADER + "steps: {a: {kind: dummy, name: x, wait_for: !expr $$$}}\noutputs: {a: {}}\n",
        "steps.a.wait_for: invalid expression '$$$': unexpected '$' at column 2; expected an "
        "operator, '.', '[' or the end (line 3, column 45)",
        id="syntax-error-in-wait-for",
    ),
    pytest.param(
        HEADER + DUMMY + 'outputs: {a: {x: !ordisabled "$.steps.a.(("}}\n',
        "outputs.a.x: invalid expression '$.steps.a.((': unexpected '(' at column 11; "
        "expected a name (line 4, column 18)",
        id="syntax-error-in-ordisabled",
    ),
    pytest.param("", "empty workflow file", id="zero-bytes"),
    pytest.param("# only\n# comments\n", "empty workflow file", id="only-comments"),
    pytest.param("null\n", "empty workflow file", id="null"),
]


@pytest.mark.parametrize(("text", "problem"), WORKFLOW_MISTAKES)
def test_a_broken_workflow_is_one_line(tmp_path: Path, text: str, problem: str) -> None:
    """A broken workflow file is exit 1 with one line naming file, path and problem."""
    (tmp_path / "workflow.yaml").write_text(text)
    completed = workflow_cli(cwd=tmp_path)
    assert (1, "", f"{PREFIX}{tmp_path / 'workflow.yaml'}: {problem}\n") == (
        completed.returncode,
        completed.stdout,
        completed.stderr,
    )


def test_a_huge_hex_integer_in_the_input_is_one_line(tmp_path: Path) -> None:
    """The input file's loader refuses a hexadecimal integer Python could not print."""
    (tmp_path / "workflow.yaml").write_text(HEADER + DUMMY + "outputs: {a: {x: !expr $.input.n}}\n")
    (tmp_path / "input.yaml").write_text(f"n: {HUGE_HEX}\n")
    completed = workflow_cli("-input", "input.yaml", cwd=tmp_path)
    problem = (
        "n: the integer 0xffffffffff… has more than 4300 decimal digits, more than can be "
        "read (line 1, column 4)"
    )
    assert (1, "", f"{PREFIX}{tmp_path / 'input.yaml'}: {problem}\n") == (
        completed.returncode,
        completed.stdout,
        completed.stderr,
    )


@pytest.mark.parametrize("text", ["", "# only a comment\n", "---\n", "null\n"])
def test_an_empty_input_file_says_so(tmp_path: Path, text: str) -> None:
    """An input file without a document is refused in our words, not as 'got None'."""
    (tmp_path / "workflow.yaml").write_text(HEADER + DUMMY + "outputs: {a: {x: 1}}\n")
    (tmp_path / "input.yaml").write_text(text)
    completed = workflow_cli("-input", "input.yaml", cwd=tmp_path)
    problem = (
        "the input file holds no data (it is empty, only comments or null); it must be a "
        "mapping of the workflow's input fields, or leave out -input for no input"
    )
    assert (1, "", f"{PREFIX}{tmp_path / 'input.yaml'}: {problem}\n") == (
        completed.returncode,
        completed.stdout,
        completed.stderr,
    )


def test_closing_a_running_plugin_step_is_quiet(tmp_path: Path) -> None:
    """The output is ready while a plugin step still runs: the step is closed (its plugin
    stopped), with no 'protocol error' warning about what the SDK writes as its stdin ends,
    and no process is left."""
    (tmp_path / "workflow.yaml").write_text(
        f"""\
version: v0.2.0
input: {{root: R, objects: {{R: {{id: R, properties: {{}}}}}}}}
steps:
  a: {{kind: dummy, name: x}}
  h:
    plugin: {{src: {STEPS}, deployment_type: python}}
    step: hang
    input: {{seconds: 60}}
outputs:
  a: {{x: !expr $.steps.a.greet.success.message}}
"""
    )
    completed = workflow_cli(cwd=tmp_path)
    assert (0, "output_data:\n    x: Hello x!\noutput_id: a\n") == (
        completed.returncode,
        completed.stdout,
    ), completed.stderr
    assert "h  finished in closed: result" in completed.stderr.splitlines()
    assert [] == [line for line in completed.stderr.splitlines() if "protocol error" in line]
    assert set() == wait_gone(descendants())


@pytest.mark.parametrize("what", ["workflow", "input", "config"])
def test_an_endless_file_is_refused_at_64_mib(tmp_path: Path, what: str) -> None:
    """``-input /dev/zero`` (or a workflow or config file that never ends) is read up to
    64 MiB and refused in one line, instead of filling memory for ever."""
    (tmp_path / "workflow.yaml").write_text(HEADER + DUMMY + "outputs: {a: {x: 1}}\n")
    completed = workflow_cli(f"-{what}", "/dev/zero", cwd=tmp_path, timeout=30)
    assert (1, "", f"{PREFIX}cannot read {what} file /dev/zero: larger than 64 MiB\n") == (
        completed.returncode,
        completed.stdout,
        completed.stderr,
    )


def test_an_endless_sub_workflow_or_read_file_is_refused(tmp_path: Path) -> None:
    """foreach's ``workflow: /dev/zero`` is exit 1 at its step; ``readFile("/dev/zero")`` in
    an output is a run-time error: exit 3 naming the expression."""
    workflow = tmp_path / "workflow.yaml"
    workflow.write_text(
        HEADER
        + "steps: {f: {kind: foreach, workflow: /dev/zero, items: [{}]}}\n"
        + "outputs: {a: {x: 1}}\n"
    )
    completed = workflow_cli(cwd=tmp_path, timeout=30)
    problem = (
        "steps.f: cannot read workflow file '/dev/zero': larger than 64 MiB (line 3, column 9)"
    )
    assert (1, f"{PREFIX}{workflow}: {problem}\n") == (completed.returncode, completed.stderr)
    workflow.write_text(HEADER + DUMMY + 'outputs: {a: {x: !expr readFile("/dev/zero")}}\n')
    (tmp_path / "input.yaml").write_text("n: 1\n")
    completed = workflow_cli("-input", "input.yaml", cwd=tmp_path, timeout=30)
    reason = (
        "a failed: outputs.a.x: readFile(\"/dev/zero\"): cannot read file '/dev/zero': larger "
        "than 64 MiB (in expression 'readFile(\"/dev/zero\")')"
    )
    assert (3, "") == (completed.returncode, completed.stdout)
    assert (
        f"{PREFIX}workflow failed: no output can be produced any more: {reason}"
        == completed.stderr.splitlines()[-1]
    )
