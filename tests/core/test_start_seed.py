"""The start-up seed (``arcaflow_steps._start_seed``): claimed, it becomes what it is told;
unclaimed, it ends with the process that planted it, however that ends, holding nothing.

Each test runs a small script in its own interpreter (planting forks that interpreter), with a
marker in its environment that the seed inherits, so whatever is left is found in /proc.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest

from arcaflow_steps import _start_seed

HELPER = """
import os

def write_and_exit(fd, text, code):
    os.write(fd, f"{text} from {os.getpid()}, child of {os.getppid()}".encode())
    os._exit(code)

def returns():
    return None
"""


def marked(marker: str) -> set[int]:
    """Return the processes whose environment holds ``SEED_TEST_MARKER=marker``."""
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            variables = Path(f"/proc/{entry}/environ").read_bytes().split(b"\0")
            state = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if f"SEED_TEST_MARKER={marker}".encode() in variables and state != "Z":
            found.add(int(entry))
    return found


def wait_none_marked(marker: str, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while marked(marker) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert set() == marked(marker)


@pytest.fixture
def marker() -> str:
    return uuid.uuid4().hex


def start(tmp_path: Path, marker: str, body: str) -> subprocess.Popen[str]:
    """Run ``body`` (after ``from arcaflow_steps import _start_seed``) in a new interpreter."""
    (tmp_path / "seed_helper.py").write_text(HELPER)
    script = tmp_path / "script.py"
    script.write_text("import os, sys, time\nfrom arcaflow_steps import _start_seed\n")
    with script.open("a") as file:
        file.write(textwrap.dedent(body))
    return subprocess.Popen(
        [sys.executable, str(script)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "SEED_TEST_MARKER": marker},
        start_new_session=True,
    )


def finish(process: subprocess.Popen[str]) -> str:
    stdout, stderr = process.communicate(timeout=30)
    assert 0 == process.returncode, stderr
    return stdout


def test_a_claimed_seed_calls_the_function_with_the_descriptors_and_arguments(
    tmp_path: Path, marker: str
) -> None:
    process = start(
        tmp_path,
        marker,
        """
        assert _start_seed.plant()
        seed = _start_seed.claim()
        assert seed is not None
        assert _start_seed.claim() is None
        read, write = os.pipe()
        pid = seed.become("seed_helper", "write_and_exit", [write], ["hello", 7])
        os.close(write)
        _, status = os.waitpid(pid, 0)
        print(os.read(read, 1000).decode(), os.getpid(), os.waitstatus_to_exitcode(status))
        """,
    )
    words = finish(process).split()
    assert ["hello", "from", words[2], "child", "of", words[6], words[6], "7"] == words
    wait_none_marked(marker)


def test_a_seed_whose_function_returns_exits(tmp_path: Path, marker: str) -> None:
    process = start(
        tmp_path,
        marker,
        """
        assert _start_seed.plant()
        pid = _start_seed.claim().become("seed_helper", "returns")
        print(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
        """,
    )
    assert "0" == finish(process).strip()


def test_an_unknown_function_ends_the_seed_with_status_1(tmp_path: Path, marker: str) -> None:
    process = start(
        tmp_path,
        marker,
        """
        assert _start_seed.plant()
        pid = _start_seed.claim().become("seed_helper", "no_such_function")
        print(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
        """,
    )
    assert "1" == finish(process).strip()


def test_released_the_seed_is_gone_and_reaped(tmp_path: Path, marker: str) -> None:
    process = start(
        tmp_path,
        marker,
        """
        assert _start_seed.plant()
        pid = _start_seed._seed.pid
        _start_seed.release()
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            print("reaped")
        assert _start_seed.claim() is None
        """,
    )
    assert "reaped" == finish(process).strip()
    wait_none_marked(marker)


def test_an_unclaimed_seed_is_released_at_exit(tmp_path: Path, marker: str) -> None:
    process = start(tmp_path, marker, "assert _start_seed.plant()\nprint(_start_seed._seed.pid)\n")
    seed = int(finish(process))
    assert not Path(f"/proc/{seed}").exists()  # exited and reaped before the planter ended
    wait_none_marked(marker)


@pytest.mark.parametrize("hung", [False, True], ids=["waiting", "in-a-hung-preparation"])
def test_the_seed_ends_when_its_planter_is_killed(tmp_path: Path, marker: str, hung: bool) -> None:
    """Waiting for its claim, or stuck in a preparation (it checks its parent meanwhile)."""
    if hung:
        install_preparations(tmp_path, "slow", "slow = seed_preparation:slow")
    process = start(
        tmp_path,
        marker,
        "assert _start_seed.plant()\nprint(_start_seed._seed.pid, flush=True)\ntime.sleep(60)\n",
    )
    assert process.stdout is not None
    int(process.stdout.readline())
    if hung:
        time.sleep(0.3)  # in the preparation by now
    assert 2 == len(marked(marker))
    process.kill()
    process.communicate(timeout=10)
    wait_none_marked(marker, timeout=3)


def test_the_seed_ends_with_its_planter_even_if_its_socket_leaked(
    tmp_path: Path, marker: str
) -> None:
    """A fork of the planter holding the planter's end keeps the socket open: the seed still
    notices its planter's death (it checks every second)."""
    process = start(
        tmp_path,
        marker,
        """
        assert _start_seed.plant()
        print(_start_seed._seed.pid, flush=True)
        if os.fork() == 0:
            os.setsid()
            null = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(null, fd)
            time.sleep(60)
            os._exit(0)
        time.sleep(60)
        """,
    )
    assert process.stdout is not None
    seed = int(process.stdout.readline())
    try:
        process.kill()
        process.communicate(timeout=10)
        deadline = time.monotonic() + 5
        while seed in marked(marker) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert seed not in marked(marker)
    finally:
        for pid in marked(marker):
            os.kill(pid, signal.SIGKILL)
    wait_none_marked(marker)


def test_the_seed_holds_none_of_its_planters_descriptors(tmp_path: Path, marker: str) -> None:
    """Whoever reads the planter's output sees its end when the planter closes it, seed or not."""
    process = start(
        tmp_path,
        marker,
        """
        assert _start_seed.plant()
        sys.stderr.write(f"{_start_seed._seed.pid}\\n")
        sys.stderr.flush()
        os.close(1)
        time.sleep(60)
        """,
    )
    assert process.stdout is not None
    assert process.stderr is not None
    seed = int(process.stderr.readline())
    try:
        assert select.select([process.stdout], [], [], 10)[0], "stdout never ended"
        assert "" == process.stdout.read()
        deadline = time.monotonic() + 5
        while (held := seed_files(seed)) != {"/dev/null"} and time.monotonic() < deadline:
            time.sleep(0.02)  # it may still be closing them
        assert {"/dev/null"} == held
    finally:
        process.kill()
        process.communicate(timeout=10)
    wait_none_marked(marker, timeout=3)


def seed_files(seed: int) -> set[str]:
    """Return what the seed's descriptors name, its socket left out."""
    links = {os.readlink(fd) for fd in Path(f"/proc/{seed}/fd").iterdir()}
    return {link for link in links if not link.startswith("socket:")}


def test_a_seed_killed_before_its_claim_is_not_handed_out(tmp_path: Path, marker: str) -> None:
    process = start(
        tmp_path,
        marker,
        """
        assert _start_seed.plant()
        pid = _start_seed._seed.pid
        os.kill(pid, 9)
        while open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0] != "Z":
            time.sleep(0.01)
        print(_start_seed.claim())
        """,
    )
    assert "None" == finish(process).strip()


def test_a_claim_on_a_dead_seed_raises_and_reaps_it(tmp_path: Path, marker: str) -> None:
    process = start(
        tmp_path,
        marker,
        """
        assert _start_seed.plant()
        seed = _start_seed.claim()
        os.kill(seed.pid, 9)
        while open(f"/proc/{seed.pid}/stat").read().rsplit(")", 1)[1].split()[0] != "Z":
            time.sleep(0.01)
        try:
            seed.become("seed_helper", "returns")
        except OSError:
            print("refused")
        try:
            os.waitpid(seed.pid, os.WNOHANG)
        except ChildProcessError:
            print("reaped")
        """,
    )
    assert ["refused", "reaped"] == finish(process).split()


def test_ctrl_c_ends_an_unclaimed_seed(tmp_path: Path, marker: str) -> None:
    """SIGINT reaches the whole foreground process group: the seed ends quietly."""
    process = start(
        tmp_path,
        marker,
        """
        import signal
        # As a CLI in a terminal's foreground: whoever started pytest may have ignored SIGINT
        # (a background job), which the seed would inherit.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        assert _start_seed.plant()
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        print(_start_seed._seed.pid, flush=True)
        time.sleep(60)
        """,
    )
    assert process.stdout is not None
    seed = int(process.stdout.readline())
    try:
        os.killpg(process.pid, signal.SIGINT)  # whatever it is doing: importing, waiting
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            state = Path(f"/proc/{seed}/stat").read_text().rsplit(")", 1)[1].split()[0]
            if state == "Z":
                break
            time.sleep(0.02)
        assert "Z" == state  # ended; its planter reaps it
    finally:
        process.kill()
        process.communicate(timeout=10)


def test_no_seed_is_planted_beside_another_thread(tmp_path: Path, marker: str) -> None:
    process = start(
        tmp_path,
        marker,
        """
        import threading
        stop = threading.Event()
        threading.Thread(target=stop.wait).start()
        print(_start_seed.plant(), _start_seed.claim())
        stop.set()
        """,
    )
    assert "False None" == finish(process).strip()


def test_without_a_seed_claim_and_release_do_nothing() -> None:
    assert _start_seed.claim() is None
    _start_seed.release()


PREPARATION = """
import os, time

prepared_in = None

def prepare():
    global prepared_in
    prepared_in = os.getpid()

def fail():
    raise RuntimeError("a broken preparation")

def slow():
    time.sleep(60)

def report(fd):
    os.write(fd, f"prepared in {prepared_in}, claimed in {os.getpid()}".encode())
    os._exit(0)
"""


def install_preparations(directory: Path, distribution: str, entries: str) -> None:
    """Make ``directory`` hold a distribution whose ``arcaflow.start_seed`` group is ``entries``."""
    (directory / "seed_preparation.py").write_text(PREPARATION)
    info = directory / f"{distribution}-1.0.dist-info"
    info.mkdir()
    (info / "entry_points.txt").write_text(f"[arcaflow.start_seed]\n{entries}\n")


def test_the_seed_calls_the_preparations_before_it_is_claimed(tmp_path: Path, marker: str) -> None:
    install_preparations(
        tmp_path, "prepared", "broken = seed_preparation:fail\nfirst = seed_preparation:prepare"
    )
    process = start(
        tmp_path,
        marker,
        """
        assert _start_seed.plant()
        time.sleep(0.5)  # the preparations run while the planter goes on
        seed = _start_seed.claim()
        read, write = os.pipe()
        pid = seed.become("seed_preparation", "report", [write])
        os.close(write)
        os.waitpid(pid, 0)
        print(os.read(read, 1000).decode(), pid)
        """,
    )
    words = finish(process).split()
    # The failing preparation was skipped; the other ran in the seed itself.
    assert ["prepared", "in", words[5] + ",", "claimed", "in", words[5], words[5]] == words
    wait_none_marked(marker)


def test_releasing_a_seed_in_the_middle_of_a_preparation_does_not_wait_for_it(
    tmp_path: Path, marker: str
) -> None:
    install_preparations(tmp_path, "slow", "slow = seed_preparation:slow")
    process = start(
        tmp_path,
        marker,
        """
        assert _start_seed.plant()
        time.sleep(0.3)
        started = time.monotonic()
        _start_seed.release()
        print(round(time.monotonic() - started))
        """,
    )
    assert "0" == finish(process).strip()
    wait_none_marked(marker)


def test_preparations_come_from_the_entry_points_of_the_distributions_on_the_path(
    tmp_path: Path,
) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    for directory in (first, second):
        directory.mkdir()
    (first / "alpha-1.0.dist-info").mkdir()
    (first / "alpha-1.0.dist-info" / "entry_points.txt").write_text(
        "# a comment\n[console_scripts]\nalpha = alpha:main\n\n"
        "[arcaflow.start_seed]\n"
        "one = alpha.seed:prepare [extra]\n"
        "again = alpha.seed:prepare\n"
        "[other]\nx = y:z\n"
    )
    (first / "beta.egg-info").mkdir()
    (first / "beta.egg-info" / "entry_points.txt").write_text(
        "[arcaflow.start_seed]\nb = beta:prepare\n"
    )
    (first / "no_entry_points-2.0.dist-info").mkdir()
    (second / "alpha-0.9.dist-info").mkdir()  # shadowed by the first alpha on the path
    (second / "alpha-0.9.dist-info" / "entry_points.txt").write_text(
        "[arcaflow.start_seed]\nold = alpha.old:prepare\n"
    )
    (second / "gamma-3.dist-info").mkdir()
    (second / "gamma-3.dist-info" / "entry_points.txt").write_text(
        "[arcaflow.start_seed]\ng = gamma:prepare\n"
    )
    path = [str(first), str(tmp_path / "missing"), str(second)]
    assert ["alpha.seed:prepare", "beta:prepare", "gamma:prepare"] == _start_seed.preparations(path)
    # Blocked by entry point name (ARCAFLOW_STEPS_DISABLE_PLUGINS, read by the seed itself).
    assert ["alpha.seed:prepare", "gamma:prepare"] == _start_seed.preparations(path, {"b", "x"})
    assert ["gamma:prepare"] == _start_seed.preparations(path, {"one", "again", "b"})


def test_a_seed_planted_without_preparations_calls_none(tmp_path: Path, marker: str) -> None:
    """``plant(prepare=False)`` (the command line may block entry points): nothing runs."""
    install_preparations(tmp_path, "prepared", "first = seed_preparation:prepare")
    process = start(
        tmp_path,
        marker,
        """
        assert _start_seed.plant(prepare=False)
        time.sleep(0.5)  # preparations would have run by now
        seed = _start_seed.claim()
        read, write = os.pipe()
        pid = seed.become("seed_preparation", "report", [write])
        os.close(write)
        os.waitpid(pid, 0)
        print(os.read(read, 1000).decode())
        """,
    )
    assert finish(process).startswith("prepared in None, claimed in ")
    wait_none_marked(marker)
