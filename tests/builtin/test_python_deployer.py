"""The python and command deployers against real plugin processes (no mocks)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from plugin_support import (
    GREETER_PACKAGE,
    GREETER_PROJECT,
    PLUGINS,
    descendants,
    is_running,
    make_git_repo,
    wait_gone,
)

from arcaflow_steps import DeploymentError
from arcaflow_steps.schema import validate
from arcaflow_steps_builtin.deployers import arcaflow_steps_deployers
from arcaflow_steps_builtin.deployers._forkserver import close_all_fork_servers
from arcaflow_steps_builtin.deployers._process import ProcessConnection, live_connection_count
from arcaflow_steps_builtin.deployers.command import CommandDeployerFactory
from arcaflow_steps_builtin.deployers.python import (
    PythonDeployer,
    PythonDeployerFactory,
    PythonSource,
    parse_python_source,
)
from arcaflow_steps_builtin.plugin._atp import ATPClient


def python_deployer(**config: object) -> PythonDeployer:
    factory = PythonDeployerFactory()
    return factory.create(validate(factory.configuration_schema(), config))


def greet(connection: ProcessConnection, name: str = "Arca") -> object:
    """Handshake and run the greeter's (or hello plugin's) single step over ATP."""
    client = ATPClient(connection)
    try:
        hello = client.handshake(30.0)
        step_id = next(iter(hello.schema_data["steps"]))
        return client.start_run("r", step_id, {"name": name}).result(30.0).output_data
    finally:
        client.close(5.0)
        connection.close(5.0)


@pytest.fixture(autouse=True)
def _no_leftovers() -> Iterator[None]:
    yield
    close_all_fork_servers()
    assert wait_gone(descendants()) == set(), "processes left behind"
    assert live_connection_count() == 0


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        pytest.param(
            "arcaflow-plugin-x@git+https://example.com/x.git@v1",
            PythonSource(
                source="arcaflow-plugin-x@git+https://example.com/x.git@v1",
                form="pip",
                module="arcaflow_plugin_x",
                requirement="git+https://example.com/x.git@v1",
            ),
            id="git",
        ),
        pytest.param(
            "pkg@file:///tmp/pkg.whl",
            PythonSource(
                source="pkg@file:///tmp/pkg.whl",
                form="pip",
                module="pkg",
                requirement="file:///tmp/pkg.whl",
            ),
            id="file",
        ),
        pytest.param(
            "arcaflow_plugin_x.main",
            PythonSource(
                source="arcaflow_plugin_x.main", form="module", module="arcaflow_plugin_x.main"
            ),
            id="module",
        ),
        pytest.param(
            str(PLUGINS / "plugin_hello.py"),
            PythonSource(
                source=str(PLUGINS / "plugin_hello.py"),
                form="path_file",
                path=str(PLUGINS / "plugin_hello.py"),
            ),
            id="file-path",
        ),
        pytest.param(
            str(GREETER_PACKAGE),
            PythonSource(
                source=str(GREETER_PACKAGE),
                form="path_package",
                module="arcaflow_plugin_greeter",
                path=str(GREETER_PACKAGE),
            ),
            id="package-path",
        ),
    ],
)
def test_parse_python_source(source: str, expected: PythonSource) -> None:
    """Each documented source form is recognised."""
    assert expected == parse_python_source(source)


def test_parse_python_source_rejects_nonsense() -> None:
    """A source of no known form fails with the valid forms listed."""
    with pytest.raises(DeploymentError, match=r"invalid python plugin source 'not a module!'"):
        parse_python_source("not a module!")
    with pytest.raises(DeploymentError, match=r"python plugin path './nowhere.py' does not exist"):
        parse_python_source("./nowhere.py")


@pytest.mark.parametrize("fork_server", [True, False], ids=["forked", "spawned"])
def test_local_forms_run_the_plugin(fork_server: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """A plugin file, a package directory and an importable module all run over ATP."""
    monkeypatch.setenv("PYTHONPATH", str(PLUGINS))
    deployer = python_deployer(forkServer=fork_server)
    try:
        assert {"message": "Hello, Arca!"} == greet(
            deployer.deploy(str(PLUGINS / "plugin_hello.py"))
        )
        assert {"message": "Hello, Arca!"} == greet(deployer.deploy(str(GREETER_PACKAGE)))
        assert {"message": "Hello, Arca!"} == greet(deployer.deploy("plugin_hello"))
    finally:
        deployer.close()


def test_missing_interpreter_is_a_deployment_error() -> None:
    """A pythonPath that does not exist fails the deploy with the configuration key named."""
    deployer = python_deployer(pythonPath="/nonexistent/python3")
    with pytest.raises(DeploymentError, match=r"interpreter '/nonexistent/python3' .*pythonPath"):
        deployer.deploy(str(PLUGINS / "plugin_hello.py"))


def test_git_source_installs_once_into_a_cached_venv(tmp_path: Path) -> None:
    """module@git+file:// is pip-installed once; later deploys reuse the venv."""
    url = make_git_repo(GREETER_PROJECT, tmp_path / "repo")
    source = f"arcaflow_plugin_greeter@{url}"
    deployer = python_deployer(workdir=str(tmp_path / "work"))
    try:
        assert {"message": "Hello, Arca!"} == greet(deployer.deploy(source))
        assert {"message": "Hello, Arca!"} == greet(deployer.deploy(source))
        venv = deployer.venv_dir(parse_python_source(source))
        assert 1 == len((venv / "installs.log").read_text().splitlines())
        again = python_deployer(workdir=str(tmp_path / "work"))
        assert {"message": "Hello, Arca!"} == greet(again.deploy(source))
        again.close()
        assert 1 == len((venv / "installs.log").read_text().splitlines())
    finally:
        deployer.close()


