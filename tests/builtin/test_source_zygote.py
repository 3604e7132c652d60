"""Source zygotes: a plugin imported once per source, each run forked from there (no mocks)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from plugin_support import PLUGINS, ROOT, descendants, is_running, wait_gone
from test_plugin_cli import CLI

from arcaflow_steps import RemoteProtocolError
from arcaflow_steps.schema import validate
from arcaflow_steps_builtin.deployers._forkserver import close_all_fork_servers
from arcaflow_steps_builtin.deployers._process import ProcessConnection, live_connection_count
from arcaflow_steps_builtin.deployers.python import PythonDeployer, PythonDeployerFactory
from arcaflow_steps_builtin.plugin._atp import ATPClient

FACTS = str(PLUGINS / "plugin_import_facts.py")


def python_deployer() -> PythonDeployer:
    factory = PythonDeployerFactory()
    return factory.create(validate(factory.configuration_schema(), {}))


@pytest.fixture
def deployer() -> Iterator[PythonDeployer]:
    """A python deployer with a fork server of its own, closed after the test."""
    close_all_fork_servers()  # a fresh zygote: no source counted yet
    deployer = python_deployer()
    yield deployer
    deployer.close()


@pytest.fixture(autouse=True)
def _no_leftovers() -> Iterator[None]:
    yield
    close_all_fork_servers()
    assert wait_gone(descendants()) == set(), "processes left behind"
    assert live_connection_count() == 0


def facts(connection: ProcessConnection, seconds: float = 0.0) -> dict[str, Any]:
    """Run plugin_import_facts' step over ATP; return its output."""
    client = ATPClient(connection)
    try:
        client.handshake(30.0)
        result = client.start_run("r", "facts", {"seconds": seconds}).result(30.0)
        assert "success" == result.output_id
        return dict(result.output_data)
    finally:
        client.close(5.0)
        connection.close(5.0)


def test_runs_from_the_third_start_share_one_import(deployer: PythonDeployer) -> None:
    """The first two starts of a source import it themselves; from the third on, each run is
    a fork of one source zygote that imported it once: the import's pid is the zygote's, the
    module's counter starts from the imported value in every run, the run's directory is its
    own, and the zygote is one of our descendants until the fork server closes."""
    runs = [facts(deployer.deploy(FACTS)) for _ in range(5)]
    assert [run["pid"] for run in runs[:2]] == [run["import_pid"] for run in runs[:2]]
    source_zygote = runs[2]["import_pid"]
    assert [source_zygote] * 3 == [run["import_pid"] for run in runs[2:]]
    assert source_zygote not in {run["pid"] for run in runs}
    assert source_zygote in descendants()
    assert [1] * 5 == [run["runs"] for run in runs]
    assert [2] * 5 == [run["threads"] for run in runs]  # the main one and the step's
    assert all(run["cwd"] != runs[0]["cwd"] for run in runs[1:])
    assert all(not os.path.exists(run["cwd"]) for run in runs)
    assert not os.path.exists(runs[2]["import_cwd"])  # the zygote's own, removed after import
    deployer.close()
    close_all_fork_servers()
    assert set() == wait_gone({source_zygote})


