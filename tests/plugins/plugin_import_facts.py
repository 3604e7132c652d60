"""ATP test plugin reporting what its module saw at import, to show how source zygotes behave.

``facts`` (input ``{seconds=0, module=""}``: how long to wait first, a module to look for)
returns ``success`` with the pid and working directory read at import and now, how many runs
this process's module counted, how many threads run, and whether ``module`` is imported (a
plugin forked from a zygote has what the zygote had: the CLI's modules, if it was forked from
the CLI after they were imported). With ``FACTS_THREAD=1`` in its environment the module starts
a thread at import (so it cannot be preloaded); ``FACTS_IMPORT_SECONDS`` makes its import sleep
that long; with ``FACTS_OPEN_FILE=1`` it opens this file at import and each run reads its first
line.
Run: ``python plugin_import_facts.py --atp``.
"""

import dataclasses
import os
import sys
import threading
import time
import typing

from arcaflow_plugin_sdk import plugin, schema

IMPORT_PID = os.getpid()
IMPORT_CWD = os.getcwd()
RUNS = [0]
if os.environ.get("FACTS_THREAD") == "1":
    threading.Thread(target=threading.Event().wait, daemon=True).start()
time.sleep(float(os.environ.get("FACTS_IMPORT_SECONDS", "0")))
SOURCE = open(__file__) if os.environ.get("FACTS_OPEN_FILE") == "1" else None  # noqa: SIM115


@dataclasses.dataclass
class FactsInput:
    seconds: typing.Annotated[float, schema.name("Seconds"), schema.description("Wait first")] = 0.0
    module: typing.Annotated[
        str, schema.name("Module"), schema.description("A module name to look for")
    ] = ""


@dataclasses.dataclass
class Facts:
    import_pid: int
    pid: int
    import_cwd: str
    cwd: str
    runs: int
    threads: int
    first_line: str
    module_loaded: bool


@plugin.step(
    id="facts", name="Facts", description="What the module saw", outputs={"success": Facts}
)
def facts(params: FactsInput) -> tuple[str, Facts]:
    time.sleep(params.seconds)
    RUNS[0] += 1
    return "success", Facts(
        import_pid=IMPORT_PID,
        pid=os.getpid(),
        import_cwd=IMPORT_CWD,
        cwd=os.getcwd(),
        runs=RUNS[0],
        threads=threading.active_count(),
        first_line=SOURCE.readline().strip() if SOURCE is not None else "",
        module_loaded=params.module in sys.modules,
    )


if __name__ == "__main__":
    sys.exit(plugin.run(plugin.build_schema(facts)))
