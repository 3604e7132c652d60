"""Raw ATP v3 fake plugin that sends large, deeply nested, or very many messages.

Steps (input ``{size: int}``, ignored by ``deep-output``):

* ``large``: WORK_DONE ``success {message: "x" * size}``, streamed in 1 MiB writes so the fake
  itself stays small;
* ``announce``: only the head of that WORK_DONE, announcing a ``size``-byte message, then waits
  for stdin EOF (the client must refuse it without reading or allocating it);
* ``deep-output``: WORK_DONE whose ``message`` is 200 nested lists;
* ``chatty``: ``size`` non-fatal ERRORs for the run, ``size`` for run ``""`` and ``size``
  SIGNALs ``progress``, then WORK_DONE ``success {message: "done"}``.

Run: ``python fake_large.py --atp``.
"""

import sys

import cbor2
from _fake_atp import CLIENT_DONE, SIGNAL, WORK_DONE, WORK_START, Wire, object_scope

_CHUNK = 1024 * 1024


def _schema(step_id: str) -> dict[str, object]:
    message = {"type": {"type_id": "string"}, "required": True}
    return {
        "id": step_id,
        "input": object_scope("Input", size={"type": {"type_id": "integer"}}),
        "outputs": {"success": {"schema": object_scope("Output", message=message), "error": False}},
    }


def _head(run_id: str, size: int) -> bytes:
    """Return a WORK_DONE frame up to the payload of its ``message`` string of ``size`` bytes."""
    return (
        b"\xa3"
        + cbor2.dumps("id")
        + cbor2.dumps(WORK_DONE)
        + cbor2.dumps("run_id")
        + cbor2.dumps(run_id)
        + cbor2.dumps("data")
        + b"\xa3"
        + cbor2.dumps("output_id")
        + cbor2.dumps("success")
        + cbor2.dumps("debug_logs")
        + cbor2.dumps("")
        + cbor2.dumps("output_data")
        + b"\xa1"
        + cbor2.dumps("message")
        + b"\x7b"
        + size.to_bytes(8, "big")
    )


def main() -> None:
    wire = Wire()
    wire.handshake(
        {"steps": {step: _schema(step) for step in ("large", "announce", "deep-output", "chatty")}}
    )
    while True:
        try:
            message = wire.read()
        except EOFError:
            return
        if message.get("id") == CLIENT_DONE:
            return
        if message.get("id") != WORK_START:
            continue
        run_id, step = message["run_id"], message["data"]["id"]
        size = int(message["data"]["config"].get("size", 0))
        if step == "large":
            wire.stdout.write(_head(run_id, size))
            chunk = b"x" * _CHUNK
            for start in range(0, size, _CHUNK):
                wire.stdout.write(chunk[: min(_CHUNK, size - start)])
            wire.stdout.flush()
        elif step == "announce":
            wire.write_raw(_head(run_id, size))
        elif step == "chatty":
            for number in range(size):
                wire.error(run_id, f"warning {number}")
                wire.error("", f"connection warning {number}")
                wire.send(SIGNAL, run_id, {"signal_id": "progress", "data": {"n": number}})
            wire.done(run_id, "done")
        else:
            nested: object = "bottom"
            for _ in range(200):
                nested = [nested]
            data = {"output_id": "success", "output_data": {"message": nested}, "debug_logs": ""}
            wire.send(WORK_DONE, run_id, data)


if __name__ == "__main__":
    main()
    sys.exit(0)
