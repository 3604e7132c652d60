"""The ``podman`` deployer: plugin images run by the ``podman`` command.

Deployment type ``image``, deployer name ``podman``; needs only the ``podman`` executable.
The configuration is Arcaflow's podman deployer configuration (same keys and defaults; the
settings Arcaflow marks "not implemented yet" are left out)::

    deploy:
      deployer_name: podman
      podman:
        path: podman                        # the podman executable
        containerNamePrefix: arcaflow_podman
        rngSeed: 0                          # 0: random names; else a seeded name sequence
        connectionName: remote-host         # a `podman system connection`, for remote podman
      deployment:
        container: {Env: ["NAME=value"]}
        host: {Binds: ["/data:/data:ro"], NetworkMode: none, CgroupnsMode: private,
               Privileged: false}
        imagePullPolicy: IfNotPresent        # Always | IfNotPresent | Never
        imagePlatform: linux/amd64

Why the CLI and not podman's Python client (``podman-py``): the client talks to the podman
REST service, which is one more daemon (``podman system service``) to install, start and
keep alive, and its attach stream multiplexes stdout and stderr like Docker's.
``podman run -i`` gives three real pipes — stdin, stdout (the ATP stream) and stderr
(captured separately, never fatal) — needs nothing running, and is what Arcaflow's own podman
deployer does, so behaviour and configuration match. Remote podman works through
``connectionName`` (``podman --connection``).

Theory of operation. ``deploy(image)`` checks the image according to the pull policy
(``podman image exists``, ``podman pull``), then starts ``podman run -i --rm --pull never
--name <prefix>_<10 hex> --label org.arcaflow-steps.deployer=podman … <image> --atp`` in its
own process group, like a local plugin process. ``close()`` closes the plugin's stdin (the
plugin exits and ``--rm`` removes the container), waits up to half the timeout, then runs
``podman rm --force --time 0`` on the container name *before* stopping the ``podman run``
process, because killing that process alone would leave the container running (conmon
keeps it). For the same reason an ``atexit`` hook removes live containers by name.

When this process dies without closing (``kill -9``), ``podman run`` sees EOF on its stdin
and passes it on, but a Python SDK plugin exits on EOF only after its running step finished,
and the orphaned ``podman run`` keeps waiting even after its container is gone. So the first
deploy also starts a watchdog process and sweeps the containers of ended runs
(:mod:`._container_reaper`): the watchdog kills this process's ``podman run`` clients and
removes its containers within seconds of its death, and the sweep removes containers whose
owner (labels ``org.arcaflow-steps.owner-*``) has certainly ended.

On a machine whose root lacks ``CAP_SYS_RESOURCE``, ``podman run`` fails while setting
rlimits until podman's default ulimits are lowered; ``.ci/containers.sh`` does that (see
``.ci/podman/README.md``).
"""

from __future__ import annotations

import contextlib
import random
import shutil
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from typing import IO, Any, Final, final

import attrs

from arcaflow_steps import DeploymentError
from arcaflow_steps.schema import (
    DisplayValue,
    IntSchema,
    ObjectSchema,
    PropertySchema,
    RefSchema,
    ScopeSchema,
)

from ._container import (
    PULL_POLICY_PROPERTY,
    ImagePullPolicy,
    bool_prop,
    container_labels,
    container_name,
    string_list_prop,
    string_prop,
)
from ._container_reaper import ContainerWatchdog, PodmanContainers, at_exit, start_sweep
from ._live import LiveSet
from ._process import ProcessConnection, spawn

__all__ = [
    "PodmanDeployer",
    "PodmanDeployerConfig",
    "PodmanDeployerFactory",
    "PodmanPluginConnection",
    "deployer_factories",
]

DEPLOYER_NAME: Final = "podman"
DEPLOYMENT_TYPE: Final = "image"
CONTAINER_PREFIX: Final = "arcaflow_podman"
_COMMAND_TIMEOUT: Final = 60.0
_PULL_TIMEOUT: Final = 600.0
_GRACE_SHARE: Final = 0.5


def _object(object_id: str, **properties: PropertySchema) -> ObjectSchema:
    return ObjectSchema(id=object_id, properties=properties)


def _ref(object_id: str, description: str) -> PropertySchema:
    return PropertySchema(
        type=RefSchema(id=object_id), display=DisplayValue(description=description)
    )


