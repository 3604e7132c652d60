"""The ATP client against real plugin processes: SDK plugins and raw fakes in tests/plugins."""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import pytest

from arcaflow_steps import LocalProtocolError, PluginProtocolError, RemoteProtocolError
from arcaflow_steps.schema import parse_plugin_schema
from arcaflow_steps_builtin.plugin._atp import (
    ATPClient,
    ATPTimeoutError,
    RemoteStepError,
    RunHandle,
    RunResult,
)
from arcaflow_steps_builtin.plugin._atp_messages import ErrorMessage

PLUGINS = Path(__file__).resolve().parent.parent / "plugins"
#: Generous bound for "promptly" on a loaded 2-core CI machine.
PROMPT = 5.0


class LocalProcessConnection:
    """A PluginConnection for a local process (the real deployers live in deployers/)."""

    def __init__(self, args: list[str], description: str) -> None:
        env = {**os.environ, "PYTHONPATH": str(PLUGINS)}
        self.process = subprocess.Popen(
            args,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=PLUGINS,
            env=env,
            start_new_session=True,
        )
        self.description = f"{description} (pid {self.process.pid})"
        self._stderr = bytearray()
        self._stderr_thread = threading.Thread(target=self._drain_stderr, daemon=True)
        self._stderr_thread.start()

    def _drain_stderr(self) -> None:
        stderr = self.process.stderr
        assert stderr is not None
        for chunk in iter(lambda: os.read(stderr.fileno(), 4096), b""):
            self._stderr += chunk

    @property
    def stdin(self) -> IO[bytes]:
        assert self.process.stdin is not None
        return self.process.stdin

    @property
    def stdout(self) -> IO[bytes]:
        assert self.process.stdout is not None
        return self.process.stdout

    def stderr_tail(self) -> str:
        if self.process.poll() is not None:
            self._stderr_thread.join(1.0)
        return self._stderr[-4096:].decode(errors="replace")

    def exit_status(self) -> str | None:
        code = self.process.poll()
        return None if code is None else f"exit status {code}"

    def close(self, timeout: float = 5.0) -> None:
        with contextlib.suppress(OSError):  # it may have gone already
            self.stdin.close()  # a plugin waiting for more input sees EOF and exits
        try:
            self.process.wait(timeout=min(timeout, 0.5))
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, 9)
            self.process.wait(timeout=timeout)
        self._stderr_thread.join(timeout)
        for pipe in (self.process.stdin, self.process.stdout, self.process.stderr):
            with contextlib.suppress(OSError):  # a broken pipe on close is expected
                if pipe is not None:
                    pipe.close()


Spawn = Callable[..., LocalProcessConnection]


@pytest.fixture
def spawn() -> Iterator[Spawn]:
    """Start plugins from tests/plugins; afterwards stop them and check none is left."""
    started: list[LocalProcessConnection] = []

    def start(name: str, *, as_module: bool = True) -> LocalProcessConnection:
        args = (
            [sys.executable, "-m", name, "--atp"]
            if as_module
            else [sys.executable, str(PLUGINS / f"{name}.py"), "--atp"]
        )
        connection = LocalProcessConnection(args, name)
        started.append(connection)
        return connection

    yield start
    for connection in started:
        connection.close(5.0)
    for connection in started:
        assert connection.process.returncode is not None  # reaped
        assert not Path(f"/proc/{connection.process.pid}").exists()
        with pytest.raises(ProcessLookupError):  # nothing left in its process group either
            os.killpg(connection.process.pid, 0)


def connect(spawn: Spawn, name: str, **kwargs: Any) -> tuple[ATPClient, LocalProcessConnection]:
    connection = spawn(name, **kwargs)
    client = ATPClient(connection)
    client.handshake(timeout=10.0)
    return client, connection


def ended_within(handle: RunHandle, seconds: float = PROMPT) -> RunHandle:
    assert handle.wait(seconds), f"run {handle.run_id!r} still pending after {seconds} s"
    return handle


# -- SDK plugins: the happy path ----------------------------------------------------------------


