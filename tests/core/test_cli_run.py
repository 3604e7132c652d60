"""``arcaflow-steps run`` as users run it: the console script of a venv with real distributions."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from distributions._venv import TestVenv, shared_venv

ECHO = "kind: echo\necho: {prefix: '> '}\n"


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> TestVenv:
    """A venv with every test distribution installed."""
    return shared_venv(tmp_path_factory.getbasetemp())


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_run_prints_result_as_yaml(venv: TestVenv, tmp_path: Path) -> None:
    """A step of an installed distribution runs; its result is YAML on stdout, exit 0."""
    file = write(tmp_path, "hello.yaml", ECHO + "input: {message: hi}\n")
    result = venv.run_cli("run", file)
    assert 0 == result.returncode, result.stderr
    expected = {
        "hello": {"stage": "outputs", "output_id": "success", "output_data": {"message": "> hi"}}
    }
    assert expected == yaml.safe_load(result.stdout)


def test_run_shows_stage_progress_on_stderr(venv: TestVenv, tmp_path: Path) -> None:
    """Stage progress goes to stderr, one line per change, and never to stdout."""
    file = write(tmp_path, "hello.yaml", ECHO + "input: {message: hi}\n")
    result = venv.run_cli("run", file)
    expected = [
        "hello  -> starting (waiting for input)",
        "hello  -> outputs",
        "hello  finished in outputs: success",
    ]
    assert expected == result.stderr.splitlines()


def test_run_steps_map_json_and_error_output_exit_2(venv: TestVenv, tmp_path: Path) -> None:
    """A ``steps:`` map runs every step (builtin and installed kinds); an error output exits 2."""
    file = write(
        tmp_path,
        "many.yaml",
        "steps:\n"
        "  good: {kind: echo, echo: {prefix: ''}, input: {message: hi}}\n"
        "  bad: {kind: echo, echo: {prefix: ''}, input: {message: fail}}\n"
        "  greeting: {kind: dummy, name: Arca}\n",
    )
    result = venv.run_cli("run", "--format", "json", "--parallelism", "1", "-q", file)
    assert (2, "") == (result.returncode, result.stderr)
    data = json.loads(result.stdout)
    assert ["good", "bad", "greeting"] == list(data)
    assert ("success", {"message": "hi"}) == (
        data["good"]["output_id"],
        data["good"]["output_data"],
    )
    assert ("error", {"reason": "asked to fail"}) == (
        data["bad"]["output_id"],
        data["bad"]["output_data"],
    )
    assert "success" == data["greeting"]["output_id"]


def test_run_fatal_stage_exits_3(venv: TestVenv, tmp_path: Path) -> None:
    """A step ending in a fatal stage (crashed, deploy failed) makes the run exit 3."""
    file = write(tmp_path, "crash.yaml", ECHO + "input: {message: crash}\n")
    result = venv.run_cli("run", "-q", file)
    assert 3 == result.returncode, result.stderr
    assert "closed" == yaml.safe_load(result.stdout)["crash"]["stage"]


def test_run_several_files(venv: TestVenv, tmp_path: Path) -> None:
    """Several files run together; a single-definition file's step id is its file name."""
    first = write(tmp_path, "one.yaml", ECHO + "input: {message: '1'}\n")
    second = write(tmp_path, "two.yaml", "kind: dummy\nname: Two\n")
    result = venv.run_cli("run", "-q", first, second)
    assert 0 == result.returncode, result.stderr
    assert ["one", "two"] == list(yaml.safe_load(result.stdout))


def test_run_calls_observer_hooks(venv: TestVenv, tmp_path: Path) -> None:
    """Stage events go through the ``arcaflow_steps_stage_changed`` hook of installed packages."""
    log = tmp_path / "events.jsonl"
    file = write(tmp_path, "hello.yaml", ECHO + "input: {message: hi}\n")
    result = venv.run_cli("run", "-q", file, env={"GOOD_STEPS_EVENT_LOG": str(log)})
    assert 0 == result.returncode, result.stderr
    events = [json.loads(line) for line in log.read_text().splitlines()]
    assert ["hello", "stage_changed", "starting"] == events[0]
    assert ["hello", "completed", "outputs"] == events[-1]