CONFIG_SCHEMA: Final = ScopeSchema(
    root="Config",
    objects={
        "Config": _object(
            "Config",
            podman=_ref("Podman", "The podman command and how containers are named."),
            deployment=_ref("Deployment", "How to run the plugin container."),
        ),
        "Podman": _object(
            "Podman",
            path=string_prop("The podman executable (name on PATH or path).", default="podman"),
            containerNamePrefix=string_prop(
                "Prefix of container names (followed by _ and 10 random hex digits).",
                default=CONTAINER_PREFIX,
                pattern=r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$",
            ),
            rngSeed=PropertySchema(
                type=IntSchema(),
                display=DisplayValue(description="Seed of the name generator; 0: random."),
                default="0",
            ),
            connectionName=string_prop(
                "A podman system connection to use (podman --connection), for remote podman."
            ),
        ),
        "Deployment": _object(
            "Deployment",
            container=_ref("ContainerConfig", "Container settings."),
            host=_ref("HostConfig", "Host settings: mounts, network, cgroup namespace."),
            imagePullPolicy=PULL_POLICY_PROPERTY,
            imagePlatform=string_prop(
                "Platform of the image as os/arch[/variant].",
                pattern=r"^[a-z0-9]+/[a-z0-9_]+(/\w+)?$",
            ),
        ),
        "ContainerConfig": _object(
            "ContainerConfig",
            Env=string_list_prop("Environment variables as NAME=value."),
        ),
        "HostConfig": _object(
            "HostConfig",
            Binds=string_list_prop("Bind mounts as source:destination[:options]."),
            NetworkMode=string_prop("Network mode: bridge, host, none, container:<id>, <net>."),
            CgroupnsMode=string_prop("Cgroup namespace mode: host or private."),
            Privileged=bool_prop("Run the container privileged.", default=False),
        ),
    },
)


@attrs.frozen(kw_only=True)
class PodmanDeployerConfig:
    """The validated podman deployer configuration.

    Thread safety: safe to share (immutable).
    """

    path: str = "podman"
    container_name_prefix: str = CONTAINER_PREFIX
    rng_seed: int = 0
    connection_name: str | None = None
    env: tuple[str, ...] = ()
    binds: tuple[str, ...] = ()
    network_mode: str | None = None
    cgroupns_mode: str | None = None
    privileged: bool = False
    image_pull_policy: ImagePullPolicy = ImagePullPolicy.IF_NOT_PRESENT
    image_platform: str | None = None

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any]) -> PodmanDeployerConfig:
        """Build from the validated ``deploy`` mapping (Arcaflow key names)."""
        podman = config.get("podman") or {}
        deployment = config.get("deployment") or {}
        container = deployment.get("container") or {}
        host = deployment.get("host") or {}
        return cls(
            path=podman.get("path") or "podman",
            container_name_prefix=podman.get("containerNamePrefix") or CONTAINER_PREFIX,
            rng_seed=int(podman.get("rngSeed") or 0),
            connection_name=podman.get("connectionName"),
            env=tuple(container.get("Env") or ()),
            binds=tuple(host.get("Binds") or ()),
            network_mode=host.get("NetworkMode"),
            cgroupns_mode=host.get("CgroupnsMode"),
            privileged=bool(host.get("Privileged")),
            image_pull_policy=ImagePullPolicy(
                deployment.get("imagePullPolicy") or ImagePullPolicy.IF_NOT_PRESENT
            ),
            image_platform=deployment.get("imagePlatform"),
        )

    def base_command(self, executable: str) -> list[str]:
        """Return ``podman [--connection NAME]``."""
        command = [executable]
        if self.connection_name:
            command += ["--connection", self.connection_name]
        return command

    def run_arguments(self, name: str, image: str, labels: Mapping[str, str]) -> list[str]:
        """Return the arguments after ``podman run`` that start the plugin container."""
        arguments = ["-i", "--rm", "--pull", "never", "--name", name]
        for key, value in labels.items():
            arguments += ["--label", f"{key}={value}"]
        if not any(item.split("=", 1)[0] == "PYTHONUNBUFFERED" for item in self.env):
            arguments += ["--env", "PYTHONUNBUFFERED=1"]
        for item in self.env:
            arguments += ["--env", item]
        for bind in self.binds:
            arguments += ["--volume", bind]
        if self.network_mode:
            arguments += ["--network", self.network_mode]
        if self.cgroupns_mode:
            arguments += ["--cgroupns", self.cgroupns_mode]
        if self.privileged:
            arguments.append("--privileged")
        if self.image_platform:
            arguments += ["--platform", self.image_platform]
        return [*arguments, image, "--atp"]


