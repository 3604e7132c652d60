"""Raw ATP v3 fake plugin: each step id names how it misbehaves after WORK_START.

See README.md for the list. Run: ``python fake_misbehaving.py --atp``.
"""

import os
import sys
import time
from collections.abc import Callable

import cbor2
from _fake_atp import CLIENT_DONE, SIGNAL, WORK_DONE, WORK_START, Wire, plugin_schema


def half_frame(run_id: str) -> bytes:
    frame = cbor2.dumps(
        {"id": WORK_DONE, "run_id": run_id, "data": {"output_id": "success", "output_data": {}}}
    )
    return frame[: len(frame) // 2]


def truncated_exit(wire: Wire, run_id: str) -> None:
    wire.write_raw(half_frame(run_id))
    os._exit(0)


def truncated_hang(wire: Wire, run_id: str) -> None:
    wire.write_raw(half_frame(run_id))
    wire.drain()
    sys.exit(0)


def nonfatal_then_done(wire: Wire, run_id: str) -> None:
    wire.error(run_id, "just a warning")
    wire.error("", "connection warning")
    wire.done(run_id)


def done_twice(wire: Wire, run_id: str) -> None:
    wire.done(run_id)
    wire.done(run_id)


def signal_back(wire: Wire, run_id: str) -> None:
    wire.send(SIGNAL, run_id, {"signal_id": "progress", "data": {"percent": 50}})
    wire.done(run_id)


def exit_now(wire: Wire, run_id: str) -> None:
    os.write(2, b"fake plugin: exiting with status 7\n")
    os._exit(7)


def ignore_client_done(wire: Wire, run_id: str) -> None:
    wire.drain()
    sys.exit(0)


def close_output_linger(wire: Wire, run_id: str) -> None:
    wire.done(run_id)
    os.close(1)
    os.close(2)
    time.sleep(300)  # stdin EOF and CLIENT_DONE are ignored
    sys.exit(0)


BEHAVIOURS: dict[str, Callable[[Wire, str], None]] = {
    "ok": lambda wire, run_id: wire.done(run_id),
    "garbage": lambda wire, run_id: wire.write_raw(b"Error while decoding CBOR: premature end"),
    "truncated-exit": truncated_exit,
    "truncated-hang": truncated_hang,
    "undeclared-output": lambda wire, run_id: wire.done(run_id, output_id="nope"),
    "unknown-run": lambda wire, run_id: wire.done("somebody-else"),
    "wrong-shape": lambda wire, run_id: wire.write(
        {"id": WORK_DONE, "run_id": run_id, "data": {}, "extra": True}
    ),
    "not-a-map": lambda wire, run_id: wire.write(42),
    "server-fatal": lambda wire, run_id: wire.error("", "server gave up", server_fatal=True),
    "step-fatal": lambda wire, run_id: wire.error(run_id, "step broke", step_fatal=True),
    "step-fatal-all": lambda wire, run_id: wire.error("", "all steps broke", step_fatal=True),
    "nonfatal-then-done": nonfatal_then_done,
    "done-twice": done_twice,
    "signal-back": signal_back,
    "engine-message": lambda wire, run_id: wire.send(CLIENT_DONE, "", {}),
    "unknown-id": lambda wire, run_id: wire.send(42, run_id, {}),
    "exit": exit_now,
    "after-client-done": lambda wire, run_id: None,  # answered once CLIENT_DONE arrives
    "ignore-client-done": ignore_client_done,
    "close-output-linger": close_output_linger,
    "go-style": lambda wire, run_id: wire.send(
        WORK_DONE,
        run_id,
        {"output_id": "success", "output_data": {"message": "from go"}, "step_id": "go-style"},
    ),
}


def main() -> int:
    wire = Wire()
    wire.handshake(plugin_schema(*BEHAVIOURS))
    deferred: list[str] = []
    while True:
        try:
            message = wire.read()
        except EOFError:
            return 0
        if message["id"] == CLIENT_DONE:
            for run_id in deferred:
                wire.done(run_id, "finished after CLIENT_DONE")
            return 0
        if message["id"] != WORK_START:
            continue
        run_id, step = message["run_id"], message["data"]["id"]
        if step == "after-client-done":
            deferred.append(run_id)
        BEHAVIOURS[step](wire, run_id)


if __name__ == "__main__":
    sys.exit(main())
