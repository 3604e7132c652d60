"""The docker and podman deployers against real engines, driven by the real ATP client."""

from __future__ import annotations

import gc
import os
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from container_support import (
    IMAGE_PREFIX,
    image,
    inspect,
    make_tls_files,
    our_containers,
    require_docker,
    require_podman,
    ssh_server,
    tcp_proxy_to,
)

from arcaflow_steps import DeploymentError, RemoteProtocolError
from arcaflow_steps.schema import validate
from arcaflow_steps_builtin.deployers import PluginConnection
from arcaflow_steps_builtin.deployers._protocols import deploy_cancelled
from arcaflow_steps_builtin.deployers._start_queue import StartQueue
from arcaflow_steps_builtin.deployers.docker import (
    DockerDeployer,
    DockerDeployerFactory,
    live_container_count,
    parse_duration,
)
from arcaflow_steps_builtin.deployers.podman import PodmanDeployer, PodmanDeployerFactory
from arcaflow_steps_builtin.plugin._atp import ATPClient

Deploy = Callable[..., Any]
#: Generous bound for "promptly" on a loaded 2-core machine.
PROMPT = 30.0


_CREATED: list[DockerDeployer | PodmanDeployer] = []


def _close_created() -> None:
    while _CREATED:
        _CREATED.pop().close()


@pytest.fixture(autouse=True)
def _close_deployers() -> Iterator[None]:
    """Close the deployers a test created (API clients, watchdogs, pending removals)."""
    yield
    _close_created()


@pytest.fixture
def engine(engine: str) -> Iterator[str]:
    """The conftest's engine; the deployers are closed before it looks for containers left.

    A closed connection's container may still be being removed by the engine; the deployer's
    close waits for that.
    """
    yield engine
    _close_created()


def _docker(config: dict[str, Any] | None = None) -> DockerDeployer:
    factory = DockerDeployerFactory()
    deployer = factory.create(validate(factory.configuration_schema(), config or {}))
    _CREATED.append(deployer)
    return deployer


def _podman(config: dict[str, Any] | None = None) -> PodmanDeployer:
    factory = PodmanDeployerFactory()
    deployer = factory.create(validate(factory.configuration_schema(), config or {}))
    _CREATED.append(deployer)
    return deployer


def _deployer(engine: str, config: dict[str, Any] | None = None) -> DockerDeployer | PodmanDeployer:
    return _docker(config) if engine == "docker" else _podman(config)


def _env_config(engine: str, env: dict[str, str]) -> dict[str, Any]:
    if engine == "docker":
        return {"deployment": {"container": {"Env": env}}}
    return {"deployment": {"container": {"Env": [f"{k}={v}" for k, v in env.items()]}}}


def _hello(connection: PluginConnection, name: str = "Arca") -> tuple[str, Any]:
    client = ATPClient(connection)
    try:
        client.handshake(timeout=20)
        result = client.start_run("r", "hello", {"name": name}).result(timeout=20)
    finally:
        client.close(timeout=5)
    return result.output_id, result.output_data


def test_hello_round_trip(engine: str) -> None:
    """A plugin image answers over ATP, ends with status 0 and leaves no container."""
    connection = _deployer(engine).deploy(image("plugin_steps"))
    try:
        assert ("success", {"message": "Hello, Arca!"}) == _hello(connection)
    finally:
        connection.close()
    assert "exit status 0" == connection.exit_status()
    assert engine in connection.description


def test_stderr_is_captured_apart_from_atp(engine: str) -> None:
    """Lots of stderr before the handshake neither breaks ATP nor fails the step."""
    # PYTHONVERBOSE makes the interpreter trace every import on stderr (tens of KiB).
    deployer = _deployer(engine, _env_config(engine, {"PYTHONVERBOSE": "1"}))
    connection = deployer.deploy(image("plugin_steps"))
    try:
        assert ("success", {"message": "Hello, Arca!"}) == _hello(connection)
    finally:
        connection.close()
    tail = connection.stderr_tail()
    assert "import " in tail
    assert len(tail) <= 16 * 1024 + 100


def test_early_exit_reports_stderr_and_status(engine: str) -> None:
    """A plugin that dies before its hello: the client fails, stderr and status say why."""
    connection = _deployer(engine).deploy(image("fake_exit_early"))
    try:
        with pytest.raises(RemoteProtocolError):
            ATPClient(connection).handshake(timeout=20)
        deadline = time.monotonic() + 10
        while connection.exit_status() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "exit status 3" == connection.exit_status()
        assert "fake plugin: cannot start, configuration missing\n" in connection.stderr_tail()
    finally:
        connection.close()