@pytest.mark.parametrize("as_module", [True, False], ids=["python-m", "python-file"])
def test_handshake_returns_the_hello(spawn: Spawn, as_module: bool) -> None:
    """The hello carries version 3 and a schema the schema helper parses."""
    connection = spawn("plugin_hello", as_module=as_module)
    client = ATPClient(connection)
    hello = client.handshake(timeout=10.0)
    assert 3 == hello.version == client.version
    assert ("hello-world",) == hello.step_ids()
    assert ["hello-world"] == list(parse_plugin_schema(hello.schema_data).steps)
    client.close(5.0)
    assert 0 == connection.process.wait(PROMPT)


def test_a_repeated_hello_is_the_same_record(spawn: Spawn) -> None:
    """Every process of a source sends the same hello: the second client takes its bytes
    undecoded and returns the first's record; another plugin's hello is its own."""
    hellos = []
    for name in ("plugin_hello", "plugin_hello", "plugin_steps", "plugin_hello"):
        connection = spawn(name)
        client = ATPClient(connection)
        hellos.append(client.handshake(timeout=10.0))
        client.close(5.0)
        assert 0 == connection.process.wait(PROMPT)
    first, again, other, last = hellos
    assert again is first
    assert other is not first
    assert other.step_ids() != first.step_ids()
    assert last == first  # decoded anew (the steps plugin's came between), equal
    assert last.raw == first.raw


def test_one_run_succeeds(spawn: Spawn) -> None:
    """A run returns the output id, data and debug logs; the plugin then exits 0."""
    client, connection = connect(spawn, "plugin_hello")
    handle = client.start_run("run-1", "hello-world", {"name": "Arca"})
    expected = RunResult(
        run_id="run-1",
        step_id="hello-world",
        output_id="success",
        output_data={"message": "Hello, Arca!"},
        debug_logs="printing to stdout from plugin\n",
    )
    assert expected == handle.result(PROMPT)
    client.close(5.0)
    assert 0 == connection.process.wait(PROMPT)
    assert None is client.failure()


def test_error_output_is_a_result(spawn: Spawn) -> None:
    """An error output is an ordinary result, not a failure."""
    client, _ = connect(spawn, "plugin_hello")
    result = client.start_run("r", "hello-world", {"name": "nobody"}).result(PROMPT)
    assert ("error", {"error": "plugin says no to nobody"}) == (
        result.output_id,
        result.output_data,
    )
    client.close(5.0)


def test_typed_inputs_are_echoed(spawn: Spawn) -> None:
    """Ints, floats, bools, lists, nested objects and defaults arrive typed."""
    client, _ = connect(spawn, "plugin_steps")
    config = {
        "count": 3,
        "ratio": 0.25,
        "flag": True,
        "tags": ["a", "b"],
        "inner": {"label": "x"},
        "scores": {"a": 1},
    }
    result = client.start_run("r", "echo", config).result(PROMPT)
    expected = {
        **config,
        "inner": {"label": "x", "weight": 1.5},
        "default_int": 7,
        "default_text": "seven",
        "default_flag": False,
        "types": {
            "count": "int",
            "ratio": "float",
            "flag": "bool",
            "tags": "list",
            "inner": "Inner",
            "scores": "dict",
            "note": "NoneType",
            "default_int": "int",
            "default_text": "str",
            "default_flag": "bool",
        },
    }
    assert expected == result.output_data
    client.close(5.0)


def test_concurrent_runs_finish_out_of_order(spawn: Spawn) -> None:
    """Runs multiplexed on one connection end in the order the plugin finishes them."""
    client, _ = connect(spawn, "plugin_steps")
    order: list[str] = []
    slow = client.start_run("slow", "sleep", {"seconds": 1.0})
    fast = client.start_run("fast", "sleep", {"seconds": 0.05})
    for handle in (slow, fast):
        handle.add_done_callback(lambda done: order.append(done.run_id))
    assert {"slow": 1.0, "fast": 0.05} == {
        handle.run_id: handle.result(PROMPT).output_data["slept"] for handle in (slow, fast)
    }
    assert ["fast", "slow"] == order
    client.close(5.0)


