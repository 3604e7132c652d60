"""One-step ATP test plugin: ``inspect`` reports the process it runs in.

Used to check that a plugin forked by a zygote that is itself a fork of arcaflow-steps sees
what a plugin of a freshly started zygote sees (signal handlers, descriptors, session, argv).
"""

import dataclasses
import os
import signal
import sys

from arcaflow_plugin_sdk import plugin


@dataclasses.dataclass
class InputParams:
    label: str = "probe"


@dataclasses.dataclass
class Report:
    #: Signals (by name) whose handler is not what a fresh interpreter has.
    changed_signals: list[str]
    #: Open descriptors other than 0, 1 and 2 that are not the SDK's own (sockets, pipes).
    extra_fds: list[str]
    leads_session: bool
    argv: list[str]
    stdout_is_pipe: bool


def _fresh_handler(signum: int) -> object:
    if signum == signal.SIGINT:
        return signal.default_int_handler
    if signum in (signal.SIGPIPE, getattr(signal, "SIGXFSZ", None)):
        return signal.SIG_IGN
    return signal.SIG_DFL


@plugin.step(
    id="inspect", name="Inspect", description="Report the process", outputs={"success": Report}
)
def inspect(params: InputParams) -> tuple[str, Report]:
    changed = [
        signal.Signals(signum).name
        for signum in sorted(signal.valid_signals())
        if signum not in (signal.SIGKILL, signal.SIGSTOP)
        and signal.getsignal(signum) not in (_fresh_handler(signum), None)
    ]
    extra = []
    for name in sorted(os.listdir("/proc/self/fd"), key=int):
        if int(name) > 2:
            try:
                target = os.readlink(f"/proc/self/fd/{name}")
            except OSError:
                continue  # the listdir's own descriptor
            if not target.startswith(("anon_inode:", "/proc/")):
                extra.append(target)
    return "success", Report(
        changed_signals=changed,
        extra_fds=extra,
        leads_session=os.getsid(0) == os.getpid(),
        argv=list(sys.argv),
        stdout_is_pipe=os.readlink("/proc/self/fd/1").startswith("pipe:"),
    )


if __name__ == "__main__":
    sys.exit(plugin.run(plugin.build_schema(inspect)))