def test_close_removes_a_hanging_container(engine: str) -> None:
    """close() removes a container whose plugin ignores EOF, within its timeout."""
    connection = _deployer(engine).deploy(image("fake_misbehaving"))
    client = ATPClient(connection)
    client.handshake(timeout=20)
    client.start_run("r", "ignore-client-done", {})
    started = time.monotonic()
    connection.close(timeout=2.0)
    elapsed = time.monotonic() - started
    client.close(timeout=1)
    assert elapsed < 4.0
    connection.close()  # idempotent


@pytest.mark.docker
def test_docker_close_returns_once_the_plugin_ended(request: pytest.FixtureRequest) -> None:
    """close() returns when the plugin ended; the deployer's close() removes the container."""
    require_docker(request.config)
    deployer = _docker()
    connection = deployer.deploy(image("plugin_steps"))
    try:
        assert ("success", {"message": "Hello, Arca!"}) == _hello(connection)
    finally:
        connection.close()
    assert connection.has_ended()
    running = [name for name in our_containers("docker") if _is_running(name)]
    assert [] == running
    deployer.close()
    assert [] == our_containers("docker")
    assert 0 == live_container_count()
    assert "exit status 0" == connection.exit_status()


def _is_running(name: str) -> bool:
    """Return whether a container still runs (False once it is gone or has stopped)."""
    result = subprocess.run(
        ["docker", "inspect", "--format", "{{.State.Running}}", name],
        capture_output=True,
        text=True,
        check=False,
    )
    return result.returncode == 0 and result.stdout.strip() == "true"


@pytest.mark.docker
def test_docker_plugin_closing_its_output_is_still_stopped(
    request: pytest.FixtureRequest,
) -> None:
    """A plugin that closes stdout and stderr but runs on has not ended: close() removes it."""
    require_docker(request.config)
    connection = _docker().deploy(image("fake_misbehaving"))
    client = ATPClient(connection)
    client.handshake(timeout=20)
    result = client.start_run("r", "close-output-linger", {}).result(timeout=20)
    assert ("success", {"message": "ok"}) == (result.output_id, result.output_data)
    client.close(timeout=1.0)  # its output does not end: Docker keeps the stream open
    assert [connection.name] == [n for n in our_containers("docker") if _is_running(n)]
    assert not connection.has_ended()
    started = time.monotonic()
    connection.close(timeout=2.0)
    elapsed = time.monotonic() - started
    assert 1.0 <= elapsed < 4.0  # the grace period, then force removal
    assert [] == our_containers("docker")
    assert 0 == live_container_count()


@pytest.mark.docker
def test_docker_start_holds_its_place_until_the_plugin_wrote(
    request: pytest.FixtureRequest,
) -> None:
    """One start at a time: a deploy waits while the previous plugin has written nothing,
    goes on once that one is closed or has greeted, and gives up when cancelled."""
    require_docker(request.config)
    deployer = _docker()
    deployer._starts = StartQueue(1, hold_limit=60.0)  # one place, held until written
    silent = deployer.deploy(image("fake_silent"))  # never writes: keeps its place
    cancelled = threading.Event()
    outcomes: dict[str, Any] = {}

    def deploy(name: str, cancel: Callable[[], bool] = lambda: False) -> None:
        deploy_cancelled.set(cancel)
        try:
            outcomes[name] = deployer.deploy(image("plugin_steps"))
        except DeploymentError as exc:
            outcomes[name] = str(exc)

    given_up = threading.Thread(target=deploy, args=("given-up", cancelled.is_set))
    given_up.start()
    _wait_until(lambda: len(deployer._starts._waiting) == 1, "never queued")
    cancelled.set()
    given_up.join(PROMPT)
    assert "cancelled while waiting to start a container" == outcomes["given-up"]
    waiting = threading.Thread(target=deploy, args=("after-close",))
    waiting.start()
    _wait_until(lambda: len(deployer._starts._waiting) == 1, "never queued")
    assert "after-close" not in outcomes
    silent.close()
    waiting.join(PROMPT)
    greeted = outcomes["after-close"]
    try:
        client = ATPClient(greeted)
        client.handshake(timeout=20)  # its hello gives its place to the next start
        following = deployer.deploy(image("plugin_steps"))
        following.close()
        client.close(timeout=5)
    finally:
        greeted.close()
    deployer.close()
    assert [] == our_containers("docker")


def _wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + PROMPT
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.01)


