"""``arcaflow-steps workflow`` end to end: real plugin workflows run by the real CLI.

Every run is a subprocess of the installed CLI with the python deployer and the SDK plugin
``tests/plugins/plugin_steps.py``; each test checks exit code, stdout and stderr exactly where
the CLI decides them, and that no process is left behind.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_support import CLI, ROOT, STEPS, descendants, wait_gone, workflow_cli

INPUT_SCHEMA = """\
input:
  root: R
  objects:
    R:
      id: R
      properties:
        name:
          type: {type_id: string}
"""

HELLO = f"""\
version: v0.2.0
{INPUT_SCHEMA}steps:
  h:
    plugin: {{src: {STEPS}, deployment_type: python}}
    step: hello
    input: {{name: !expr $.input.name}}
outputs:
  success: {{msg: !expr $.steps.h.outputs.success.message}}
  error: {{reason: !expr $.steps.h.outputs.error.error}}
"""


@pytest.fixture(autouse=True)
def _no_leftovers() -> Iterator[None]:
    yield
    assert set() == wait_gone(descendants()), "processes left behind"


def write(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(text)
    return path


def test_success_exits_0_with_the_output(tmp_path: Path) -> None:
    """`arcaflow -context . -input input.yaml` unchanged (workflow.yaml by default); with
    ``--format json`` stdout is one JSON object with output_id and output_data; exit 0."""
    write(tmp_path, "workflow.yaml", HELLO)
    write(tmp_path, "input.yaml", "name: Arca\n")
    completed = workflow_cli("-context", ".", "-input", "input.yaml", "--format=json", cwd=tmp_path)
    assert 0 == completed.returncode, completed.stderr
    assert {"output_id": "success", "output_data": {"msg": "Hello, Arca!"}} == json.loads(
        completed.stdout
    )


def test_the_stdout_document_is_the_go_engines(tmp_path: Path) -> None:
    """Without ``--format``: the Go engine's YAML document (keys sorted, 4-space indents)."""
    write(tmp_path, "workflow.yaml", HELLO)
    write(tmp_path, "input.yaml", "name: Arca\n")
    completed = workflow_cli("-context", ".", "-input", "input.yaml", cwd=tmp_path)
    assert 0 == completed.returncode, completed.stderr
    assert "output_data:\n    msg: Hello, Arca!\noutput_id: success\n" == completed.stdout
    write(tmp_path, "input.yaml", "name: nobody\n")
    completed = workflow_cli("-input", "input.yaml", cwd=tmp_path)
    assert 2 == completed.returncode, completed.stderr
    assert (
        "output_data:\n    reason: plugin says no to nobody\noutput_id: error\n" == completed.stdout
    )


def test_error_output_exits_2(tmp_path: Path) -> None:
    """An output whose id is ``error`` is an error output: printed, exit 2."""
    write(tmp_path, "workflow.yaml", HELLO)
    write(tmp_path, "input.yaml", "name: nobody\n")
    completed = workflow_cli("-input", "input.yaml", "-format", "json", cwd=tmp_path)
    assert 2 == completed.returncode, completed.stderr
    assert {
        "output_id": "error",
        "output_data": {"reason": "plugin says no to nobody"},
    } == json.loads(completed.stdout)


@pytest.mark.parametrize(("name", "code"), [("nobody", 2), ("somebody", 0)])
def test_an_output_nobody_reads_keeps_its_exit_code(tmp_path: Path, name: str, code: int) -> None:
    """stdout closed before the output is written (``| true``): the exit code is still the
    output's, 2 for an error output, with no complaint about the pipe."""
    write(tmp_path, "workflow.yaml", HELLO)
    write(tmp_path, "input.yaml", f"name: {name}\n")
    read_end, write_end = os.pipe()
    os.close(read_end)  # nobody will ever read
    try:
        completed = subprocess.run(
            [CLI, "workflow", "-context", str(tmp_path), "-input", "input.yaml"],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=90,
            check=False,
        )
    finally:
        os.close(write_end)
    assert code == completed.returncode, completed.stderr
    assert "Broken pipe" not in completed.stderr
    assert "Traceback" not in completed.stderr


