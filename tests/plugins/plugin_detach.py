"""ATP test plugin whose steps leave processes behind, each detached in another way.

Run: ``python -m plugin_detach --atp``. Every step starts ``python -c "sleep" MARKER`` (a
child that sleeps ``seconds``, 300 by default), with ``MARKER`` both in its argv and in its
environment as ``ARCAFLOW_TEST_MARKER``, so a test finds it in ``/proc`` wherever it was
reparented; the step then returns ``success {pid}`` at once (``linger`` > 0: after that many
seconds).
"""

import dataclasses
import os
import subprocess
import sys
import time

from arcaflow_plugin_sdk import plugin


@dataclasses.dataclass
class DetachInput:
    marker: str
    seconds: float = 300.0
    linger: float = 0.0


@dataclasses.dataclass
class DetachOutput:
    pid: int


def _argv(params: DetachInput) -> list[str]:
    code = f"import time; time.sleep({params.seconds!r})"
    return [sys.executable, "-c", code, params.marker]


def _env(params: DetachInput) -> dict[str, str]:
    return dict(os.environ, ARCAFLOW_TEST_MARKER=params.marker)


def _done(pid: int, params: DetachInput) -> tuple[str, DetachOutput]:
    time.sleep(params.linger)
    return "success", DetachOutput(pid)


@plugin.step(
    id="background-inherit",
    name="Background child inheriting stdio",
    description='os.system("... &"): the child keeps our stdout and stderr open',
    outputs={"success": DetachOutput},
)
def background_inherit(params: DetachInput) -> tuple[str, DetachOutput]:
    command = " ".join(f"'{part}'" for part in _argv(params))
    os.environ["ARCAFLOW_TEST_MARKER"] = params.marker
    os.system(command + " &")
    return _done(0, params)


@plugin.step(
    id="background-redirected",
    name="Background child with redirected stdio",
    description="a child with stdio on /dev/null, in our process group",
    outputs={"success": DetachOutput},
)
def background_redirected(params: DetachInput) -> tuple[str, DetachOutput]:
    child = subprocess.Popen(
        _argv(params),
        env=_env(params),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return _done(child.pid, params)


@plugin.step(
    id="daemon",
    name="Double-fork daemon",
    description="fork, setsid, fork again: a daemon in its own session, reparented away",
    outputs={"success": DetachOutput},
)
def daemon(params: DetachInput) -> tuple[str, DetachOutput]:
    read_end, write_end = os.pipe()
    first = os.fork()
    if first == 0:
        os.setsid()
        if os.fork() == 0:
            null = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(null, fd)
            os.execve(sys.executable, _argv(params), _env(params))
        os._exit(0)
    os.close(write_end)
    os.waitpid(first, 0)
    os.close(read_end)
    return _done(0, params)


@dataclasses.dataclass
class WhereInput:
    label: str = "where"


@dataclasses.dataclass
class WhereOutput:
    cwd: str
    pwd: str


@plugin.step(
    id="where",
    name="Where",
    description="Report the working directory and what PWD says it is",
    outputs={"success": WhereOutput},
)
def where(params: WhereInput) -> tuple[str, WhereOutput]:
    del params
    return "success", WhereOutput(os.getcwd(), os.environ.get("PWD", ""))


if __name__ == "__main__":
    sys.exit(
        plugin.run(plugin.build_schema(background_inherit, background_redirected, daemon, where))
    )