def test_many_runs_share_one_reader_thread(spawn: Spawn) -> None:
    """Twenty concurrent runs on one connection need one reader thread and run in parallel."""
    client, _ = connect(spawn, "plugin_sleep")
    started = time.monotonic()
    handles = [client.start_run(f"r{index}", "sleep", {"seconds": 0.3}) for index in range(20)]
    readers = [thread for thread in threading.enumerate() if thread.name.endswith("-reader")]
    assert 1 == len([thread for thread in readers if client.description in thread.name])
    assert all("success" == handle.result(PROMPT).output_id for handle in handles)
    assert time.monotonic() - started < 4.0  # one after the other would take 6 s
    client.close(5.0)


def test_close_lets_running_steps_finish(spawn: Spawn) -> None:
    """After CLIENT_DONE the SDK still finishes running steps; close drains their results."""
    client, connection = connect(spawn, "plugin_steps")
    handle = client.start_run("r", "sleep", {"seconds": 0.3})
    client.close(5.0)
    assert "success" == ended_within(handle, 0).result(0).output_id
    assert 0 == connection.process.wait(PROMPT)


# -- signals ----------------------------------------------------------------------------------


def test_cancel_signal_makes_the_step_return_cancelled(spawn: Spawn) -> None:
    """The cancel signal reaches the step's handler, which makes it return 'cancelled'."""
    client, _ = connect(spawn, "plugin_steps")
    handle = client.start_run("r", "cancellable", {"seconds": 30})
    assert client.send_signal("r", "cancel")
    result = handle.result(PROMPT)
    assert "cancelled" == result.output_id
    assert result.output_data["cancelled"] is True
    assert not client.send_signal("r", "cancel")  # the run has ended: nothing sent
    client.close(5.0)


def test_ignored_cancel_ends_in_a_bounded_close(spawn: Spawn) -> None:
    """A step that ignores cancel is failed by close(timeout), and the plugin is reaped."""
    client, connection = connect(spawn, "plugin_steps")
    handle = client.start_run("r", "ignore-cancel", {"seconds": 60})
    assert client.send_signal("r", "cancel")
    with pytest.raises(ATPTimeoutError, match=r"^run 'r' has not ended within 0.3 s$"):
        handle.result(0.3)
    started = time.monotonic()
    client.close(0.5)
    assert time.monotonic() - started < 2.0
    with pytest.raises(LocalProtocolError, match=r"run 'r' of step 'ignore-cancel' had not ended"):
        handle.result(0)
    connection.close(1.0)


def test_signal_to_a_step_without_handler_is_refused(spawn: Spawn) -> None:
    """Signalling a step that declares no such handler is our mistake, caught before sending."""
    client, connection = connect(spawn, "plugin_steps")
    client.start_run("r", "hang", {"seconds": 60})
    with pytest.raises(LocalProtocolError) as excinfo:
        client.send_signal("r", "cancel")
    assert (
        f"plugin {connection.description}: step 'hang' has no signal handler 'cancel'; "
        "valid signals: none"
    ) == str(excinfo.value)
    client.close(0.2)


def test_signal_to_an_unknown_run_is_refused(spawn: Spawn) -> None:
    """A signal for a run never started is refused, naming the runs there are."""
    client, connection = connect(spawn, "plugin_steps")
    with pytest.raises(LocalProtocolError) as excinfo:
        client.send_signal("nope", "cancel")
    assert f"plugin {connection.description}: no run 'nope' to signal; runs: none" == str(
        excinfo.value
    )
    client.close(5.0)


# -- SDK plugins that fail --------------------------------------------------------------------


def test_step_that_raises_fails_only_its_run(spawn: Spawn) -> None:
    """A raising step ends with a step-fatal RemoteStepError; the connection stays usable."""
    client, connection = connect(spawn, "plugin_steps")
    with pytest.raises(RemoteStepError) as excinfo:
        client.start_run("r", "raise", {}).result(PROMPT)
    assert excinfo.value.message.step_fatal
    assert str(excinfo.value).startswith(
        f"plugin {connection.description}: step 'raise' (run 'r') failed with a step-fatal "
        "error: Error while calling step r/raise:boom from raise step"
    )
    assert "success" == client.start_run("r2", "hello", {"name": "a"}).result(PROMPT).output_id
    client.close(5.0)


