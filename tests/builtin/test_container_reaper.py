"""Containers die with the process that started them: kill -9 of the CLI mid-step, in the
create/start windows, and a later run removing what a dead run left — against real engines."""

from __future__ import annotations

import os
import signal
import ssl
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from container_support import (
    containers_of_pid,
    exists,
    image,
    inspect,
    make_tls_files,
    owner_labels,
    plant,
    require_docker,
    require_podman,
    tcp_proxy_to,
    wait_until,
)
from plugin_support import descendants, wait_gone

from arcaflow_steps.schema import validate
from arcaflow_steps_builtin.deployers.docker import DockerDeployer, DockerDeployerFactory
from arcaflow_steps_builtin.deployers.podman import PodmanDeployer, PodmanDeployerFactory
from arcaflow_steps_builtin.plugin._atp import ATPClient

#: The promise: a killed run's containers are gone within this many seconds (measured: < 2).
KILL_BOUND = 10.0
#: Generous bound for slow engine operations on a loaded 2-core machine.
PROMPT = 30.0
PID = "org.arcaflow-steps.owner-pid"


def _deployer(engine: str, config: dict[str, Any] | None = None) -> DockerDeployer | PodmanDeployer:
    factory = DockerDeployerFactory() if engine == "docker" else PodmanDeployerFactory()
    return factory.create(validate(factory.configuration_schema(), config or {}))


def _watchdogs(root: int) -> set[int]:
    """Return the container watchdog processes among the descendants of ``root``."""
    found = set()
    for pid in descendants(root):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"_container_reaper" in cmdline:
            found.add(pid)
    return found


