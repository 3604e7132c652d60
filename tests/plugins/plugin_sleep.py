"""One-step ATP test plugin for benchmarks: ``sleep`` waits ``seconds`` then succeeds.

Run: ``python -m plugin_sleep --atp``.
"""

import dataclasses
import sys
import time

from arcaflow_plugin_sdk import plugin


@dataclasses.dataclass
class SleepInput:
    seconds: float


@dataclasses.dataclass
class SleepOutput:
    slept: float


@plugin.step(
    id="sleep",
    name="Sleep",
    description="Sleeps for the given number of seconds",
    outputs={"success": SleepOutput},
)
def sleep(params: SleepInput) -> tuple[str, SleepOutput]:
    time.sleep(params.seconds)
    return "success", SleepOutput(params.seconds)


if __name__ == "__main__":
    sys.exit(plugin.run(plugin.build_schema(sleep)))