def test_invalid_input_is_a_step_fatal_error(spawn: Spawn) -> None:
    """Input the SDK rejects ends the run with its validation message."""
    client, _ = connect(spawn, "plugin_hello")
    with pytest.raises(RemoteStepError, match=r"Must be a string, <class 'float'> given"):
        client.start_run("r", "hello-world", {"name": 1.5}).result(PROMPT)
    client.close(5.0)


def test_exit_mid_step_fails_pending_runs_with_exit_status(spawn: Spawn) -> None:
    """os._exit mid-step fails every pending run with EOF, the exit status and stderr."""
    client, connection = connect(spawn, "plugin_steps")
    other = client.start_run("other", "sleep", {"seconds": 30})
    handle = client.start_run("r", "exit", {"code": 1})
    message = (
        f"plugin {connection.description}: stdout ended (EOF) before finishing run(s) "
        "'other', 'r'; exit status 1; stderr: exit step: calling os._exit(1)"
    )
    for pending in (handle, other):
        error = ended_within(pending).exception(0)
        assert isinstance(error, RemoteProtocolError)
        assert message == str(error)
    with pytest.raises(RemoteProtocolError, match=r"cannot start a run, the connection failed"):
        client.start_run("again", "hello", {"name": "a"})
    client.close(5.0)


def test_print_at_import_fails_the_handshake(spawn: Spawn) -> None:
    """Text printed before the hello is reported as such."""
    connection = spawn("plugin_print_at_import")
    client = ATPClient(connection)
    with pytest.raises(RemoteProtocolError) as excinfo:
        client.handshake(timeout=10.0)
    assert (
        f"plugin {connection.description}: expected the hello message {{version, schema}} "
        "(a CBOR map), got bytes b'ello fro'; stdout carried text 'Hello fro', so the plugin "
        "printed to stdout (e.g. at import time), which corrupts the ATP stream"
    ) == str(excinfo.value)
    client.close(5.0)


# -- raw fake plugins -------------------------------------------------------------------------


MISBEHAVIOURS = [
    (
        "garbage",
        RemoteProtocolError,
        "expected a runtime message {id, run_id, data} (a CBOR map), got bytes b'rror '; "
        "stdout carried text 'Error ', so the plugin printed to stdout",
    ),
    (
        "truncated-exit",
        RemoteProtocolError,
        "truncated CBOR: stdout ended in the middle of a runtime message (after 25 bytes: "
        "b'\\xa3bid\\x02frun_idarddata\\xa2ioutp')",
    ),
    (
        "undeclared-output",
        RemoteProtocolError,
        "run 'r' of step 'undeclared-output' returned undeclared output id 'nope'; "
        "declared: 'error', 'success'",
    ),
    (
        "unknown-run",
        RemoteProtocolError,
        "WORK_DONE for unknown run id 'somebody-else'; runs on this connection: 'r', 'w'",
    ),
    (
        "wrong-shape",
        RemoteProtocolError,
        "runtime message must have exactly the fields 'data', 'id', 'run_id'; "
        "got 'data', 'extra', 'id', 'run_id'",
    ),
    (
        "not-a-map",
        RemoteProtocolError,
        "expected a runtime message {id, run_id, data} (a CBOR map), got int 42",
    ),
    (
        "server-fatal",
        RemoteStepError,
        "the plugin failed with a server-fatal error: server gave up",
    ),
    ("engine-message", RemoteProtocolError, "sent CLIENT_DONE, which only the engine sends"),
    ("unknown-id", RemoteProtocolError, "unknown runtime message id 42; valid ids: 1 ("),
    (
        "exit",
        RemoteProtocolError,
        "stdout ended (EOF) before finishing run(s) 'r', 'w'; exit status 7; "
        "stderr: fake plugin: exiting with status 7",
    ),
]


@pytest.mark.parametrize(
    ("step", "error_type", "message"), MISBEHAVIOURS, ids=[case[0] for case in MISBEHAVIOURS]
)
def test_misbehaving_plugin_fails_every_pending_run(
    spawn: Spawn, step: str, error_type: type[Exception], message: str
) -> None:
    """Each misbehaviour ends every pending run promptly with one clear error."""
    client, connection = connect(spawn, "fake_misbehaving")
    waiting = client.start_run("w", "after-client-done", {})
    handle = client.start_run("r", step, {})
    for pending in (handle, waiting):
        error = ended_within(pending).exception(0)
        assert type(error) is error_type
        assert str(error).startswith(f"plugin {connection.description}: {message}")
    assert client.failure() is not None
    started = time.monotonic()
    client.close(5.0)
    assert time.monotonic() - started < 1.0  # nothing to wait for on a failed connection


