"""The plugin provider's process pool: schema once per source, probe reuse, multiplexing,
deployer fallback."""

from __future__ import annotations

import logging
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import cbor2
import pytest
from plugin_support import (
    HELLO,
    PROMPT,
    STEPS,
    descendants,
    plugin,
    registry,
    run,
    runner,
    wait_for_stage,
    wait_gone,
)

import arcaflow_steps_builtin.plugin as plugin_module
from arcaflow_steps import (
    DeploymentError,
    InvalidSchemaError,
    Registry,
    StepRunner,
    prepare_step,
)
from arcaflow_steps_builtin.deployers._protocols import PluginConnection, deploy_cancelled
from arcaflow_steps_builtin.deployers.command import CommandDeployerFactory
from arcaflow_steps_builtin.deployers.hookspecs import hookimpl
from arcaflow_steps_builtin.deployers.python import PythonDeployerFactory
from arcaflow_steps_builtin.plugin._atp_messages import Hello
from arcaflow_steps_builtin.plugin._plugin_process import open_plugin, plugin_schema_of
from arcaflow_steps_builtin.plugin._process_pool import ProcessPool
from arcaflow_steps_builtin.plugin._process_slots import ProcessSlots

__all__ = ["registry", "runner"]  # fixtures, imported for pytest


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


def test_a_steps_own_deploy_config_reads_the_schema_and_runs_the_step(
    counting: tuple[Registry, CountingDeployers], runner: StepRunner
) -> None:
    """A step with its own deploy configuration has its schema read with that configuration
    (a hint to load_schema), and that probe process runs it: one process. A step with the
    default configuration cannot use it and gets its own."""
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
    assert 1 == deployers.deploys
    result = run(registry, runner, {"plugin": plugin(HELLO), "input": {"name": "y"}})
    assert "Hello, y!" == result.output_data["message"]
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
    assert time.monotonic() - started < 10


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

                    def close(self) -> None:
                        inner.close()  # gives up its hold on the shared launcher

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


def test_multiplex_cancel_ends_one_run_and_spares_the_others(
    counting: tuple[Registry, CountingDeployers], runner: StepRunner
) -> None:
    """stop_if on one multiplexed run cancels it; the shared process keeps serving the rest."""
    registry, deployers = counting
    shared = plugin(STEPS, multiplex=True)
    ignore = runner.start(
        prepare_step(
            registry,
            "ignore",
            {
                "plugin": shared,
                "step": "ignore-cancel",
                "closure_wait_timeout": 200,
                "input": {},
            },
        )
    )
    cancellable = runner.start(
        prepare_step(
            registry, "cancellable", {"plugin": shared, "step": "cancellable", "input": {}}
        )
    )
    sleeper = runner.start(
        prepare_step(
            registry, "sleep", {"plugin": shared, "step": "sleep", "input": {"seconds": 0.5}}
        )
    )
    for execution in (ignore, cancellable):
        wait_for_stage(execution, "running")
        execution.provide_stage_input("cancelled", {"stop_if": True})
    started = time.monotonic()
    ends = [
        (r.stage, r.output_id) for r in (e.wait(PROMPT) for e in (ignore, cancellable, sleeper))
    ]
    assert [("closed", "result"), ("outputs", "cancelled"), ("outputs", "success")] == ends
    assert time.monotonic() - started < 6.5
    assert 1 == deployers.deploys