def test_pull_policy_always_reinstalls_once_per_deployer(tmp_path: Path) -> None:
    """modulePullPolicy: Always re-installs on a deployer's first deploy of a source only."""
    url = make_git_repo(GREETER_PROJECT, tmp_path / "repo")
    source = f"arcaflow_plugin_greeter@{url}"
    work = str(tmp_path / "work")
    first = python_deployer(workdir=work)
    first.ensure_venv(parse_python_source(source))
    always = python_deployer(workdir=work, modulePullPolicy="Always")
    always.ensure_venv(parse_python_source(source))
    always.ensure_venv(parse_python_source(source))
    log = always.venv_dir(parse_python_source(source)) / "installs.log"
    assert 2 == len(log.read_text().splitlines())


def test_file_source_installs_a_local_project(tmp_path: Path) -> None:
    """module@file:///project installs offline from a project directory."""
    source = f"arcaflow_plugin_greeter@file://{GREETER_PROJECT}"
    deployer = python_deployer(workdir=str(tmp_path / "work"))
    try:
        assert {"message": "Hello, Ada!"} == greet(deployer.deploy(source), "Ada")
    finally:
        deployer.close()


def test_concurrent_processes_never_race_on_the_venv(tmp_path: Path) -> None:
    """Two processes and two threads deploying one new source install it exactly once."""
    url = make_git_repo(GREETER_PROJECT, tmp_path / "repo")
    source = f"arcaflow_plugin_greeter@{url}"
    work = tmp_path / "work"
    script = textwrap.dedent(
        f"""
        import threading
        from arcaflow_steps_builtin.deployers.python import PythonDeployerFactory
        deployer = PythonDeployerFactory().create({{"workdir": {str(work)!r}}})
        def deploy():
            deployer.deploy({source!r}).close(5.0)
        threads = [threading.Thread(target=deploy) for _ in range(2)]
        for thread in threads: thread.start()
        for thread in threads: thread.join()
        deployer.close()
        """
    )
    processes = [subprocess.Popen([sys.executable, "-c", script]) for _ in range(2)]
    assert [0, 0] == [process.wait(120) for process in processes]
    venv = python_deployer(workdir=str(work)).venv_dir(parse_python_source(source))
    assert 1 == len((venv / "installs.log").read_text().splitlines())


def test_pip_failure_is_a_deployment_error(tmp_path: Path) -> None:
    """A git source that does not exist fails with pip's own explanation."""
    deployer = python_deployer(workdir=str(tmp_path / "work"))
    with pytest.raises(DeploymentError, match=r"error in pip installing .*nowhere"):
        deployer.deploy(f"nothing@git+file://{tmp_path}/nowhere")


WRITE_GRANDCHILD = """
import os, subprocess, sys, time
child = subprocess.Popen(["sleep", "60"])
open(sys.argv[1], "w").write(f"{os.getpid()} {child.pid}")
time.sleep(60)
"""


