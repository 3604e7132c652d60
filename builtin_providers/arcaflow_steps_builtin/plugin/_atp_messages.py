"""ATP message records and their CBOR encoding, decoded once at the edge.

Every ATP frame is one CBOR data item (no length prefix, no delimiter). This module turns the
decoded CBOR item into a frozen attrs record exactly once (``decode_hello``,
``decode_runtime_message``, ``decode_bare_work_done``) and turns a record back into bytes
(``encode``). Nothing downstream indexes raw dicts. A frame of the wrong shape raises
:class:`~arcaflow_steps.RemoteProtocolError` naming what was expected and what came.

Records (field names are ours; the wire keys are in each class docstring):

* :class:`Hello` — ``{version, schema}``, the plugin's greeting; the schema stays raw data
  (``schema_data``) for the schema helper's ``parse_plugin_schema``.
* ATP v3 runtime messages, all in the envelope ``{id, run_id, data}``:
  :class:`WorkStart` (1), :class:`WorkDone` (2), :class:`Signal` (3), :class:`ClientDone` (4),
  :class:`ErrorMessage` (5).
* ATP v1 bare messages: :class:`BareWorkStart` ``{id, config}`` and :class:`BareWorkDone`
  ``{output_id, output_data, debug_logs}``.

Round trip: ``decode(encode(m)) == m`` for every record (``decode_runtime_message`` for the
runtime messages, ``decode_hello`` for :class:`Hello`, ``decode_bare_work_start`` /
``decode_bare_work_done`` for the v1 ones).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from typing import Any, Final, TypeAlias

import attrs
import cbor2

from arcaflow_steps import LocalProtocolError, RemoteProtocolError

__all__ = [
    "START_OUTPUT",
    "SUPPORTED_VERSIONS",
    "BareWorkDone",
    "BareWorkStart",
    "ClientDone",
    "ErrorMessage",
    "Hello",
    "MessageType",
    "RuntimeMessage",
    "Signal",
    "WorkDone",
    "WorkStart",
    "decode_bare_work_done",
    "decode_bare_work_start",
    "decode_hello",
    "decode_runtime_message",
    "describe_item",
    "encode",
    "wire_name",
]

#: The "start output" message the engine sends first: CBOR ``null``, as the Go engine does.
START_OUTPUT: Final = b"\xf6"

#: ATP versions this client speaks.
SUPPORTED_VERSIONS: Final = (1, 3)

_ENVELOPE_KEYS: Final = frozenset({"id", "run_id", "data"})


class MessageType(enum.IntEnum):
    """The ``id`` of an ATP v3 runtime message: which record ``data`` holds."""

    WORK_START = 1
    WORK_DONE = 2
    SIGNAL = 3
    CLIENT_DONE = 4
    ERROR = 5


@attrs.frozen(kw_only=True)
class Hello:
    """The plugin's greeting, wire ``{version, schema}``.

    ``schema_data`` is the plugin schema in the Arcaflow serialized form, kept raw for
    ``parse_plugin_schema``. Decoding checks only the outline the client relies on: a ``steps``
    map whose entries each have an ``outputs`` map (and optionally ``signal_handlers``).
    """

    version: int
    schema_data: Mapping[str, Any]
    #: The hello's CBOR bytes as the plugin sent them, when the reader kept them: equal bytes
    #: mean an equal schema, so its parsed form can be reused (``_plugin_process``).
    raw: bytes | None = attrs.field(default=None, eq=False, repr=False)

    def step_ids(self) -> tuple[str, ...]:
        """Return the plugin's step ids, sorted."""
        return tuple(sorted(self.schema_data["steps"]))

    def output_ids(self, step_id: str) -> frozenset[str]:
        """Return the output ids the step ``step_id`` declares (empty if no such step)."""
        step = self.schema_data["steps"].get(step_id)
        return frozenset(step["outputs"]) if step is not None else frozenset()

    def signal_handler_ids(self, step_id: str) -> frozenset[str]:
        """Return the ids of the signals the step ``step_id`` accepts (e.g. ``cancel``)."""
        step = self.schema_data["steps"].get(step_id)
        if step is None:
            return frozenset()
        return frozenset(step.get("signal_handlers") or {})