def test_step_fatal_error_without_run_id_fails_all_pending_runs(spawn: Spawn) -> None:
    """A step-fatal ERROR with an empty run id fails every pending run, not the connection."""
    client, connection = connect(spawn, "fake_misbehaving")
    waiting = client.start_run("w", "after-client-done", {})
    handle = client.start_run("r", "step-fatal-all", {})
    for pending in (handle, waiting):
        assert (
            f"plugin {connection.description}: the plugin failed with a step-fatal error: "
            "all steps broke"
        ) == str(ended_within(pending).exception(0))
    assert None is client.failure()
    assert "success" == client.start_run("r2", "ok", {}).result(PROMPT).output_id
    client.close(5.0)


def test_step_fatal_error_fails_only_its_run(spawn: Spawn) -> None:
    """A step-fatal ERROR for one run leaves the other runs alone."""
    client, connection = connect(spawn, "fake_misbehaving")
    waiting = client.start_run("w", "after-client-done", {})
    with pytest.raises(RemoteStepError) as excinfo:
        client.start_run("r", "step-fatal", {}).result(PROMPT)
    assert (
        f"plugin {connection.description}: step 'step-fatal' (run 'r') failed with a "
        "step-fatal error: step broke"
    ) == str(excinfo.value)
    assert not waiting.done()
    client.close(5.0)
    assert "finished after CLIENT_DONE" == waiting.result(0).output_data["message"]


def test_non_fatal_errors_are_kept_and_the_run_continues(spawn: Spawn) -> None:
    """Non-fatal ERRORs are logged and kept, on the run or the client, and the run succeeds."""
    client, _ = connect(spawn, "fake_misbehaving")
    result = client.start_run("r", "nonfatal-then-done", {}).result(PROMPT)
    assert "success" == result.output_id
    assert (ErrorMessage(run_id="r", error="just a warning"),) == result.errors
    assert (ErrorMessage(run_id="", error="connection warning"),) == client.errors()
    client.close(5.0)


def test_second_work_done_breaks_the_connection(spawn: Spawn) -> None:
    """A second WORK_DONE for a finished run is a protocol error for the connection."""
    client, connection = connect(spawn, "fake_misbehaving")
    waiting = client.start_run("w", "after-client-done", {})
    assert "success" == client.start_run("r", "done-twice", {}).result(PROMPT).output_id
    error = ended_within(waiting).exception(0)
    assert (
        f"plugin {connection.description}: WORK_DONE for run 'r', which has already ended"
    ) == str(error)
    client.close(5.0)


def test_signals_from_the_plugin_are_recorded(spawn: Spawn) -> None:
    """A SIGNAL from the plugin is kept on its run."""
    client, _ = connect(spawn, "fake_misbehaving")
    handle = client.start_run("r", "signal-back", {})
    handle.result(PROMPT)
    assert ["progress"] == [signal.signal_id for signal in handle.signals()]
    client.close(5.0)


def test_truncated_frame_then_silence_is_bounded(spawn: Spawn) -> None:
    """Half a frame and then silence: result and close are bounded, the kill ends the reader."""
    client, connection = connect(spawn, "fake_misbehaving")
    handle = client.start_run("r", "truncated-hang", {})
    with pytest.raises(ATPTimeoutError):
        handle.result(0.3)
    started = time.monotonic()
    client.close(0.3)
    assert time.monotonic() - started < 2.0
    assert isinstance(handle.exception(0), LocalProtocolError)
    connection.close(1.0)
    deadline = time.monotonic() + PROMPT
    while client.failure() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert "truncated CBOR" in str(client.failure())