def test_a_crash_that_leaves_no_output_exits_3(tmp_path: Path) -> None:
    """The only step crashes, so no output can be produced: nothing on stdout, exit 3, the
    reason on stderr."""
    write(
        tmp_path,
        "workflow.yaml",
        f"""\
version: v0.2.0
input: {{root: R, objects: {{R: {{id: R, properties: {{}}}}}}}}
steps:
  r:
    plugin: {{src: {STEPS}, deployment_type: python}}
    step: raise
    input: {{}}
outputs:
  success: {{msg: !expr $.steps.r.outputs.success.message}}
""",
    )
    completed = workflow_cli(cwd=tmp_path)
    assert (3, "") == (completed.returncode, completed.stdout), completed.stderr
    last = completed.stderr.splitlines()[-1]
    assert last.startswith("arcaflow-steps: error: workflow failed: "), completed.stderr
    assert "crashed" in last, last


def test_context_resolves_every_file_from_another_cwd(tmp_path: Path) -> None:
    """-workflow, -input and -config are relative to -context, not to the CWD."""
    context = tmp_path / "wf"
    write(context, "flow.yaml", HELLO)
    write(context, "in.yaml", "name: Arca\n")
    write(context, "config.yaml", "log: {level: error}\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    completed = workflow_cli(
        "-context",
        "../wf",
        "-workflow",
        "flow.yaml",
        "-input=in.yaml",
        "--config",
        "config.yaml",
        "--format=json",
        cwd=elsewhere,
    )
    assert 0 == completed.returncode, completed.stderr
    assert "Hello, Arca!" == json.loads(completed.stdout)["output_data"]["msg"]


@pytest.mark.parametrize("what", ["workflow", "input", "config"])
def test_missing_files_exit_1_naming_the_absolute_path(tmp_path: Path, what: str) -> None:
    """A file that cannot be read: one line with its absolute path and the reason, exit 1."""
    write(tmp_path, "workflow.yaml", HELLO)
    args = [] if what == "workflow" else [f"-{what}", "nope.yaml"]
    if what == "workflow":
        args = ["-workflow", "nope.yaml"]
    completed = workflow_cli("-context", str(tmp_path), *args, cwd=tmp_path)
    assert (1, "") == (completed.returncode, completed.stdout)
    assert (
        f"arcaflow-steps: error: cannot read {what} file {tmp_path / 'nope.yaml'}: "
        "No such file or directory\n"
    ) == completed.stderr


def test_an_unknown_field_is_exit_1_with_its_path(tmp_path: Path) -> None:
    """A field the plugin's output does not have is found before anything runs (no plugin
    step starts): exit 1, one line with the place in the file and the valid fields."""
    wf = write(tmp_path, "workflow.yaml", HELLO.replace("success.message", "success.nme"))
    write(tmp_path, "input.yaml", "name: Arca\n")
    completed = workflow_cli("-input", "input.yaml", cwd=tmp_path)
    assert (
        1,
        "",
        f"arcaflow-steps: error: {wf}: outputs.success.msg: $.steps.h.outputs.success: no "
        "field 'nme'; fields: message (in expression '$.steps.h.outputs.success.nme') (line 16, "
        "column 13)\n",
    ) == (completed.returncode, completed.stdout, completed.stderr)