@attrs.frozen(kw_only=True)
class WorkStart:
    """Engine → plugin: start step ``step_id`` with ``config`` as run ``run_id``.

    Wire: ``{id: 1, run_id, data: {id: step_id, config}}``.
    """

    run_id: str
    step_id: str
    config: Any


@attrs.frozen(kw_only=True)
class WorkDone:
    """Plugin → engine: run ``run_id`` produced output ``output_id``.

    Wire: ``{id: 2, run_id, data: {output_id, output_data, debug_logs[, step_id]}}``; the Go
    SDK adds ``step_id``, the Python SDK does not (then it is None).
    """

    run_id: str
    output_id: str
    output_data: Any
    debug_logs: str = ""
    step_id: str | None = None


@attrs.frozen(kw_only=True)
class Signal:
    """A signal for (or, in principle, from) run ``run_id``.

    Wire: ``{id: 3, run_id, data: {signal_id, data}}``.
    """

    run_id: str
    signal_id: str
    data: Any


@attrs.frozen(kw_only=True)
class ClientDone:
    """Engine → plugin: no more work will be sent. Wire: ``{id: 4, run_id: "", data: {}}``."""

    run_id: str = ""


@attrs.frozen(kw_only=True)
class ErrorMessage:
    """Plugin → engine: an error, fatal for the run, for the whole plugin, or neither.

    Wire: ``{id: 5, run_id, data: {error, step_fatal, server_fatal}}``. ``run_id`` is ``""``
    for connection-level errors.
    """

    run_id: str
    error: str
    step_fatal: bool = False
    server_fatal: bool = False

    def __str__(self) -> str:
        kind = (
            "server-fatal"
            if self.server_fatal
            else "step-fatal"
            if self.step_fatal
            else "non-fatal"
        )
        where = f"run {self.run_id!r}" if self.run_id else "the connection"
        return f"{kind} error for {where}: {self.error}"


@attrs.frozen(kw_only=True)
class BareWorkStart:
    """ATP v1, engine → plugin: the one work start, without envelope. Wire: ``{id, config}``."""

    step_id: str
    config: Any


@attrs.frozen(kw_only=True)
class BareWorkDone:
    """ATP v1, plugin → engine: the one result. Wire: ``{output_id, output_data, debug_logs}``."""

    output_id: str
    output_data: Any
    debug_logs: str = ""


RuntimeMessage: TypeAlias = WorkStart | WorkDone | Signal | ClientDone | ErrorMessage
AnyMessage: TypeAlias = RuntimeMessage | Hello | BareWorkStart | BareWorkDone


def _wire_form(message: AnyMessage) -> Any:  # noqa: PLR0911 (one return per record)
    """Return the CBOR-ready Python value of ``message``."""
    match message:
        case Hello():
            return {"version": message.version, "schema": message.schema_data}
        case WorkStart():
            data: Any = {"id": message.step_id, "config": message.config}
            return _envelope(MessageType.WORK_START, message.run_id, data)
        case WorkDone():
            data = {
                "output_id": message.output_id,
                "output_data": message.output_data,
                "debug_logs": message.debug_logs,
            }
            if message.step_id is not None:
                data["step_id"] = message.step_id
            return _envelope(MessageType.WORK_DONE, message.run_id, data)
        case Signal():
            data = {"signal_id": message.signal_id, "data": message.data}
            return _envelope(MessageType.SIGNAL, message.run_id, data)
        case ClientDone():
            return _envelope(MessageType.CLIENT_DONE, message.run_id, {})
        case ErrorMessage():
            data = {
                "error": message.error,
                "step_fatal": message.step_fatal,
                "server_fatal": message.server_fatal,
            }
            return _envelope(MessageType.ERROR, message.run_id, data)
        case BareWorkStart():
            return {"id": message.step_id, "config": message.config}
        case BareWorkDone():
            return {
                "output_id": message.output_id,
                "output_data": message.output_data,
                "debug_logs": message.debug_logs,
            }


_MESSAGE_TYPES: Final[Mapping[type, MessageType]] = {
    WorkStart: MessageType.WORK_START,
    WorkDone: MessageType.WORK_DONE,
    Signal: MessageType.SIGNAL,
    ClientDone: MessageType.CLIENT_DONE,
    ErrorMessage: MessageType.ERROR,
}


def _envelope(message_type: MessageType, run_id: str, data: Any) -> dict[str, Any]:
    return {"id": int(message_type), "run_id": run_id, "data": data}