@pytest.mark.docker
def test_docker_looks_an_image_up_once(request: pytest.FixtureRequest) -> None:
    """An image found once is not looked up again: removed meanwhile, the next deploy fails
    at container creation, not at the image check."""
    require_docker(request.config)
    tag = f"{IMAGE_PREFIX}/looked-up-once-{os.getpid()}:latest"
    subprocess.run(["docker", "tag", image("plugin_steps"), tag], check=True)
    try:
        deployer = _docker({"deployment": {"imagePullPolicy": "Never"}})
        connection = deployer.deploy(tag)
        connection.close()
    finally:
        subprocess.run(["docker", "rmi", tag], check=True, capture_output=True)
    with pytest.raises(DeploymentError, match=r"^cannot start a container of image .*No such"):
        deployer.deploy(tag)
    with pytest.raises(DeploymentError, match=r"is not present on the Docker daemon"):
        _docker({"deployment": {"imagePullPolicy": "Never"}}).deploy(tag)


def test_missing_image_with_never_fails_to_deploy(engine: str) -> None:
    """imagePullPolicy Never and a missing image: a DeploymentError that names both."""
    config = {"deployment": {"imagePullPolicy": "Never"}}
    with pytest.raises(DeploymentError, match=r"image 'arcaflow-steps-test/nope:latest' is not "):
        _deployer(engine, config).deploy("arcaflow-steps-test/nope:latest")


@pytest.mark.parametrize("policy", ["IfNotPresent", "Always"])
def test_refused_pull_fails_to_deploy(engine: str, policy: str) -> None:
    """A pull that the registry refuses is a DeploymentError naming image and policy."""
    config = {"deployment": {"imagePullPolicy": policy}}
    with pytest.raises(
        DeploymentError,
        match=rf"^cannot pull image '127.0.0.1:1/nope:latest' .*imagePullPolicy '{policy}'",
    ):
        _deployer(engine, config).deploy("127.0.0.1:1/nope:latest")


@pytest.mark.docker
@pytest.mark.parametrize("host", ["unix:///nonexistent/nobody.sock", "tcp://127.0.0.1:1"])
def test_unreachable_daemon_fails_to_deploy(host: str) -> None:
    """A daemon address nobody listens on is a DeploymentError with the address and a hint."""
    with pytest.raises(
        DeploymentError, match=rf"^cannot reach the Docker daemon at '{host}': .*is dockerd running"
    ):
        _docker({"connection": {"host": host}}).deploy(image("plugin_steps"))


@pytest.mark.docker
def test_remote_daemon_over_tcp_via_docker_host(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DOCKER_HOST=tcp://… reaches a daemon over TCP, attach stream and half-close included."""
    require_docker(request.config)
    with tcp_proxy_to("/var/run/docker.sock") as address, monkeypatch.context() as patch:
        patch.setenv("DOCKER_HOST", address)
        deployer = _docker()
        assert address == deployer.host
        connection = deployer.deploy(image("plugin_steps"))
        try:
            assert ("success", {"message": "Hello, TCP!"}) == _hello(connection, "TCP")
        finally:
            connection.close()
        assert "exit status 0" == connection.exit_status()
        deployer.close()
    assert [] == our_containers("docker")


@pytest.mark.docker
def test_docker_container_settings_reach_the_daemon(request: pytest.FixtureRequest) -> None:
    """Env, network mode, resources and mounts from the configuration are applied."""
    require_docker(request.config)
    deployer = _docker(
        {
            "deployment": {
                "container": {"Env": {"GREETING": "hi"}, "User": "0"},
                "host": {
                    "NetworkMode": "none",
                    "Memory": 256 * 1024 * 1024,
                    "PidsLimit": 64,
                    "Binds": ["/tmp:/host-tmp:ro"],
                    "CapDrop": ["NET_RAW"],
                },
            },
            "timeouts": {"http": "30s"},
        }
    )
    connection = deployer.deploy(image("plugin_steps"))
    try:
        details = inspect("docker", connection.name)
        config = details["Config"]
        host = details["HostConfig"]
        assert isinstance(config, dict)
        assert isinstance(host, dict)
        assert {"GREETING=hi", "PYTHONUNBUFFERED=1"} <= set(config["Env"])
        assert ["--atp"] == config["Cmd"]
        assert ("none", 256 * 1024 * 1024, 64, ["/tmp:/host-tmp:ro"], ["NET_RAW"], True) == (
            host["NetworkMode"],
            host["Memory"],
            host["PidsLimit"],
            host["Binds"],
            host["CapDrop"],
            host["AutoRemove"],
        )
        assert ("success", {"message": "Hello, Arca!"}) == _hello(connection)
    finally:
        connection.close()
    deployer.close()  # waits for the removal the daemon finishes after the plugin ended
    assert 0 == live_container_count()
    assert [] == our_containers("docker")


@pytest.mark.podman
def test_podman_container_settings_reach_podman(request: pytest.FixtureRequest) -> None:
    """Env, binds and network mode from the configuration are applied by podman run."""
    require_podman(request.config)
    deployer = _podman(
        {
            "podman": {"containerNamePrefix": "steps_test", "rngSeed": 7},
            "deployment": {
                "container": {"Env": ["GREETING=hi"]},
                "host": {"NetworkMode": "none", "Binds": ["/tmp:/host-tmp:ro"]},
            },
        }
    )
    connection = deployer.deploy(image("plugin_steps"))
    try:
        assert connection.name.startswith("steps_test_")
        client = ATPClient(connection)
        client.handshake(timeout=20)  # the container exists once the plugin answered
        details = inspect("podman", connection.name)
        config = details["Config"]
        host = details["HostConfig"]
        assert isinstance(config, dict)
        assert isinstance(host, dict)
        assert "GREETING=hi" in config["Env"]
        assert "none" == host["NetworkMode"]
        assert ["/tmp:/host-tmp:ro"] == [bind[: len("/tmp:/host-tmp:ro")] for bind in host["Binds"]]
        result = client.start_run("r", "hello", {"name": "Arca"}).result(timeout=20)
        client.close(timeout=5)
        assert ("success", {"message": "Hello, Arca!"}) == (result.output_id, result.output_data)
    finally:
        connection.close()
    assert [] == our_containers("podman")


@pytest.mark.podman
def test_missing_podman_executable_fails_to_deploy() -> None:
    """A podman path that does not exist is a DeploymentError naming it."""
    with pytest.raises(
        DeploymentError, match=r"^podman executable '/nonexistent/podman' not found"
    ):
        _podman({"podman": {"path": "/nonexistent/podman"}}).deploy(image("plugin_steps"))


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("15s", 15.0), ("100ms", 0.1), ("1m30s", 90.0), ("2h", 7200.0), ("1.5s", 1.5)],
)
def test_parse_duration(text: str, seconds: float) -> None:
    """Go duration strings of the timeouts.http setting become seconds."""
    assert seconds == pytest.approx(parse_duration(text))