def test_a_thread_started_at_import_means_no_preloading(
    deployer: PythonDeployer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A module that starts a thread at import cannot be forked from: every run imports it in
    its own process, and the thread runs there."""
    monkeypatch.setenv("FACTS_THREAD", "1")
    runs = [facts(deployer.deploy(FACTS)) for _ in range(4)]
    assert [run["pid"] for run in runs] == [run["import_pid"] for run in runs]
    assert [3] * 4 == [run["threads"] for run in runs]  # one more than without


def test_a_file_opened_at_import_means_no_preloading(
    deployer: PythonDeployer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A module that keeps a file open from its import is imported by every run, so each run
    reads the file through a descriptor of its own."""
    monkeypatch.setenv("FACTS_OPEN_FILE", "1")
    runs = [facts(deployer.deploy(FACTS)) for _ in range(4)]
    assert [run["pid"] for run in runs] == [run["import_pid"] for run in runs]
    expected = Path(FACTS).read_text().splitlines()[0]
    assert [expected] * 4 == [run["first_line"] for run in runs]


def test_print_at_import_fails_every_handshake(deployer: PythonDeployer) -> None:
    """A module printing at import is never preloaded: its text corrupts the ATP stream of
    the third and fourth start exactly as of the first."""
    for _ in range(4):
        connection = deployer.deploy(str(PLUGINS / "plugin_print_at_import.py"))
        client = ATPClient(connection)
        with pytest.raises(RemoteProtocolError) as excinfo:
            client.handshake(timeout=10.0)
        assert (
            f"plugin {connection.description}: expected the hello message {{version, schema}} "
            "(a CBOR map), got bytes b'ello fro'; stdout carried text 'Hello fro', so the "
            "plugin printed to stdout (e.g. at import time), which corrupts the ATP stream"
        ) == str(excinfo.value)
        client.close(5.0)
        connection.close(5.0)


def test_two_sources_do_not_share_a_source_zygote(deployer: PythonDeployer, tmp_path: Path) -> None:
    """Two copies of one plugin file are two sources: two source zygotes, two imports."""
    copies = []
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        copies.append(str(shutil.copy(FACTS, tmp_path / name)))
    import_pids = [
        [facts(deployer.deploy(copy))["import_pid"] for _ in range(3)][-1] for copy in copies
    ]
    assert import_pids[0] != import_pids[1]
    assert {*import_pids} <= descendants()


def test_a_killed_source_zygote_ends_its_runs_and_is_not_restarted(
    deployer: PythonDeployer,
) -> None:
    """SIGKILLing a source zygote ends the runs it forked (they die with it) with a note
    saying so; later starts of the source import it in their own process."""
    for _ in range(2):
        facts(deployer.deploy(FACTS))
    connection = deployer.deploy(FACTS)
    client = ATPClient(connection)
    client.handshake(30.0)
    handle = client.start_run("r", "facts", {"seconds": 60.0})
    source_zygote = parent_of(connection.pid)
    assert os.getpid() == parent_of(parent_of(source_zygote))  # us, zygote, source zygote
    os.kill(source_zygote, signal.SIGKILL)
    assert connection.wait_exited(10)
    assert (
        f"killed by SIGKILL (its source zygote, pid {source_zygote}, died)"
        == connection.exit_status()
    )
    error = handle.exception(30.0)
    assert isinstance(error, RemoteProtocolError)
    assert (
        f"plugin {connection.description}: stdout ended (EOF) before finishing run(s) 'r'; "
        f"killed by SIGKILL (its source zygote, pid {source_zygote}, died)"
    ) == str(error)
    client.close(5.0)
    connection.close(5.0)
    assert not is_running(connection.pid)
    after = facts(deployer.deploy(FACTS))
    assert after["pid"] == after["import_pid"]


def parent_of(pid: int) -> int:
    """Return the parent pid of ``pid``."""
    with open(f"/proc/{pid}/stat") as stat:
        raw = stat.read()
    return int(raw[raw.rindex(")") + 2 :].split()[1])


def children_of(pid: int) -> list[int]:
    """Return the children of ``pid`` (every thread's), or [] once it is gone."""
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return []
    found = []
    for task in tasks:
        with contextlib.suppress(OSError):
            found.extend(int(child) for child in (task / "children").read_text().split())
    return found


def start_cli(tmp_path: Path, steps: int, **env: str) -> subprocess.Popen[str]:
    """Start ``arcaflow-steps run`` with ``steps`` steps of plugin_import_facts (each waiting
    60 s), with its own (empty) TMPDIR and ``env`` added to its environment."""
    (tmp_path / "tmp").mkdir()
    definition = {
        "plugin": {"src": FACTS, "deployment_type": "python"},
        "step": "facts",
        "input": {"seconds": 60.0},
    }
    path = tmp_path / "steps.yaml"
    path.write_text(yaml.safe_dump({"steps": {f"s{i}": definition for i in range(steps)}}))
    return subprocess.Popen(
        [CLI, "run", "--format", "yaml", str(path)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "TMPDIR": str(tmp_path / "tmp"), **env},
    )


def test_sigkill_of_the_cli_leaves_nothing_of_a_source_zygote(tmp_path: Path) -> None:
    """After ``kill -9`` of the CLI running four steps of one source (the third and fourth
    forked by a source zygote), the source zygote, every plugin and every directory go."""
    process = start_cli(tmp_path, 4)
    deadline = time.monotonic() + 30
    while True:  # a grandchild of the CLI with two plugins of its own: the source zygote
        sources = [
            source
            for zygote in children_of(process.pid)
            for source in children_of(zygote)
            if len(children_of(source)) == 2
        ]
        if sources:
            break
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "no source zygote forked the last two steps"
        time.sleep(0.05)
    left = descendants(process.pid)
    process.kill()
    process.communicate(timeout=10)
    assert set() == wait_gone(left)
    assert [] == sorted(path.name for path in (tmp_path / "tmp").iterdir())


def test_sigkill_of_the_cli_while_a_source_zygote_imports_leaves_nothing(
    tmp_path: Path,
) -> None:
    """``kill -9`` of the CLI while a source zygote imports (4 s) ends everything at once, not
    after the import: the zygote waiting for it notices its client is gone. The import ran in
    a directory inside the run directory of the request that started it: none is left."""
    process = start_cli(tmp_path, 3, FACTS_IMPORT_SECONDS="4")
    deadline = time.monotonic() + 30
    while not list((tmp_path / "tmp").glob("*/.arcaflow-preload")):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "no source zygote started importing"
        time.sleep(0.02)
    left = descendants(process.pid)
    process.kill()
    process.communicate(timeout=10)
    assert set() == wait_gone(left, timeout=2.0)  # the import would take 4 s
    deadline = time.monotonic() + 10  # the zygote removes its requests' directories as it dies
    while list((tmp_path / "tmp").iterdir()) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert [] == sorted(path.name for path in (tmp_path / "tmp").iterdir())
