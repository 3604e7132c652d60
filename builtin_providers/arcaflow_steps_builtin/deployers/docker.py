"""The ``docker`` deployer: plugin images on a Docker engine, through the Docker SDK for Python.

Deployment type ``image``, deployer name ``docker``; needs the ``docker`` extra
(``pip install 'arcaflow-steps[docker]'``). The configuration is Arcaflow's docker deployer
configuration (same keys, same defaults; schema and record in :mod:`._docker_config`), with
a few additions marked *new*::

    deploy:
      deployer_name: docker
      connection:                 # default: $DOCKER_HOST (+ DOCKER_TLS_VERIFY, DOCKER_CERT_PATH),
        host: tcp://10.0.0.2:2376 # else unix:///var/run/docker.sock; ssh://user@host works too
        cacert: "-----BEGIN CERTIFICATE-----..."   # PEM text, as in Arcaflow
        cert: "..."
        key: "..."
      deployment:
        container: {Env: {NAME: value}, User: "1000", Hostname: ..., Labels: {...} (new)}
        host: {NetworkMode: none, Binds: ["/data:/data:ro"] (new), Memory: 268435456 (new),
               NanoCpus: 500000000 (new), PidsLimit (new), Tmpfs (new), CapDrop: [ALL], ...}
        network: {...}            # NetworkingConfig, passed through
        platform: {os: linux, architecture: amd64}
        imagePullPolicy: IfNotPresent   # Always | IfNotPresent | Never
      timeouts: {http: 15s}

Theory of operation. ``deploy(image)`` first waits for its turn in the deployer's start
queue (:mod:`._start_queue`: at most two containers per CPU starting at once, first come,
first served, each until its plugin has written its first bytes), makes sure the image is
there (pull policy; once per image), creates a container running the image's entrypoint
with the single argument ``--atp`` (non-TTY, stdin open and closed on the first detach,
``AutoRemove``, labelled ``org.arcaflow-steps.deployer``), attaches to its stdin, stdout
and stderr **before** starting it (so no byte is lost), opens a ``wait?condition=removed``
request (the daemon answers its headers at once, so the exit code cannot be missed), then
starts it.

The attach stream multiplexes stdout and stderr in frames (8-byte header: stream, 3 zero
bytes, big-endian length). One demultiplexing thread per container copies stdout frames into
a pipe — the ``stdout`` the ATP client reads — and keeps the last 16 KiB of stderr frames in
a tail buffer (``stderr_tail()``, logged at debug level on close). Stderr is never part of
the ATP stream and is never fatal by itself (the Go engine fails on the first stderr frame).

``close()`` half-closes the attach stream (the plugin sees EOF on stdin, as after a real
pipe close) and waits up to half the timeout for the plugin to end, else force-removes the
container. The plugin has ended when the attach stream ends by itself: Docker ends it only
once the container's process (its PID 1, and so every process of the container) has exited.
``close()`` returns then, while the daemon still tears the container down and removes it
(``AutoRemove``, 30-60 ms more on the default bridge network); the deployer owns those
pending removals: its ``close()`` waits for them (at most 10 s, then force-removes), and an
``atexit`` hook closes whatever is still live at interpreter exit and waits for its removal.
So once the deployer is closed (the CLI closes it before it exits) no container of ours is
left (see :mod:`._docker_attach`).

When this process dies without closing (``kill -9``), the stdin-once attach gives the plugin
EOF and ``AutoRemove`` removes the container once it exits, but a Python SDK plugin exits on
EOF only after its running step finished. So the deployer's first connection also starts
a watchdog process and sweeps the containers of ended runs (:mod:`._container_reaper`): the
watchdog removes this process's containers within seconds of its death, and the sweep removes
containers whose owner (labels ``org.arcaflow-steps.owner-*``) has certainly ended.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib.util
import logging
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, final

from arcaflow_steps import ArcaflowStepsError, DeploymentError
from arcaflow_steps.schema import (
    ScopeSchema,
    validate,
)

from ._container import (
    ImagePullPolicy,
    container_labels,
    container_name,
)
from ._container_reaper import ContainerWatchdog, DockerContainers, start_sweep
from ._docker_attach import ContainerRemovals, DockerPluginConnection, live_container_count
from ._docker_config import CONFIG_SCHEMA, DEFAULT_HOST, DockerDeployerConfig, parse_duration
from ._docker_warm_up import ADOPTABLE, Prestarts
from ._start_queue import StartQueue

__all__ = [
    "DockerDeployer",
    "DockerDeployerConfig",
    "DockerDeployerFactory",
    "DockerPluginConnection",
    "deployer_factories",
    "live_container_count",
    "parse_duration",
    "prepare_warm_deployers",
]

DEPLOYER_NAME: Final = "docker"
DEPLOYMENT_TYPE: Final = "image"
CONTAINER_PREFIX: Final = "arcaflow_docker"
_INSTALL_HINT: Final = (
    "deployer 'docker' needs the docker extra: pip install 'arcaflow-steps[docker]'"
)
_MAX_POOL_SIZE: Final = 256
#: Containers starting at once per CPU, and the longest a start holds its place (seconds).
_STARTS_PER_CPU: Final = 2
_START_HOLD_LIMIT: Final = 2.0
#: Seconds the deployer's close waits for the daemon to remove ended plugins' containers
#: before it force-removes them.
_REMOVAL_WAIT: Final = 10.0
_LOG = logging.getLogger(__name__)

# -- the deployer ---------------------------------------------------------------------------


def _cpu_count() -> int:
    """Return the CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):  # not Linux
        return os.cpu_count() or 1


