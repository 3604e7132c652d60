"""Helpers for the raw fake plugins: they speak ATP bytes directly, without the SDK.

Only ``cbor2`` is needed. The fakes exist to misbehave in ways a real SDK plugin cannot.
"""

import sys
from typing import Any, BinaryIO

import cbor2

WORK_START = 1
WORK_DONE = 2
SIGNAL = 3
CLIENT_DONE = 4
ERROR = 5

_STRING = {"type": {"type_id": "string"}, "required": True}


def object_scope(object_id: str, **properties: Any) -> dict[str, Any]:
    """Return a serialized scope whose root object has the given properties."""
    return {"root": object_id, "objects": {object_id: {"id": object_id, "properties": properties}}}


def step_schema(step_id: str, *, signal_handlers: tuple[str, ...] = ()) -> dict[str, Any]:
    """Return a serialized step taking ``{name?}`` with outputs success/error ``{message}``."""
    step: dict[str, Any] = {
        "id": step_id,
        "input": object_scope("Input", name={"type": {"type_id": "string"}}),
        "outputs": {
            "success": {"schema": object_scope("Output", message=_STRING), "error": False},
            "error": {"schema": object_scope("Error", error=_STRING), "error": False},
        },
    }
    if signal_handlers:
        step["signal_handlers"] = {
            signal_id: {"id": signal_id, "data_schema": object_scope("cancelInput")}
            for signal_id in signal_handlers
        }
    return step


def plugin_schema(*step_ids: str) -> dict[str, Any]:
    """Return a serialized plugin schema with the given steps."""
    return {"steps": {step_id: step_schema(step_id) for step_id in step_ids}}


class Wire:
    """The plugin side of the ATP stream on this process's stdin/stdout."""

    def __init__(self, stdin: BinaryIO | None = None, stdout: BinaryIO | None = None) -> None:
        self.stdin = stdin or sys.stdin.buffer
        self.stdout = stdout or sys.stdout.buffer
        self.decoder = cbor2.CBORDecoder(self.stdin)

    def read(self) -> Any:
        """Return the next item, or raise EOFError at the end of stdin."""
        try:
            return self.decoder.decode()
        except cbor2.CBORDecodeEOF:
            raise EOFError from None

    def write_raw(self, data: bytes) -> None:
        self.stdout.write(data)
        self.stdout.flush()

    def write(self, item: Any) -> None:
        self.write_raw(cbor2.dumps(item))

    def send(self, message_id: int, run_id: Any, data: Any) -> None:
        self.write({"id": message_id, "run_id": run_id, "data": data})

    def handshake(self, schema: Any, *, version: int = 3) -> None:
        """Read the start message and answer with a hello."""
        self.read()
        self.write({"version": version, "schema": schema})

    def drain(self) -> None:
        """Read stdin until EOF, ignoring everything (a plugin that never exits on its own)."""
        try:
            while self.stdin.read(65536):
                pass
        except OSError:
            pass

    def error(
        self, run_id: str, text: str, *, step_fatal: bool = False, server_fatal: bool = False
    ) -> None:
        """Send an ERROR message."""
        data = {"error": text, "step_fatal": step_fatal, "server_fatal": server_fatal}
        self.send(ERROR, run_id, data)

    def done(self, run_id: str, message: str = "ok", *, output_id: str = "success") -> None:
        """Send a WORK_DONE with output ``{message}``."""
        data = {"output_id": output_id, "output_data": {"message": message}, "debug_logs": ""}
        self.send(WORK_DONE, run_id, data)