def test_an_unknown_step_is_exit_1_with_its_path(tmp_path: Path) -> None:
    """A reference to a step the workflow does not have is found before anything runs:
    exit 1, the place in the file and the step named."""
    wf = write(
        tmp_path,
        "workflow.yaml",
        HELLO.replace("$.steps.h.outputs.success", "$.steps.hh.outputs.success"),
    )
    write(tmp_path, "input.yaml", "name: Arca\n")
    completed = workflow_cli("-input", "input.yaml", cwd=tmp_path)
    assert (1, "") == (completed.returncode, completed.stdout), completed.stderr
    assert 1 == len(completed.stderr.splitlines()), completed.stderr
    assert completed.stderr.startswith(f"arcaflow-steps: error: {wf}: outputs.success"), (
        completed.stderr
    )
    assert "'hh'" in completed.stderr


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("nam: Arca\n", "invalid workflow input: unknown field 'nam'"),
        ("", "the input file holds no data (it is empty, only comments or null)"),
        ("name: [1\n", "invalid YAML at line 2, column 1"),
    ],
    ids=["unknown-field", "empty-file", "bad-yaml"],
)
def test_invalid_input_exits_1(tmp_path: Path, text: str, problem: str) -> None:
    """Input that is not YAML or does not match the input schema is exit 1 (Go: 3), one
    line naming the input file and the problem."""
    write(tmp_path, "workflow.yaml", HELLO)
    path = write(tmp_path, "input.yaml", text)
    completed = workflow_cli("-input", "input.yaml", cwd=tmp_path)
    assert (1, "") == (completed.returncode, completed.stdout), completed.stderr
    assert completed.stderr.startswith(f"arcaflow-steps: error: {path}: {problem}"), (
        completed.stderr
    )
    assert 1 == len(completed.stderr.splitlines()), completed.stderr


def test_the_configs_deployer_is_used(tmp_path: Path) -> None:
    """A plugin step without ``deploy`` uses its deployment type's config entry (here an
    interpreter that does not exist, so the schema probe fails: exit 1); a step with its own
    ``deploy`` uses only that."""
    write(tmp_path, "workflow.yaml", HELLO)
    write(tmp_path, "input.yaml", "name: Arca\n")
    write(
        tmp_path,
        "config.yaml",
        "deployers:\n  python: {deployer_name: python, pythonPath: /nonexistent/python}\n",
    )
    completed = workflow_cli("-input", "input.yaml", "-config", "config.yaml", cwd=tmp_path)
    assert (1, "") == (completed.returncode, completed.stdout), completed.stderr
    assert "'/nonexistent/python'" in completed.stderr, completed.stderr
    own = HELLO.replace(
        "    step: hello\n", "    step: hello\n    deploy: {deployer_name: python}\n"
    )
    write(tmp_path, "workflow.yaml", own)
    completed = workflow_cli(
        "-input", "input.yaml", "-config", "config.yaml", "-format=json", cwd=tmp_path
    )
    assert 0 == completed.returncode, completed.stderr


def test_the_configs_python_runs_the_plugins(tmp_path: Path) -> None:
    """The config's ``pythonPath`` is the interpreter the plugin runs on: here a wrapper that
    notes each start, then runs the test interpreter."""
    marker = tmp_path / "started.txt"
    wrapper = write(
        tmp_path,
        "python-wrapper",
        f'#!/bin/sh\necho started >> {marker}\nexec {sys.executable} "$@"\n',
    )
    wrapper.chmod(0o755)
    write(tmp_path, "workflow.yaml", HELLO)
    write(tmp_path, "input.yaml", "name: Arca\n")
    write(
        tmp_path,
        "config.yaml",
        f"deployers:\n  python: {{deployer_name: python, pythonPath: {wrapper}}}\n",
    )
    completed = workflow_cli(
        "-input", "input.yaml", "-config", "config.yaml", "-format=json", cwd=tmp_path
    )
    assert 0 == completed.returncode, completed.stderr
    assert "Hello, Arca!" == json.loads(completed.stdout)["output_data"]["msg"]
    assert marker.read_text().startswith("started\n")


