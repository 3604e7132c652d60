"""The plugin provider end to end: real SDK plugins, real deployers, the shared runner."""

from __future__ import annotations

import random
import shutil
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from plugin_support import (
    GREETER_PACKAGE,
    HELLO,
    PLUGINS,
    PROMPT,
    plugin,
    registry,
    run,
    runner,
    wait_for_stage,
)

from arcaflow_steps import (
    DeploymentError,
    Registry,
    SchemaValidationError,
    StepDefinitionError,
    StepEvent,
    StepEventKind,
    StepExecution,
    StepRunner,
    prepare_step,
)
from arcaflow_steps_builtin.plugin import PluginProvider, PluginRunnableStep

__all__ = ["registry", "runner"]  # fixtures, imported for pytest


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


def test_deploy_failure_ends_deploy_failed(
    registry: Registry, runner: StepRunner, tmp_path: Path
) -> None:
    """A deployer that cannot start the plugin ends deploy_failed {error} (reference §5):
    here the plugin file is gone when a second run of it deploys (the first takes the probe)."""
    source = tmp_path / "plugin_gone.py"
    shutil.copy(HELLO, source)
    prepared = prepare_step(registry, "s", {"plugin": plugin(str(source)), "input": {"name": "x"}})
    source.unlink()
    first = runner.start(prepared)
    assert ("outputs", "success") == (first.wait(PROMPT).stage, first.wait(PROMPT).output_id)
    result = runner.start(prepared).wait(PROMPT)
    assert [
        ("SC", None, "deploy", None),
        ("SC", "deploy", "deploy_failed", None),
        ("C", "deploy_failed", "error"),
    ] == transitions(result.events)
    assert "plugin_gone.py" in result.output_data["error"]
    assert result.is_error


def test_a_deploy_that_cannot_read_the_schema_is_the_error(registry: Registry) -> None:
    """A step whose own deploy cannot start the plugin to read its schema fails with that
    deploy's error; the schema is not read again another way (another interpreter)."""
    definition = {
        "plugin": plugin(HELLO),
        "deploy": {"deployer_name": "python", "pythonPath": "/nonexistent/python3"},
        "input": {"name": "Arca"},
    }
    with pytest.raises(DeploymentError) as excinfo:
        prepare_step(registry, "s", definition)
    assert (
        f"python interpreter '/nonexistent/python3' for plugin {HELLO!r} not found "
        "(deploy.pythonPath)"
    ) == str(excinfo.value)


@pytest.mark.parametrize(
    ("deploy", "message"),
    [
        (
            {"deployer_name": "nope"},
            "invalid discriminator 'nope'; valid values: 'python' @ $.steps.s.deploy.deployer_name",
        ),
        (
            {"deployer_name": "python", "pythonPath": [42]},
            "expected a string, got a list @ $.steps.s.deploy.pythonPath",
        ),
        ("python", "expected a mapping, got 'python' @ $.steps.s.deploy"),
    ],
    ids=["unknown-deployer", "bad-config", "not-a-mapping"],
)
def test_an_unusable_deploy_is_refused_as_stage_input(
    registry: Registry, deploy: Any, message: str
) -> None:
    """A deploy that names no usable deployer is no schema hint (the schema is read the
    default way): it is refused as stage input, with its path, and nothing is left running
    (the registry fixture checks)."""
    with pytest.raises(SchemaValidationError) as excinfo:
        prepare_step(
            registry, "s", {"plugin": plugin(HELLO), "deploy": deploy, "input": {"name": "x"}}
        )
    assert message == str(excinfo.value)


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
            {"plugin": plugin(), "step": "echo", "input": {"count": "5x", "ratio": 1, "flag": 2}},
        )
    message = str(excinfo.value)
    assert "expected an integer, got '5x' @ $.steps.s.input.count" in message
    assert "expected a boolean, got 2 @ $.steps.s.input.flag" in message


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
    assert time.monotonic() - started < 5
    assert [
        "deploy",
        "closed",
        "complete closed {'cancelled': True, 'close_requested': True}",
    ] == handler.stages


def test_command_deployment_type_runs_any_atp_executable(
    registry: Registry, runner: StepRunner
) -> None:
    """deployment_type command runs an ATP executable's command line (here an SDK script)."""
    result = run(
        registry,
        runner,
        {
            "plugin": {"src": f"{sys.executable} {HELLO}", "deployment_type": "command"},
            "input": {"name": "Go"},
        },
    )
    assert ("outputs", "success", {"message": "Hello, Go!"}) == (
        result.stage,
        result.output_id,
        result.output_data,
    )


@pytest.mark.parametrize("force", [False, True], ids=["close", "force_close"])
def test_closing_many_steps_at_random_moments_always_ends_them(
    registry: Registry, runner: StepRunner, force: bool
) -> None:
    """Steps closed at any moment (deploying, starting, running) all end terminal, promptly."""
    rng = random.Random(7)
    prepared = [
        prepare_step(
            registry,
            f"s{i}",
            {"plugin": plugin(), "step": "cancellable" if i % 2 else "hang", "input": {}},
        )
        for i in range(12)
    ]
    executions = [runner.start(step) for step in prepared]
    threads = []
    for execution in executions:
        delay = rng.uniform(0.0, 0.4)
        target = execution.force_close if force else execution.close
        timer = threading.Timer(delay, target)
        timer.start()
        threads.append(timer)
    started = time.monotonic()
    results = [execution.wait(PROMPT) for execution in executions]
    for timer in threads:
        timer.join(PROMPT)
    assert time.monotonic() - started < 15
    assert {result.stage for result in results} <= {"closed", "outputs"}
    assert all(not result.refused for result in results)


def test_plugin_lifecycle_says_which_stages_are_fatal_and_which_outputs_errors() -> None:
    """The plugin's own lifecycle carries its facts: ``crashed`` and ``deploy_failed`` are
    fatal, and a plugin's ``error`` output is flagged even though the SDK never flags it."""
    from arcaflow_steps.schema import ObjectSchema, ScopeSchema, StepOutputSchema
    from arcaflow_steps_builtin.plugin import PLUGIN_LIFECYCLE, is_error_output

    fatal = {str(stage.id) for stage in PLUGIN_LIFECYCLE.stages if stage.fatal}
    assert {"crashed", "deploy_failed"} == fatal
    empty = ScopeSchema(root="O", objects={"O": ObjectSchema(id="O", properties={})})
    unflagged = StepOutputSchema(schema=empty, error=False)
    assert is_error_output("error", unflagged)
    assert not is_error_output("success", unflagged)
