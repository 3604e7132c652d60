"""ATP message records: CBOR round trips and decoding of frames of the wrong shape."""

from __future__ import annotations

from typing import Any

import cbor2
import pytest
from hypothesis import given
from hypothesis import strategies as st

from arcaflow_steps import LocalProtocolError, RemoteProtocolError
from arcaflow_steps_builtin.plugin._atp_messages import (
    START_OUTPUT,
    BareWorkDone,
    BareWorkStart,
    ClientDone,
    ErrorMessage,
    Hello,
    MessageType,
    Signal,
    WorkDone,
    WorkStart,
    decode_bare_work_done,
    decode_bare_work_start,
    decode_hello,
    decode_runtime_message,
    encode,
    wire_name,
)

# -- strategies -------------------------------------------------------------------------------

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=20)
    | st.binary(max_size=20)
)
#: Values CBOR carries unchanged through a round trip (lists stay lists, maps have text keys).
values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
texts = st.text(max_size=24)

work_starts = st.builds(WorkStart, run_id=texts, step_id=texts, config=values)
work_dones = st.builds(
    WorkDone,
    run_id=texts,
    output_id=texts,
    output_data=values,
    debug_logs=texts,
    step_id=st.none() | texts,
)
signals = st.builds(Signal, run_id=texts, signal_id=texts, data=values)
client_dones = st.builds(ClientDone, run_id=texts)
error_messages = st.builds(
    ErrorMessage,
    run_id=texts,
    error=texts,
    step_fatal=st.booleans(),
    server_fatal=st.booleans(),
)
runtime_messages = work_starts | work_dones | signals | client_dones | error_messages

step_schemas = st.fixed_dictionaries(
    {"id": texts, "outputs": st.dictionaries(texts, values, max_size=3)},
    optional={"signal_handlers": st.dictionaries(texts, values, max_size=2)},
)
hellos = st.builds(
    Hello,
    version=st.integers(min_value=0, max_value=2**31),
    schema_data=st.fixed_dictionaries({"steps": st.dictionaries(texts, step_schemas, max_size=3)}),
)


# -- round trips ------------------------------------------------------------------------------


@given(runtime_messages)
def test_runtime_message_round_trip(message: Any) -> None:
    """Every runtime message decodes back to itself."""
    assert message == decode_runtime_message(cbor2.loads(encode(message)))


@given(hellos)
def test_hello_round_trip(hello: Hello) -> None:
    """A hello decodes back to itself, schema data included."""
    assert hello == decode_hello(cbor2.loads(encode(hello)))


@given(st.builds(BareWorkStart, step_id=texts, config=values))
def test_bare_work_start_round_trip(message: BareWorkStart) -> None:
    """The ATP v1 work start decodes back to itself."""
    assert message == decode_bare_work_start(cbor2.loads(encode(message)))


@given(st.builds(BareWorkDone, output_id=texts, output_data=values, debug_logs=texts))
def test_bare_work_done_round_trip(message: BareWorkDone) -> None:
    """The ATP v1 work done decodes back to itself."""
    assert message == decode_bare_work_done(cbor2.loads(encode(message)))


# -- the wire form ----------------------------------------------------------------------------


def test_start_output_is_cbor_null() -> None:
    """The start message is CBOR null, as the Go engine sends it."""
    assert None is cbor2.loads(START_OUTPUT)


@pytest.mark.parametrize(
    ("message", "wire"),
    [
        (
            WorkStart(run_id="r", step_id="hello", config={"name": "Arca"}),
            {"id": 1, "run_id": "r", "data": {"id": "hello", "config": {"name": "Arca"}}},
        ),
        (
            Signal(run_id="r", signal_id="cancel", data={}),
            {"id": 3, "run_id": "r", "data": {"signal_id": "cancel", "data": {}}},
        ),
        (ClientDone(), {"id": 4, "run_id": "", "data": {}}),
        (BareWorkStart(step_id="hello", config={}), {"id": "hello", "config": {}}),
    ],
    ids=["work-start", "signal", "client-done", "v1-work-start"],
)
def test_engine_messages_match_the_go_engine(message: Any, wire: Any) -> None:
    """Engine messages have exactly the keys and integer ids the Go engine sends."""
    assert wire == cbor2.loads(encode(message))


def test_python_sdk_work_done_decodes_without_step_id() -> None:
    """A WORK_DONE from the Python SDK (no step_id) decodes with step_id None."""
    frame = {
        "id": 2,
        "run_id": "r",
        "data": {"output_id": "success", "output_data": {"message": "hi"}, "debug_logs": "x"},
    }
    expected = WorkDone(
        run_id="r", output_id="success", output_data={"message": "hi"}, debug_logs="x"
    )
    assert expected == decode_runtime_message(frame)


def test_error_flags_default_to_false() -> None:
    """An ERROR without flags is non-fatal, as the Go engine decodes it."""
    frame = {"id": 5, "run_id": "r", "data": {"error": "meh"}}
    assert ErrorMessage(run_id="r", error="meh") == decode_runtime_message(frame)


def test_wire_names() -> None:
    """Records name themselves with the protocol's message names."""
    assert "CLIENT_DONE" == wire_name(ClientDone())
    assert MessageType.WORK_START.name == wire_name(WorkStart(run_id="", step_id="", config={}))


def test_encode_refuses_unencodable_config() -> None:
    """A config CBOR cannot carry is our mistake: LocalProtocolError."""
    with pytest.raises(LocalProtocolError, match=r"^cannot encode WorkStart as CBOR: "):
        encode(WorkStart(run_id="r", step_id="s", config={"x": object()}))