def encode(message: AnyMessage) -> bytes:
    """Return ``message`` as one CBOR data item.

    Raises:
        LocalProtocolError: a payload (step input, signal data) cannot be encoded as CBOR.
    """
    try:
        return cbor2.dumps(_wire_form(message))
    except (cbor2.CBOREncodeError, TypeError, ValueError, RecursionError) as exc:
        raise LocalProtocolError(f"cannot encode {type(message).__name__} as CBOR: {exc}") from exc


def wire_name(message: RuntimeMessage) -> str:
    """Return the protocol name of a runtime message (``WORK_DONE``) for messages."""
    return _MESSAGE_TYPES[type(message)].name


def describe_item(item: object, *, limit: int = 120) -> str:
    """Return a short description of a decoded CBOR item for error messages."""
    text = repr(item)
    if len(text) > limit:
        text = text[:limit] + "…"
    return f"{type(item).__name__} {text}"


def _require_map(item: object, what: str) -> Mapping[Any, Any]:
    if not isinstance(item, Mapping):
        raise RemoteProtocolError(f"expected {what} (a CBOR map), got {describe_item(item)}")
    return item


def _require_str(container: Mapping[Any, Any], key: str, what: str) -> str:
    if key not in container:
        raise RemoteProtocolError(
            f"{what} has no {key!r} field; fields present: {_keys(container)}"
        )
    value = container[key]
    if not isinstance(value, str):
        raise RemoteProtocolError(
            f"{what} field {key!r} must be a text string, got {describe_item(value)}"
        )
    return value


def _optional_str(container: Mapping[Any, Any], key: str, what: str) -> str:
    value = container.get(key, "")
    if not isinstance(value, str):
        raise RemoteProtocolError(
            f"{what} field {key!r} must be a text string, got {describe_item(value)}"
        )
    return value


def _optional_bool(container: Mapping[Any, Any], key: str, what: str) -> bool:
    value = container.get(key, False)
    if not isinstance(value, bool):
        raise RemoteProtocolError(
            f"{what} field {key!r} must be a boolean, got {describe_item(value)}"
        )
    return value


def _keys(container: Mapping[Any, Any]) -> str:
    keys = sorted(repr(key) for key in container)
    return ", ".join(keys) if keys else "none"


def decode_hello(item: object) -> Hello:
    """Return the :class:`Hello` in ``item`` (the first item the plugin sends).

    The version is not checked here (the client refuses unsupported ones with its own
    message); the schema is checked only for the outline :class:`Hello`'s methods use.
    """
    hello = _require_map(item, "the hello message {version, schema}")
    version = hello.get("version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise RemoteProtocolError(
            f"hello message field 'version' must be an integer, got {describe_item(version)}"
        )
    extra = set(hello) - {"version", "schema"}
    if extra:
        raise RemoteProtocolError(
            f"hello message has unknown fields {_keys(dict.fromkeys(extra))}; "
            "valid fields: 'schema', 'version'"
        )
    schema_data = _require_map(hello.get("schema"), "hello message field 'schema'")
    steps = _require_map(schema_data.get("steps"), "plugin schema field 'steps'")
    for step_id, step in steps.items():
        if not isinstance(step_id, str):
            raise RemoteProtocolError(
                f"plugin schema step ids must be text strings, got {describe_item(step_id)}"
            )
        step_map = _require_map(step, f"plugin schema step {step_id!r}")
        outputs = _require_map(step_map.get("outputs"), f"outputs of step {step_id!r}")
        handlers = step_map.get("signal_handlers")
        if handlers is not None:
            _require_map(handlers, f"signal handlers of step {step_id!r}")
        if not all(isinstance(output_id, str) for output_id in outputs):
            raise RemoteProtocolError(f"output ids of step {step_id!r} must be text strings")
    return Hello(version=version, schema_data=schema_data)


