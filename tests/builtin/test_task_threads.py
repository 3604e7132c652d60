"""Task threads run on reused workers (``arcaflow_steps_builtin._task_threads``): each task
behaves as a thread of its own would, and no worker outlives its idle time."""

from __future__ import annotations

import threading
import time

import pytest

from arcaflow_steps_builtin._task_threads import IDLE_NAME, IDLE_SECONDS, TaskThread


def workers_named(name: str) -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == name]


def test_tasks_one_after_another_share_one_worker() -> None:
    seen: list[tuple[int, str]] = []

    def record() -> None:
        seen.append((threading.get_ident(), threading.current_thread().name))

    for index in range(5):
        task = TaskThread(record, name=f"test-task-{index}")
        task.start()
        task.join(5)
        assert not task.is_alive()
    assert 1 == len({ident for ident, _name in seen})
    assert [f"test-task-{index}" for index in range(5)] == [name for _ident, name in seen]


def test_a_blocked_task_does_not_hold_up_the_next() -> None:
    release = threading.Event()
    blocked = TaskThread(release.wait, name="test-blocked", args=(10,))
    blocked.start()
    other = TaskThread(lambda: None, name="test-other")
    other.start()
    other.join(5)
    assert not other.is_alive()
    assert blocked.is_alive()
    release.set()
    blocked.join(5)
    assert not blocked.is_alive()


def test_start_join_and_is_current_behave_as_a_threads() -> None:
    inside: list[bool] = []
    task = TaskThread(lambda: inside.append(task.is_current()), name="test-current")
    assert (False, False) == (task.started, task.is_alive())
    task.join()  # never started: returns at once
    task.start()
    task.join(5)
    assert [True] == inside
    assert not task.is_current()
    assert task.started
    with pytest.raises(RuntimeError, match="only be started once"):
        task.start()


def test_an_exception_goes_to_the_threading_excepthook(monkeypatch: pytest.MonkeyPatch) -> None:
    hooked: list[tuple[str, str, str]] = []

    def hook(args: threading.ExceptHookArgs) -> None:
        name = args.thread.name if args.thread else ""
        hooked.append((args.exc_type.__name__, str(args.exc_value), name))

    monkeypatch.setattr(threading, "excepthook", hook)

    def fail() -> None:
        raise ValueError("boom")

    task = TaskThread(fail, name="test-fail")
    task.start()
    task.join(5)
    assert not task.is_alive()
    assert [("ValueError", "boom", "test-fail")] == hooked
    after = TaskThread(lambda: None, name="test-after")  # the worker survived
    after.start()
    after.join(5)
    assert not after.is_alive()


def test_an_idle_worker_ends_soon() -> None:
    task = TaskThread(lambda: None, name="test-idle")
    task.start()
    task.join(5)
    deadline = time.monotonic() + IDLE_SECONDS + 2
    while workers_named(IDLE_NAME) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert [] == workers_named(IDLE_NAME)
    assert [] == workers_named("test-idle")
