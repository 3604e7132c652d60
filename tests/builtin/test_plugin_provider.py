"""The plugin provider end to end: real SDK plugins, real deployers, the shared runner."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest
from plugin_support import GREETER_PACKAGE, PLUGINS, descendants, wait_gone

import arcaflow_steps_builtin.deployers as deployers_module
import arcaflow_steps_builtin.plugin as plugin_module
from arcaflow_steps import (
    DeploymentError,
    Registry,
    SchemaValidationError,
    StepDefinitionError,
    hookimpl,
)
from arcaflow_steps._events import StepEvent, StepEventKind, StepResult
from arcaflow_steps._runner import StepExecution, StepRunner
from arcaflow_steps._step_definition import prepare_step
from arcaflow_steps_builtin.deployers._process import live_connection_count
from arcaflow_steps_builtin.deployers.command import CommandDeployerFactory
from arcaflow_steps_builtin.deployers.python import PythonDeployerFactory
from arcaflow_steps_builtin.plugin import PluginProvider, PluginRunnableStep

STEPS = str(PLUGINS / "plugin_steps.py")
HELLO = str(PLUGINS / "plugin_hello.py")
#: Generous bound for "promptly" on a loaded 2-core machine.
PROMPT = 20.0


@pytest.fixture
def registry() -> Iterator[Registry]:
    """A fresh registry with the plugin provider and the built-in deployers."""
    registry = Registry.from_plugins([plugin_module, deployers_module])
    yield registry
    registry.close()
    assert set() == wait_gone(descendants()), "processes left behind"
    assert 0 == live_connection_count()


@pytest.fixture
def runner() -> Iterator[StepRunner]:
    with StepRunner(close_timeout=10.0) as runner:
        yield runner


def plugin(source: str = STEPS, **extra: Any) -> dict[str, Any]:
    return {"src": source, "deployment_type": "python", **extra}


def run(
    registry: Registry,
    runner: StepRunner,
    definition: Mapping[str, Any],
    *,
    step_id: str = "s",
    during: Callable[[StepExecution], None] | None = None,
) -> StepResult:
    execution = runner.start(prepare_step(registry, step_id, definition))
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


def unreachable(events: tuple[StepEvent, ...]) -> dict[str, str | None]:
    return {
        str(event.stage): event.error
        for event in events
        if event.kind is StepEventKind.STAGE_UNREACHABLE
    }


SUCCESS_PATH = [
    ("SC", None, "deploy", None),
    ("SC", "deploy", "enabling", None),
    ("SC", "enabling", "starting", "resolved"),
    ("SC", "starting", "running", "started"),
    ("SC", "running", "outputs", None),
]


def test_success_follows_the_reference_sequence(registry: Registry, runner: StepRunner) -> None:
    """A successful step goes deploy, enabling, starting, running, outputs (reference §5)."""
    result = run(registry, runner, {"plugin": plugin(HELLO), "input": {"name": "Arca"}})
    assert [*SUCCESS_PATH, ("C", "outputs", "success")] == transitions(result.events)
    assert ("outputs", "success", {"message": "Hello, Arca!"}) == (
        result.stage,
        result.output_id,
        result.output_data,
    )
    assert not result.is_error
    assert "step enabled; cannot be disabled anymore" == unreachable(result.events)["disabled"]
    changed = [e for e in result.events if e.kind is StepEventKind.STAGE_CHANGED]
    assert {"enabled": True} == changed[2].previous_output
    assert {} == changed[3].previous_output


def test_error_output_is_not_a_crash(registry: Registry, runner: StepRunner) -> None:
    """An output named error ends in outputs, flagged as an error output (exit code 2)."""
    result = run(
        registry, runner, {"plugin": plugin(), "step": "hello", "input": {"name": "nobody"}}
    )
    assert [*SUCCESS_PATH, ("C", "outputs", "error")] == transitions(result.events)
    assert {"error": "plugin says no to nobody"} == result.output_data
    assert result.is_error


def crash_path(output_id: str = "error") -> list[tuple[Any, ...]]:
    return [*SUCCESS_PATH[:-1], ("SC", "running", "crashed", None), ("C", "crashed", output_id)]


def test_a_step_that_raises_crashes_with_the_plugin_traceback(
    registry: Registry, runner: StepRunner
) -> None:
    """A step raising ends crashed {output} with the exception text, as plain data."""
    result = run(registry, runner, {"plugin": plugin(), "step": "raise", "input": {}})
    assert crash_path() == transitions(result.events)
    assert {"output"} == set(result.output_data)
    assert "boom from raise step" in result.output_data["output"]
    assert result.is_error


def test_os_exit_mid_step_crashes_with_exit_status_and_stderr(
    registry: Registry, runner: StepRunner
) -> None:
    """A plugin dying mid-step ends crashed, saying its exit status and stderr tail."""
    result = run(registry, runner, {"plugin": plugin(), "step": "exit", "input": {"code": 3}})
    assert crash_path() == transitions(result.events)
    output = result.output_data["output"]
    assert "exit status 3" in output
    assert "exit step: calling os._exit(3)" in output


def test_deploy_failure_ends_deploy_failed(registry: Registry, runner: StepRunner) -> None:
    """A deployer that cannot start the plugin ends deploy_failed {error} (reference §5)."""
    result = run(
        registry,
        runner,
        {
            "plugin": plugin(HELLO),
            "deploy": {"deployer_name": "python", "pythonPath": "/nonexistent/python3"},
            "input": {"name": "Arca"},
        },
    )
    assert [
        ("SC", None, "deploy", None),
        ("SC", "deploy", "deploy_failed", None),
        ("C", "deploy_failed", "error"),
    ] == transitions(result.events)
    assert "'/nonexistent/python3'" in result.output_data["error"]
    assert result.is_error


def test_disabled_step_ends_disabled_without_running(
    registry: Registry, runner: StepRunner
) -> None:
    """enabled: false (a real boolean) ends disabled with the reference's message."""
    result = run(
        registry, runner, {"plugin": plugin(HELLO), "enabled": False, "input": {"name": "x"}}
    )
    assert [
        ("SC", None, "deploy", None),
        ("SC", "deploy", "enabling", None),
        ("SC", "enabling", "disabled", "resolved"),
        ("C", "disabled", "output"),
    ] == transitions(result.events)
    assert {"message": "Step s/hello-world disabled"} == result.output_data
    assert not result.is_error


