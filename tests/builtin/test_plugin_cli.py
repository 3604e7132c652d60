"""`arcaflow-steps run` with plugin steps: exit codes, results, signals, no leftovers."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from plugin_support import PLUGINS, ROOT, descendants, wait_gone

STEPS = str(PLUGINS / "plugin_steps.py")
HELLO = str(PLUGINS / "plugin_hello.py")
_BESIDE = Path(sys.executable).with_name("arcaflow-steps")
#: The CLI of the environment running the tests (not whatever is first on PATH).
CLI = str(_BESIDE) if _BESIDE.exists() else (shutil.which("arcaflow-steps") or "arcaflow-steps")


def arcaflow_steps(
    *args: str, cwd: Path = ROOT, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CLI, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )


def step_file(tmp_path: Path, steps: dict[str, dict[str, object]]) -> str:
    path = tmp_path / "steps.yaml"
    path.write_text(yaml.safe_dump({"steps": steps}))
    return str(path)


def plugin(source: str = STEPS) -> dict[str, str]:
    return {"src": source, "deployment_type": "python"}


@pytest.fixture(autouse=True)
def _no_leftovers() -> Iterator[None]:
    yield
    assert set() == wait_gone(descendants()), "processes left behind"


def test_readme_example_runs_the_greeter() -> None:
    """The README's first command runs the example plugin and prints its greeting (exit 0)."""
    completed = arcaflow_steps("run", "examples/greet.yaml")
    assert 0 == completed.returncode, completed.stderr
    result = yaml.safe_load(completed.stdout)
    assert {
        "greet": {
            "stage": "outputs",
            "output_id": "success",
            "output_data": {"message": "Hello, Arca! Hello, Arca!"},
        }
    } == result


def test_many_example_exits_2_for_the_refusal() -> None:
    """examples/many.yaml: successes, a disabled step and an error output (exit 2)."""
    completed = arcaflow_steps("run", "examples/many.yaml")
    assert 2 == completed.returncode, completed.stderr
    results = yaml.safe_load(completed.stdout)
    assert {
        "hello": ("outputs", "success"),
        "loud": ("outputs", "success"),
        "slow": ("outputs", "success"),
        "refused": ("outputs", "error"),
        "skipped": ("disabled", "output"),
    } == {step: (r["stage"], r["output_id"]) for step, r in results.items()}
    assert "HELLO, WORLD! HELLO, WORLD! HELLO, WORLD!" == results["loud"]["output_data"]["message"]


@pytest.mark.parametrize(
    ("step", "stage", "code"),
    [
        pytest.param("raise", "crashed", 3, id="raise"),
        pytest.param("exit", "crashed", 3, id="os-exit"),
        pytest.param("fail", "outputs", 2, id="error-output"),
    ],
)
def test_exit_codes(tmp_path: Path, step: str, stage: str, code: int) -> None:
    """Crashes exit 3 and error outputs exit 2, with the result printed."""
    completed = arcaflow_steps(
        "run", step_file(tmp_path, {"s": {"plugin": plugin(), "step": step, "input": {}}})
    )
    assert code == completed.returncode, completed.stderr
    assert stage == yaml.safe_load(completed.stdout)["s"]["stage"]


def test_deploy_failure_exits_3(tmp_path: Path) -> None:
    """A deploy that cannot start the plugin to read its schema is that deploy's error (not
    a schema read another way, then a misleading invalid input); exit 3."""
    completed = arcaflow_steps(
        "run",
        step_file(
            tmp_path,
            {
                "s": {
                    "plugin": plugin(HELLO),
                    "deploy": {"deployer_name": "python", "pythonPath": "/nonexistent/python"},
                    "input": {"name": "x"},
                }
            },
        ),
    )
    expected = (
        f"arcaflow-steps: error: {tmp_path / 'steps.yaml'}: python interpreter "
        f"'/nonexistent/python' for plugin {HELLO!r} not found (deploy.pythonPath)\n"
    )
    assert (3, "", expected) == (completed.returncode, completed.stdout, completed.stderr)


def test_invalid_plugin_input_exits_1_naming_the_path(tmp_path: Path) -> None:
    """Input the plugin's schema refuses is reported with its path before anything runs."""
    completed = arcaflow_steps(
        "run",
        step_file(
            tmp_path,
            {"s": {"plugin": plugin(), "step": "echo", "input": {"count": "ten"}}},
        ),
    )
    assert 1 == completed.returncode
    assert "$.steps.s.input.count" in completed.stderr
    assert "Traceback" not in completed.stderr


