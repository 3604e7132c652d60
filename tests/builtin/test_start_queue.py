"""The docker deployer's start queue: first come, first served, bounded, cancellable."""

from __future__ import annotations

import threading
import time

import pytest

from arcaflow_steps import DeploymentError
from arcaflow_steps_builtin.deployers._protocols import deploy_cancelled
from arcaflow_steps_builtin.deployers._start_queue import StartQueue

PROMPT = 10.0


def _wait_until(condition: object, what: str) -> None:
    deadline = time.monotonic() + PROMPT
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, what
        time.sleep(0.005)


def test_places_are_given_in_the_order_asked() -> None:
    """With the place taken, waiters are admitted one by one in their arrival order."""
    queue = StartQueue(1, hold_limit=60.0)
    held = [queue.enter()]
    admitted: list[int] = []
    lock = threading.Lock()
    queued = threading.Semaphore(0)

    def waiter(index: int) -> None:
        queued.release()
        place = queue.enter()
        with lock:
            admitted.append(index)
        queue.leave(place)

    threads = []
    for index in range(6):
        thread = threading.Thread(target=waiter, args=(index,))
        thread.start()
        queued.acquire()
        _wait_until(lambda n=index + 1: len(queue._waiting) == n, "never queued")
        threads.append(thread)
    assert [] == admitted
    for place in held:
        queue.leave(place)
    for thread in threads:
        thread.join(PROMPT)
    assert [0, 1, 2, 3, 4, 5] == admitted


def test_at_most_bound_holders() -> None:
    """A third start waits while two hold their places, and gets one when a place is left."""
    queue = StartQueue(2, hold_limit=60.0)
    first, second = queue.enter(), queue.enter()
    got = threading.Event()
    thread = threading.Thread(target=lambda: (queue.enter(), got.set()))
    thread.start()
    _wait_until(lambda: len(queue._waiting) == 1, "never queued")
    assert not got.wait(0.3)
    queue.leave(first)
    assert got.wait(PROMPT)
    thread.join(PROMPT)
    queue.leave(first)  # idempotent
    queue.leave(second)


def test_a_place_held_too_long_is_given_to_the_next() -> None:
    """A start that never leaves (a plugin that never writes) holds at most hold_limit."""
    queue = StartQueue(1, hold_limit=0.5)
    queue.enter()
    started = time.monotonic()
    queue.enter()
    assert 0.4 <= time.monotonic() - started < 5.0


def test_a_cancelled_deploy_stops_waiting() -> None:
    """A deploy whose step is cancelled while it waits gives up with a DeploymentError."""
    queue = StartQueue(1, hold_limit=60.0)
    queue.enter()
    cancelled = threading.Event()
    errors: list[BaseException] = []

    def waiter() -> None:
        deploy_cancelled.set(cancelled.is_set)
        try:
            queue.enter()
        except DeploymentError as exc:
            errors.append(exc)

    thread = threading.Thread(target=waiter)
    thread.start()
    _wait_until(lambda: len(queue._waiting) == 1, "never queued")
    cancelled.set()
    thread.join(PROMPT)
    assert ["cancelled while waiting to start a container"] == [str(exc) for exc in errors]
    assert 0 == len(queue._waiting)


def test_a_deploy_cancelled_before_it_asks_waits_for_nothing() -> None:
    """A free place is taken even when cancelled (the caller checks before deploying)."""
    queue = StartQueue(1, hold_limit=60.0)
    token = deploy_cancelled.set(lambda: True)
    try:
        queue.enter()
        with pytest.raises(
            DeploymentError, match=r"^cancelled while waiting to start a container$"
        ):
            queue.enter()
    finally:
        deploy_cancelled.reset(token)
