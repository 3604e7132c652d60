"""Fuzzing the ATP client: whatever a plugin writes, pending runs end and nothing hangs.

The plugin side is in this process, on two ``os.pipe`` pairs, so each example costs
microseconds; the properties are that every run ends (with a result or a
``PluginProtocolError``), within a bound, and that the client's threads end.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from typing import Any

import cbor2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arcaflow_steps import PluginProtocolError, RemoteProtocolError
from arcaflow_steps_builtin.plugin._atp import ATPClient, RemoteStepError, RunHandle, RunResult
from arcaflow_steps_builtin.plugin._atp_messages import (
    ErrorMessage,
    Signal,
    WorkDone,
    WorkStart,
    encode,
)

#: Bound for "every pending run has ended" after the plugin's stdout ends.
BOUND = 5.0
STEP = "s"
HELLO = {
    "version": 3,
    "schema": {
        "steps": {
            STEP: {
                "id": STEP,
                "outputs": {"success": {}, "error": {}},
                "signal_handlers": {"cancel": {}},
            }
        }
    },
}


class PipeConnection:
    """A PluginConnection whose plugin side is this process, on two pipes."""

    description = "in-process fake"

    def __init__(self, *, raw_stdout: bool = False) -> None:
        to_plugin_read, to_plugin_write = os.pipe()
        from_plugin_read, from_plugin_write = os.pipe()
        self.stdin = os.fdopen(to_plugin_write, "wb")
        self.stdout = os.fdopen(from_plugin_read, "rb", buffering=0 if raw_stdout else -1)
        self._plugin_in = os.fdopen(to_plugin_read, "rb", buffering=0)
        self._plugin_out = os.fdopen(from_plugin_write, "wb", buffering=0)
        self.received = bytearray()
        self._drain = threading.Thread(target=self._drain_stdin, daemon=True)
        self._drain.start()
        self._ended = False

    def _drain_stdin(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            while chunk := self._plugin_in.read(65536):
                self.received += chunk

    def write(self, data: bytes) -> None:
        """Write ``data`` to the client as the plugin (ignored once the client is gone)."""
        with contextlib.suppress(OSError, ValueError):
            self._plugin_out.write(data)

    def end_output(self) -> None:
        """Close the plugin's stdout: the client sees EOF."""
        self._ended = True
        with contextlib.suppress(OSError):
            self._plugin_out.close()

    def stop_reading(self) -> None:
        """Close the plugin's stdin: the client's writes fail with a broken pipe."""
        with contextlib.suppress(OSError):
            self._plugin_in.close()

    def stderr_tail(self) -> str:
        return ""

    def exit_status(self) -> str | None:
        return "exit status 0" if self._ended else None

    def close(self, timeout: float = 5.0) -> None:
        self.end_output()
        for stream in (self.stdin, self.stdout):
            with contextlib.suppress(OSError):
                stream.close()
        self._drain.join(timeout)
        self.stop_reading()


def start(runs: int) -> tuple[ATPClient, PipeConnection, list[RunHandle]]:
    connection = PipeConnection()
    connection.write(cbor2.dumps(HELLO))
    client = ATPClient(connection)
    client.handshake(timeout=BOUND)
    handles = [client.start_run(f"r{index}", STEP, {"index": index}) for index in range(runs)]
    return client, connection, handles


def check_ended(client: ATPClient, connection: PipeConnection, handles: list[RunHandle]) -> None:
    """Every run has ended with a declared output or a protocol error; threads end."""
    for handle in handles:
        assert handle.wait(BOUND), f"run {handle.run_id!r} still pending"
        error = handle.exception(0)
        if error is None:
            result = handle.result(0)
            assert isinstance(result, RunResult)
            assert result.output_id in {"success", "error"}
        else:
            assert isinstance(error, PluginProtocolError)
    connection.end_output()  # the plugin exits: close() then has nothing to wait for
    client.close(0.05)
    connection.close()
    for thread in (client._reader_thread, client._writer_thread):
        assert thread is not None
        thread.join(BOUND)
        assert not thread.is_alive()


