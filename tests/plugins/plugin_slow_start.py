"""``plugin_steps`` that takes ``START_SECONDS`` to start: its import sleeps before the handshake,
so a step of it stays in ``deploy`` that long (the Go engine's test deployer's ``deploy_time``).

Run: ``python plugin_slow_start.py --atp``.
"""

import sys
import time

from arcaflow_plugin_sdk import plugin

#: Seconds the import takes.
START_SECONDS = 2.5

time.sleep(START_SECONDS)

from plugin_steps import SCHEMA  # noqa: E402 (after the start-up delay, on purpose)

if __name__ == "__main__":
    sys.exit(plugin.run(SCHEMA))
