"""Pipes close on reusable helper threads: a close stuck behind a blocked reader costs its
caller at most the wait, and does not hold up the next close."""

from __future__ import annotations

import os
import threading
import time

from arcaflow_steps_builtin.deployers._pipe_closer import HELPER_NAME, close_pipes


def _helpers() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == HELPER_NAME]


def test_helpers_are_reused_between_closes() -> None:
    """A second close right after the first is served by the same, now idle, helper."""
    for _ in range(5):
        read, write = os.pipe()
        readers = [os.fdopen(read, "rb"), os.fdopen(write, "wb")]
        close_pipes(readers, 5.0)
        assert all(pipe.closed for pipe in readers)
    assert len(_helpers()) <= 1


def test_a_close_blocked_by_a_reader_is_waited_for_a_bounded_time() -> None:
    """A reader blocked in ``read`` holds the pipe's lock: its close returns after the wait,
    and the next close still completes at once on another helper; once the writer's end
    closes, the blocked close finishes too."""
    read, write = os.pipe()
    blocked = os.fdopen(read, "rb")
    reading = threading.Thread(target=blocked.read, daemon=True)
    reading.start()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and "read" not in _wchan(reading):
        time.sleep(0.01)
    started = time.monotonic()
    close_pipes([blocked], 0.2)
    assert 0.15 < time.monotonic() - started < 2.0
    assert not blocked.closed
    other_read, other_write = os.pipe()
    others = [os.fdopen(other_read, "rb"), os.fdopen(other_write, "wb")]
    started = time.monotonic()
    close_pipes(others, 5.0)
    assert time.monotonic() - started < 1.0
    assert all(pipe.closed for pipe in others)
    os.close(write)  # EOF: the reader returns, the stuck close goes through
    reading.join(5)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not blocked.closed:
        time.sleep(0.01)
    assert blocked.closed


def _wchan(thread: threading.Thread) -> str:
    """Return what the thread waits on in the kernel (``pipe_read`` while blocked in it)."""
    try:
        with open(f"/proc/self/task/{thread.native_id}/wchan") as wchan:
            return wchan.read()
    except OSError:
        return ""