#: Connections nobody closed yet; their containers are removed at interpreter exit.
_LIVE: Final[LiveSet[PodmanPluginConnection]] = LiveSet(
    lambda connection: connection.kill(), at_exit=at_exit
)


@final
class PodmanPluginConnection:
    """A plugin running in a podman container, through a ``podman run -i`` process.

    Thread safety: safe to share; ``stdin`` has one writer and ``stdout`` one reader (the ATP
    client guarantees both); ``close()`` may be called from any thread, repeatedly.
    """

    def __init__(
        self, process: ProcessConnection, *, name: str, image: str, remove_command: Sequence[str]
    ) -> None:
        self._process = process
        self.name: Final = name
        self._description = f"podman container {name} ({image}, podman pid {process.pid})"
        self._remove_command = list(remove_command)
        # Guards _closed; close() holds it for its whole (bounded) duration.
        self._close_lock = threading.Lock()
        self._closed = False
        _LIVE.add(self)

    @property
    def stdin(self) -> IO[bytes]:
        """The plugin's stdin (buffered: flush after every message)."""
        return self._process.stdin

    @property
    def stdout(self) -> IO[bytes]:
        """The plugin's stdout."""
        return self._process.stdout

    @property
    def description(self) -> str:
        """Say what runs, e.g. ``podman container arcaflow_podman_0a1b2c3d4e (image, …)``."""
        return self._description

    def stderr_tail(self) -> str:
        """Return the last bytes written to stderr by the plugin (and by podman itself)."""
        return self._process.stderr_tail()

    def exit_status(self) -> str | None:
        """Return how the plugin ended (podman run passes the container's exit status)."""
        return self._process.exit_status()

    def kill(self) -> None:
        """Remove the container now, even while a graceful close() is waiting, then reap."""
        _run_quietly(self._remove_command, _COMMAND_TIMEOUT)
        self._process.kill()
        _LIVE.discard(self)

    def close(self, timeout: float = 5.0) -> None:
        """EOF to the plugin, wait (half the timeout), remove the container, stop podman."""
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
            deadline = time.monotonic() + max(timeout, 0.1)
            with contextlib.suppress(OSError, ValueError):
                self._process.stdin.close()
            if not self._process.wait_exited(max(timeout, 0.1) * _GRACE_SHARE):
                # podman run ends (and --rm cleans up) once its container is gone.
                _run_quietly(self._remove_command, max(deadline - time.monotonic(), 1.0))
            self._process.close(max(deadline - time.monotonic(), 0.1))
            _LIVE.discard(self)


