"""Owner labels of containers: who started one, and whether that process has certainly ended.

No engine needed: the judgement reads only the labels and /proc, with real processes.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator

import pytest
from container_support import owner_labels

from arcaflow_steps_builtin.deployers._container import container_labels
from arcaflow_steps_builtin.deployers._container_owner import (
    OWNER_BOOT_ID_LABEL,
    OWNER_HOST_LABEL,
    OWNER_LABEL,
    OWNER_PID_NS_LABEL,
    OWNER_START_LABEL,
    is_orphan,
)


@pytest.fixture
def live() -> Iterator[subprocess.Popen[bytes]]:
    """A live process (not this one) to name as a container's owner."""
    with subprocess.Popen(["sleep", "60"]) as process:
        yield process
        process.kill()


@pytest.fixture
def ended_labels() -> dict[str, str]:
    """Owner labels of a process that ran, was killed and reaped."""
    with subprocess.Popen(["sleep", "60"]) as process:
        labels = owner_labels(process.pid)
        process.kill()
    return labels


def test_labels_name_this_process() -> None:
    """A container's labels are the deployer and this process's pid, start, boot, ns, host."""
    expected = {"org.arcaflow-steps.deployer": "docker", **owner_labels(os.getpid())}
    assert expected == container_labels("docker")


def test_a_live_owner_is_not_gone(live: subprocess.Popen[bytes]) -> None:
    """Containers of a live process are never judged orphans."""
    assert not is_orphan(owner_labels(live.pid))
    assert not is_orphan(owner_labels(os.getpid()))


def test_an_ended_owner_is_gone(ended_labels: dict[str, str]) -> None:
    """The owner was reaped: its containers are orphans."""
    assert is_orphan(ended_labels)


def test_a_zombie_owner_is_gone() -> None:
    """A killed owner not yet reaped (a zombie) has ended."""
    with subprocess.Popen(["sleep", "60"]) as process:
        labels = owner_labels(process.pid)
        process.kill()
        os.waitid(os.P_PID, process.pid, os.WEXITED | os.WNOWAIT)  # dead, still a zombie
        assert is_orphan(labels)


def test_a_reused_pid_does_not_fool_it(live: subprocess.Popen[bytes]) -> None:
    """The pid runs, but it is another process (another start time): the owner is gone."""
    labels = owner_labels(live.pid)
    labels[OWNER_START_LABEL] = str(int(labels[OWNER_START_LABEL]) - 1)
    assert is_orphan(labels)


@pytest.mark.parametrize(
    ("label", "value"),
    [
        (OWNER_HOST_LABEL, "elsewhere.example"),
        (OWNER_BOOT_ID_LABEL, "00000000-0000-0000-0000-000000000000"),
        (OWNER_PID_NS_LABEL, "1"),
    ],
    ids=["another-host", "another-boot", "another-pid-namespace"],
)
def test_an_owner_elsewhere_is_never_judged(
    ended_labels: dict[str, str], label: str, value: str
) -> None:
    """An owner on another host, boot or pid namespace may live: its pid means nothing here."""
    assert not is_orphan({**ended_labels, label: value})


@pytest.mark.parametrize(
    "missing",
    [OWNER_START_LABEL, OWNER_BOOT_ID_LABEL, OWNER_PID_NS_LABEL],
    ids=["start", "boot-id", "pid-ns"],
)
def test_incomplete_labels_are_never_judged(ended_labels: dict[str, str], missing: str) -> None:
    """Without the full identity (e.g. a container of an older version), nothing is removed."""
    labels = {key: value for key, value in ended_labels.items() if key != missing}
    assert not is_orphan(labels)


def test_a_pid_alone_is_never_judged(ended_labels: dict[str, str]) -> None:
    """The pid label alone (what 7bc791b wrote) cannot tell a reused pid: kept."""
    assert not is_orphan({OWNER_LABEL: ended_labels[OWNER_LABEL]})