def test_invalid_duration_is_refused_by_the_schema() -> None:
    """timeouts.http must be a Go duration."""
    factory = DockerDeployerFactory()
    with pytest.raises(ValueError, match=r"timeouts\.http"):
        validate(factory.configuration_schema(), {"timeouts": {"http": "soon"}})


# docker-py's ssh-client transport (docker.transport.sshconn.SSHSocket) never closes its socket
# object nor waits for the ssh process of each request; those leaks are not ours.
@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.docker
def test_remote_daemon_over_ssh_via_configuration(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """connection.host ssh://… reaches the daemon through the ssh command (one real hop)."""
    require_docker(request.config)
    pytest.importorskip("paramiko", reason="ssh:// needs docker[ssh] (paramiko)")
    with ssh_server(tmp_path) as (address, bin_dir), monkeypatch.context() as patch:
        patch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
        deployer = _docker({"connection": {"host": address}, "timeouts": {"http": "60s"}})
        connection = deployer.deploy(image("plugin_steps"))
        try:
            assert ("success", {"message": "Hello, SSH!"}) == _hello(connection, "SSH")
        finally:
            connection.close(timeout=20)
        assert "exit status 0" == connection.exit_status()
        deployer.close()
    gc.collect()  # let docker-py's leaked ssh sockets warn here, where it is ignored
    assert [] == our_containers("docker")


@pytest.mark.docker
def test_remote_daemon_over_tls_with_pem_configuration(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """connection.cacert/cert/key (PEM text, as in Arcaflow) authenticate a TLS daemon."""
    require_docker(request.config)
    files = make_tls_files(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(files["ca.pem"]))
    context.load_cert_chain(files["server.pem"], files["server.key"])
    context.verify_mode = ssl.CERT_REQUIRED
    with tcp_proxy_to("/var/run/docker.sock", tls=context) as address:
        connection_config = {
            "host": address,
            "cacert": files["ca.pem"].read_text(),
            "cert": files["client.pem"].read_text(),
            "key": files["client.key"].read_text(),
        }
        deployer = _docker({"connection": connection_config})
        connection = deployer.deploy(image("plugin_steps"))
        try:
            assert ("success", {"message": "Hello, TLS!"}) == _hello(connection, "TLS")
        finally:
            connection.close()
        assert "exit status 0" == connection.exit_status()
        deployer.close()
        untrusted = _docker({"connection": {**connection_config, "cert": None, "key": None}})
        with pytest.raises(DeploymentError, match=r"^cannot reach the Docker daemon at 'tcp://"):
            untrusted.deploy(image("plugin_steps"))
    assert [] == our_containers("docker")