def _start_cli(
    tmp_path: Path,
    engine: str,
    step: str,
    step_input: dict[str, Any],
    deployment: Any = None,
    *,
    connection: Any = None,
    env: dict[str, str] | None = None,
) -> subprocess.Popen[str]:
    deploy: dict[str, Any] = {"deployer_name": engine}
    if deployment is not None:
        deploy["deployment"] = deployment
    if connection is not None:
        deploy["connection"] = connection
    definition = {
        "plugin": {"src": image("plugin_steps"), "deployment_type": "image"},
        "deploy": deploy,
        "step": step,
        "input": step_input,
    }
    path = tmp_path / "step.yaml"
    path.write_text(yaml.safe_dump(definition))
    return subprocess.Popen(
        [sys.executable, "-m", "arcaflow_steps.cli", "run", str(path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=None if env is None else {**os.environ, **env},
    )


def _kill_and_wait_gone(engine: str, process: subprocess.Popen[str]) -> float:
    """SIGKILL the CLI; return how long its containers took to go; no process may be left."""
    children = descendants(process.pid)
    assert 1 == len(_watchdogs(process.pid))
    process.kill()
    process.wait(PROMPT)
    took = wait_until(
        lambda: [] == containers_of_pid(engine, process.pid), KILL_BOUND, "containers left"
    )
    assert set() == wait_gone(children, KILL_BOUND), "processes left behind"
    return took


def test_containers_carry_their_owner(engine: str) -> None:
    """A container's labels name the deployer and the owner: pid, start, boot, ns, host."""
    deployer = _deployer(engine)
    connection = deployer.deploy(image("plugin_steps"))
    try:
        ATPClient(connection).handshake(timeout=PROMPT)
        config = inspect(engine, connection.name)["Config"]
        assert isinstance(config, dict)
        labels = config["Labels"]
        expected = {"org.arcaflow-steps.deployer": engine, **owner_labels(os.getpid())}
        assert expected == {key: labels[key] for key in expected}
    finally:
        connection.close()
        deployer.close()


def test_kill_9_mid_step_removes_the_container(engine: str, tmp_path: Path) -> None:
    """kill -9 of `arcaflow-steps run` while a plugin sleeps: the container goes in seconds."""
    with _start_cli(tmp_path, engine, "hang", {"seconds": 120}) as process:
        try:
            assert process.stderr is not None
            for line in process.stderr:
                if "-> running" in line:
                    break
            assert 1 == len(containers_of_pid(engine, process.pid))
            took = _kill_and_wait_gone(engine, process)
        finally:
            if process.poll() is None:
                process.kill()
    print(f"{engine}: container gone {took:.2f} s after kill -9")


@pytest.mark.docker
def test_kill_9_between_create_and_start_removes_the_container(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """kill -9 while a container is created but not started (startDelayMS): removed too."""
    require_docker(request.config)
    with _start_cli(tmp_path, "docker", "hang", {}, {"startDelayMS": 60000}) as process:
        try:
            wait_until(lambda: containers_of_pid("docker", process.pid) != [], PROMPT, "none")
            [name] = containers_of_pid("docker", process.pid)
            state = inspect("docker", name)["State"]
            assert isinstance(state, dict)
            assert "created" == state["Status"]
            _kill_and_wait_gone("docker", process)
        finally:
            if process.poll() is None:
                process.kill()


@pytest.mark.docker
def test_kill_9_over_tls_removes_the_container_and_the_key(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """kill -9 of a run using a TLS daemon (PEM text in deploy.connection): the watchdog
    reaches the daemon with the same files, removes the container, then the files (the
    client's private key) that the dead run's atexit hook could not."""
    require_docker(request.config)
    files = make_tls_files(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(files["ca.pem"]))
    context.load_cert_chain(files["server.pem"], files["server.key"])
    context.verify_mode = ssl.CERT_REQUIRED
    temp = tmp_path / "tmp"
    temp.mkdir()
    with tcp_proxy_to("/var/run/docker.sock", tls=context) as address:
        connection = {
            "host": address,
            "cacert": files["ca.pem"].read_text(),
            "cert": files["client.pem"].read_text(),
            "key": files["client.key"].read_text(),
        }
        with _start_cli(
            tmp_path, "docker", "hang", {"seconds": 120}, connection=connection,
            env={"TMPDIR": str(temp)},
        ) as process:  # fmt: skip
            try:
                assert process.stderr is not None
                for line in process.stderr:
                    if "-> running" in line:
                        break
                [tls_dir] = temp.glob("arcaflow-steps-docker-tls-*")
                assert {"ca.pem", "cert.pem", "key.pem"} == {p.name for p in tls_dir.iterdir()}
                _kill_and_wait_gone("docker", process)
            finally:
                if process.poll() is None:
                    process.kill()
    assert [] == list(temp.iterdir())


@pytest.mark.podman
def test_kill_9_while_podman_run_starts(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """kill -9 as soon as `podman run` is started: no container and no podman process stay."""
    require_podman(request.config)

    def podman_run_started(pid: int) -> bool:
        for child in descendants(pid):
            try:
                if b"podman\0run\0" in Path(f"/proc/{child}/cmdline").read_bytes():
                    return True
            except OSError:
                continue
        return False

    with _start_cli(tmp_path, "podman", "hang", {"seconds": 120}) as process:
        try:
            wait_until(lambda: podman_run_started(process.pid), PROMPT, "no podman run")
            _kill_and_wait_gone("podman", process)
            # The client may still have been creating it: the watchdog's second pass.
            time.sleep(2.0)
            assert [] == containers_of_pid("podman", process.pid)
        finally:
            if process.poll() is None:
                process.kill()


def test_a_later_run_removes_containers_of_ended_owners(engine: str) -> None:
    """A deployer's first use removes containers whose owner certainly ended (also created,
    never started; also a pid reused since) and keeps those of a live owner, of another host
    or boot, and those without full owner labels."""
    deployer_label = {"org.arcaflow-steps.deployer": engine}
    with subprocess.Popen(["sleep", "60"]) as ended:
        ended_labels = {**deployer_label, **owner_labels(ended.pid)}
        ended.kill()
    planted: dict[str, str] = {}
    with subprocess.Popen(["sleep", "120"]) as keeper:
        try:
            live_labels = {**deployer_label, **owner_labels(keeper.pid)}
            reused = {**live_labels, "org.arcaflow-steps.owner-start": "1"}
            planted = {
                "ended": plant(engine, ended_labels),
                "ended-created": plant(engine, ended_labels, start=False),
                "reused-pid": plant(engine, reused),
                "live": plant(engine, live_labels),
                "another-host": plant(
                    engine, {**ended_labels, "org.arcaflow-steps.owner-host": "elsewhere.example"}
                ),
                "another-boot": plant(
                    engine, {**ended_labels, "org.arcaflow-steps.owner-boot-id": "another-boot"}
                ),
                "pid-only": plant(engine, {**deployer_label, PID: ended_labels[PID]}),
            }
            deployer = _deployer(engine)
            try:
                connection = deployer.deploy(image("plugin_steps"))
                connection.close()
                removed = ("ended", "ended-created", "reused-pid")
                wait_until(
                    lambda: not any(exists(engine, planted[key]) for key in removed),
                    PROMPT,
                    "orphans left",
                )
            finally:
                deployer.close()
            kept = {key for key, container_id in planted.items() if exists(engine, container_id)}
            assert {"live", "another-host", "another-boot", "pid-only"} == kept
        finally:
            keeper.kill()
            for container_id in planted.values():  # one by one: podman stops at a missing one
                remove = [engine, "rm", "--force", container_id]
                subprocess.run(remove, capture_output=True, check=False)


@pytest.mark.podman
def test_a_later_run_ends_podman_clients_of_ended_owners(request: pytest.FixtureRequest) -> None:
    """An orphaned `podman run -i` (its owner ended; it would wait forever, even once its
    container is gone) is killed by a later run's sweep, and its container removed."""
    require_podman(request.config)
    with subprocess.Popen(["sleep", "60"]) as ended:
        labels = {"org.arcaflow-steps.deployer": "podman", **owner_labels(ended.pid)}
        ended.kill()
    name = f"arcaflow_test_orphan_{os.getpid()}"
    arguments = ["podman", "run", "-i", "--rm", "--name", name, "--entrypoint", "python3"]
    for key, value in labels.items():
        arguments += ["--label", f"{key}={value}"]
    arguments += [image("plugin_steps"), "-c", "import time; time.sleep(300)"]
    with subprocess.Popen(
        arguments, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    ) as client:
        try:
            wait_until(lambda: exists("podman", name), PROMPT, "the orphan never started")
            deployer = _deployer("podman")
            try:
                deployer.deploy(image("plugin_steps")).close()
                wait_until(lambda: client.poll() is not None, PROMPT, "the client still runs")
                wait_until(lambda: not exists("podman", name), PROMPT, "its container is left")
            finally:
                deployer.close()
            assert -signal.SIGKILL == client.returncode
        finally:
            client.kill()
            subprocess.run(["podman", "rm", "--force", name], capture_output=True, check=False)


def test_closing_the_deployer_ends_its_watchdog_only(engine: str) -> None:
    """A closed deployer's watchdog exits at once and removes nothing: the step's container
    keeps working until its connection closes it."""
    deployer = _deployer(engine)
    connection = deployer.deploy(image("plugin_steps"))
    client = ATPClient(connection)
    try:
        client.handshake(timeout=PROMPT)
        [watchdog] = _watchdogs(os.getpid())
        started = time.monotonic()
        deployer.close()
        assert set() == wait_gone({watchdog}, PROMPT)
        assert time.monotonic() - started < 5.0
        result = client.start_run("r", "hello", {"name": "still here"}).result(timeout=PROMPT)
        assert ("success", {"message": "Hello, still here!"}) == (
            result.output_id,
            result.output_data,
        )
    finally:
        client.close(timeout=5)
        connection.close()
        deployer.close()


def test_a_run_timeout_leaves_nothing(engine: str, tmp_path: Path) -> None:
    """`run --timeout` closing a step mid-way: exit 124, no container, no process left."""
    path = tmp_path / "step.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "plugin": {"src": image("plugin_steps"), "deployment_type": "image"},
                "deploy": {"deployer_name": engine},
                "step": "hang",
                "input": {"seconds": 120},
            }
        )
    )
    command = [sys.executable, "-m", "arcaflow_steps.cli", "run", "--timeout", "3", str(path)]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as process:
        watched: set[int] = set()
        while process.poll() is None and not watched:  # its watchdog, to see it end too
            watched = _watchdogs(process.pid)
            time.sleep(0.05)
        process.communicate(timeout=PROMPT)
    assert 124 == process.returncode
    assert 1 == len(watched)
    assert [] == containers_of_pid(engine, process.pid)
    assert set() == wait_gone(watched, PROMPT)


def test_a_sigint_mid_step_leaves_no_watchdog(engine: str, tmp_path: Path) -> None:
    """SIGINT to the CLI mid-step: it closes its steps and its watchdog; nothing is left."""
    with _start_cli(tmp_path, engine, "hang", {"seconds": 120}) as process:
        try:
            assert process.stderr is not None
            for line in process.stderr:
                if "-> running" in line:
                    break
            children = descendants(process.pid)
            assert 1 == len(_watchdogs(process.pid))
            process.send_signal(signal.SIGINT)
            process.communicate(timeout=PROMPT)
        finally:
            if process.poll() is None:
                process.kill()
    assert set() == wait_gone(children, PROMPT)
    assert [] == containers_of_pid(engine, process.pid)
