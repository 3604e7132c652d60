"""The floor of one container per step: what the Docker daemon alone needs for N containers.

Theory of operation
-------------------
Issue 11 asks ``foreach`` over 256 items (parallelism 64) with the docker deployer to take at
most half the Go engine's wall time. Both engines give every step its own container, so both
pay the daemon's work per container (create, network, start, stop, remove). This script
measures that work without any engine: it runs N containers of the benchmark image
(``arcaflow-steps-test/plugin_hello:latest``) whose command is ``/bin/true`` — no plugin, no
ATP, no Python — through docker-py, at most C at a time, each created, started, waited for and
removed as our deployer does (``AutoRemove``, ``wait condition=removed``). Whatever an engine
does on top, its wall time for N one-container steps cannot go below this.

Variants (``--variants``): ``default`` (the deployer's settings: bridge network, json-file
logs), ``no-network`` (``NetworkMode: none``), ``no-logs`` (``LogConfig: none``) and
``bare`` (both) show what the daemon spends its time on. ``exec`` runs the same N commands as
``docker exec`` in one running container instead, the cost of sharing a container. ``plugin``
has the deployer's settings but runs the image's plugin once in each container (its step
``hello-world`` from an input file, no ATP: interpreter, SDK import, schema, the step): the floor
of N plugin steps in N containers, before any engine work (chain-32 runs 32 of them).
The daemon's CPU time is read from ``/proc`` (``dockerd`` and ``containerd``); it needs a local
daemon.

Usage (after ``bash .ci/containers.sh``)::

    python bench/docker_floor.py                          # 256 containers, 64 at a time
    python bench/docker_floor.py --count 64 --concurrency 1,4,16,64 --variants default
    python bench/docker_floor.py --count 32 --concurrency 4 --variants default,plugin
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["main"]

IMAGE = "arcaflow-steps-test/plugin_hello:latest"
VARIANTS: dict[str, dict[str, Any]] = {
    "default": {},
    "no-network": {"network_mode": "none"},
    "no-logs": {"log_config": {"Type": "none", "Config": {}}},
    "bare": {"network_mode": "none", "log_config": {"Type": "none", "Config": {}}},
    "exec": {},
    "plugin": {},
}
#: What a variant's containers run (default ``/bin/true``).
COMMANDS: dict[str, list[str]] = {
    "plugin": [
        "/bin/sh",
        "-c",
        "printf 'name: floor\\n' >/tmp/input.yaml && "
        "exec python3 -m plugin_hello -s hello-world -f /tmp/input.yaml >/dev/null",
    ],
}
TRUE = ["/bin/true"]
DAEMONS = ("dockerd", "containerd")


def daemon_cpu_seconds(names: Sequence[str] = DAEMONS) -> float:
    """Return the CPU seconds used so far by every process called one of ``names``."""
    ticks = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/comm") as comm:
                if comm.read().strip() not in names:
                    continue
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += sum(int(field) for field in fields[11:15])  # utime stime cutime cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def one_container(api: Any, host_config: dict[str, Any], command: list[str] = TRUE) -> None:
    """Create, start, wait for and remove one container that runs ``command``."""
    created = api.create_container(IMAGE, entrypoint=command, host_config=host_config)
    container_id = created["Id"]
    removed = api._post(  # docker-py has no "removed" condition helper
        api._url("/containers/{0}/wait", container_id),
        params={"condition": "removed"},
        stream=True,
        timeout=None,
    )
    api.start(container_id)
    api._raise_for_status(removed)
    removed.close()


def run_variant(api: Any, variant: str, count: int, concurrency: int) -> tuple[float, float]:
    """Run ``count`` containers of ``variant``; return (wall seconds, daemon CPU seconds)."""
    keeper: str | None = None
    task: Callable[[int], None]
    if variant == "exec":
        keeper = api.create_container(IMAGE, entrypoint=["/bin/sleep", "3600"])["Id"]
        api.start(keeper)

        def task(_index: int) -> None:
            execution = api.exec_create(keeper, ["/bin/true"])
            api.exec_start(execution["Id"])

    else:
        host_config = api.create_host_config(auto_remove=True, **VARIANTS[variant])
        command = COMMANDS.get(variant, TRUE)

        def task(_index: int) -> None:
            one_container(api, host_config, command)

    try:
        cpu_before = daemon_cpu_seconds()
        started = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(concurrency) as pool:
            list(pool.map(task, range(count)))
        return time.monotonic() - started, daemon_cpu_seconds() - cpu_before
    finally:
        if keeper is not None:
            api.remove_container(keeper, force=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Measure and print one Markdown row per (variant, concurrency)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--count", type=int, default=256)
    parser.add_argument("--concurrency", default="64", help="comma-separated, e.g. 4,16,64")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    args = parser.parse_args(argv)
    unknown = [name for name in args.variants.split(",") if name not in VARIANTS]
    if unknown:
        parser.error(f"unknown variants {unknown}; valid: {', '.join(VARIANTS)}")
    import docker

    api = docker.APIClient(version="auto")
    api.inspect_image(IMAGE)  # fails clearly when .ci/containers.sh has not built it
    print("| variant | containers | at once | wall s | per container s | daemon CPU s |")
    print("|---|---:|---:|---:|---:|---:|")
    for variant in args.variants.split(","):
        for concurrency in (int(text) for text in args.concurrency.split(",")):
            wall, cpu = run_variant(api, variant, args.count, concurrency)
            print(
                f"| {variant} | {args.count} | {concurrency} | {wall:.2f} | "
                f"{wall / args.count:.3f} | {cpu:.2f} |",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