def test_enabled_true_runs(registry: Registry, runner: StepRunner) -> None:
    """enabled: true enables (the reference disables on the literal string 'true')."""
    result = run(
        registry, runner, {"plugin": plugin(HELLO), "enabled": True, "input": {"name": "x"}}
    )
    assert ("outputs", "success") == (result.stage, result.output_id)


def stop(execution: StepExecution) -> None:
    wait_for_stage(execution, "running")
    execution.provide_stage_input("cancelled", {"stop_if": True})


def test_stop_if_with_a_cancel_handler_gets_the_plugins_answer(
    registry: Registry, runner: StepRunner
) -> None:
    """stop_if sends cancel once; a plugin answering it ends in its own output."""
    result = run(
        registry, runner, {"plugin": plugin(), "step": "cancellable", "input": {}}, during=stop
    )
    assert [*SUCCESS_PATH, ("C", "outputs", "cancelled")] == transitions(result.events)
    assert result.output_data["cancelled"] is True


CLOSED_PATH = [*SUCCESS_PATH[:-1], ("SC", "running", "closed", None), ("C", "closed", "result")]


def test_stop_if_on_a_plugin_ignoring_cancel_ends_closed_after_the_timeout(
    registry: Registry, runner: StepRunner
) -> None:
    """A plugin ignoring cancel is stopped after closure_wait_timeout: closed, not crashed."""
    started = time.monotonic()
    result = run(
        registry,
        runner,
        {
            "plugin": plugin(),
            "step": "ignore-cancel",
            "input": {},
            "closure_wait_timeout": 300,
        },
        during=stop,
    )
    assert CLOSED_PATH == transitions(result.events)
    assert {"cancelled": True, "close_requested": False} == result.output_data
    assert time.monotonic() - started < 10


