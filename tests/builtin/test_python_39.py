"""Python plugins on the oldest interpreter the SDK supports (3.9), forked or spawned."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from plugin_support import PLUGINS, descendants, wait_gone

from arcaflow_steps.schema import validate
from arcaflow_steps_builtin.deployers._forkserver import close_all_fork_servers
from arcaflow_steps_builtin.deployers.python import PythonDeployer, PythonDeployerFactory
from arcaflow_steps_builtin.plugin._atp import ATPClient

PY39 = str(PLUGINS / "plugin_py39.py")


def python_deployer(**config: object) -> PythonDeployer:
    factory = PythonDeployerFactory()
    return factory.create(validate(factory.configuration_schema(), config))


@pytest.fixture(autouse=True)
def _no_leftovers() -> Iterator[None]:
    yield
    close_all_fork_servers()
    assert set() == wait_gone(descendants()), "processes left behind"


def _python39() -> str | None:
    candidates = sorted(Path.home().glob(".pyenv/versions/3.9*/bin/python3.9"))
    found = shutil.which("python3.9")
    return str(candidates[-1]) if candidates else found


@pytest.fixture(scope="session")
def python39(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A Python 3.9 venv with arcaflow-plugin-sdk 0.14.3 (the oldest Python the SDK runs on)."""
    base = _python39()
    if base is None:
        pytest.skip("no Python 3.9 interpreter (pyenv or python3.9 on PATH)")
    venv = tmp_path_factory.mktemp("py39") / "venv"
    subprocess.run([base, "-m", "venv", str(venv)], check=True, capture_output=True)
    python = str(venv / "bin" / "python")
    subprocess.run(
        [python, "-m", "pip", "install", "--quiet", "arcaflow-plugin-sdk==0.14.3"],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return python


@pytest.mark.timeout(120)
@pytest.mark.parametrize("fork_server", [True, False], ids=["forked", "spawned"])
def test_a_python_39_plugin_runs(python39: str, fork_server: bool) -> None:
    """A plugin on Python 3.9 runs, forked from a 3.9 zygote or spawned."""
    deployer = python_deployer(pythonPath=python39, forkServer=fork_server)
    try:
        connection = deployer.deploy(PY39)
        client = ATPClient(connection)
        try:
            client.handshake(30.0)
            result = client.start_run("r", "hello-world", {"name": "Ada"}).result(30.0)
        finally:
            client.close(5.0)
            connection.close(5.0)
    finally:
        deployer.close()
    assert {"message": "Hello, Ada!", "python": "3.9"} == result.output_data
    assert sys.version_info[:2] != (3, 9)  # the point: not the interpreter running the tests