def test_a_bad_config_is_exit_1_with_the_valid_keys(tmp_path: Path) -> None:
    """Unknown keys in the config file: exit 1 before anything runs, valid keys listed."""
    write(tmp_path, "workflow.yaml", HELLO)
    config = write(tmp_path, "config.yaml", "foo: 1\n")
    completed = workflow_cli("-config", "config.yaml", cwd=tmp_path)
    assert (
        1,
        "",
        f"arcaflow-steps: error: {config}: unknown field 'foo'; valid fields: 'deployers', "
        "'log', 'logged_outputs', 'plugins' @ $\n",
    ) == (completed.returncode, completed.stdout, completed.stderr)


def test_logged_outputs_and_progress_on_stderr(tmp_path: Path) -> None:
    """``logged_outputs`` logs the step's output; the stage progress shows the step."""
    write(tmp_path, "workflow.yaml", HELLO)
    write(tmp_path, "input.yaml", "name: Arca\n")
    write(tmp_path, "config.yaml", "logged_outputs: {success: {level: info}}\n")
    completed = workflow_cli(
        "-input", "input.yaml", "-config", "config.yaml", "-format=json", cwd=tmp_path
    )
    assert 0 == completed.returncode, completed.stderr
    assert '\tinfo\tsource=workflow\tOutput ID for step "h" is "success".\n' in (completed.stderr)
    assert 'Output data: {"message": "Hello, Arca!"}\n' in completed.stderr
    assert "h  finished in outputs: success\n" in completed.stderr


@pytest.mark.parametrize(
    ("level", "progress"),
    [("debug", True), ("info", True), ("warning", False), ("error", False)],
)
def test_stage_progress_follows_the_log_level(tmp_path: Path, level: str, progress: bool) -> None:
    """Stage progress is information: on stderr at ``log.level`` info (the default) and debug,
    not at warning or error, where a successful run writes nothing there."""
    write(tmp_path, "workflow.yaml", HELLO)
    write(tmp_path, "input.yaml", "name: Arca\n")
    write(tmp_path, "config.yaml", f"log: {{level: {level}}}\n")
    completed = workflow_cli("-input", "input.yaml", "-config", "config.yaml", cwd=tmp_path)
    assert 0 == completed.returncode, completed.stderr
    assert progress == ("h  -> running\n" in completed.stderr), completed.stderr
    assert progress == ("h  finished in outputs: success\n" in completed.stderr)
    if not progress:
        assert "" == completed.stderr


FOREACH_HELLO = f"""\
version: v0.2.0
input: {{root: R, objects: {{R: {{id: R, properties: {{}}}}}}}}
steps:
  loop:
    kind: foreach
    workflow: sub.yaml
    items: [{", ".join(f"{{name: n{index}}}" for index in range(12))}]
    parallelism: 4
outputs:
  success: {{all: !expr $.steps.loop.outputs.success.data}}
"""