def test_stop_if_without_a_cancel_handler_stops_the_plugin_at_once(
    registry: Registry, runner: StepRunner
) -> None:
    """A step without a cancel handler is stopped at once and ends closed."""
    started = time.monotonic()
    result = run(registry, runner, {"plugin": plugin(), "step": "hang", "input": {}}, during=stop)
    assert CLOSED_PATH == transitions(result.events)
    assert {"cancelled": True, "close_requested": False} == result.output_data
    assert time.monotonic() - started < 10


def test_stop_if_false_does_not_cancel(registry: Registry, runner: StepRunner) -> None:
    """stop_if: false (a real boolean) leaves the step alone."""
    result = run(
        registry, runner, {"plugin": plugin(HELLO), "stop_if": False, "input": {"name": "x"}}
    )
    assert ("outputs", "success") == (result.stage, result.output_id)


def test_stop_if_true_before_running_ends_closed(registry: Registry, runner: StepRunner) -> None:
    """stop_if given up front cancels before the plugin runs: closed, never crashed."""
    result = run(
        registry, runner, {"plugin": plugin(HELLO), "stop_if": True, "input": {"name": "x"}}
    )
    assert "closed" == result.stage
    assert {"cancelled": True, "close_requested": False} == result.output_data


def test_close_while_running_ends_closed_with_close_requested(
    registry: Registry, runner: StepRunner
) -> None:
    """close() of a hanging step stops the plugin; closed {cancelled, close_requested}."""

    def close(execution: StepExecution) -> None:
        wait_for_stage(execution, "running")
        execution.close()

    result = run(registry, runner, {"plugin": plugin(), "step": "hang", "input": {}}, during=close)
    assert CLOSED_PATH == transitions(result.events)
    assert {"cancelled": True, "close_requested": True} == result.output_data


def test_force_close_of_ignore_cancel_is_prompt(registry: Registry, runner: StepRunner) -> None:
    """force_close() stops a plugin that ignores cancel without the closure wait."""

    def force(execution: StepExecution) -> None:
        wait_for_stage(execution, "running")
        started = time.monotonic()
        execution.force_close()
        assert time.monotonic() - started < 5

    result = run(
        registry, runner, {"plugin": plugin(), "step": "ignore-cancel", "input": {}}, during=force
    )
    assert "closed" == result.stage


def test_typed_inputs_reach_the_plugin_typed(registry: Registry, runner: StepRunner) -> None:
    """A YAML boolean stays a boolean, an int an int: the plugin sees the Python types."""
    result = run(
        registry,
        runner,
        {
            "plugin": plugin(),
            "step": "echo",
            "input": {
                "count": 5,
                "ratio": 0.5,
                "flag": True,
                "tags": ["a"],
                "inner": {"label": "l"},
                "scores": {"a": 1},
            },
        },
    )
    assert ("outputs", "success") == (result.stage, result.output_id)
    types = result.output_data["types"]
    assert ("int", "float", "bool") == (types["count"], types["ratio"], types["flag"])
    assert (7, "seven", False) == (
        result.output_data["default_int"],
        result.output_data["default_text"],
        result.output_data["default_flag"],
    )


def test_plugin_input_is_validated_before_it_is_sent(registry: Registry) -> None:
    """Input that does not match the plugin's schema is refused with its path, not sent."""
    with pytest.raises(SchemaValidationError) as excinfo:
        prepare_step(
            registry,
            "s",
            {"plugin": plugin(), "step": "echo", "input": {"count": "5", "ratio": 1, "flag": 1}},
        )
    message = str(excinfo.value)
    assert "@ $.steps.s.input.count" in message
    assert "@ $.steps.s.input.flag" in message