def test_unknown_step_exits_1_listing_the_steps(tmp_path: Path) -> None:
    """An unknown step id is invalid input; the message lists the plugin's steps."""
    completed = arcaflow_steps(
        "run", step_file(tmp_path, {"s": {"plugin": plugin(), "step": "nope", "input": {}}})
    )
    assert 1 == completed.returncode
    assert "'ignore-cancel'" in completed.stderr
    assert "'nope'" in completed.stderr


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_closes_hanging_steps_and_leaves_nothing(tmp_path: Path, signum: int) -> None:
    """SIGINT/SIGTERM close hanging plugins (with or without cancel handlers) promptly."""
    path = step_file(
        tmp_path,
        {
            "hang": {"plugin": plugin(), "step": "hang", "input": {}},
            "ignore": {
                "plugin": plugin(),
                "step": "ignore-cancel",
                "closure_wait_timeout": 500,
                "input": {},
            },
            "cancellable": {"plugin": plugin(), "step": "cancellable", "input": {}},
        },
    )
    temp = tmp_path / "tmp"
    temp.mkdir()
    process = subprocess.Popen(
        [CLI, "run", path],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "TMPDIR": str(temp)},
    )
    deadline = time.monotonic() + 30
    while len(descendants(process.pid)) < 4:  # zygote + three plugins
        assert time.monotonic() < deadline, "plugins never started"
        time.sleep(0.05)
    plugin_pids = descendants(process.pid)
    os.kill(process.pid, signum)
    started = time.monotonic()
    stdout, stderr = process.communicate(timeout=30)
    assert time.monotonic() - started < 10
    assert 128 + signum == process.returncode, stderr
    results = yaml.safe_load(stdout)
    assert {
        "hang": "closed",
        "ignore": "closed",
        "cancellable": "outputs",
    } == {step: result["stage"] for step, result in results.items()}
    assert {"cancelled": True, "close_requested": True} == results["hang"]["output_data"]
    assert set() == wait_gone(plugin_pids)
    assert [] == list(temp.iterdir())  # every plugin's temporary directory was removed


def test_sigkill_of_the_cli_still_stops_forked_plugins(tmp_path: Path) -> None:
    """Even if the CLI is SIGKILLed, the zygote kills the plugins it forked and cleans up."""
    path = step_file(tmp_path, {"hang": {"plugin": plugin(), "step": "hang", "input": {}}})
    temp = tmp_path / "tmp"
    temp.mkdir()
    process = subprocess.Popen(
        [CLI, "run", path],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "TMPDIR": str(temp)},
    )
    deadline = time.monotonic() + 30
    while len(descendants(process.pid)) < 2:
        assert time.monotonic() < deadline, "plugin never started"
        time.sleep(0.05)
    plugin_pids = descendants(process.pid)
    process.kill()
    process.wait(10)
    assert set() == wait_gone(plugin_pids, timeout=10)
    assert [] == list(temp.iterdir())  # the zygote removed the plugin's directory


def test_yaml_scalars_reach_the_plugin_typed(tmp_path: Path) -> None:
    """A YAML boolean, int and float arrive in the plugin as bool, int and float."""
    path = tmp_path / "typed.yaml"
    path.write_text(
        f"plugin: {{src: {STEPS}, deployment_type: python}}\n"
        "step: echo\n"
        "input:\n"
        "  count: 5\n  ratio: 0.5\n  flag: true\n  tags: [a]\n"
        "  inner: {label: l}\n  scores: {a: 1}\n"
    )
    completed = arcaflow_steps("run", "--format", "json", str(path))
    assert 0 == completed.returncode, completed.stderr
    (result,) = json.loads(completed.stdout).values()
    types = result["output_data"]["types"]
    assert ("int", "float", "bool") == (types["count"], types["ratio"], types["flag"])


def test_plugin_printing_at_import_fails_to_deploy_with_a_clear_reason(tmp_path: Path) -> None:
    """A plugin that prints before its hello cannot be deployed: exit 3, says why."""
    completed = arcaflow_steps(
        "run",
        step_file(
            tmp_path,
            {"s": {"plugin": plugin(str(PLUGINS / "plugin_print_at_import.py")), "input": {}}},
        ),
    )
    assert 3 == completed.returncode  # the CLI's rule: a plugin that cannot be deployed
    assert "printed to stdout" in completed.stderr
    assert "Traceback" not in completed.stderr


@pytest.mark.parametrize(
    ("definition", "message"),
    [
        pytest.param(
            {"plugin": plugin(), "input": {}},
            "missing required field 'step'; valid values: 'cancellable', 'echo', 'exit', "
            "'fail', 'hang', 'hello', 'ignore-cancel', 'raise', 'sleep' @ $.steps.s",
            id="no-step-of-several",
        ),
        pytest.param(
            {"plugin": plugin(), "step": "hello"},
            "missing required field 'input' @ $.steps.s",
            id="no-input-no-enum-repr",
        ),
        pytest.param(
            {
                "plugin": plugin(),
                "step": "ignore-cancel",
                "input": {},
                "closure_wait_timeout": 9223372036854775807,
            },
            "expected at most 604800000, got 9223372036854775807 @ $.steps.s.closure_wait_timeout",
            id="closure-wait-timeout-too-long",
        ),
    ],
)
def test_plugin_step_mistakes_are_one_line(
    tmp_path: Path, definition: dict[str, object], message: str
) -> None:
    """A plugin step without ``step`` names the plugin's step ids; field names show as the
    user writes them (never an enum repr); an endless closure wait is refused: exit 1."""
    file = step_file(tmp_path, {"s": definition})
    completed = arcaflow_steps("run", file)
    expected = f"arcaflow-steps: error: {file}: {message}\n"
    assert (1, "", expected) == (completed.returncode, completed.stdout, completed.stderr)
