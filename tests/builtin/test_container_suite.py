"""One suite, three deployers: the test plugins give the same stages, outputs and exit codes
through the ``python``, ``docker`` and ``podman`` deployers, and nothing outlives a step."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from container_support import containers_of_pid, image, our_containers, require_docker
from container_support import require_podman as require_podman_engine
from plugin_support import PLUGINS, descendants, wait_gone

import arcaflow_steps_builtin.plugin as plugin_module
from arcaflow_steps import DeploymentError, Registry
from arcaflow_steps._events import StepEvent, StepEventKind, StepResult
from arcaflow_steps._runner import StepExecution, StepRunner
from arcaflow_steps._step_definition import prepare_step
from arcaflow_steps_builtin.deployers import _hooks as deployers_module
from arcaflow_steps_builtin.deployers._process import live_connection_count
from arcaflow_steps_builtin.deployers.docker import live_container_count

#: Generous bound for "promptly" on a loaded 2-core machine.
PROMPT = 30.0
DEPLOYERS = ("python", "docker", "podman")


@pytest.fixture(
    params=[
        pytest.param("python", id="python"),
        pytest.param("docker", id="docker", marks=pytest.mark.docker),
        pytest.param("podman", id="podman", marks=pytest.mark.podman),
    ]
)
def deployer(request: pytest.FixtureRequest) -> Iterator[str]:
    """Each deployer; afterwards no process or container of this test may be left."""
    name = str(request.param)
    if name == "docker":
        require_docker(request.config)
    elif name == "podman":
        require_podman_engine(request.config)
    yield name
    if name != "python":
        assert [] == our_containers(name)
    assert 0 == live_container_count()


@pytest.fixture
def registry(deployer: str) -> Iterator[Registry]:
    """A fresh registry with the plugin provider and every built-in deployer."""
    registry = Registry.from_plugins([plugin_module, deployers_module])
    yield registry
    registry.close()
    assert set() == wait_gone(descendants()), "processes left behind"
    assert 0 == live_connection_count()


@pytest.fixture
def runner() -> Iterator[StepRunner]:
    with StepRunner(close_timeout=10.0) as runner:
        yield runner


def definition(deployer: str, module: str) -> dict[str, Any]:
    """Return the plugin (and deploy) keys running tests/plugins/<module> through ``deployer``."""
    if deployer == "python":
        return {"plugin": {"src": str(PLUGINS / f"{module}.py"), "deployment_type": "python"}}
    return {
        "plugin": {"src": image(module), "deployment_type": "image"},
        "deploy": {"deployer_name": deployer},
    }


def step(
    deployer: str, step_id: str, step_input: Mapping[str, Any], **fields: Any
) -> dict[str, Any]:
    """Return a definition of a ``plugin_steps`` step."""
    return {**definition(deployer, "plugin_steps"), "step": step_id, "input": step_input, **fields}


def run(
    registry: Registry,
    runner: StepRunner,
    step_definition: Mapping[str, Any],
    *,
    during: Callable[[StepExecution], None] | None = None,
) -> StepResult:
    execution = runner.start(prepare_step(registry, "s", step_definition))
    if during is not None:
        during(execution)
    return execution.wait(PROMPT)


def wait_for_stage(execution: StepExecution, stage: str) -> None:
    deadline = time.monotonic() + PROMPT
    while execution.current_stage() != stage:
        assert time.monotonic() < deadline, f"never reached {stage}"
        time.sleep(0.01)


def transitions(events: tuple[StepEvent, ...]) -> list[tuple[Any, ...]]:
    """Project events onto the reference notation: SC (stage changes) and C (completion)."""
    projected: list[tuple[Any, ...]] = []
    for event in events:
        if event.kind is StepEventKind.STAGE_CHANGED:
            projected.append(("SC", event.previous_stage, event.stage, event.previous_output_id))
        elif event.kind is StepEventKind.COMPLETED:
            projected.append(("C", event.stage, event.previous_output_id))
    return projected


SUCCESS_PATH = [
    ("SC", None, "deploy", None),
    ("SC", "deploy", "enabling", None),
    ("SC", "enabling", "starting", "resolved"),
    ("SC", "starting", "running", "started"),
    ("SC", "running", "outputs", None),
]
CRASH_PATH = [*SUCCESS_PATH[:-1], ("SC", "running", "crashed", None), ("C", "crashed", "error")]
CLOSED_PATH = [*SUCCESS_PATH[:-1], ("SC", "running", "closed", None), ("C", "closed", "result")]


def test_success(deployer: str, registry: Registry, runner: StepRunner) -> None:
    """A successful step: deploy, enabling, starting, running, outputs success."""
    result = run(registry, runner, step(deployer, "hello", {"name": "Arca"}))
    assert [*SUCCESS_PATH, ("C", "outputs", "success")] == transitions(result.events)
    assert {"message": "Hello, Arca!"} == result.output_data


def test_one_step_plugin_needs_no_step_keyword(
    deployer: str, registry: Registry, runner: StepRunner
) -> None:
    """A one-step plugin image runs without ``step`` (the schema comes from the container)."""
    result = run(registry, runner, {**definition(deployer, "plugin_hello"), "input": {"name": "x"}})
    assert ("outputs", "success", {"message": "Hello, x!"}) == (
        result.stage,
        result.output_id,
        result.output_data,
    )


def test_error_output(deployer: str, registry: Registry, runner: StepRunner) -> None:
    """An output named error ends in outputs, flagged as an error output."""
    result = run(registry, runner, step(deployer, "hello", {"name": "nobody"}))
    assert [*SUCCESS_PATH, ("C", "outputs", "error")] == transitions(result.events)
    assert {"error": "plugin says no to nobody"} == result.output_data
    assert result.is_error


def test_raise_crashes(deployer: str, registry: Registry, runner: StepRunner) -> None:
    """A step raising ends crashed with the exception text."""
    result = run(registry, runner, step(deployer, "raise", {}))
    assert CRASH_PATH == transitions(result.events)
    assert "boom from raise step" in result.output_data["output"]


def test_exit_crashes_with_status_and_stderr(
    deployer: str, registry: Registry, runner: StepRunner
) -> None:
    """A plugin dying mid-step: crashed, with its exit status and its stderr tail."""
    result = run(registry, runner, step(deployer, "exit", {"code": 3}))
    assert CRASH_PATH == transitions(result.events)
    output = result.output_data["output"]
    assert "exit status 3" in output
    assert "exit step: calling os._exit(3)" in output


def test_typed_inputs(deployer: str, registry: Registry, runner: StepRunner) -> None:
    """Typed inputs arrive typed, defaults applied, through every deployer."""
    step_input = {
        "count": 5,
        "ratio": 0.5,
        "flag": True,
        "tags": ["a"],
        "inner": {"label": "l"},
        "scores": {"a": 1},
    }
    result = run(registry, runner, step(deployer, "echo", step_input))
    assert ("outputs", "success") == (result.stage, result.output_id)
    types = result.output_data["types"]
    assert ("int", "float", "bool") == (types["count"], types["ratio"], types["flag"])
    assert (7, "seven", False) == (
        result.output_data["default_int"],
        result.output_data["default_text"],
        result.output_data["default_flag"],
    )


def stop(execution: StepExecution) -> None:
    wait_for_stage(execution, "running")
    execution.provide_stage_input("cancelled", {"stop_if": True})


def test_cancel_with_a_handler(deployer: str, registry: Registry, runner: StepRunner) -> None:
    """stop_if sends cancel; a plugin answering it ends in its own output."""
    result = run(registry, runner, step(deployer, "cancellable", {}), during=stop)
    assert [*SUCCESS_PATH, ("C", "outputs", "cancelled")] == transitions(result.events)
    assert result.output_data["cancelled"] is True


def test_cancel_without_a_handler(deployer: str, registry: Registry, runner: StepRunner) -> None:
    """stop_if on a step without a cancel handler stops the plugin at once: closed."""
    started = time.monotonic()
    result = run(registry, runner, step(deployer, "hang", {}), during=stop)
    assert CLOSED_PATH == transitions(result.events)
    assert {"cancelled": True, "close_requested": False} == result.output_data
    assert time.monotonic() - started < 15


def test_cancel_ignored_until_the_timeout(
    deployer: str, registry: Registry, runner: StepRunner
) -> None:
    """A plugin ignoring cancel is stopped after closure_wait_timeout: closed, not crashed."""
    started = time.monotonic()
    result = run(
        registry,
        runner,
        step(deployer, "ignore-cancel", {}, closure_wait_timeout=500),
        during=stop,
    )
    assert CLOSED_PATH == transitions(result.events)
    assert {"cancelled": True, "close_requested": False} == result.output_data
    assert time.monotonic() - started < 15


def test_close_while_running(deployer: str, registry: Registry, runner: StepRunner) -> None:
    """close() of a hanging step removes its plugin; closed {close_requested: true}."""

    def close(execution: StepExecution) -> None:
        wait_for_stage(execution, "running")
        execution.close()

    result = run(registry, runner, step(deployer, "hang", {}), during=close)
    assert CLOSED_PATH == transitions(result.events)
    assert {"cancelled": True, "close_requested": True} == result.output_data


def test_wait_timeout_then_close(deployer: str, registry: Registry, runner: StepRunner) -> None:
    """A step outliving the caller's wait is closed and leaves nothing behind."""
    execution = runner.start(prepare_step(registry, "s", step(deployer, "hang", {})))
    wait_for_stage(execution, "running")
    with pytest.raises(TimeoutError):
        execution.wait(0.5)
    execution.close()
    assert "closed" == execution.wait(PROMPT).stage