#: ATP_FUZZ_EXAMPLES=5000 for a long local run.
fuzz_settings = settings(
    max_examples=int(os.environ.get("ATP_FUZZ_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@fuzz_settings
@given(data=st.binary(max_size=200), runs=st.integers(0, 3), eof=st.booleans())
def test_random_bytes_never_hang_pending_runs(data: bytes, runs: int, eof: bool) -> None:
    """Random bytes after the hello end every pending run, at EOF or at close()."""
    client, connection, handles = start(runs)
    connection.write(data)
    if eof:
        connection.end_output()
    else:
        client.close(0.05)  # the plugin may have sent half a frame and gone quiet
    check_ended(client, connection, handles)


@fuzz_settings
@given(data=st.binary(max_size=200))
def test_random_bytes_instead_of_hello_fail_the_handshake(data: bytes) -> None:
    """Random bytes instead of a hello make the handshake fail clearly, never hang."""
    connection = PipeConnection()
    connection.write(data)
    connection.end_output()
    client = ATPClient(connection)
    started = time.monotonic()
    with pytest.raises(RemoteProtocolError, match=r"^plugin in-process fake: "):
        client.handshake(timeout=BOUND)
    assert time.monotonic() - started < BOUND
    check_ended(client, connection, [])


cbor_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 300) | st.text(max_size=6),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=6,
)
run_ids = st.sampled_from(["r0", "r1", "r2", "", "other"]) | st.integers(0, 2)
payloads = st.fixed_dictionaries(
    {},
    optional={
        "output_id": st.sampled_from(["success", "error", "nope"]) | cbor_values,
        "output_data": cbor_values,
        "debug_logs": st.text(max_size=6) | cbor_values,
        "error": st.text(max_size=6) | cbor_values,
        "step_fatal": st.booleans() | cbor_values,
        "server_fatal": st.booleans() | cbor_values,
        "signal_id": st.text(max_size=6),
        "data": cbor_values,
        "id": st.just(STEP),
        "config": cbor_values,
    },
)
envelopes = st.fixed_dictionaries(
    {"id": st.integers(0, 7), "run_id": run_ids, "data": payloads | cbor_values},
    optional={"extra": cbor_values},
)
known_run_ids = st.sampled_from(["r0", "r1", "r2", "", "other"])
plausible = (
    st.builds(
        WorkDone,
        run_id=known_run_ids,
        output_id=st.sampled_from(["success", "error", "nope"]),
        output_data=cbor_values,
        debug_logs=st.text(max_size=6),
    )
    | st.builds(
        ErrorMessage,
        run_id=known_run_ids,
        error=st.text(max_size=6),
        step_fatal=st.booleans(),
        server_fatal=st.booleans(),
    )
    | st.builds(Signal, run_id=known_run_ids, signal_id=st.text(max_size=6), data=cbor_values)
    | st.builds(WorkStart, run_id=known_run_ids, step_id=st.just(STEP), config=cbor_values)
).map(lambda message: cbor2.loads(encode(message)))
#: Mostly plausible messages (declared or not, known run or not), some of the wrong shape.
frames = plausible | plausible | plausible | envelopes | cbor_values


@fuzz_settings
@given(messages=st.lists(frames, max_size=6), runs=st.integers(0, 3), eof=st.booleans())
def test_wrong_messages_never_hang_pending_runs(messages: list[Any], runs: int, eof: bool) -> None:
    """Well-formed CBOR with wrong shapes, ids, run ids and outputs never hangs a run."""
    client, connection, handles = start(runs)
    for message in messages:
        connection.write(cbor2.dumps(message))
    if eof:
        connection.end_output()
    else:
        client.close(0.05)
    check_ended(client, connection, handles)


def test_closed_plugin_stdin_fails_the_run() -> None:
    """A WORK_START the plugin can no longer receive fails its run, naming the broken pipe."""
    client, connection, _ = start(0)
    connection.stop_reading()
    handle = client.start_run("r", STEP, {"payload": "x" * 200_000})
    error = handle.exception(BOUND)
    assert isinstance(error, RemoteProtocolError)
    assert str(error).startswith(
        "plugin in-process fake: could not send WORK_START for run 'r', its stdin is closed ("
    )
    check_ended(client, connection, [handle])


def test_raw_stdout_with_short_reads() -> None:
    """An unbuffered stdout returning frames in pieces still decodes (no false EOF)."""
    connection = PipeConnection(raw_stdout=True)
    connection.write(cbor2.dumps(HELLO))
    client = ATPClient(connection)
    client.handshake(timeout=BOUND)
    handle = client.start_run("r", STEP, {})
    frame = cbor2.dumps(
        {"id": 2, "run_id": "r", "data": {"output_id": "success", "output_data": {"x": "y" * 50}}}
    )
    for index in range(0, len(frame), 7):
        connection.write(frame[index : index + 7])
        time.sleep(0.002)
    assert {"x": "y" * 50} == handle.result(BOUND).output_data
    check_ended(client, connection, [handle])


@st.composite
def run_scripts(draw: st.DrawFn) -> list[tuple[str, list[Any]]]:
    """Per run: its messages in order (non-fatal errors and signals, then one terminal one)."""
    scripts = []
    for index in range(draw(st.integers(1, 5))):
        run_id = f"r{index}"
        middle: list[Any] = draw(
            st.lists(
                st.builds(ErrorMessage, run_id=st.just(run_id), error=st.text(max_size=8))
                | st.builds(
                    Signal, run_id=st.just(run_id), signal_id=st.just("progress"), data=cbor_values
                ),
                max_size=3,
            )
        )
        terminal = draw(
            st.builds(
                WorkDone,
                run_id=st.just(run_id),
                output_id=st.sampled_from(["success", "error"]),
                output_data=cbor_values,
                debug_logs=st.text(max_size=8),
            )
            | st.builds(
                ErrorMessage,
                run_id=st.just(run_id),
                error=st.text(max_size=8),
                step_fatal=st.just(True),
            )
        )
        scripts.append((run_id, [*middle, terminal]))
    return scripts


@fuzz_settings
@given(
    scripts=run_scripts(),
    connection_errors=st.lists(st.text(max_size=8), max_size=2),
    randoms=st.randoms(use_true_random=False),
)
def test_interleaved_runs_get_exactly_their_own_messages(
    scripts: list[tuple[str, list[Any]]], connection_errors: list[str], randoms: Any
) -> None:
    """Multiplexed runs, interleaved at random, each end with exactly their own messages."""
    client, connection, handles = start(len(scripts))
    queues = [list(messages) for _, messages in scripts]
    pending_errors = [ErrorMessage(run_id="", error=text) for text in connection_errors]
    while any(queues) or pending_errors:
        choices = [queue for queue in queues if queue]
        if pending_errors and (not choices or randoms.random() < 0.2):
            connection.write(encode(pending_errors.pop(0)))
            continue
        connection.write(encode(randoms.choice(choices).pop(0)))
    # The reader handles frames in order: once this last run ends, every frame before it has.
    last = client.start_run("last", STEP, {})
    connection.write(encode(WorkDone(run_id="last", output_id="success", output_data={})))
    assert "success" == last.result(BOUND).output_id
    for handle, (run_id, messages) in zip(handles, scripts, strict=True):
        assert handle.wait(BOUND)
        terminal = messages[-1]
        errors = tuple(m for m in messages[:-1] if isinstance(m, ErrorMessage))
        signals = tuple(m for m in messages[:-1] if isinstance(m, Signal))
        assert signals == handle.signals()
        if isinstance(terminal, WorkDone):
            expected = RunResult(
                run_id=run_id,
                step_id=STEP,
                output_id=terminal.output_id,
                output_data=terminal.output_data,
                debug_logs=terminal.debug_logs,
                errors=errors,
            )
            assert expected == handle.result(0)
        else:
            error = handle.exception(0)
            assert isinstance(error, RemoteStepError)
            assert terminal == error.message
            assert errors == handle.errors()
    assert tuple(ErrorMessage(run_id="", error=text) for text in connection_errors) == (
        client.errors()
    )
    assert None is client.failure()
    check_ended(client, connection, handles)