def _run_quietly(
    command: Sequence[str], timeout: float
) -> subprocess.CompletedProcess[bytes] | None:
    try:
        return subprocess.run(
            list(command),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None


@final
class PodmanDeployer:
    """Deploys plugin images with the podman command.

    Thread safety: safe to share; ``deploy`` may run concurrently.
    """

    def __init__(self, config: PodmanDeployerConfig) -> None:
        self._config = config
        # Guards _random, _pulled, _executable, _watching and _watchdog.
        self._lock = threading.Lock()
        self._random = random.Random(config.rng_seed) if config.rng_seed else None
        self._pulled: set[str] = set()
        self._executable: str | None = None
        self._watching = False
        self._watchdog: ContainerWatchdog | None = None

    @property
    def config(self) -> PodmanDeployerConfig:
        """The configuration this deployer was created with."""
        return self._config

    def executable(self) -> str:
        """Return the podman executable's path; raise DeploymentError when there is none."""
        with self._lock:
            if self._executable is None:
                found = shutil.which(self._config.path)
                if found is None:
                    raise DeploymentError(
                        f"podman executable {self._config.path!r} not found (deploy.podman.path); "
                        "install podman or set the path"
                    )
                self._executable = found
            return self._executable

    def _watch(self, base: Sequence[str]) -> None:
        """On first use: start the watchdog and sweep containers of ended runs (background)."""
        with self._lock:
            if self._watching:
                return
            self._watching = True
            self._watchdog = ContainerWatchdog.start({"podman": list(base)})
        start_sweep(PodmanContainers(base), f"podman ({' '.join(base)})")

    def close(self) -> None:
        """Stop the watchdog (running containers are not touched: their steps close them)."""
        with self._lock:
            watchdog, self._watchdog = self._watchdog, None
            self._watching = False
        if watchdog is not None:
            watchdog.close()

    def _name(self) -> str:
        prefix = self._config.container_name_prefix
        with self._lock:
            if self._random is not None:
                return f"{prefix}_{self._random.getrandbits(40):010x}"
        return container_name(prefix)

    def _podman(self, *arguments: str, timeout: float = _COMMAND_TIMEOUT) -> tuple[int, str]:
        command = [*self._config.base_command(self.executable()), *arguments]
        try:
            completed = subprocess.run(
                command,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise DeploymentError(
                f"{' '.join(command)!r} did not finish in {timeout:.0f}s"
            ) from exc
        except OSError as exc:
            raise DeploymentError(f"cannot run {command[0]!r}: {exc.strerror or exc}") from exc
        output = (completed.stderr or completed.stdout).decode("utf-8", errors="replace")
        return completed.returncode, output.strip()

    def _pull(self, image: str) -> None:
        arguments = ["pull", "--quiet"]
        if self._config.image_platform:
            arguments += ["--platform", self._config.image_platform]
        returncode, output = self._podman(*arguments, image, timeout=_PULL_TIMEOUT)
        if returncode != 0:
            policy = self._config.image_pull_policy.value
            raise DeploymentError(
                f"cannot pull image {image!r} with podman (imagePullPolicy {policy!r}): "
                f"{output.splitlines()[-1] if output else f'exit status {returncode}'}"
            )

    def ensure_image(self, image: str) -> None:
        """Make the image available according to ``imagePullPolicy``; raise DeploymentError."""
        policy = self._config.image_pull_policy
        if policy is ImagePullPolicy.ALWAYS:
            with self._lock:
                pulled = image in self._pulled
            if not pulled:
                self._pull(image)
                with self._lock:
                    self._pulled.add(image)
            return
        returncode, output = self._podman("image", "exists", image)
        if returncode == 0:
            return
        if returncode != 1:  # 1 means "no such image"; anything else is podman failing
            raise DeploymentError(
                f"cannot look up image {image!r} with podman: "
                f"{output or f'exit status {returncode}'}"
            )
        if policy is ImagePullPolicy.NEVER:
            raise DeploymentError(
                f"image {image!r} is not present in podman's storage and imagePullPolicy is "
                "'Never'; build or load it first, or use 'IfNotPresent' or 'Always'"
            )
        self._pull(image)

    def deploy(self, source: str) -> PodmanPluginConnection:
        """Start the plugin image ``source`` with ``--atp``; raise DeploymentError."""
        if not source or source.strip() != source or source.startswith("-"):
            raise DeploymentError(f"invalid image reference {source!r} for deployer 'podman'")
        base = self._config.base_command(self.executable())
        self._watch(base)
        self.ensure_image(source)
        name = self._name()
        argv = [
            *base,
            "run",
            *self._config.run_arguments(name, source, container_labels(DEPLOYER_NAME)),
        ]
        process = spawn(argv, description=f"podman run {source}")
        return PodmanPluginConnection(
            process,
            name=name,
            image=source,
            remove_command=[*base, "rm", "--force", "--ignore", "--time", "0", name],
        )


@final
class PodmanDeployerFactory:
    """Creates :class:`PodmanDeployer` instances (deployer ``podman``, type ``image``).

    Thread safety: safe to share (stateless).
    """

    deployer_name: Final = DEPLOYER_NAME
    deployment_type: Final = DEPLOYMENT_TYPE

    def configuration_schema(self) -> ScopeSchema:
        """Return the schema of the ``deploy`` configuration."""
        return CONFIG_SCHEMA

    def create(self, config: Mapping[str, Any]) -> PodmanDeployer:
        """Create a deployer from a validated configuration."""
        return PodmanDeployer(PodmanDeployerConfig.from_mapping(config))


def deployer_factories() -> list[PodmanDeployerFactory]:
    """Return this module's deployer factories (called by the package's hook)."""
    return [PodmanDeployerFactory()]