@pytest.mark.parametrize("fork_server", [True, False], ids=["forked", "spawned"])
def test_close_stops_the_whole_process_group(tmp_path: Path, fork_server: bool) -> None:
    """close() stops the plugin and everything it started, and removes its directory."""
    script = tmp_path / "grandchild.py"
    script.write_text(WRITE_GRANDCHILD.replace("sys.argv[1]", repr(str(tmp_path / "pids"))))
    deployer = python_deployer(forkServer=fork_server)
    connection = deployer.deploy(str(script))
    deadline = time.monotonic() + 10
    while not (tmp_path / "pids").exists() or not (tmp_path / "pids").read_text():
        assert time.monotonic() < deadline
        time.sleep(0.02)
    plugin_pid, grandchild_pid = map(int, (tmp_path / "pids").read_text().split())
    started = time.monotonic()
    connection.close(timeout=1.0)
    assert time.monotonic() - started < 5.0
    assert set() == wait_gone({plugin_pid, grandchild_pid})
    assert "killed by SIGTERM" == connection.exit_status()
    deployer.close()


IGNORE_SIGTERM = """
import signal, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
print("ready", flush=True)
time.sleep(60)
"""


def test_close_escalates_to_sigkill_within_the_timeout(tmp_path: Path) -> None:
    """A plugin that ignores SIGTERM is SIGKILLed; close() stays bounded."""
    script = tmp_path / "stubborn.py"
    script.write_text(IGNORE_SIGTERM)
    connection = (
        CommandDeployerFactory()
        .create({"appendAtpFlag": False})
        .deploy(f"{sys.executable} {script}")
    )
    assert b"ready\n" == connection.stdout.readline()
    started = time.monotonic()
    connection.close(timeout=0.5)
    assert time.monotonic() - started < 4.0
    assert "killed by SIGKILL" == connection.exit_status()


def test_stderr_tail_is_bounded(tmp_path: Path) -> None:
    """A noisy plugin never blocks on stderr; only the last 16 KiB are kept."""
    script = tmp_path / "noisy.py"
    script.write_text("import sys\nsys.stderr.write('x' * 1_000_000 + 'END')\n")
    connection = (
        CommandDeployerFactory()
        .create({"appendAtpFlag": False})
        .deploy(f"{sys.executable} {script}")
    )
    assert connection.wait_exited(10.0)
    connection.close(1.0)
    tail = connection.stderr_tail()
    assert tail.endswith("END")
    assert tail.startswith("[983619 earlier bytes dropped]\n")
    assert "exit status 0" == connection.exit_status()


def test_command_deployer_runs_an_atp_executable() -> None:
    """The command deployer runs any argv with --atp appended, in a temporary directory."""
    connection = (
        CommandDeployerFactory()
        .create({})
        .deploy(f"{sys.executable} {PLUGINS / 'plugin_hello.py'}")
    )
    assert {"message": "Hello, Arca!"} == greet(connection)


def test_command_deployer_reports_a_missing_executable() -> None:
    """An executable that does not exist fails the deploy and says which."""
    with pytest.raises(DeploymentError, match=r"cannot start /nonexistent/plugin --atp: "):
        CommandDeployerFactory().create({}).deploy("/nonexistent/plugin")


class Interrupt(BaseException):
    """What the CLI's signal handler raises in the main thread (``Interrupted``)."""


@pytest.mark.parametrize(
    ("kind", "deploy"),
    [
        ("python", lambda: python_deployer().deploy(str(PLUGINS / "plugin_hello.py"))),
        (
            "python",
            lambda: python_deployer(forkServer=False).deploy(str(PLUGINS / "plugin_hello.py")),
        ),
        (
            "command",
            lambda: (
                CommandDeployerFactory()
                .create({})
                .deploy(f"{sys.executable} {PLUGINS / 'plugin_hello.py'}")
            ),
        ),
    ],
    ids=["python-forked", "python-spawned", "command"],
)
def test_an_interrupt_the_moment_the_temp_dir_is_made_leaves_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str, deploy: Any
) -> None:
    """An exception raised the moment a plugin's temporary directory was made (a signal
    handler runs between two bytecodes, here right after the mkdir; issue 9 §4) still removes
    it: the deployer knew its path before it existed."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    mkdir = os.mkdir

    def mkdir_then_interrupt(path: Any, *args: Any, **kwargs: Any) -> None:
        mkdir(path, *args, **kwargs)
        if os.path.basename(path).startswith(f"arcaflow-steps-{kind}-"):
            raise Interrupt

    monkeypatch.setattr(os, "mkdir", mkdir_then_interrupt)
    with pytest.raises(Interrupt):
        deploy()
    monkeypatch.undo()
    assert [] == list(tmp_path.iterdir())


def test_an_interrupt_while_the_temp_dir_is_first_resolved_leaves_no_probe_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first deploy resolves the temporary directory, which creates and removes a probe
    file; a signal handler's exception in the main thread (here right after the probe file was
    opened) cannot leave it behind: the probe runs on a helper thread."""
    monkeypatch.setattr(tempfile, "tempdir", None)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    real_open = os.open

    def open_then_interrupt(path: Any, *args: Any, **kwargs: Any) -> int:
        fd = real_open(path, *args, **kwargs)
        if (
            os.path.dirname(path) == str(tmp_path)
            and threading.current_thread() is threading.main_thread()
        ):
            os.close(fd)
            raise Interrupt
        return fd

    monkeypatch.setattr(os, "open", open_then_interrupt)
    deployer = python_deployer(forkServer=False)
    connection = deployer.deploy(str(PLUGINS / "plugin_hello.py"))
    connection.close(5.0)
    deployer.close()
    monkeypatch.undo()
    assert [] == list(tmp_path.iterdir())