def test_plugin_ignoring_client_done_is_bounded(spawn: Spawn) -> None:
    """A plugin that never exits after CLIENT_DONE costs close() its timeout, no more."""
    client, _ = connect(spawn, "fake_misbehaving")
    handle = client.start_run("r", "ignore-client-done", {})
    started = time.monotonic()
    client.close(0.3)
    assert 0.3 <= time.monotonic() - started < 2.0
    assert isinstance(handle.exception(0), LocalProtocolError)


def test_text_instead_of_hello(spawn: Spawn) -> None:
    """A plugin printing text instead of its hello fails the handshake with a hint."""
    connection = spawn("fake_text_hello")
    with pytest.raises(RemoteProtocolError, match=r"stdout carried text 'Starting"):
        ATPClient(connection).handshake(timeout=10.0)


def test_unsupported_version_is_refused(spawn: Spawn) -> None:
    """ATP v2 is refused, naming the version and the supported ones."""
    connection = spawn("fake_version2")
    with pytest.raises(RemoteProtocolError) as excinfo:
        ATPClient(connection).handshake(timeout=10.0)
    assert (
        f"plugin {connection.description}: unsupported ATP version 2; supported versions: 1, 3"
    ) == str(excinfo.value)


def test_silent_plugin_times_out_the_handshake(spawn: Spawn) -> None:
    """No hello within the timeout is a clear error, and close() then returns at once."""
    connection = spawn("fake_silent")
    client = ATPClient(connection)
    with pytest.raises(RemoteProtocolError) as excinfo:
        client.handshake(timeout=0.3)
    assert f"plugin {connection.description}: sent no hello within 0.3 s" == str(excinfo.value)
    started = time.monotonic()
    client.close(5.0)
    assert time.monotonic() - started < 0.5


def test_plugin_exiting_before_hello(spawn: Spawn) -> None:
    """A plugin that dies before its hello is reported with its exit status and stderr."""
    connection = spawn("fake_exit_early")
    with pytest.raises(RemoteProtocolError) as excinfo:
        ATPClient(connection).handshake(timeout=10.0)
    assert (
        f"plugin {connection.description}: stdout ended (EOF); exit status 3; "
        "stderr: fake plugin: cannot start, configuration missing"
    ) == str(excinfo.value)


def test_protocol_v1_plugin_runs_once(spawn: Spawn) -> None:
    """ATP v1: bare messages, one run per process, no signals, no CLIENT_DONE."""
    client, connection = connect(spawn, "fake_v1")
    assert 1 == client.version
    handle = client.start_run("only", "hello", {"name": "old"})
    with pytest.raises(LocalProtocolError, match=r"ATP v1, which allows one run per process"):
        client.start_run("second", "hello", {"name": "old"})
    with pytest.raises(LocalProtocolError, match=r"ATP v1, which has no signals"):
        client.send_signal("only", "cancel")
    expected = RunResult(
        run_id="only",
        step_id="hello",
        output_id="success",
        output_data={"message": "Hello, old!"},
        debug_logs="v1 plugin ran\n",
    )
    assert expected == handle.result(PROMPT)
    client.close(5.0)
    connection.close(5.0)
    assert 0 == connection.process.wait(PROMPT)


# -- our own mistakes -------------------------------------------------------------------------