def test_missing_plugin_fails_to_deploy(deployer: str, registry: Registry) -> None:
    """A plugin that cannot be deployed is refused when its schema is loaded, naming it."""
    if deployer == "python":
        missing: dict[str, Any] = {
            "plugin": {"src": "arcaflow_steps_no_such_module", "deployment_type": "python"}
        }
    else:
        missing = {
            "plugin": {"src": image("nope"), "deployment_type": "image"},
            "deploy": {"deployer_name": deployer, "deployment": {"imagePullPolicy": "Never"}},
        }
    with pytest.raises(DeploymentError, match=r"nope|no_such_module"):
        prepare_step(registry, "s", {**missing, "input": {"name": "x"}})


# -- the CLI: exit codes and SIGINT --------------------------------------------------------


def _cli(path: Path) -> list[str]:
    return [sys.executable, "-m", "arcaflow_steps.cli", "run", str(path)]


def _step_file(tmp_path: Path, deployer: str, step_id: str, step_input: Mapping[str, Any]) -> Path:
    import yaml

    path = tmp_path / "step.yaml"
    path.write_text(yaml.safe_dump(step(deployer, step_id, step_input)))
    return path


@pytest.mark.parametrize(
    ("step_id", "step_input", "exit_code"),
    [("hello", {"name": "x"}, 0), ("fail", {}, 2), ("raise", {}, 3), ("exit", {"code": 1}, 3)],
    ids=["success", "error-output", "raise", "exit"],
)
def test_cli_exit_codes(
    deployer: str, tmp_path: Path, step_id: str, step_input: Mapping[str, Any], exit_code: int
) -> None:
    """arcaflow-steps run exits 0 / 2 / 3 alike for every deployer; no container is left."""
    with subprocess.Popen(
        _cli(_step_file(tmp_path, deployer, step_id, step_input)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        _, stderr = process.communicate(timeout=PROMPT * 2)
    assert exit_code == process.returncode, stderr
    if deployer != "python":
        assert [] == containers_of_pid(deployer, process.pid)


def test_cli_workflow_chain_leaves_no_container(deployer: str, tmp_path: Path) -> None:
    """A workflow whose steps each consume the previous output: once the CLI has exited,
    every finished step's container is gone."""
    import yaml

    steps: dict[str, Any] = {}
    for index in range(3):
        name = "first" if index == 0 else f"!expr $.steps.s{index - 1}.outputs.success.message"
        steps[f"s{index}"] = {**definition(deployer, "plugin_steps"), "step": "hello"}
        steps[f"s{index}"]["input"] = {"name": name}
    workflow = {
        "version": "v0.2.0",
        "input": {"root": "R", "objects": {"R": {"id": "R", "properties": {}}}},
        "steps": steps,
        "outputs": {"success": {"message": "!expr $.steps.s2.outputs.success.message"}},
    }
    text = yaml.safe_dump(workflow).replace("'!expr ", "!expr '")
    (tmp_path / "workflow.yaml").write_text(text)
    command = [sys.executable, "-m", "arcaflow_steps.cli", "workflow", "-context", str(tmp_path)]
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        stdout, stderr = process.communicate(timeout=PROMPT * 2)
    assert 0 == process.returncode, stderr
    assert "Hello, Hello, Hello, first!!!" in stdout
    if deployer != "python":
        assert [] == containers_of_pid(deployer, process.pid)


def test_cli_sigint_leaves_nothing(deployer: str, tmp_path: Path) -> None:
    """SIGINT to arcaflow-steps run mid-step: it exits, and no process or container is left."""
    with subprocess.Popen(
        _cli(_step_file(tmp_path, deployer, "hang", {"seconds": 60})),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        try:
            assert process.stderr is not None
            deadline = time.monotonic() + PROMPT
            for line in process.stderr:
                if "-> running" in line:
                    break
                assert time.monotonic() < deadline, "the step never reached running"
            if deployer != "python":
                assert 1 == len(containers_of_pid(deployer, process.pid))
            children = descendants(process.pid)
            process.send_signal(signal.SIGINT)
            process.communicate(timeout=PROMPT)
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate()
    assert 0 != process.returncode
    assert set() == wait_gone(children)
    if deployer != "python":
        assert [] == containers_of_pid(deployer, process.pid)


def test_force_close_is_prompt(deployer: str, registry: Registry, runner: StepRunner) -> None:
    """force_close() stops a plugin ignoring cancel at once, container included."""

    def force(execution: StepExecution) -> None:
        wait_for_stage(execution, "running")
        started = time.monotonic()
        execution.force_close()
        assert time.monotonic() - started < 5

    result = run(registry, runner, step(deployer, "ignore-cancel", {}), during=force)
    assert "closed" == result.stage


def test_concurrent_steps(deployer: str, registry: Registry) -> None:
    """Eight steps at once each get their own plugin and output; nothing is left after."""
    with StepRunner(parallelism=8, close_timeout=10.0) as runner:
        prepared = [
            prepare_step(registry, f"s{index}", step(deployer, "hello", {"name": f"n{index}"}))
            for index in range(8)
        ]
        results = runner.run_all(prepared, timeout=PROMPT * 2)
    assert {f"s{i}": ("success", {"message": f"Hello, n{i}!"}) for i in range(8)} == {
        step_id: (result.output_id, result.output_data) for step_id, result in results.items()
    }


@pytest.mark.podman
def test_a_podman_step_reads_its_schema_with_podman(request: pytest.FixtureRequest) -> None:
    """The schema of a step that names the podman deployer is read with podman (its deploy is
    a hint to load_schema) and that container runs the step: Docker, the type's default
    deployer, creates no container at all."""
    require_podman_engine(request.config)
    require_docker(request.config)  # to see that it stays untouched
    registry = Registry.from_plugins([plugin_module, deployers_module])
    since = time.time()
    try:
        with StepRunner(close_timeout=10.0) as runner:
            result = run(registry, runner, step("podman", "hello", {"name": "pod"}))
    finally:
        registry.close()
    assert ("outputs", "success") == (result.stage, result.output_id)
    created = subprocess.run(
        [
            "docker",
            "events",
            "--since",
            f"{since:.3f}",
            "--until",
            f"{time.time():.3f}",
            "--filter",
            "event=create",
            "--filter",
            f"label=org.arcaflow-steps.owner-pid={os.getpid()}",
            "--format",
            "{{.ID}}",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    assert "" == created.stdout.strip()
    assert [] == our_containers("podman")