# -- frames of the wrong shape ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (42, "expected a runtime message {id, run_id, data} (a CBOR map), got int 42"),
        (
            {"id": 2, "run_id": "r"},
            "runtime message must have exactly the fields 'data', 'id', 'run_id'; "
            "got 'id', 'run_id'",
        ),
        (
            {"id": 2, "run_id": "r", "data": {}, "x": 1},
            "runtime message must have exactly the fields 'data', 'id', 'run_id'; "
            "got 'data', 'id', 'run_id', 'x'",
        ),
        (
            {"id": "2", "run_id": "r", "data": {}},
            "runtime message field 'id' must be an integer, got str '2'",
        ),
        (
            {"id": True, "run_id": "r", "data": {}},
            "runtime message field 'id' must be an integer, got bool True",
        ),
        (
            {"id": 9, "run_id": "r", "data": {}},
            "unknown runtime message id 9; valid ids: 1 (WORK_START), 2 (WORK_DONE), "
            "3 (SIGNAL), 4 (CLIENT_DONE), 5 (ERROR)",
        ),
        (
            {"id": 2, "run_id": 7, "data": {}},
            "runtime message field 'run_id' must be a text string, got int 7",
        ),
        (
            {"id": 2, "run_id": "r", "data": []},
            "expected WORK_DONE data (a CBOR map), got list []",
        ),
        (
            {"id": 2, "run_id": "r", "data": {"output_id": "success"}},
            "WORK_DONE data has no 'output_data' field; fields present: 'output_id'",
        ),
        (
            {"id": 2, "run_id": "r", "data": {"output_id": 1, "output_data": {}}},
            "WORK_DONE data field 'output_id' must be a text string, got int 1",
        ),
        (
            {"id": 2, "run_id": "r", "data": {"output_id": "s", "output_data": {}, "step_id": 3}},
            "WORK_DONE data field 'step_id' must be a text string, got int 3",
        ),
        (
            {"id": 2, "run_id": "r", "data": {"output_id": "s", "output_data": 1, "debug_logs": 1}},
            "WORK_DONE data field 'debug_logs' must be a text string, got int 1",
        ),
        (
            {"id": 5, "run_id": "r", "data": {"error": "x", "step_fatal": "yes"}},
            "ERROR data field 'step_fatal' must be a boolean, got str 'yes'",
        ),
        (
            {"id": 5, "run_id": "r", "data": {}},
            "ERROR data has no 'error' field; fields present: none",
        ),
        (
            {"id": 3, "run_id": "r", "data": {"data": {}}},
            "SIGNAL data has no 'signal_id' field; fields present: 'data'",
        ),
        (
            {"id": 1, "run_id": "r", "data": {"id": "s"}},
            "WORK_START data has no 'config' field; fields present: 'id'",
        ),
    ],
    ids=[
        "not-a-map",
        "missing-data",
        "extra-key",
        "string-id",
        "bool-id",
        "unknown-id",
        "int-run-id",
        "data-not-a-map",
        "no-output-data",
        "int-output-id",
        "int-step-id",
        "int-debug-logs",
        "string-flag",
        "no-error-text",
        "no-signal-id",
        "no-config",
    ],
)
def test_wrong_runtime_frames_are_remote_errors(frame: Any, message: str) -> None:
    """A runtime frame of the wrong shape names what was expected and what came."""
    with pytest.raises(RemoteProtocolError) as excinfo:
        decode_runtime_message(frame)
    assert message == str(excinfo.value)


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (b"ello wor", "expected the hello message {version, schema} (a CBOR map), got bytes"),
        ({"schema": {}}, "hello message field 'version' must be an integer, got NoneType None"),
        (
            {"version": 3, "schema": {"steps": {}}, "extra": 1},
            "hello message has unknown fields 'extra'; valid fields: 'schema', 'version'",
        ),
        ({"version": 3}, "expected hello message field 'schema' (a CBOR map), got NoneType"),
        ({"version": 3, "schema": {}}, "expected plugin schema field 'steps' (a CBOR map)"),
        (
            {"version": 3, "schema": {"steps": {"s": {"id": "s"}}}},
            "expected outputs of step 's' (a CBOR map), got NoneType None",
        ),
        (
            {"version": 3, "schema": {"steps": {1: {"outputs": {}}}}},
            "plugin schema step ids must be text strings, got int 1",
        ),
    ],
    ids=["bytes", "no-version", "extra-key", "no-schema", "no-steps", "no-outputs", "int-step"],
)
def test_wrong_hellos_are_remote_errors(frame: Any, message: str) -> None:
    """A hello of the wrong shape is refused with what was expected."""
    with pytest.raises(RemoteProtocolError) as excinfo:
        decode_hello(frame)
    assert str(excinfo.value).startswith(message)


def test_hello_outline_helpers() -> None:
    """Hello answers step ids, output ids and signal ids from its raw schema."""
    hello = decode_hello(
        {
            "version": 3,
            "schema": {
                "steps": {
                    "b": {"outputs": {"success": {}}, "signal_handlers": {"cancel": {}}},
                    "a": {"outputs": {"success": {}, "error": {}}},
                }
            },
        }
    )
    assert ("a", "b") == hello.step_ids()
    assert frozenset({"success", "error"}) == hello.output_ids("a")
    assert frozenset() == hello.output_ids("missing")
    assert frozenset({"cancel"}) == hello.signal_handler_ids("b")
    assert frozenset() == hello.signal_handler_ids("a")
