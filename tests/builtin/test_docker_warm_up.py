"""The docker side of the ``plugin`` kind's warm-up: the probe's container starts first, the
deployer the plugin provider creates adopts it, and nothing of it outlives the run."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from container_support import containers_of_pid, image, our_containers, require_docker

from arcaflow_steps import DeploymentError
from arcaflow_steps.schema import validate
from arcaflow_steps_builtin.deployers._docker_warm_up import (
    ADOPTABLE,
    Prestarts,
    docker_step_target,
    prestart_targets,
    warm_up_docker_steps,
)
from arcaflow_steps_builtin.deployers.docker import DockerDeployer, DockerDeployerFactory
from arcaflow_steps_builtin.plugin._atp import ATPClient

HELLO = image("plugin_hello")
STEPS = image("plugin_steps")
PROMPT = 30.0


def step(src: Any = HELLO, deployment_type: Any = "image", **extra: Any) -> dict[str, Any]:
    return {
        "plugin": {"src": src, "deployment_type": deployment_type},
        "deploy": {"deployer_name": "docker"},
        **extra,
    }


@pytest.mark.parametrize(
    ("definition", "expected"),
    [
        (step(), (HELLO, {})),
        (
            step(deploy={"deployer_name": "docker", "deployment": {"imagePullPolicy": "Never"}}),
            (HELLO, {"deployment": {"imagePullPolicy": "Never"}}),
        ),
    ],
)
def test_the_steps_it_understands(definition: dict[str, Any], expected: Any) -> None:
    """An image step for the docker deployer: its image and raw configuration."""
    assert expected == docker_step_target(definition)


@pytest.mark.parametrize(
    "definition",
    [
        step(deployment_type="python"),
        step(deploy={"deployer_name": "podman"}),
        step(deploy={}),  # the deployer is chosen while planning (docker, else podman)
        {"plugin": {"src": HELLO, "deployment_type": "image"}},
        step(deploy="docker"),
        step(src=""),
        step(src=" padded "),
        step(src=42),
        {"plugin": "not a mapping", "deploy": {"deployer_name": "docker"}},
        {},
    ],
)
def test_definitions_it_is_not_sure_about_are_left_alone(definition: dict[str, Any]) -> None:
    """Anything but an image step that names the docker deployer gets no container."""
    assert docker_step_target(definition) is None
    assert warm_up_docker_steps([definition]) is None


class FakeConnection:
    """A started container as :class:`Prestarts` sees it (it only asks these two things)."""

    def __init__(self, *, ended: bool = False) -> None:
        self.ended = ended
        self.closed = 0

    def has_ended(self) -> bool:
        return self.ended

    def close(self, timeout: float = 5.0) -> None:
        del timeout
        self.closed += 1


def test_a_deploy_waits_for_the_start_under_way_and_takes_it() -> None:
    """take() waits for a start under way, returns its container once, then nothing."""
    prestarts: Prestarts[FakeConnection] = Prestarts()
    release = threading.Event()
    connection = FakeConnection()

    def start() -> FakeConnection:
        release.wait(PROMPT)
        return connection

    run = prestarts.begin("img", start)
    assert run is not None
    thread = threading.Thread(target=run)
    thread.start()
    threading.Timer(0.05, release.set).start()
    assert connection is prestarts.take("img", PROMPT)
    assert prestarts.take("img", PROMPT) is None
    thread.join()
    prestarts.close(PROMPT)
    assert 0 == connection.closed  # the deploy owns it


def test_what_nobody_takes_is_closed_exactly_once() -> None:
    """Closed with a container nobody took: closed once; a later begin() is refused, and a
    registered start that never ran starts nothing."""
    prestarts: Prestarts[FakeConnection] = Prestarts()
    taken = FakeConnection()
    run = prestarts.begin("img", lambda: taken)
    never: list[FakeConnection] = []

    def start_late() -> FakeConnection:
        never.append(FakeConnection())
        return never[-1]

    late = prestarts.begin("other", start_late)
    assert run is not None
    assert late is not None
    run()
    prestarts.close(PROMPT)
    late()
    assert (1, []) == (taken.closed, never)
    assert prestarts.begin("img", FakeConnection) is None
    assert prestarts.take("img", PROMPT) is None


def test_a_taker_that_gives_up_leaves_the_container_to_its_starter() -> None:
    """take() timed out: the start, once over, closes its container itself."""
    prestarts: Prestarts[FakeConnection] = Prestarts()
    release = threading.Event()
    connection = FakeConnection()
    run = prestarts.begin("img", lambda: release.wait(PROMPT) and connection)
    assert run is not None
    thread = threading.Thread(target=run)
    thread.start()
    assert prestarts.take("img", 0.01) is None
    release.set()
    thread.join()
    assert 1 == connection.closed


@pytest.mark.parametrize("outcome", ["ended", "raised"])
def test_a_dead_or_failed_start_is_not_handed_out(outcome: str) -> None:
    """A container whose plugin ended meanwhile is closed and not handed out; a start that
    raised leaves nothing to take (the deploy starts its own)."""
    prestarts: Prestarts[FakeConnection] = Prestarts()
    dead = FakeConnection(ended=True)

    def start() -> FakeConnection:
        if outcome == "raised":
            raise RuntimeError("boom")
        return dead

    run = prestarts.begin("img", start)
    assert run is not None
    if outcome == "raised":
        with pytest.raises(RuntimeError, match=r"^boom$"):
            run()
    else:
        run()
    assert prestarts.take("img", PROMPT) is None
    assert (1 if outcome == "ended" else 0) == dead.closed


def _create(config: dict[str, Any] | None = None) -> DockerDeployer:
    """Create a deployer as the plugin provider does (validated configuration)."""
    factory = DockerDeployerFactory()
    return factory.create(validate(factory.configuration_schema(), config or {}))


def _wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + PROMPT
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


@pytest.fixture
def docker(request: pytest.FixtureRequest) -> Iterator[None]:
    """A reachable Docker engine; afterwards no container of this process is left."""
    require_docker(request.config)
    yield
    assert [] == our_containers("docker")


def _hello(connection: Any) -> Any:
    client = ATPClient(connection)
    try:
        client.handshake(timeout=20)
        result = client.start_run("r", "hello-world", {"name": "Warm"}).result(timeout=20)
    finally:
        client.close(timeout=5)
    return result.output_data


@pytest.mark.docker
@pytest.mark.usefixtures("docker")
def test_the_first_deploys_take_the_warm_containers() -> None:
    """The deployer created for the same configuration is the warm-up's; three steps of one
    image get the probe's container and one more (started once the probe's is): the first
    two deploys return those, the third starts its own."""
    warm = warm_up_docker_steps([step(), step(), step()])
    assert warm is not None
    assert (1, 1) == (len(warm.targets), len(warm.extras))
    try:
        _wait_until(lambda: len(our_containers("docker")) == 2, "no containers started ahead")
        deployer = _create()
        assert (deployer,) == tuple(warm._prepared)  # adopted
        try:
            names = our_containers("docker")
            connections = [deployer.deploy(HELLO) for _ in range(3)]
            try:
                assert sorted(names) == sorted(connection.name for connection in connections[:2])
                assert connections[2].name not in names  # the next one is started as usual
                for connection in connections:
                    assert {"message": "Hello, Warm!"} == _hello(connection)
            finally:
                for connection in connections:
                    connection.close()
        finally:
            deployer.close()
    finally:
        warm.close()
    assert [] == our_containers("docker")


def test_one_probe_per_image_and_configuration_then_the_extras() -> None:
    """Probes: one per distinct image and configuration, at most MAX_PRESTARTS; extras: one
    per probe whose image and configuration more than one step uses."""
    never = {"deployer_name": "docker", "deployment": {"imagePullPolicy": "Never"}}
    targets, extras = prestart_targets(
        [step(), step(STEPS), step(deploy=never), step(STEPS), step(), step("x/5"), step("x/5")]
        + [step(f"x/{index}") for index in range(5)]
        + [step(deployment_type="python"), {"not": "a step"}]
    )
    assert [
        (HELLO, {}),
        (STEPS, {}),
        (HELLO, {"deployment": {"imagePullPolicy": "Never"}}),
        ("x/5", {}),
    ] == targets
    assert [(HELLO, {}), (STEPS, {}), ("x/5", {})] == extras
    assert ([(HELLO, {})], []) == prestart_targets([step(), step(deployment_type="python")])


@pytest.mark.docker
@pytest.mark.usefixtures("docker")
def test_an_unused_warm_container_is_removed_by_the_deployer() -> None:
    """Adopted, but its image was never deployed (the probe's source differs): the
    deployer's close removes the container started ahead."""
    warm = warm_up_docker_steps([step()])
    assert warm is not None
    deployer = _create()
    try:
        _wait_until(lambda: len(our_containers("docker")) == 1, "no container started ahead")
        connection = deployer.deploy(STEPS)
        connection.close()
    finally:
        deployer.close()
        warm.close()
    assert [] == our_containers("docker")


@pytest.mark.docker
@pytest.mark.usefixtures("docker")
def test_a_warm_up_nobody_adopted_removes_its_container() -> None:
    """Planning never created the deployer (it failed, or another configuration was
    used): the warm-up's close removes its container, and no deployer is left on offer."""
    warm = warm_up_docker_steps([step()])
    assert warm is not None
    _wait_until(lambda: len(our_containers("docker")) == 1, "no container started ahead")
    other = _create({"deployment": {"imagePullPolicy": "Never"}})  # another configuration
    assert other not in warm._prepared
    other.close()
    warm.close()
    warm.close()  # idempotent
    assert [] == our_containers("docker")
    assert ADOPTABLE.adopt(other.config, wait=0) is None
    assert ADOPTABLE.adopt(_create().config, wait=0) is None


@pytest.mark.docker
def test_without_a_daemon_the_deployer_reports_as_before(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Docker not running: the warm-up starts nothing, and the deploy fails with the
    deployer's own message."""
    require_docker(request.config)
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    warm = warm_up_docker_steps([step()])
    assert warm is not None
    deployer = _create()
    try:
        with pytest.raises(DeploymentError) as excinfo:
            deployer.deploy(HELLO)
        assert (
            "cannot reach the Docker daemon at 'unix:///nonexistent/docker.sock': no such "
            "socket; is dockerd running? (set deploy.connection.host or DOCKER_HOST)"
        ) == str(excinfo.value)
    finally:
        deployer.close()
        warm.close()


HEAD = "version: v0.2.0\ninput: {root: R, objects: {R: {id: R, properties: {}}}}\nsteps:\n"
CONFIG = "log: {level: error}\ndeployers:\n  image: {deployer_name: docker}\n"

#: Runs the CLI and reports on stderr which threads started containers (a spy that calls
#: through: the deployer is not replaced).
SPY = textwrap.dedent(
    """\
    import sys, threading
    from arcaflow_steps_builtin.deployers import docker
    started = []
    original = docker.DockerDeployer._deploy_new
    def spy(self, source):
        started.append(threading.current_thread().name)
        return original(self, source)
    docker.DockerDeployer._deploy_new = spy
    from arcaflow_steps.cli import main
    code = main(sys.argv[1:])
    print("started by:", ",".join(sorted(started)), file=sys.stderr)
    sys.exit(code)
    """
)


def _run_workflow(tmp_path: Path, steps: str) -> tuple[int, str, list[str]]:
    (tmp_path / "workflow.yaml").write_text(
        HEAD + steps + "outputs:\n  success: {m: !expr $.steps.b.outputs.success.message}\n"
    )
    (tmp_path / "config.yaml").write_text(CONFIG)
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            SPY,
            "workflow",
            "-context",
            str(tmp_path),
            "-config",
            "config.yaml",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": ""},
    )
    _, stderr = process.communicate(timeout=120)
    return process.returncode, stderr, containers_of_pid("docker", process.pid)


def _docker_step(step_id: str, name: str) -> str:
    return (
        f"  {step_id}:\n    plugin: {{src: '{HELLO}', deployment_type: image}}\n"
        f"    step: hello-world\n    input: {{name: {name}}}\n"
    )


@pytest.mark.docker
@pytest.mark.usefixtures("docker")
def test_a_workflow_runs_its_first_step_in_the_warm_container(tmp_path: Path) -> None:
    """Three docker steps of one image: the warm-up starts the probe's container and one
    more; the first step runs in the probe's, one of the other two in the extra one, the
    third gets its own; nothing is left once the CLI has exited."""
    code, stderr, left = _run_workflow(
        tmp_path,
        _docker_step("a", "A")
        + _docker_step("c", "!expr $.steps.a.outputs.success.message")
        + _docker_step("b", "!expr $.steps.c.outputs.success.message"),
    )
    assert (0, []) == (code, left), stderr
    starters = stderr.rsplit("started by: ", 1)[1].split()[0].split(",")
    # c and b ask for their containers at once, when planning is done: either takes the extra
    assert ["arcaflow-steps-docker-prestart"] * 2 == starters[:2]
    assert starters[2:] in (["plugin-step-b"], ["plugin-step-c"])


@pytest.mark.docker
@pytest.mark.usefixtures("docker")
def test_a_workflow_that_fails_to_plan_leaves_no_warm_container(tmp_path: Path) -> None:
    """The warm-up started containers (the probe's and one more), then planning failed (a
    type error): exit 1, and the containers are gone once the CLI has exited."""
    code, stderr, left = _run_workflow(
        tmp_path, _docker_step("a", "A") + _docker_step("b", "!expr $.steps.a.outputs.success.nope")
    )
    assert (1, []) == (code, left), stderr
    assert "no field 'nope'" in stderr
    # the probe's, and the extra one unless the failure closed the warm-up before it began
    starters = stderr.rsplit("started by: ", 1)[1].split()[0].split(",")
    assert starters in (["arcaflow-steps-docker-prestart"] * 2, ["arcaflow-steps-docker-prestart"])
