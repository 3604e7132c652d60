"""Replica of ``quay.io/arcalot/arcaflow-plugin-metadata:0.5.0`` for the basic-examples tests.

The same schema as the original: step ``collect-metadata``, input ``InputParams {}``, outputs
``success`` (object ``SelectedFacts``: ``architecture``, ``fqdn``, ``kernel``, ``memtotal_mb``,
``swaptotal_mb``, ``processor_cores``, ``processor_count``, ``processor_threads_per_core``,
``product_name``, ``product_version``, ``system_vendor``, ``processor`` (list of strings),
``env`` (map of strings), ``uptime_seconds``; all required) and ``error {error}``. The original
asks Ansible's ``gather_facts``; this one reads the same facts from the standard library,
``/proc`` and ``/sys`` (``NA`` where the machine does not say, as Ansible reports it).

Run: ``python plugin_metadata.py --atp`` or ``python -m plugin_metadata --atp``.
"""

import dataclasses
import os
import platform
import socket
import sys
import time
import typing
from pathlib import Path

from arcaflow_plugin_sdk import plugin, schema


@dataclasses.dataclass
class InputParams:
    """No input: the step describes the machine it runs on."""


@dataclasses.dataclass
class SelectedFacts:
    """Facts about the machine the step runs on (Ansible's names without ``ansible_``)."""

    architecture: typing.Annotated[str, schema.name("architecture")]
    fqdn: typing.Annotated[str, schema.name("fully-qualified domain name")]
    kernel: typing.Annotated[str, schema.name("kernel release")]
    memtotal_mb: typing.Annotated[int, schema.name("total memory in MB")]
    swaptotal_mb: typing.Annotated[int, schema.name("swap size in MB")]
    processor_cores: typing.Annotated[int, schema.name("cores per processor")]
    processor_count: typing.Annotated[int, schema.name("processor sockets")]
    processor_threads_per_core: typing.Annotated[int, schema.name("threads per core")]
    product_name: typing.Annotated[str, schema.name("product name")]
    product_version: typing.Annotated[str, schema.name("product version")]
    system_vendor: typing.Annotated[str, schema.name("system vendor")]
    processor: typing.Annotated[list[str], schema.name("processor list")]
    env: typing.Annotated[dict[str, str], schema.name("environment variables")]
    uptime_seconds: typing.Annotated[int, schema.name("uptime in seconds")]


@dataclasses.dataclass
class ErrorOutput:
    """Why the facts could not be collected."""

    error: str


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace").strip() or "NA"
    except OSError:
        return "NA"


def _meminfo_mb(key: str) -> int:
    for line in _read("/proc/meminfo").splitlines():
        name, _, value = line.partition(":")
        if name == key:
            return int(value.split()[0]) // 1024
    return 0


def _cpus() -> tuple[list[dict[str, str]], list[str]]:
    cpus: list[dict[str, str]] = [{}]
    for line in _read("/proc/cpuinfo").splitlines():
        if not line.strip():
            cpus.append({})
            continue
        key, _, value = line.partition(":")
        cpus[-1][key.strip()] = value.strip()
    cpus = [cpu for cpu in cpus if "processor" in cpu]
    listed: list[str] = []
    for cpu in cpus:
        listed += [cpu["processor"], cpu.get("vendor_id", "NA"), cpu.get("model name", "NA")]
    return cpus, listed


@plugin.step(
    id="collect-metadata",
    name="Collect Metadata",
    description="Collects facts about the machine it runs on",
    outputs={"success": SelectedFacts, "error": ErrorOutput},
)
def collect_metadata(params: InputParams) -> tuple[str, SelectedFacts | ErrorOutput]:
    cpus, listed = _cpus()
    sockets = len({cpu.get("physical id", "0") for cpu in cpus}) or 1
    cores = int(cpus[0].get("cpu cores", "1")) if cpus else 1
    siblings = int(cpus[0].get("siblings", str(cores))) if cpus else 1
    uptime = _read("/proc/uptime").split()[0]
    return "success", SelectedFacts(
        architecture=platform.machine(),
        fqdn=socket.getfqdn(),
        kernel=platform.release(),
        memtotal_mb=_meminfo_mb("MemTotal"),
        swaptotal_mb=_meminfo_mb("SwapTotal"),
        processor_cores=cores,
        processor_count=sockets,
        processor_threads_per_core=max(siblings // max(cores, 1), 1),
        product_name=_read("/sys/class/dmi/id/product_name"),
        product_version=_read("/sys/class/dmi/id/product_version"),
        system_vendor=_read("/sys/class/dmi/id/sys_vendor"),
        processor=listed,
        env=dict(os.environ),
        uptime_seconds=int(float(uptime)) if uptime != "NA" else int(time.monotonic()),
    )


if __name__ == "__main__":
    sys.exit(plugin.run(plugin.build_schema(collect_metadata)))