def test_run_broken_kind_names_distribution(venv: TestVenv, tmp_path: Path) -> None:
    """Running the kind whose module raises at import is one error naming its distribution."""
    file = write(tmp_path, "b.yaml", "kind: broken\n")
    result = venv.run_cli("run", file)
    assert (1, "") == (result.returncode, result.stdout)
    assert result.stderr == (
        f"arcaflow-steps: error: {file}: provider for kind 'broken' from broken-steps 0.1 "
        "(entry point 'broken') failed to load: importing 'broken_steps' raised RuntimeError: "
        "broken_steps cannot be imported (on purpose)\n"
    )


def start(venv: TestVenv, file: str) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [str(venv.bin / "arcaflow-steps"), "run", file],
        env=venv.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    for line in process.stderr:  # the step says when it is working (see steps_testbase)
        if line.startswith("echo step is working"):
            return process
    process.kill()
    process.communicate()
    raise AssertionError("the step never started working")


def finish(process: subprocess.Popen[str]) -> tuple[int, dict[str, Any], str]:
    stdout, stderr = process.communicate(timeout=20)
    return process.returncode, yaml.safe_load(stdout), stderr


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_closes_running_steps(
    venv: TestVenv, tmp_path: Path, signum: signal.Signals
) -> None:
    """The first SIGINT/SIGTERM closes running steps cleanly; results still print."""
    process = start(venv, write(tmp_path, "w.yaml", ECHO + "input: {message: wait}\n"))
    process.send_signal(signum)
    code, results, stderr = finish(process)
    assert (128 + signum, "closed") == (code, results["w"]["stage"])
    assert f"{signum.name}: closing every running step (again to force)" in stderr
    assert "Traceback" not in stderr


def test_second_signal_forces(venv: TestVenv, tmp_path: Path) -> None:
    """A step that ignores close() is force-closed by a second SIGINT, well before timeouts."""
    process = start(venv, write(tmp_path, "s.yaml", ECHO + "input: {message: stubborn}\n"))
    began = time.monotonic()
    process.send_signal(signal.SIGINT)
    time.sleep(0.5)
    assert process.poll() is None
    process.send_signal(signal.SIGINT)
    code, results, stderr = finish(process)
    assert (130, "closed") == (code, results["s"]["stage"])
    assert time.monotonic() - began < 5
    assert "SIGINT again: force-closing every running step" in stderr


def test_observer_only_package_sees_events_and_results(venv: TestVenv, tmp_path: Path) -> None:
    """A package in ``arcaflow.step_observers`` sees every event and each step's result."""
    log = tmp_path / "audit.jsonl"
    file = write(tmp_path, "hello.yaml", ECHO + "input: {message: hi}\n")
    result = venv.run_cli("run", "-q", file, env={"AUDIT_STEPS_LOG": str(log)})
    assert 0 == result.returncode, result.stderr
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert ["event", "hello", "stage_changed", "starting"] == records[0]
    assert ["result", "hello", "success"] == records[-1]


def test_timeout_closes_running_steps(venv: TestVenv, tmp_path: Path) -> None:
    """``--timeout`` closes steps still running; each still prints its terminal result, and
    the run exits 124 (as timeout(1)), whatever the closed steps' outputs are."""
    file = write(tmp_path, "w.yaml", ECHO + "input: {message: wait}\n")
    began = time.monotonic()
    result = venv.run_cli("run", "--timeout", "0.5", file)
    assert (124, "closed") == (result.returncode, yaml.safe_load(result.stdout)["w"]["stage"])
    assert "*  --timeout 0.5s reached: closing every running step" in result.stderr
    assert time.monotonic() - began < 10


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_while_preparing_stops_cleanly(
    venv: TestVenv, tmp_path: Path, signum: signal.Signals
) -> None:
    """A signal while a schema loads stops the run with one message and 128 + signal; the
    step is reported as not started."""
    file = write(
        tmp_path, "s.yaml", "kind: echo\necho: {prefix: slow schema}\ninput: {message: x}\n"
    )
    process = subprocess.Popen(
        [str(venv.bin / "arcaflow-steps"), "run", file],
        env=venv.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    assert "echo is loading its schema\n" == process.stderr.readline()
    process.send_signal(signum)
    stdout, stderr = process.communicate(timeout=20)
    assert (128 + signum, "arcaflow-steps: interrupted while preparing steps\n") == (
        process.returncode,
        stderr,
    )
    not_started = {
        "stage": None,
        "output_id": None,
        "output_data": None,
        "error": f"not started: interrupted by {signal.Signals(signum).name} while preparing steps",
    }
    assert {"s": not_started} == yaml.safe_load(stdout)