def test_multiplex_logs_each_runs_debug_output_once(
    counting: tuple[Registry, CountingDeployers],
    runner: StepRunner,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The SDK's cumulative debug_logs are logged once per line, not again by later runs."""
    registry, _ = counting
    shared = plugin(HELLO, multiplex=True)
    with caplog.at_level(logging.DEBUG, logger="arcaflow_steps_builtin.plugin"):
        for step_id in ("a", "b"):
            result = run(
                registry, runner, {"plugin": shared, "input": {"name": step_id}}, step_id=step_id
            )
            assert "outputs" == result.stage
    debug = [r.getMessage() for r in caplog.records if " debug: " in r.getMessage()]
    assert 2 == len(debug), debug
    assert debug[0].startswith("step 'a' debug: ")
    assert debug[1].startswith("step 'b' debug: ")


class Interrupt(BaseException):
    """What the CLI's signal handler raises in the main thread (``Interrupted``)."""


def test_an_interrupt_right_after_the_deploy_stops_the_plugin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An exception between the deploy and the handshake (here ``on_deployed``'s; a signal
    handler's while the ATP client is imported) stops the plugin at once: its process and
    temporary directory do not wait for the deployer's close."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    deployer = PythonDeployerFactory().create({})
    deployed: list[Any] = []

    def interrupt(connection: PluginConnection) -> None:
        deployed.append(connection)
        raise Interrupt

    try:
        with pytest.raises(Interrupt):
            open_plugin(deployer, HELLO, on_deployed=interrupt)
        [connection] = deployed
        assert connection.exit_status() is not None  # stopped and reaped
        assert set() == wait_gone({connection.pid})
        assert [] == list(tmp_path.iterdir())
    finally:
        deployer.close()


def test_a_lease_knows_whether_its_process_is_shared() -> None:
    """Shared leases of one key get one process, closed with the last release; an exclusive
    lease gets its own, which stop() ends at once (release after it is a no-op)."""
    pool = ProcessPool()
    deployer = PythonDeployerFactory().create({})

    def opener(on_deployed: Any) -> Any:
        return open_plugin(deployer, HELLO, on_deployed=on_deployed)

    try:
        first, second = (pool.lease("k", opener, multiplex=True) for _ in range(2))
        shared = first.obtain()
        assert shared is second.obtain()
        first.release(graceful=True)
        assert not shared.is_closed
        second.release(graceful=True)
        assert shared.is_closed
        seen: list[PluginConnection] = []
        own = pool.lease("k", opener, multiplex=False)
        process = own.obtain(seen.append)
        assert [process.connection] == seen
        own.stop()
        assert process.is_closed
        own.release(graceful=True)
        assert process.connection.exit_status() is not None  # stopped and reaped
    finally:
        pool.close()
        deployer.close()


def test_plugin_processes_wait_for_a_slot_which_a_parked_probe_gives_up(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """With one slot: a deploy closes the parked probe of another source to make room; the
    next waits (saying so once) until a process closes, or stops waiting when interrupted;
    every slot is given back."""
    slots = ProcessSlots(1)
    pool = ProcessPool(slots=slots)
    deployer = PythonDeployerFactory().create({})

    def opener(on_deployed: Any) -> Any:
        return open_plugin(deployer, HELLO, on_deployed=on_deployed)

    outcomes: dict[str, Any] = {}

    def obtain(name: str, lease: Any) -> None:
        try:
            outcomes[name] = lease.obtain()
        except DeploymentError as exc:
            outcomes[name] = str(exc)

    try:
        pool.schema("probe", lambda: opener(None))
        assert 1 == slots.open
        first = pool.lease("k", opener, multiplex=False)
        process = first.obtain()
        assert None is pool.take_idle("probe")  # the parked probe was closed for it
        assert 1 == slots.open
        waiting = [pool.lease("k", opener, multiplex=False) for _ in range(2)]
        threads = [
            threading.Thread(target=obtain, args=(f"w{i}", lease))
            for i, lease in enumerate(waiting)
        ]
        with caplog.at_level(logging.WARNING, logger="arcaflow_steps_builtin.plugin"):
            for thread in threads:
                thread.start()
            deadline = time.monotonic() + PROMPT
            while not caplog.records:
                assert time.monotonic() < deadline, "no deploy waited for a slot"
                time.sleep(0.01)
        assert ["running at most 1 plugin processes at once (open file limit)"] == [
            record.getMessage() for record in caplog.records
        ]
        waiting[0].interrupt()
        threads[0].join(PROMPT)
        assert "cancelled while waiting for a free plugin process slot" == outcomes["w0"]
        assert "w1" not in outcomes
        first.release(graceful=True)
        threads[1].join(PROMPT)
        assert process.is_closed
        assert not outcomes["w1"].is_closed
        waiting[1].release(graceful=True)
        assert 0 == slots.open
    finally:
        pool.close()
        deployer.close()


def test_processes_of_one_source_share_one_parsed_schema() -> None:
    """The hello of every process of a source is the same bytes, so its schema is parsed
    once and shared; another source's hello gets its own."""
    deployer = PythonDeployerFactory().create({})
    opened = []
    try:
        opened = [open_plugin(deployer, source) for source in (HELLO, HELLO, STEPS)]
        first, second, other = (process.schema for process in opened)
        assert first is second
        assert first is not other
        assert {"hello-world"} == set(first.steps)
    finally:
        for process in opened:
            process.close()
        deployer.close()


def test_an_invalid_schema_is_refused_by_every_hello_carrying_it() -> None:
    """A schema that does not parse is not cached: each hello carrying it raises again."""
    data = {"steps": {"s": {"id": "s", "input": {}, "outputs": {}}}}
    hello = Hello(version=3, schema_data=data, raw=cbor2.dumps({"version": 3, "schema": data}))
    for _ in range(2):
        with pytest.raises(InvalidSchemaError) as excinfo:
            plugin_schema_of(hello)
        assert "invalid schema: missing required field 'objects' @ $.steps['s'].input" == str(
            excinfo.value
        )


def test_a_deployer_sees_whether_its_deploy_was_cancelled() -> None:
    """A deploy runs with ``deploy_cancelled`` set to its lease's cancel check (a deployer
    waiting for its turn polls it), and the check is gone after the deploy."""
    pool = ProcessPool(slots=ProcessSlots(None))
    cancelled = threading.Event()
    seen: list[bool] = []

    def opener() -> Any:
        seen.append(deploy_cancelled.get()())
        cancelled.set()
        seen.append(deploy_cancelled.get()())
        raise DeploymentError("deploy gave up")

    with pytest.raises(DeploymentError, match=r"^deploy gave up$"):
        pool.open(opener, cancelled.is_set)
    assert [False, True] == seen
    assert False is deploy_cancelled.get()()
    assert 0 == pool.slots.open