def test_several_steps_require_the_step_keyword(registry: Registry) -> None:
    """A plugin with several steps needs `step`; an unknown step lists the valid ones."""
    with pytest.raises(SchemaValidationError, match=r"missing required field 'step'"):
        prepare_step(registry, "s", {"plugin": plugin(), "input": {}})
    with pytest.raises(SchemaValidationError) as excinfo:
        prepare_step(registry, "s", {"plugin": plugin(), "step": "nope", "input": {}})
    assert "'cancellable'" in str(excinfo.value)
    assert "'hello'" in str(excinfo.value)


def test_one_step_plugin_needs_no_step_keyword(registry: Registry) -> None:
    """With exactly one step, `step` defaults to it."""
    prepared = prepare_step(registry, "s", {"plugin": plugin(HELLO), "input": {"name": "x"}})
    assert {"step": "hello-world"} == dict(prepared.run_input)


def test_print_at_import_fails_schema_loading_clearly(registry: Registry) -> None:
    """A plugin that prints before its hello cannot be loaded; the error says why."""
    with pytest.raises(DeploymentError, match=r"did not start"):
        prepare_step(
            registry,
            "s",
            {"plugin": plugin(str(PLUGINS / "plugin_print_at_import.py")), "input": {}},
        )


def test_unknown_deployment_type_lists_the_valid_ones(registry: Registry) -> None:
    """A deployment type nobody serves fails with the valid types."""
    with pytest.raises(DeploymentError, match=r"unknown deployment type 'vm'; valid: "):
        prepare_step(
            registry,
            "s",
            {"plugin": {"src": HELLO, "deployment_type": "vm"}, "input": {"name": "x"}},
        )


def test_output_is_validated_against_its_schema(registry: Registry, runner: StepRunner) -> None:
    """Output data is checked against the declared schema (the reference does not)."""
    provider = registry.get("plugin")
    assert isinstance(provider, PluginProvider)
    runnable = provider.load_schema({"plugin": plugin()})
    lifecycle = runnable.lifecycle({"step": "hello"})
    outputs = lifecycle.stage("outputs").outputs
    assert {"success", "error"} == set(outputs)
    assert outputs["error"].error
    assert not outputs["success"].error


class CountingDeployers:
    """Registers the real python deployer, counting the plugin processes it deploys."""

    def __init__(self) -> None:
        self.deploys = 0
        self._lock = threading.Lock()
        self._inner = PythonDeployerFactory()
        self.deployer_name = self._inner.deployer_name
        self.deployment_type = self._inner.deployment_type

    @hookimpl
    def arcaflow_steps_deployers(self) -> list[Any]:
        return [self]

    def configuration_schema(self) -> Any:
        return self._inner.configuration_schema()

    def create(self, config: Mapping[str, Any]) -> Any:
        inner = self._inner.create(config)
        counter = self

        class Counting:
            def deploy(self, source: str) -> Any:
                with counter._lock:
                    counter.deploys += 1
                return inner.deploy(source)

            def close(self) -> None:
                inner.close()

        return Counting()


@pytest.fixture
def counting() -> Iterator[tuple[Registry, CountingDeployers]]:
    deployers = CountingDeployers()
    registry = Registry.from_plugins([plugin_module, deployers])
    yield registry, deployers
    registry.close()
    assert set() == wait_gone(descendants()), "processes left behind"


def test_schema_is_loaded_once_per_source(
    counting: tuple[Registry, CountingDeployers], runner: StepRunner
) -> None:
    """Six steps of one source deploy six processes: the schema probe runs the first step."""
    registry, deployers = counting
    prepared = [
        prepare_step(registry, f"s{i}", {"plugin": plugin(HELLO), "input": {"name": str(i)}})
        for i in range(6)
    ]
    assert 1 == deployers.deploys
    results = runner.run_all(prepared, timeout=PROMPT)
    assert {f"s{i}": {"message": f"Hello, {i}!"} for i in range(6)} == {
        step_id: result.output_data for step_id, result in results.items()
    }
    assert 6 == deployers.deploys