def test_deployers_hook_offers_python_and_command() -> None:
    """The hook registers python and command deployers with their deployment types."""
    names = {(f.deployer_name, f.deployment_type) for f in arcaflow_steps_deployers()}
    assert {("python", "python"), ("command", "command")} <= names


def test_fork_server_close_kills_its_children() -> None:
    """Closing a deployer's fork server (the zygote) kills plugins it forked."""
    deployer = python_deployer()
    connection = deployer.deploy(str(PLUGINS / "plugin_hello.py"))
    pid = connection.pid
    assert is_running(pid)
    deployer.close()
    assert set() == wait_gone({pid})
    connection.close(1.0)
    assert connection.exit_status() == "killed by SIGKILL"


def test_spawned_plugin_gets_a_fresh_temporary_directory() -> None:
    """The plugin's working directory is a temporary directory, removed on close."""
    deployer = python_deployer(forkServer=False)
    connection = deployer.deploy(str(PLUGINS / "plugin_hello.py"))
    cwd = os.readlink(f"/proc/{connection.pid}/cwd")
    assert Path(cwd).name.startswith("arcaflow-steps-python-")
    connection.close(5.0)
    assert not Path(cwd).exists()


def test_threads_deploying_concurrently_share_one_fork_server() -> None:
    """Concurrent deploys through one deployer all succeed (one zygote serves them)."""
    deployer = python_deployer()
    results: list[object] = []
    threads = [
        threading.Thread(
            target=lambda: results.append(greet(deployer.deploy(str(PLUGINS / "plugin_hello.py"))))
        )
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    deployer.close()
    assert [{"message": "Hello, Arca!"}] * 8 == results


def test_deployers_of_one_interpreter_share_a_fork_server(tmp_path: Path) -> None:
    """Two configurations with the same interpreter use one zygote, closed with the last."""
    first = python_deployer()
    second = python_deployer(workdir=str(tmp_path))
    assert {"message": "Hello, Arca!"} == greet(first.deploy(str(PLUGINS / "plugin_hello.py")))
    assert {"message": "Hello, Arca!"} == greet(second.deploy(str(PLUGINS / "plugin_hello.py")))
    zygotes = descendants()
    assert 1 == len(zygotes)
    first.close()
    assert zygotes == descendants()
    second.close()
    assert set() == wait_gone(zygotes)


def test_kill_cuts_a_graceful_close_short(tmp_path: Path) -> None:
    """kill() from another thread ends a close() that is still waiting out its grace."""
    script = tmp_path / "stubborn.py"
    script.write_text(IGNORE_SIGTERM)
    connection = (
        CommandDeployerFactory()
        .create({"appendAtpFlag": False})
        .deploy(f"{sys.executable} {script}")
    )
    assert b"ready\n" == connection.stdout.readline()
    closer = threading.Thread(target=connection.close, args=(30.0,))
    started = time.monotonic()
    closer.start()
    time.sleep(0.2)
    connection.kill()
    closer.join(10)
    assert not closer.is_alive()
    assert time.monotonic() - started < 5
    assert "killed by SIGKILL" == connection.exit_status()


def test_container_deployers_load_only_when_used() -> None:
    """Listing deployers does not import the docker/podman modules; using one does."""
    script = textwrap.dedent(
        """
        import sys
        from arcaflow_steps_builtin.deployers import arcaflow_steps_deployers
        factories = {f.deployer_name: f for f in arcaflow_steps_deployers()}
        print(sorted(factories), "arcaflow_steps_builtin.deployers.docker" in sys.modules)
        factories["docker"].configuration_schema()
        print("arcaflow_steps_builtin.deployers.docker" in sys.modules)
        """
    )
    completed = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    assert "['command', 'docker', 'podman', 'python'] False\nTrue\n" == completed.stdout