def _import_docker() -> Any:
    try:
        import docker
    except ImportError as exc:
        raise DeploymentError(_INSTALL_HINT) from exc
    return docker


@final
class DockerDeployer:
    """Deploys plugin images as containers on one Docker daemon.

    The API client is created on the first deploy and shared by every container.

    Thread safety: safe to share; ``deploy`` may run concurrently.
    """

    def __init__(self, config: DockerDeployerConfig) -> None:
        self._config = config
        # Guards _api, _watchdog, _tls_dir, _pulled and _present.
        self._lock = threading.Lock()
        self._api: Any = None
        self._watchdog: ContainerWatchdog | None = None
        self._tls_dir: str | None = None
        self._pulled: set[str] = set()
        self._present: set[str] = set()
        self._removals = ContainerRemovals()
        # Containers a warm-up started before their deploy (see _docker_warm_up).
        self._prestarts: Prestarts[DockerPluginConnection] = Prestarts()
        # Containers starting at once, in the order asked for (see _start_queue).
        self._starts = StartQueue(_STARTS_PER_CPU * _cpu_count(), hold_limit=_START_HOLD_LIMIT)

    @property
    def config(self) -> DockerDeployerConfig:
        """The configuration this deployer was created with."""
        return self._config

    @property
    def host(self) -> str:
        """The daemon address in use (configured, from DOCKER_HOST, or the default)."""
        return self._config.host or os.environ.get("DOCKER_HOST") or DEFAULT_HOST

    def _write_pem(self, name: str, text: str | None) -> str | None:
        if not text:
            return None
        if self._tls_dir is None:
            self._tls_dir = tempfile.mkdtemp(prefix="arcaflow-steps-docker-tls-")
            atexit.register(shutil.rmtree, self._tls_dir, True)
        path = os.path.join(self._tls_dir, name)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as file:
            file.write(text)
        return path

    def _client_kwargs(self, docker: Any) -> dict[str, Any]:
        config = self._config
        kwargs: dict[str, Any]
        if config.host is None:
            kwargs = dict(docker.utils.kwargs_from_env())
            kwargs.setdefault("base_url", DEFAULT_HOST)
        else:
            kwargs = {"base_url": config.host}
            if config.cacert or config.cert or config.key:
                cert = self._write_pem("cert.pem", config.cert)
                key = self._write_pem("key.pem", config.key)
                cacert = self._write_pem("ca.pem", config.cacert)
                kwargs["tls"] = docker.tls.TLSConfig(
                    client_cert=(cert, key) if cert and key else None,
                    ca_cert=cacert,
                    verify=bool(cacert),
                )
        if str(kwargs["base_url"]).startswith("ssh://"):
            kwargs["use_ssh_client"] = True  # the ssh command, no paramiko needed
        kwargs["timeout"] = config.http_timeout
        kwargs["max_pool_size"] = _MAX_POOL_SIZE
        return kwargs

    def api(self) -> Any:
        """Return the shared low-level API client, connecting on first use."""
        with self._lock:
            if self._api is not None:
                return self._api
            docker = _import_docker()
            kwargs = self._client_kwargs(docker)
            base_url = str(kwargs["base_url"])
            if base_url.startswith("ssh://") and importlib.util.find_spec("paramiko") is None:
                raise DeploymentError(
                    f"Docker host {base_url!r} needs the ssh support of the docker package: "
                    "pip install 'docker[ssh]'"
                )
            if base_url.startswith("unix://") and not os.path.exists(base_url[len("unix://") :]):
                raise DeploymentError(
                    f"cannot reach the Docker daemon at {base_url!r}: no such socket; is dockerd "
                    "running? (set deploy.connection.host or DOCKER_HOST)"
                )
            api: Any = None
            try:
                # A placeholder version: the real one is asked for below, after the session
                # is set up (APIClient would ask at once, with requests' defaults).
                api = docker.APIClient(
                    **kwargs, version=docker.constants.MINIMUM_DOCKER_API_VERSION
                )
                if kwargs.get("tls"):
                    # requests would let REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE replace the CA
                    # configured here (the session's verify loses to the environment).
                    api.trust_env = False
                api._version = api._retrieve_server_version()
                self._api = api
            except Exception as exc:
                if api is not None:
                    api.close()
                raise DeploymentError(
                    f"cannot reach the Docker daemon at {base_url!r}: {_reason(exc)}; is dockerd "
                    "running? (set deploy.connection.host or DOCKER_HOST)"
                ) from exc
            self._watchdog = ContainerWatchdog.start(
                {"docker": _watchdog_settings(kwargs, api)},
                remove_paths=[self._tls_dir] if self._tls_dir else [],
            )
            start_sweep(DockerContainers(api), f"the Docker daemon at {base_url!r}")
            return self._api

    def close(self) -> None:
        """Wait for the removal of ended plugins' containers (at most 10 s, then force-remove
        them), stop the watchdog and close the API client (running containers are not
        touched); a container a warm-up started that no deploy took is stopped first."""
        self._prestarts.close(self._prestart_wait())
        self._removals.wait(_REMOVAL_WAIT)
        with self._lock:
            api, self._api = self._api, None
            watchdog, self._watchdog = self._watchdog, None
        if watchdog is not None:
            watchdog.close()
        if api is not None:
            api.close()

    def _has_image(self, api: Any, image: str) -> bool:
        docker = _import_docker()
        try:
            api.inspect_image(image)
        except docker.errors.ImageNotFound:
            return False
        except Exception as exc:
            raise DeploymentError(
                f"cannot look up image {image!r} on the Docker daemon at {self.host!r}: "
                f"{_reason(exc)}"
            ) from exc
        return True

    def _pull(self, api: Any, image: str) -> None:
        policy = self._config.image_pull_policy
        refused: str | None = None
        try:
            for event in api.pull(
                image, platform=self._config.platform_text(), stream=True, decode=True
            ):
                if isinstance(event, dict) and event.get("error"):
                    refused = str(event["error"])
                    break
        except Exception as exc:
            refused = _reason(exc)
            cause: Exception | None = exc
        else:
            cause = None
        if refused is not None:
            raise DeploymentError(
                f"cannot pull image {image!r} (imagePullPolicy {policy.value!r}) from the Docker "
                f"daemon at {self.host!r}: {refused}"
            ) from cause

    def ensure_image(self, image: str) -> None:
        """Make the image available according to ``imagePullPolicy``; raise DeploymentError.

        An image found (or pulled) once is not looked up again by this deployer: one API call
        per image and run, not per container.
        """
        api = self.api()
        policy = self._config.image_pull_policy
        if policy is ImagePullPolicy.ALWAYS:
            with self._lock:
                pulled = image in self._pulled
            if not pulled:
                self._pull(api, image)
                with self._lock:
                    self._pulled.add(image)
            return
        with self._lock:
            present = image in self._present
        if present:
            return
        if not self._has_image(api, image):
            if policy is ImagePullPolicy.NEVER:
                raise DeploymentError(
                    f"image {image!r} is not present on the Docker daemon at {self.host!r} "
                    "and imagePullPolicy is 'Never'; build or load it first, or use "
                    "'IfNotPresent' or 'Always'"
                )
            self._pull(api, image)
        with self._lock:
            self._present.add(image)

    def _prestart_wait(self) -> float:
        """Return the longest a container start takes: its API calls, and its queue place."""
        return 5 * self._config.http_timeout + _START_HOLD_LIMIT

    def prestarter(self, source: str) -> Callable[[], None] | None:
        """Register a container of ``source`` to be started ahead of its deploy and return
        what starts it (on a thread of the caller's choosing; a failure is only logged: the
        deploy that would have taken it starts its own and reports); None once closed.

        The next :meth:`deploy` of ``source`` takes that container (waiting for its start if
        under way), if its plugin still runs; :meth:`close` stops it if nobody took it.
        """

        def start() -> DockerPluginConnection | None:
            try:
                return self._deploy_new(source)
            except Exception:  # a hint: the deploy that would take it reports the problem
                _LOG.debug("starting a container of %r ahead failed", source, exc_info=True)
                return None

        return self._prestarts.begin(source, start)

    def deploy(self, source: str) -> DockerPluginConnection:
        """Start the plugin image ``source`` with ``--atp``; raise DeploymentError."""
        if not source or source.strip() != source:
            raise DeploymentError(f"invalid image reference {source!r} for deployer 'docker'")
        prestarted = self._prestarts.take(source, self._prestart_wait())
        if prestarted is not None:
            return prestarted
        return self._deploy_new(source)

    def _deploy_new(self, source: str) -> DockerPluginConnection:
        place = self._starts.enter()
        try:
            return self._deploy(source, lambda: self._starts.leave(place))
        except BaseException:
            self._starts.leave(place)
            raise

    def _deploy(self, source: str, on_started: Callable[[], None]) -> DockerPluginConnection:
        self.ensure_image(source)
        api = self.api()
        name = container_name(CONTAINER_PREFIX)
        body = self._config.create_body(source, container_labels(DEPLOYER_NAME))
        container_id: str | None = None
        attached: Any = None
        waiter: Any = None
        try:
            created = api.create_container_from_config(
                body, name=name, platform=self._config.platform_text()
            )
            container_id = str(created["Id"])
            attached = api.attach_socket(
                container_id, params={"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1}
            )
            # Private helpers of docker-py: the wait request must return after its headers.
            waiter = api._post(
                api._url("/containers/{0}/wait", container_id),
                params={"condition": "removed"},
                stream=True,
                timeout=None,
            )
            api._raise_for_status(waiter)
            if self._config.start_delay:
                time.sleep(self._config.start_delay)
            api.start(container_id)
        except Exception as exc:
            if container_id is not None:
                with contextlib.suppress(Exception):
                    api.remove_container(container_id, force=True)
            for closable in (attached, waiter):
                if closable is not None:
                    with contextlib.suppress(Exception):
                        closable.close()
            raise DeploymentError(
                f"cannot start a container of image {source!r} on the Docker daemon at "
                f"{self.host!r}: {_reason(exc)}"
            ) from exc
        return DockerPluginConnection(
            api=api,
            container_id=container_id,
            name=name,
            image=source,
            attached=attached,
            waiter=waiter,
            removals=self._removals,
            on_started=on_started,
        )


def _watchdog_settings(kwargs: Mapping[str, Any], api: Any) -> dict[str, Any]:
    """Return what the container watchdog needs to reach the same daemon (JSON-ready)."""
    tls = kwargs.get("tls")
    return {
        "base_url": str(kwargs["base_url"]),
        "version": api._version,
        "timeout": kwargs["timeout"],
        "use_ssh_client": bool(kwargs.get("use_ssh_client")),
        "tls": tls
        if isinstance(tls, bool) or tls is None
        else {
            "client_cert": list(tls.cert) if tls.cert else None,
            "ca_cert": tls.ca_cert,
            "verify": tls.verify,
        },
    }


def _reason(exc: BaseException) -> str:
    """Return the daemon's explanation of a docker-py error, else the exception text."""
    explanation = getattr(exc, "explanation", None)
    if explanation:
        return str(explanation)
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0] if text else type(exc).__name__


