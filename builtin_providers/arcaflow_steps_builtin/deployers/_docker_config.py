"""The ``docker`` deployer's configuration: its schema (Arcaflow's docker deployer keys and
defaults, with a few additions; see :mod:`.docker`) and the record the deployer runs with.

Standard library, attrs and our schema module only: no docker-py here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

import attrs

from arcaflow_steps.schema import (
    AnySchema,
    DisplayValue,
    IntSchema,
    ListSchema,
    MapSchema,
    ObjectSchema,
    PropertySchema,
    RefSchema,
    ScopeSchema,
    StringSchema,
)

from ._container import (
    PULL_POLICY_PROPERTY,
    ImagePullPolicy,
    bool_prop,
    string_list_prop,
    string_map_prop,
    string_prop,
)

__all__ = ["CONFIG_SCHEMA", "DEFAULT_HOST", "DockerDeployerConfig", "parse_duration"]

DEFAULT_HOST: Final = "unix:///var/run/docker.sock"
_DURATION_PART = r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)"
_DURATION_RE: Final = re.compile(rf"^(?:{_DURATION_PART})+$")
_DURATION_UNITS: Final = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}


def parse_duration(text: str) -> float:
    """Return the seconds in a Go duration string such as ``15s``, ``1m30s`` or ``100ms``."""
    if not _DURATION_RE.match(text):
        raise ValueError(f"invalid duration {text!r}; expected e.g. '15s', '100ms', '1m30s'")
    return sum(
        float(number) * _DURATION_UNITS[unit] for number, unit in re.findall(_DURATION_PART, text)
    )


# -- configuration schema -------------------------------------------------------------------


def _object(object_id: str, **properties: PropertySchema) -> ObjectSchema:
    return ObjectSchema(id=object_id, properties=properties)


def _ref(object_id: str, description: str) -> PropertySchema:
    return PropertySchema(
        type=RefSchema(id=object_id), display=DisplayValue(description=description)
    )


def _int_prop(description: str, *, minimum: int | None = None) -> PropertySchema:
    return PropertySchema(
        type=IntSchema(min=minimum), display=DisplayValue(description=description)
    )


_PEM = "PEM-encoded text (not a path), as in Arcaflow."

CONFIG_SCHEMA: Final = ScopeSchema(
    root="Config",
    objects={
        "Config": _object(
            "Config",
            connection=_ref("Connection", "How to reach the Docker daemon."),
            deployment=_ref("Deployment", "How to create the plugin container."),
            timeouts=_ref("Timeouts", "Timeouts of the Docker API calls."),
        ),
        "Connection": _object(
            "Connection",
            host=string_prop(
                "Docker daemon address: unix:///path, tcp://host:port or ssh://user@host. "
                f"Default: $DOCKER_HOST, else {DEFAULT_HOST}.",
                pattern=r"^(unix|tcp|http|https|ssh|npipe)://.*$",
            ),
            cacert=string_prop(f"CA certificate that signed the daemon's certificate; {_PEM}"),
            cert=string_prop(f"Client certificate for TLS authentication; {_PEM}"),
            key=string_prop(f"Client key for TLS authentication; {_PEM}"),
        ),
        "Deployment": _object(
            "Deployment",
            container=_ref("ContainerConfig", "Container settings (Docker API names)."),
            host=_ref("HostConfig", "Host settings: network, capabilities, resources, mounts."),
            network=PropertySchema(
                type=MapSchema(keys=StringSchema(), values=AnySchema()),
                display=DisplayValue(description="NetworkingConfig, passed to the Docker API."),
            ),
            platform=_ref("Platform", "Platform of the image to pull and run."),
            imagePullPolicy=PULL_POLICY_PROPERTY,
            startDelayMS=PropertySchema(
                type=IntSchema(min=0),
                display=DisplayValue(description="Milliseconds to wait before starting."),
                default="0",
            ),
        ),
        "ContainerConfig": _object(
            "ContainerConfig",
            Hostname=string_prop("Hostname of the container."),
            Domainname=string_prop("Domain name of the container."),
            User=string_prop("User (name or uid[:gid]) the plugin runs as."),
            Env=string_map_prop("Environment variables (NAME: value)."),
            NetworkDisabled=bool_prop("Disable networking for the container."),
            MacAddress=string_prop("MAC address of the container."),
            Labels=string_map_prop("Extra container labels."),
        ),
        "HostConfig": _object(
            "HostConfig",
            NetworkMode=string_prop("Network mode: bridge, host, none, container:<id>, <net>."),
            PortBindings=PropertySchema(
                type=MapSchema(
                    keys=StringSchema(pattern=r"^\d+(/(tcp|udp|sctp))?$"),
                    values=ListSchema(items=RefSchema(id="PortBinding")),
                ),
                display=DisplayValue(description="Port bindings: '80/tcp': [{HostPort: '8080'}]."),
            ),
            CapAdd=string_list_prop("Capabilities to add."),
            CapDrop=string_list_prop("Capabilities to drop."),
            CgroupnsMode=string_prop("Cgroup namespace mode: host or private."),
            Dns=string_list_prop("DNS servers."),
            DnsOptions=string_list_prop("DNS options."),
            DnsSearch=string_list_prop("DNS search domains."),
            ExtraHosts=string_list_prop("Extra /etc/hosts lines as host:ip."),
            Privileged=bool_prop("Run the container privileged.", default=False),
            Binds=string_list_prop("Bind mounts as source:destination[:options]."),
            Tmpfs=string_map_prop("tmpfs mounts: path: options."),
            ReadonlyRootfs=bool_prop("Mount the container's root filesystem read-only."),
            Memory=_int_prop("Memory limit in bytes.", minimum=0),
            NanoCpus=_int_prop("CPU quota in units of 1e-9 CPUs.", minimum=0),
            CpuShares=_int_prop("Relative CPU weight.", minimum=0),
            PidsLimit=_int_prop("Maximum number of processes (-1: unlimited)."),
            ShmSize=_int_prop("Size of /dev/shm in bytes.", minimum=0),
        ),
        "PortBinding": _object(
            "PortBinding",
            HostIp=string_prop("Host IP to bind to."),
            HostPort=string_prop("Host port to bind to."),
        ),
        "Platform": _object(
            "Platform",
            os=string_prop("Operating system, e.g. linux."),
            architecture=string_prop("CPU architecture, e.g. amd64."),
            variant=string_prop("CPU variant, e.g. v8."),
        ),
        "Timeouts": _object(
            "Timeouts",
            http=string_prop(
                "Timeout of each Docker API call (Go duration, at least 100ms).",
                default="15s",
                pattern=_DURATION_RE.pattern,
            ),
        ),
    },
)


@attrs.frozen(kw_only=True)
class DockerDeployerConfig:
    """The validated docker deployer configuration.

    Thread safety: safe to share (immutable).
    """

    host: str | None = None
    cacert: str | None = None
    cert: str | None = None
    key: str | None = None
    container: Mapping[str, Any] = attrs.field(factory=dict)
    host_config: Mapping[str, Any] = attrs.field(factory=dict)
    network: Mapping[str, Any] = attrs.field(factory=dict)
    platform: Mapping[str, str] = attrs.field(factory=dict)
    image_pull_policy: ImagePullPolicy = ImagePullPolicy.IF_NOT_PRESENT
    start_delay: float = 0.0
    http_timeout: float = 15.0

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any]) -> DockerDeployerConfig:
        """Build from the validated ``deploy`` mapping (Arcaflow key names)."""
        connection = config.get("connection") or {}
        deployment = config.get("deployment") or {}
        timeouts = config.get("timeouts") or {}
        http_timeout = max(parse_duration(timeouts.get("http") or "15s"), 0.1)
        return cls(
            host=connection.get("host"),
            cacert=connection.get("cacert"),
            cert=connection.get("cert"),
            key=connection.get("key"),
            container=dict(deployment.get("container") or {}),
            host_config=dict(deployment.get("host") or {}),
            network=dict(deployment.get("network") or {}),
            platform=dict(deployment.get("platform") or {}),
            image_pull_policy=ImagePullPolicy(
                deployment.get("imagePullPolicy") or ImagePullPolicy.IF_NOT_PRESENT
            ),
            start_delay=(deployment.get("startDelayMS") or 0) / 1000.0,
            http_timeout=http_timeout,
        )

    def platform_text(self) -> str | None:
        """Return ``os/architecture[/variant]`` or None."""
        parts = [self.platform.get(name) for name in ("os", "architecture", "variant")]
        present = [part for part in parts if part]
        return "/".join(present) if present else None

    def create_body(self, image: str, labels: Mapping[str, str]) -> dict[str, Any]:
        """Return the Docker API body that creates the plugin container."""
        container = dict(self.container)
        env = dict(container.pop("Env", None) or {})
        env.setdefault("PYTHONUNBUFFERED", "1")
        extra_labels = dict(container.pop("Labels", None) or {})
        body: dict[str, Any] = {
            **container,
            "Image": image,
            "Cmd": ["--atp"],
            "Env": [f"{name}={value}" for name, value in env.items()],
            "Labels": {**extra_labels, **labels},
            "AttachStdin": True,
            "AttachStdout": True,
            "AttachStderr": True,
            "OpenStdin": True,
            "StdinOnce": True,
            "Tty": False,
            "HostConfig": {**self.host_config, "AutoRemove": True},
        }
        if self.network:
            body["NetworkingConfig"] = dict(self.network)
        return body