def test_local_mistakes_are_refused(spawn: Spawn) -> None:
    """Misuse raises LocalProtocolError naming what is valid; nothing reaches the plugin."""
    connection = spawn("plugin_steps")
    client = ATPClient(connection)
    prefix = f"plugin {connection.description}: "
    with pytest.raises(LocalProtocolError) as excinfo:
        client.start_run("r", "hello", {})
    assert prefix + "cannot start a run before the handshake" == str(excinfo.value)
    client.handshake(timeout=10.0)
    with pytest.raises(LocalProtocolError, match=r"handshake already done"):
        client.handshake(timeout=1.0)
    with pytest.raises(LocalProtocolError) as excinfo:
        client.start_run("r", "nope", {})
    assert str(excinfo.value).startswith(
        f"plugin {connection.description} has no step 'nope'; valid steps: 'cancellable', "
    )
    with pytest.raises(LocalProtocolError, match=r"^run id must be a non-empty string, got ''$"):
        client.start_run("", "hello", {})
    with pytest.raises(LocalProtocolError, match=r"cannot encode WorkStart as CBOR"):
        client.start_run("r", "hello", {"name": object()})
    running = client.start_run("slow", "sleep", {"seconds": 0.2})
    with pytest.raises(LocalProtocolError) as excinfo:
        client.start_run("slow", "hello", {"name": "a"})
    assert prefix + "run id 'slow' is already running on this connection" == str(excinfo.value)
    running.result(PROMPT)
    again = client.start_run("slow", "hello", {"name": "again"})  # ended: may be used again
    assert {"message": "Hello, again!"} == again.result(PROMPT).output_data
    client.start_run("r", "hello", {"name": "a"}).result(PROMPT)
    with pytest.raises(LocalProtocolError) as excinfo:
        client.send_signal("r", "nope")
    assert prefix + "step 'hello' has no signal handler 'nope'; valid signals: none" == str(
        excinfo.value
    )
    client.close(5.0)
    client.close(5.0)  # idempotent
    with pytest.raises(LocalProtocolError) as excinfo:
        client.start_run("r2", "hello", {"name": "a"})
    assert prefix + "cannot start a run: closed" == str(excinfo.value)


def test_connection_closed_under_the_client(spawn: Spawn) -> None:
    """Killing the plugin under a pending run ends that run with an error, not a hang."""
    client, connection = connect(spawn, "plugin_steps")
    handle = client.start_run("r", "hang", {"seconds": 60})
    connection.close(1.0)
    assert isinstance(ended_within(handle).exception(0), PluginProtocolError)
    client.close(1.0)


def test_done_callback_runs_once_even_when_added_late(spawn: Spawn) -> None:
    """A done callback added after the end runs at once, exactly once."""
    client, _ = connect(spawn, "plugin_hello")
    handle = client.start_run("r", "hello-world", {"name": "a"})
    calls: list[str] = []
    handle.add_done_callback(lambda done: calls.append("early"))
    handle.result(PROMPT)
    handle.add_done_callback(lambda done: calls.append("late"))
    assert ["early", "late"] == calls
    client.close(5.0)


def test_close_from_a_done_callback_does_not_wait_for_itself(spawn: Spawn) -> None:
    """close() called in a done callback (on the reader thread) returns without waiting."""
    client, connection = connect(spawn, "fake_misbehaving")
    took: list[float] = []

    def close_now(_handle: RunHandle) -> None:
        started = time.monotonic()
        client.close(5.0)
        took.append(time.monotonic() - started)

    handle = client.start_run("r", "ok", {})
    handle.add_done_callback(close_now)
    assert "success" == handle.result(PROMPT).output_id
    assert 0 == connection.process.wait(PROMPT)
    assert len(took) == 1
    assert took[0] < 1.0


def test_late_result_of_an_abandoned_run_is_ignored(spawn: Spawn) -> None:
    """A WORK_DONE arriving after close() gave up on its run changes nothing."""
    client, connection = connect(spawn, "fake_misbehaving")
    handle = client.start_run("r", "after-client-done", {})
    client.close(0.0)  # gives up at once; the plugin answers after CLIENT_DONE anyway
    assert isinstance(handle.exception(0), LocalProtocolError)
    assert 0 == connection.process.wait(PROMPT)
    time.sleep(0.1)  # let the reader see the late WORK_DONE and the EOF
    assert None is client.failure()
    assert isinstance(handle.exception(0), LocalProtocolError)


def test_sdk_raw_decode_error_text_fails_pending_runs(spawn: Spawn) -> None:
    """The SDK's raw 'Error while decoding CBOR' text on stdout fails every pending run."""
    client, connection = connect(spawn, "plugin_steps")
    handle = client.start_run("r", "sleep", {"seconds": 5})
    time.sleep(0.2)  # let the WORK_START reach the plugin
    connection.stdin.close()  # the SDK reads EOF and writes its error text into stdout
    error = ended_within(handle).exception(0)
    assert isinstance(error, RemoteProtocolError)
    assert (
        f"plugin {connection.description}: expected a runtime message {{id, run_id, data}} "
        "(a CBOR map), got bytes b'rror '; stdout carried text 'Error ', so the plugin printed "
        "to stdout"
    ) in str(error)
    client.close(1.0)