@final
class DockerDeployerFactory:
    """Creates :class:`DockerDeployer` instances (deployer ``docker``, type ``image``).

    Thread safety: safe to share (stateless).
    """

    deployer_name: Final = DEPLOYER_NAME
    deployment_type: Final = DEPLOYMENT_TYPE

    def configuration_schema(self) -> ScopeSchema:
        """Return the schema of the ``deploy`` configuration."""
        return CONFIG_SCHEMA

    def create(self, config: Mapping[str, Any]) -> DockerDeployer:
        """Create a deployer from a validated configuration (connects on first deploy).

        A deployer a warm-up prepared with an equal configuration is adopted instead (with
        the containers it started ahead; see :mod:`._docker_warm_up`).
        """
        docker_config = DockerDeployerConfig.from_mapping(config)
        adopted = ADOPTABLE.adopt(docker_config)
        if isinstance(adopted, DockerDeployer):
            return adopted
        return DockerDeployer(docker_config)


def prepare_warm_deployers(
    targets: Sequence[tuple[str, Mapping[str, Any]]],
) -> tuple[list[DockerDeployer], list[Callable[[], None] | None]]:
    """Return a deployer per valid configuration among ``targets`` (image, raw ``deploy``
    without ``deployer_name``), and for each target what starts its container ahead (for the
    warm-up: :mod:`._docker_warm_up`); None for a configuration the schema refuses."""
    deployers: list[DockerDeployer] = []
    starts: list[Callable[[], None] | None] = []
    for image, raw in targets:
        try:
            config = DockerDeployerConfig.from_mapping(
                validate(CONFIG_SCHEMA, dict(raw), path="$.deploy")
            )
        except (ArcaflowStepsError, ValueError):
            starts.append(None)  # the step's validation reports it
            continue
        deployer = next((known for known in deployers if known.config == config), None)
        if deployer is None:
            deployer = DockerDeployer(config)
            deployers.append(deployer)
        starts.append(deployer.prestarter(image))
    return deployers, starts


def deployer_factories() -> list[DockerDeployerFactory]:
    """Return this module's deployer factories (called by the package's hook)."""
    return [DockerDeployerFactory()]