def test_one_step_starts_one_plugin_process(
    counting: tuple[Registry, CountingDeployers], runner: StepRunner
) -> None:
    """Preparing and running one step deploys the plugin exactly once."""
    registry, deployers = counting
    result = run(registry, runner, {"plugin": plugin(HELLO), "input": {"name": "x"}})
    assert "Hello, x!" == result.output_data["message"]
    assert 1 == deployers.deploys


def test_other_deploy_config_does_not_take_the_probe(
    counting: tuple[Registry, CountingDeployers], runner: StepRunner
) -> None:
    """A step with its own deploy configuration gets its own process, not the probe."""
    registry, deployers = counting
    result = run(
        registry,
        runner,
        {
            "plugin": plugin(HELLO),
            "deploy": {"deployer_name": "python", "forkServer": False},
            "input": {"name": "x"},
        },
    )
    assert "Hello, x!" == result.output_data["message"]
    assert 2 == deployers.deploys


def test_multiplex_runs_steps_in_one_process(
    counting: tuple[Registry, CountingDeployers], runner: StepRunner
) -> None:
    """multiplex: true runs concurrent steps as ATP runs of one plugin process."""
    registry, deployers = counting
    prepared = [
        prepare_step(
            registry,
            f"m{i}",
            {"plugin": plugin(STEPS, multiplex=True), "step": "sleep", "input": {"seconds": 0.3}},
        )
        for i in range(8)
    ]
    started = time.monotonic()
    results = runner.run_all(prepared, timeout=PROMPT)
    assert {("outputs", "success")} == {(r.stage, r.output_id) for r in results.values()}
    assert 1 == deployers.deploys
    assert time.monotonic() - started < 5


def test_crash_of_the_probe_source_does_not_leak(registry: Registry, runner: StepRunner) -> None:
    """After crashes and cancels nothing is left running (checked by the fixture)."""
    for step in ("raise", "exit"):
        run(registry, runner, {"plugin": plugin(), "step": step, "input": {}}, step_id=step)


def test_greeter_example_plugin(registry: Registry, runner: StepRunner) -> None:
    """The example plugin runs from its directory with typed options."""
    result = run(
        registry,
        runner,
        {
            "plugin": plugin(str(GREETER_PACKAGE)),
            "input": {"name": "Arca", "times": 2, "shout": True},
        },
    )
    assert {"message": "HELLO, ARCA! HELLO, ARCA!"} == result.output_data


def test_step_definition_rejects_unknown_plugin_fields(registry: Registry) -> None:
    """A misspelt key in plugin: is reported with the valid ones."""
    with pytest.raises(SchemaValidationError, match=r"unknown field 'sourc'"):
        prepare_step(
            registry,
            "s",
            {"plugin": {"sourc": HELLO, "src": HELLO, "deployment_type": "python"}},
        )


def test_unknown_step_at_lifecycle_level_lists_valid_steps(registry: Registry) -> None:
    """Asking the runnable for an undeclared step says which steps exist."""
    provider = registry.get("plugin")
    assert isinstance(provider, PluginProvider)
    runnable = provider.load_schema({"plugin": plugin()})
    with pytest.raises(
        StepDefinitionError, match=r"has no step 'nope'; valid steps: 'cancellable'"
    ):
        runnable.lifecycle({"step": "nope"})


class RecordingHandler:
    """A StageChangeHandler that records stage ids (for driving a runnable directly)."""

    def __init__(self) -> None:
        self.stages: list[str] = []
        self.done = threading.Event()

    def on_stage_change(  # noqa: PLR0917 - the StageChangeHandler protocol's signature
        self, step: Any, previous: Any, output_id: Any, output: Any, new: str, waiting: bool
    ) -> None:
        self.stages.append(new)

    def on_step_complete(self, step: Any, previous: str, output_id: Any, output: Any) -> None:
        self.stages.append(f"complete {previous} {output}")
        self.done.set()

    def on_stage_failure(self, step: Any, stage: str, error: Any) -> None:
        pass