def test_go_sdk_style_work_done(spawn: Spawn) -> None:
    """A WORK_DONE with the Go SDK's step_id and without debug_logs is a normal result."""
    client, _ = connect(spawn, "fake_misbehaving")
    expected = RunResult(
        run_id="r", step_id="go-style", output_id="success", output_data={"message": "from go"}
    )
    assert expected == client.start_run("r", "go-style", {}).result(PROMPT)
    client.close(5.0)


def test_stdout_after_garbage_is_logged_not_parsed(
    spawn: Spawn, caplog: pytest.LogCaptureFixture
) -> None:
    """What follows garbage on stdout is drained unparsed, and its start is logged."""
    caplog.set_level(logging.WARNING, logger="arcaflow_steps_builtin.plugin._atp")
    client, connection = connect(spawn, "fake_misbehaving")
    ended_within(client.start_run("r", "garbage", {}))
    expected = (
        f"plugin {connection.description}: discarding its stdout after a protocol error; "
        "it continues with b'while decoding CBOR: premature end'"
    )
    deadline = time.monotonic() + PROMPT
    while expected not in caplog.messages and time.monotonic() < deadline:
        time.sleep(0.01)
    assert expected in caplog.messages
    client.close(1.0)


def _reader_ended(client: ATPClient) -> bool:
    """Wait until the client's reader thread has drained stdout to EOF and ended."""
    name = f"atp-{client.description}-reader"
    deadline = time.monotonic() + PROMPT
    while any(thread.name == name for thread in threading.enumerate()):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.01)
    return True


@pytest.mark.parametrize("stopping", [True, False], ids=["stopping", "not-stopping"])
def test_what_a_stopped_plugin_writes_is_not_a_warning(
    spawn: Spawn, caplog: pytest.LogCaptureFixture, stopping: bool
) -> None:
    """The SDK's decode-error text on stdin EOF is no warning once stopping() said we are
    stopping the plugin (a closed workflow step); it still is when its stdin ended unasked."""
    caplog.set_level(logging.DEBUG, logger="arcaflow_steps_builtin.plugin._atp")
    client, connection = connect(spawn, "plugin_steps")
    handle = client.start_run("r", "hang", {"seconds": 30})
    time.sleep(0.2)  # let the WORK_START reach the plugin
    if stopping:
        client.stopping()
    connection.close(PROMPT)  # stdin EOF: the SDK writes its error text, then it is killed
    assert isinstance(ended_within(handle).exception(0), RemoteProtocolError)
    assert _reader_ended(client)
    start = (
        f"plugin {connection.description}: discarding its stdout after a protocol error; "
        "it continues with b'while decoding CBOR: premature end of stream (expected to read 1 "
        "bytes, got 0 instead)"
    )
    # (How much of the SDK's further output the first chunk holds depends on timing.)
    assert [(logging.DEBUG if stopping else logging.WARNING, True)] == [
        (record.levelno, record.getMessage().startswith(start))
        for record in caplog.records
        if "discarding its stdout" in record.getMessage()
    ]
    client.close(1.0)


@pytest.mark.parametrize(
    ("plugin", "step"), [("fake_half_hello", None), ("fake_misbehaving", "truncated-exit")]
)
def test_truncated_frame_is_not_reported_as_what_follows(
    spawn: Spawn, caplog: pytest.LogCaptureFixture, plugin: str, step: str | None
) -> None:
    """A frame cut off by EOF fails once; its own first bytes are not logged as stdout after it."""
    caplog.set_level(logging.WARNING, logger="arcaflow_steps_builtin.plugin._atp")
    connection = spawn(plugin)
    client = ATPClient(connection)
    if step is None:
        with pytest.raises(RemoteProtocolError, match=r"in the middle of the hello message"):
            client.handshake(timeout=PROMPT)
    else:
        client.handshake(timeout=PROMPT)
        error = ended_within(client.start_run("r", step, {})).exception(0)
        assert "truncated CBOR: stdout ended in the middle of a runtime message" in str(error)
    client.close(PROMPT)  # returns once the reader drained stdout to EOF
    assert [] == [message for message in caplog.messages if "discarding its stdout" in message]
