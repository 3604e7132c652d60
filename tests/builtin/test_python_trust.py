"""The python deployer runs only cached environments it can trust (issue 9 §6)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from plugin_support import GREETER_PROJECT, descendants, wait_gone

from arcaflow_steps import DeploymentError
from arcaflow_steps.schema import validate
from arcaflow_steps_builtin.deployers._forkserver import close_all_fork_servers
from arcaflow_steps_builtin.deployers._python_warm_up import plugin_step_interpreter
from arcaflow_steps_builtin.deployers.python import (
    PythonDeployer,
    PythonDeployerFactory,
    parse_python_source,
)
from arcaflow_steps_builtin.plugin._atp import ATPClient

SOURCE = f"arcaflow_plugin_greeter@file://{GREETER_PROJECT}"
#: Someone else (``nobody`` on most systems); the tests run as root and chown to them.
OTHER_UID = 65534


def python_deployer(**config: object) -> PythonDeployer:
    factory = PythonDeployerFactory()
    return factory.create(validate(factory.configuration_schema(), config))


@pytest.fixture(autouse=True)
def _no_leftovers() -> Iterator[None]:
    yield
    close_all_fork_servers()
    assert set() == wait_gone(descendants()), "processes left behind"


def plant(directory: Path, marker: Path) -> None:
    """Plant a complete-looking cached environment whose interpreter leaves ``marker``."""
    python = directory / "venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text(f"#!/bin/sh\ntouch {marker}\nexit 1\n")
    python.chmod(0o755)
    (directory / ".ready").write_text(SOURCE + "\n")


needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="chown to another uid needs root")


@needs_root
def test_an_environment_owned_by_someone_else_is_refused_never_run(tmp_path: Path) -> None:
    """A cached environment planted by another user is refused with its path, and its
    interpreter never runs (neither by the deployer nor by the warm-up)."""
    deployer = python_deployer(workdir=str(tmp_path / "work"))
    directory = deployer.venv_dir(parse_python_source(SOURCE))
    marker = tmp_path / "ran"
    plant(directory, marker)
    for path in (directory, *directory.rglob("*")):
        os.lchown(path, OTHER_UID, OTHER_UID)
    with pytest.raises(DeploymentError) as excinfo:
        deployer.deploy(SOURCE)
    assert (
        f"refusing the cached environment of python plugin {SOURCE!r}: {str(directory)!r} is "
        f"owned by uid {OTHER_UID}, not by us (uid 0); remove {str(directory)!r} or choose "
        "another deploy.workdir"
    ) == str(excinfo.value)
    definition = {
        "plugin": {"src": SOURCE, "deployment_type": "python"},
        "deploy": {"workdir": str(tmp_path / "work")},
    }
    assert plugin_step_interpreter(definition) is None
    assert not marker.exists()


def test_an_environment_others_can_write_is_refused(tmp_path: Path) -> None:
    """Ours, but with a directory writable by group or others on the way: refused."""
    deployer = python_deployer(workdir=str(tmp_path / "work"))
    directory = deployer.venv_dir(parse_python_source(SOURCE))
    marker = tmp_path / "ran"
    plant(directory, marker)
    bin_directory = directory / "venv" / "bin"
    bin_directory.chmod(0o777)
    with pytest.raises(DeploymentError) as excinfo:
        deployer.deploy(SOURCE)
    assert (
        f"refusing the cached environment of python plugin {SOURCE!r}: {str(bin_directory)!r} "
        f"is writable by group or others (mode 0777); remove {str(directory)!r} or choose "
        "another deploy.workdir"
    ) == str(excinfo.value)
    assert not marker.exists()


def test_a_new_environment_is_private(tmp_path: Path) -> None:
    """An environment the deployer builds is 0700 and runs the plugin."""
    deployer = python_deployer(workdir=str(tmp_path / "work"))
    try:
        connection = deployer.deploy(SOURCE)
        client = ATPClient(connection)
        try:
            assert "greet" in client.handshake(30.0).schema_data["steps"]
        finally:
            client.close(5.0)
            connection.close(5.0)
    finally:
        deployer.close()
    directory = deployer.venv_dir(parse_python_source(SOURCE))
    assert 0o700 == stat.S_IMODE(directory.stat().st_mode)


def test_a_workdir_that_cannot_be_created_is_a_deployment_error(tmp_path: Path) -> None:
    """A ``workdir`` where no environment can be made: a DeploymentError naming the key."""
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    deployer = python_deployer(workdir=str(blocker / "work"))
    directory = deployer.venv_dir(parse_python_source(SOURCE))
    with pytest.raises(DeploymentError) as excinfo:
        deployer.deploy(SOURCE)
    assert (
        f"cannot create the environment of python plugin {SOURCE!r} in {str(directory)!r}: "
        "Not a directory (deploy.workdir)"
    ) == str(excinfo.value)