def test_close_during_the_handshake_stops_the_plugin(registry: Registry) -> None:
    """Cancelling a step whose plugin never says hello does not wait for the handshake."""
    provider = registry.get("plugin")
    assert isinstance(provider, PluginProvider)
    schema = provider.load_schema({"plugin": plugin(HELLO)}).schema
    runnable = PluginRunnableStep(  # the hello plugin's schema, but runs the silent fake
        source=f"{sys.executable} {PLUGINS / 'fake_silent.py'}",
        deployment_type="command",
        multiplex=False,
        schema=schema,
        catalog=provider.catalog(),
        pool=provider.pool,
    )
    handler = RecordingHandler()
    running = runnable.start({}, handler, "silent")
    running.provide_stage_input("deploy", {})
    time.sleep(0.5)
    started = time.monotonic()
    running.close()
    assert handler.done.wait(5)
    assert time.monotonic() - started < 3
    assert [
        "deploy",
        "closed",
        "complete closed {'cancelled': True, 'close_requested': True}",
    ] == handler.stages


def test_multiplex_replaces_a_process_that_died(
    counting: tuple[Registry, CountingDeployers], runner: StepRunner
) -> None:
    """After a shared process died (os._exit), the next multiplexed step gets a new one."""
    registry, deployers = counting
    shared = plugin(STEPS, multiplex=True)
    crashed = run(registry, runner, {"plugin": shared, "step": "exit", "input": {}}, step_id="a")
    assert "crashed" == crashed.stage
    result = run(
        registry, runner, {"plugin": shared, "step": "hello", "input": {"name": "x"}}, step_id="b"
    )
    assert ("outputs", "success") == (result.stage, result.output_id)
    assert 2 == deployers.deploys


class TwoDeployers:
    """Deployment type 'x': 'a' cannot deploy anything, 'b' runs commands."""

    def __init__(self, *, b_works: bool = True) -> None:
        self.b_works = b_works

    @hookimpl
    def arcaflow_steps_deployers(self) -> list[Any]:
        outer = self

        class Factory:
            deployment_type = "x"

            def __init__(self, name: str) -> None:
                self.deployer_name = name
                self._inner = CommandDeployerFactory()

            def configuration_schema(self) -> Any:
                return self._inner.configuration_schema()

            def create(self, config: Mapping[str, Any]) -> Any:
                inner = self._inner.create(config)
                works = self.deployer_name == "b" and outer.b_works
                name = self.deployer_name

                class Deployer:
                    def deploy(self, source: str) -> Any:
                        if not works:
                            raise DeploymentError(f"engine {name} is down")
                        return inner.deploy(source)

                return Deployer()

        return [Factory("a"), Factory("b")]


def test_schema_probe_falls_back_to_a_deployer_that_works(runner: StepRunner) -> None:
    """If the default deployer cannot run the source, the next one of the type is used."""
    registry = Registry.from_plugins([plugin_module, TwoDeployers()])
    try:
        result = run(
            registry,
            runner,
            {
                "plugin": {"src": f"{sys.executable} {HELLO}", "deployment_type": "x"},
                "input": {"name": "x"},
            },
        )
        assert ("outputs", "success") == (result.stage, result.output_id)
    finally:
        registry.close()


def test_schema_probe_lists_every_deployer_that_failed() -> None:
    """When no deployer of the type can run the source, each one's reason is given."""
    registry = Registry.from_plugins([plugin_module, TwoDeployers(b_works=False)])
    try:
        with pytest.raises(
            DeploymentError,
            match=r"no deployer of type 'x' could deploy plugin .*: a: engine a is down; "
            r"b: engine b is down",
        ):
            prepare_step(registry, "s", {"plugin": {"src": HELLO, "deployment_type": "x"}})
    finally:
        registry.close()
