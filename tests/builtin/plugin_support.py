"""Helpers shared by the plugin provider and python deployer tests (not a test module)."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

import arcaflow_steps_builtin.plugin as plugin_module
from arcaflow_steps import Registry, StepExecution, StepResult, StepRunner, prepare_step
from arcaflow_steps_builtin.deployers import _hooks as deployers_module
from arcaflow_steps_builtin.deployers._process import live_connection_count

ROOT = Path(__file__).resolve().parents[2]
PLUGINS = ROOT / "tests" / "plugins"
EXAMPLES = ROOT / "examples"
GREETER_PROJECT = EXAMPLES / "plugins" / "greeter"
GREETER_PACKAGE = GREETER_PROJECT / "arcaflow_plugin_greeter"


STEPS = str(PLUGINS / "plugin_steps.py")
HELLO = str(PLUGINS / "plugin_hello.py")
#: Generous bound for "promptly" on a loaded 2-core machine.
PROMPT = 20.0


@pytest.fixture
def registry() -> Iterator[Registry]:
    """A fresh registry with the plugin provider and the built-in deployers."""
    registry = Registry.from_plugins([plugin_module, deployers_module])
    yield registry
    registry.close()
    assert set() == wait_gone(descendants()), "processes left behind"
    assert 0 == live_connection_count()


@pytest.fixture
def runner() -> Iterator[StepRunner]:
    """A step runner, closed after the test."""
    with StepRunner(close_timeout=10.0) as runner:
        yield runner


def plugin(source: str = STEPS, **extra: Any) -> dict[str, Any]:
    """Return a ``plugin:`` provider keyword for the python deployer."""
    return {"src": source, "deployment_type": "python", **extra}


def run(
    registry: Registry,
    runner: StepRunner,
    definition: Mapping[str, Any],
    *,
    step_id: str = "s",
    during: Callable[[StepExecution], None] | None = None,
) -> StepResult:
    """Prepare and run one step; ``during`` acts on it while it runs."""
    execution = runner.start(prepare_step(registry, step_id, definition))
    if during is not None:
        during(execution)
    return execution.wait(PROMPT)


def wait_for_stage(execution: StepExecution, stage: str) -> None:
    """Wait (bounded) until the step is in ``stage``."""
    deadline = time.monotonic() + PROMPT
    while execution.current_stage() != stage:
        assert time.monotonic() < deadline, f"never reached {stage}"
        time.sleep(0.01)


def _stat(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # comm may contain spaces; fields after the closing parenthesis are fixed.
    return raw[raw.rindex(")") + 2 :].split()


def is_running(pid: int) -> bool:
    """Return whether ``pid`` exists and is not a zombie."""
    fields = _stat(pid)
    return fields is not None and fields[0] not in ("Z", "X")


def descendants(root: int | None = None) -> set[int]:
    """Return the live (non-zombie) descendants of ``root`` (default: this process)."""
    root = os.getpid() if root is None else root
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        fields = _stat(int(entry))
        if fields is None or fields[0] in ("Z", "X"):
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
    found: set[int] = set()
    todo = [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def wait_gone(pids: set[int], timeout: float = 5.0) -> set[int]:
    """Wait until none of ``pids`` runs; return those still running after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        alive = {pid for pid in pids if is_running(pid)}
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.02)


def make_git_repo(source: Path, destination: Path) -> str:
    """Copy a project into a new git repository and return its ``git+file://`` URL."""
    subprocess.run(["cp", "-r", str(source), str(destination)], check=True)
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    for args in (["init", "-q"], ["add", "."], ["commit", "-q", "-m", "plugin"]):
        subprocess.run(["git", *args], cwd=destination, check=True, env=env)
    return f"git+file://{destination}"


def marked(marker: str) -> set[int]:
    """Return the live processes with ``marker`` in their command line, wherever they are."""
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            argv = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if marker.encode() in argv and is_running(int(entry)):
            found.add(int(entry))
    return found