@pytest.mark.parametrize("shared", [False, True], ids=["stderr-only", "stdout-and-stderr"])
def test_a_reader_that_goes_away_does_not_stop_the_run(tmp_path: Path, shared: bool) -> None:
    """``… 2>&1 | head -1``: once the reader of stderr is gone, progress lines and log lines
    from the steps' threads are dropped, not raised where they were written (which left every
    step of a foreach waiting for events never delivered, immune to SIGINT and SIGTERM). The
    run ends as it would have: the output on stdout when it still has a reader (exit 0), exit
    0 as for any closed output pipe when it shares the closed one; nothing is left behind."""
    write(tmp_path, "workflow.yaml", FOREACH_HELLO)
    write(tmp_path, "sub.yaml", HELLO)
    process = subprocess.Popen(
        [CLI, "workflow", "-context", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT if shared else subprocess.PIPE,
        text=True,
    )
    try:
        lines = process.stdout if shared else process.stderr
        assert lines is not None
        assert "loop" in lines.readline()
        lines.close()  # the reader goes away while the items run
        stdout = "" if shared or process.stdout is None else process.stdout.read()
        assert 0 == process.wait(60)
    finally:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        process.wait()
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()
    if not shared:
        assert "Hello, n11!" in stdout
        assert "output_id: success" in stdout


def test_get_namespaces_prints_the_table(tmp_path: Path) -> None:
    """-get-namespaces: the Go engine's table of every step's objects, exit 0, no run."""
    write(tmp_path, "workflow.yaml", HELLO)
    completed = workflow_cli("-get-namespaces", cwd=tmp_path)
    assert 0 == completed.returncode, completed.stderr
    assert (
        "OBJECT                   NAMESPACE   \n"
        "ClosedInfo                $.steps.h.closed.outputs.result\n"
        "Crashed                   $.steps.h.crashed.outputs.error\n"
        "DeployError               $.steps.h.deploy_failed.outputs.error\n"
        "DisabledMessageOutput     $.steps.h.disabled.outputs.output\n"
        "EnabledOutput             $.steps.h.enabling.outputs.resolved\n"
        "ErrorOutput               $.steps.h.outputs.outputs.error\n"
        "HelloOutput               $.steps.h.outputs.outputs.success\n"
        "HelloInput                $.steps.h.starting.inputs.input\n"
        "StartedOutput             $.steps.h.starting.outputs.started\n"
    ) == completed.stdout


SLOW = f"""\
version: v0.2.0
input: {{root: R, objects: {{R: {{id: R, properties: {{}}}}}}}}
steps:
  c:
    plugin: {{src: {STEPS}, deployment_type: python}}
    step: cancellable
    input: {{seconds: 60}}
outputs:
  success: {{slept: !expr $.steps.c.outputs.success.slept}}
"""


def _start_and_interrupt(
    tmp_path: Path,
    workflow: str,
    signum: int,
    output_format: str = "yaml",
    *,
    again_after: float | None = None,
    running: tuple[str, ...] = ("c  -> running\n",),
) -> tuple[int, str, str]:
    """Run the workflow, send ``signum`` once stderr shows every ``running`` line (and once more
    ``again_after`` seconds later, if still running); return code, stdout, stderr."""
    write(tmp_path, "workflow.yaml", workflow)
    temp = tmp_path / "tmp"
    temp.mkdir()
    err = tmp_path / "stderr.txt"
    with err.open("w") as err_file:
        process = subprocess.Popen(
            [CLI, "workflow", "-format", output_format],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=err_file,
            text=True,
            env={**os.environ, "TMPDIR": str(temp)},
        )
        deadline = time.monotonic() + 30
        while not all(line in err.read_text() for line in running):
            assert time.monotonic() < deadline, "the step never ran"
            assert process.poll() is None, err.read_text()
            time.sleep(0.05)
        plugin_pids = descendants(process.pid)
        os.kill(process.pid, signum)
        if again_after is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(again_after)
            assert process.poll() is None, "the first signal did not wait for the step"
            os.kill(process.pid, signum)
        stdout, _ = process.communicate(timeout=30)
    assert set() == wait_gone(plugin_pids)
    assert [] == list(temp.iterdir())  # every plugin's temporary directory was removed
    return process.returncode, stdout, err.read_text()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_closes_the_run_without_output(tmp_path: Path, signum: int) -> None:
    """SIGINT/SIGTERM mid-run close the step (it answers cancel with another output): no
    output can come, so nothing on stdout and exit 128 + the signal."""
    code, stdout, stderr = _start_and_interrupt(tmp_path, SLOW, signum)
    assert (128 + signum, "") == (code, stdout), stderr


def test_an_output_produced_while_closing_is_printed(tmp_path: Path) -> None:
    """The step answers the cancel with its ``cancelled`` output, which an output uses: it is
    printed and the exit code is the output's (0)."""
    workflow = SLOW.replace(
        "success: {slept: !expr $.steps.c.outputs.success.slept}",
        "done: {cancelled: !expr $.steps.c.outputs.cancelled.cancelled}",
    )
    code, stdout, stderr = _start_and_interrupt(tmp_path, workflow, signal.SIGINT, "json")
    assert 0 == code, stderr
    assert {"output_id": "done", "output_data": {"cancelled": True}} == json.loads(stdout)


def test_help_and_version(tmp_path: Path) -> None:
    """-h prints the flags (exit 0); -version prints ours (exit 0); neither reads a file."""
    completed = workflow_cli("-h", cwd=tmp_path)
    assert 0 == completed.returncode
    assert completed.stdout.startswith("usage: arcaflow-steps workflow [-context DIR]")
    completed = workflow_cli("-version", cwd=tmp_path)
    assert 0 == completed.returncode
    assert completed.stdout.startswith("arcaflow-steps ")


def test_usage_error_exits_1(tmp_path: Path) -> None:
    """A positional argument (Go ignores it and what follows) is a usage error: exit 1."""
    completed = workflow_cli("extra", "-workflow", "x.yaml", cwd=tmp_path)
    assert (1, "") == (completed.returncode, completed.stdout)
    assert completed.stderr.endswith(
        "arcaflow-steps workflow: error: unexpected argument 'extra': 'workflow' takes only "
        "flags; give files with -workflow, -input and -config (see 'arcaflow-steps workflow "
        "-h')\n"
    )


def test_a_second_signal_forces(tmp_path: Path) -> None:
    """A step that ignores cancel keeps the graceful close waiting (its closure timeout is a
    minute); a second SIGINT force-closes it at once: exit 130, nothing left behind."""
    workflow = SLOW.replace("step: cancellable", "step: ignore-cancel").replace(
        "    input: {seconds: 60}", "    closure_wait_timeout: 60000\n    input: {seconds: 60}"
    )
    started = time.monotonic()
    code, stdout, stderr = _start_and_interrupt(tmp_path, workflow, signal.SIGINT, again_after=1.0)
    assert (130, "") == (code, stdout), stderr
    assert time.monotonic() - started < 30
    assert "SIGINT again: force-closing every running step" in stderr


def test_a_signal_closes_every_step_of_every_sub_workflow(tmp_path: Path) -> None:
    """SIGINT while a foreach runs two sub-workflows closes their steps too: exit 130, no
    output, no process or temp dir left; stderr shows the sub-workflow steps by name."""
    write(
        tmp_path,
        "sub.yaml",
        f"""\
version: v0.2.0
input:
  root: Item
  objects: {{Item: {{id: Item, properties: {{seconds: {{type: {{type_id: float}}}}}}}}}}
steps:
  c:
    plugin: {{src: {STEPS}, deployment_type: python}}
    step: cancellable
    input: {{seconds: !expr $.input.seconds}}
outputs:
  success: {{slept: !expr $.steps.c.outputs.success.slept}}
""",
    )
    workflow = """\
version: v0.2.0
input: {root: R, objects: {R: {id: R, properties: {}}}}
steps:
  each:
    kind: foreach
    workflow: sub.yaml
    items: [{seconds: 60}, {seconds: 60}]
    parallelism: 2
outputs:
  success: {all: !expr $.steps.each.outputs.success.data}
"""
    code, stdout, stderr = _start_and_interrupt(
        tmp_path,
        workflow,
        signal.SIGINT,
        running=("each[0].c  -> running\n", "each[1].c  -> running\n"),
    )
    assert (130, "") == (code, stdout), stderr


def test_a_run_time_expression_error_is_exit_3_and_logged(tmp_path: Path) -> None:
    """An index out of range at run time (Go: a panic, exit 2) fails the output with a clear
    message: exit 3, the executor's warning in the Go log format on stderr."""
    write(
        tmp_path,
        "workflow.yaml",
        """\
version: v0.2.0
input:
  root: R
  objects:
    R: {id: R, properties: {names: {type: {type_id: list, items: {type_id: string}}}}}
steps:
  d:
    kind: dummy
    name: x
outputs:
  success:
    x: !expr '$.input.names[3]'
    y: !expr $.steps.d.greet.success
""",
    )
    write(tmp_path, "input.yaml", "names: [a]\n")
    completed = workflow_cli("-input", "input.yaml", cwd=tmp_path)
    assert (3, "") == (completed.returncode, completed.stdout), completed.stderr
    problem = (
        "outputs.success.x: $.input.names[3]: index 3 out of range for a list of 1 item "
        "(in expression '$.input.names[3]')"
    )
    assert re.search(
        r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\twarning\tsource=arcaflow_steps.workflow\t"
        + re.escape(f"output 'success' cannot be produced: {problem}")
        + "$",
        completed.stderr,
        re.MULTILINE,
    ), completed.stderr
    assert completed.stderr.endswith(
        f"arcaflow-steps: error: workflow failed: no output can be produced any more: "
        f"success failed: {problem}\n"
    )


@pytest.mark.parametrize(
    "args",
    [
        ("-p", "no:dummy", "workflow"),
        ("workflow", "-p", "no:dummy"),
        ("workflow", "-disable-plugin=dummy"),
    ],
    ids=["before-the-command", "after", "disable-plugin"],
)
def test_entry_points_can_be_blocked(tmp_path: Path, args: tuple[str, ...]) -> None:
    """The blocking options of every command work before ``workflow`` and, Go-style, after."""
    wf = write(
        tmp_path,
        "workflow.yaml",
        "version: v0.2.0\ninput: {root: R, objects: {R: {id: R, properties: {}}}}\n"
        "steps:\n  d: {kind: dummy, name: x}\n"
        "outputs:\n  success: {m: !expr $.steps.d.greet.success}\n",
    )
    completed = subprocess.run(
        [CLI, *args], cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False
    )
    assert (1, "") == (completed.returncode, completed.stdout)
    assert completed.stderr.startswith(
        f"arcaflow-steps: error: {wf}: steps.d.kind: provider kind 'dummy' in step 'd' is blocked"
    ), completed.stderr


def test_readme_workflow_example() -> None:
    """The README's and docs/workflows.md's workflow example prints what they show."""
    completed = workflow_cli(
        "-context",
        "examples",
        "-workflow",
        "greet-workflow.yaml",
        "-input",
        "greet-input.yaml",
        cwd=ROOT,
    )
    expected = (
        "output_data:\n    first: Hello, Arca!\n    second: HELLO, HELLO, ARCA!!\n"
        "output_id: success\n"
    )
    assert (0, expected) == (completed.returncode, completed.stdout), completed.stderr
    for document in (ROOT / "README.md", ROOT / "docs" / "workflows.md"):
        assert expected in document.read_text(), document


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_while_planning_leaves_nothing(tmp_path: Path, signum: int) -> None:
    """A signal while a plugin's schema is probed (its interpreter is slow to start) ends
    the command at once: exit 128 + the signal, one line, no process left."""
    marker = tmp_path / "started.txt"
    wrapper = write(
        tmp_path,
        "slow-python",
        f'#!/bin/sh\necho started >> {marker}\nsleep 60\nexec {sys.executable} "$@"\n',
    )
    wrapper.chmod(0o755)
    write(tmp_path, "workflow.yaml", HELLO)
    write(
        tmp_path,
        "config.yaml",
        f"deployers:\n  python: {{deployer_name: python, pythonPath: {wrapper}}}\n",
    )
    process = subprocess.Popen(
        [CLI, "workflow", "-config", "config.yaml"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    while not marker.exists():
        assert time.monotonic() < deadline, "the probe never started"
        assert process.poll() is None
        time.sleep(0.05)
    started = descendants(process.pid)
    os.kill(process.pid, signum)
    stdout, stderr = process.communicate(timeout=30)
    name = signal.Signals(signum).name
    assert (
        128 + signum,
        "",
        f"arcaflow-steps: interrupted by {name} while planning the workflow\n",
    ) == (
        process.returncode,
        stdout,
        stderr,
    )
    assert set() == wait_gone(started)
