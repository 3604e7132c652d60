"""Who owns a container: the labels that name the process that started it, and whether it lives.

Every container of ours carries the identity of the process that started it::

    org.arcaflow-steps.owner-pid       12345
    org.arcaflow-steps.owner-start     987654     its start time: clock ticks after boot
                                                  (field 22 of /proc/PID/stat)
    org.arcaflow-steps.owner-boot-id   6f1c…      /proc/sys/kernel/random/boot_id
    org.arcaflow-steps.owner-pid-ns    4026531836 the inode of its pid namespace
    org.arcaflow-steps.owner-host      build-7    its host name

A pid alone cannot say the owner is gone: pids are reused, and several hosts (or containers
with their own pid namespaces) may share one engine. The owner is *gone* only when the boot
id, pid namespace and host name are this process's own — so ``/proc`` here shows the owner's
pid — and that pid no longer runs with the recorded start time (no such process, a zombie, or
another process that got the pid since). A container whose owner lives, runs elsewhere, or
cannot be judged (labels missing or foreign) is never touched.

Only the standard library: the container watchdog imports this module without site-packages
(``python -S``, to start in a few milliseconds), so the record is a ``NamedTuple``.
"""

from __future__ import annotations

import functools
import os
import socket
from collections.abc import Mapping
from typing import Final, NamedTuple

__all__ = [
    "CONTAINER_LABEL",
    "OWNER_BOOT_ID_LABEL",
    "OWNER_HOST_LABEL",
    "OWNER_LABEL",
    "OWNER_PID_NS_LABEL",
    "OWNER_START_LABEL",
    "ContainerOwner",
    "is_orphan",
    "process_start",
]

#: Label set on every container we start; its value is the deployer name.
CONTAINER_LABEL: Final = "org.arcaflow-steps.deployer"
#: Label naming the process id that started the container.
OWNER_LABEL: Final = "org.arcaflow-steps.owner-pid"
#: The owner's start time in clock ticks after boot (tells a reused pid apart).
OWNER_START_LABEL: Final = "org.arcaflow-steps.owner-start"
#: The boot id of the owner's machine (a reboot, or another machine, has another).
OWNER_BOOT_ID_LABEL: Final = "org.arcaflow-steps.owner-boot-id"
#: The inode of the owner's pid namespace (its pid means nothing in another namespace).
OWNER_PID_NS_LABEL: Final = "org.arcaflow-steps.owner-pid-ns"
#: The owner's host name.
OWNER_HOST_LABEL: Final = "org.arcaflow-steps.owner-host"


def process_start(pid: int) -> str | None:
    """Return the start time of a running process (field 22 of /proc/PID/stat), else None.

    None means no such process, or a zombie: a process that has ended either way.
    """
    try:
        with open(f"/proc/{pid}/stat", "rb") as file:
            stat = file.read()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after the last ')'.
    fields = stat[stat.rfind(b")") + 2 :].split()
    if len(fields) < 20 or fields[0] in (b"Z", b"X"):
        return None
    return fields[19].decode("ascii")


@functools.cache
def _machine() -> tuple[str, str, str]:
    """Return this process's (host name, boot id, pid namespace); '' for what is unknown."""
    try:
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as file:
            boot_id = file.read().strip()
    except OSError:
        boot_id = ""
    try:
        stat = os.stat("/proc/self/ns/pid")
    except OSError:
        pid_ns = ""
    else:
        pid_ns = str(stat.st_ino)
    return socket.gethostname(), boot_id, pid_ns


class ContainerOwner(NamedTuple):
    """The process that started a container, as its labels record it.

    Thread safety: safe to share (immutable).
    """

    pid: int
    start: str
    boot_id: str
    pid_ns: str
    host: str

    @classmethod
    def current(cls) -> ContainerOwner | None:
        """Return this process as an owner, or None where /proc cannot describe it."""
        start = process_start(os.getpid())
        host, boot_id, pid_ns = _machine()
        if start is None or not boot_id or not pid_ns:
            return None
        return cls(pid=os.getpid(), start=start, boot_id=boot_id, pid_ns=pid_ns, host=host)

    @classmethod
    def from_labels(cls, labels: Mapping[str, str]) -> ContainerOwner | None:
        """Return the owner a container's labels name, or None when a label is missing."""
        values = [
            labels.get(name)
            for name in (
                OWNER_LABEL,
                OWNER_START_LABEL,
                OWNER_BOOT_ID_LABEL,
                OWNER_PID_NS_LABEL,
                OWNER_HOST_LABEL,
            )
        ]
        pid, start, boot_id, pid_ns, host = values
        if pid is None or not pid.isdigit() or not start or not boot_id or not pid_ns:
            return None
        return cls(pid=int(pid), start=start, boot_id=boot_id, pid_ns=pid_ns, host=host or "")

    def labels(self) -> dict[str, str]:
        """Return the labels that record this owner."""
        return {
            OWNER_LABEL: str(self.pid),
            OWNER_START_LABEL: self.start,
            OWNER_BOOT_ID_LABEL: self.boot_id,
            OWNER_PID_NS_LABEL: self.pid_ns,
            OWNER_HOST_LABEL: self.host,
        }

    def is_local(self) -> bool:
        """Return whether the owner ran in this pid namespace of this boot of this host."""
        return (self.host, self.boot_id, self.pid_ns) == _machine()

    def is_gone(self) -> bool:
        """Return whether this local owner has ended (False when it is not local)."""
        return self.is_local() and process_start(self.pid) != self.start


def is_orphan(labels: Mapping[str, str]) -> bool:
    """Return whether a container's labels name an owner that has certainly ended."""
    owner = ContainerOwner.from_labels(labels)
    return owner is not None and owner.is_gone()
