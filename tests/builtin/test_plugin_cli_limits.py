"""`arcaflow-steps run` at the host's limits: few descriptors, signals at any moment (issue 9
§4). Each run is a real CLI process; nothing may be left: no process, no temp dir."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from plugin_support import HELLO, ROOT, descendants, wait_gone

_BESIDE = Path(sys.executable).with_name("arcaflow-steps")
CLI = str(_BESIDE) if _BESIDE.exists() else (shutil.which("arcaflow-steps") or "arcaflow-steps")
PRLIMIT = shutil.which("prlimit")
needs_prlimit = pytest.mark.skipif(PRLIMIT is None, reason="prlimit (util-linux) not installed")
#: What a step that found no descriptor left reports (the python deployer, forked).
EMFILE_REASON = (
    "too many open files (the limit is 256; run fewer steps at once with --parallelism, or "
    "raise it with ulimit -n)"
)


@pytest.fixture(autouse=True)
def _no_leftovers() -> Iterator[None]:
    yield
    assert set() == wait_gone(descendants()), "processes left behind"


@pytest.fixture
def temp(tmp_path: Path) -> Path:
    """The TMPDIR of the CLI under test: empty again when the run is over."""
    path = tmp_path / "tmp"
    path.mkdir()
    return path


def hello_steps(tmp_path: Path, count: int, **deploy: object) -> str:
    steps = {
        f"s{i}": {
            "plugin": {"src": HELLO, "deployment_type": "python"},
            "input": {"name": f"n{i}"},
            **({"deploy": {"deployer_name": "python", **deploy}} if deploy else {}),
        }
        for i in range(count)
    }
    path = tmp_path / "steps.yaml"
    path.write_text(yaml.safe_dump({"steps": steps}))
    return str(path)


def limited_run(temp: Path, *args: str, nofile: int = 256) -> subprocess.CompletedProcess[str]:
    assert PRLIMIT is not None
    return subprocess.run(
        [PRLIMIT, f"--nofile={nofile}:{nofile}", CLI, "run", "--format", "json", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "TMPDIR": str(temp)},
    )


@needs_prlimit
@pytest.mark.timeout(150)
def test_many_plugin_steps_wait_for_descriptors(tmp_path: Path, temp: Path) -> None:
    """128 plugin steps under a limit of 256 open files all succeed: the CLI runs as many at
    once as the limit allows and says so; no traceback, no temp dir left."""
    completed = limited_run(temp, hello_steps(tmp_path, 128))
    assert 0 == completed.returncode, completed.stderr
    results = json.loads(completed.stdout)
    assert {("outputs", "success"): 128} == Counter(
        (result["stage"], result["output_id"]) for result in results.values()
    )
    assert "*     running at most 32 steps at once (open file limit)" in completed.stderr
    assert "Traceback" not in completed.stderr
    assert [] == list(temp.iterdir())


@needs_prlimit
@pytest.mark.timeout(150)
@pytest.mark.parametrize(
    ("fork_server", "prefix"),
    [
        (True, f"fork server for {sys.executable!r} cannot open pipes for a plugin: "),
        (False, f"cannot start python {HELLO}: "),
    ],
    ids=["forked", "spawned"],
)
def test_steps_beyond_the_descriptor_limit_fail_cleanly(
    tmp_path: Path, temp: Path, fork_server: bool, prefix: str
) -> None:
    """With --parallelism past the limit, the steps that find no descriptor end deploy_failed
    with the reason and what to do (exit 3); the rest succeed; no traceback, no temp dir."""
    completed = limited_run(
        temp, "--parallelism", "128", hello_steps(tmp_path, 128, forkServer=fork_server)
    )
    assert 3 == completed.returncode, completed.stderr
    outcomes = Counter(
        (result["stage"], result["output_id"], str(result["output_data"].get("error")))
        for result in json.loads(completed.stdout).values()
    )
    failed = ("deploy_failed", "error", prefix + EMFILE_REASON)
    assert {("outputs", "success", "None"), failed} >= set(outcomes), outcomes
    assert outcomes[failed] > 0
    assert "Traceback" not in completed.stderr
    assert [] == list(temp.iterdir())