def decode_runtime_message(item: object) -> RuntimeMessage:
    """Return the ATP v3 runtime message in ``item`` (any direction).

    The envelope is checked strictly (exactly ``id``, ``run_id``, ``data``; integer ``id``;
    text ``run_id``), as the Go engine does; the payload leniently (extra keys are ignored).
    """
    envelope = _require_map(item, "a runtime message {id, run_id, data}")
    if set(envelope) != _ENVELOPE_KEYS:
        raise RemoteProtocolError(
            f"runtime message must have exactly the fields 'data', 'id', 'run_id'; "
            f"got {_keys(envelope)}"
        )
    raw_id = envelope["id"]
    if isinstance(raw_id, bool) or not isinstance(raw_id, int):
        raise RemoteProtocolError(
            f"runtime message field 'id' must be an integer, got {describe_item(raw_id)}"
        )
    try:
        message_type = MessageType(raw_id)
    except ValueError:
        raise RemoteProtocolError(
            f"unknown runtime message id {raw_id}; valid ids: "
            + ", ".join(f"{member.value} ({member.name})" for member in MessageType)
        ) from None
    run_id = envelope["run_id"]
    if not isinstance(run_id, str):
        raise RemoteProtocolError(
            f"runtime message field 'run_id' must be a text string, got {describe_item(run_id)}"
        )
    return _PAYLOAD_DECODERS[message_type](run_id, envelope["data"])


def _decode_work_start(run_id: str, data: object) -> WorkStart:
    what = "WORK_START data"
    payload = _require_map(data, what)
    if "config" not in payload:
        raise RemoteProtocolError(f"{what} has no 'config' field; fields present: {_keys(payload)}")
    return WorkStart(
        run_id=run_id, step_id=_require_str(payload, "id", what), config=payload["config"]
    )


def _decode_work_done(run_id: str, data: object) -> WorkDone:
    what = "WORK_DONE data"
    payload = _require_map(data, what)
    if "output_data" not in payload:
        raise RemoteProtocolError(
            f"{what} has no 'output_data' field; fields present: {_keys(payload)}"
        )
    step_id = payload.get("step_id")
    if step_id is not None and not isinstance(step_id, str):
        raise RemoteProtocolError(
            f"{what} field 'step_id' must be a text string, got {describe_item(step_id)}"
        )
    return WorkDone(
        run_id=run_id,
        output_id=_require_str(payload, "output_id", what),
        output_data=payload["output_data"],
        debug_logs=_optional_str(payload, "debug_logs", what),
        step_id=step_id,
    )


def _decode_signal(run_id: str, data: object) -> Signal:
    what = "SIGNAL data"
    payload = _require_map(data, what)
    return Signal(
        run_id=run_id, signal_id=_require_str(payload, "signal_id", what), data=payload.get("data")
    )


def _decode_client_done(run_id: str, data: object) -> ClientDone:
    return ClientDone(run_id=run_id)


def _decode_error(run_id: str, data: object) -> ErrorMessage:
    what = "ERROR data"
    payload = _require_map(data, what)
    return ErrorMessage(
        run_id=run_id,
        error=_require_str(payload, "error", what),
        step_fatal=_optional_bool(payload, "step_fatal", what),
        server_fatal=_optional_bool(payload, "server_fatal", what),
    )


_PAYLOAD_DECODERS: Final[Mapping[MessageType, Callable[[str, object], RuntimeMessage]]] = {
    MessageType.WORK_START: _decode_work_start,
    MessageType.WORK_DONE: _decode_work_done,
    MessageType.SIGNAL: _decode_signal,
    MessageType.CLIENT_DONE: _decode_client_done,
    MessageType.ERROR: _decode_error,
}


def decode_bare_work_start(item: object) -> BareWorkStart:
    """Return the ATP v1 work start in ``item`` (used by fake plugins and round trips)."""
    payload = _require_map(item, "a v1 work start {id, config}")
    if "config" not in payload:
        raise RemoteProtocolError("v1 work start has no 'config' field")
    return BareWorkStart(
        step_id=_require_str(payload, "id", "v1 work start"), config=payload["config"]
    )


def decode_bare_work_done(item: object) -> BareWorkDone:
    """Return the ATP v1 result in ``item``."""
    what = "v1 work done"
    payload = _require_map(item, "a v1 work done {output_id, output_data, debug_logs}")
    if "output_data" not in payload:
        raise RemoteProtocolError(
            f"{what} has no 'output_data' field; fields present: {_keys(payload)}"
        )
    return BareWorkDone(
        output_id=_require_str(payload, "output_id", what),
        output_data=payload["output_data"],
        debug_logs=_optional_str(payload, "debug_logs", what),
    )
