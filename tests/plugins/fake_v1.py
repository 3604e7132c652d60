"""Raw fake plugin speaking ATP version 1: bare work start and done, one run per process.

Step ``hello`` greets ``name``. Run: ``python fake_v1.py --atp``.
"""

import sys

from _fake_atp import Wire, plugin_schema

if __name__ == "__main__":
    wire = Wire()
    wire.handshake(plugin_schema("hello"), version=1)
    try:
        work = wire.read()
    except EOFError:
        sys.exit(0)
    name = work["config"].get("name", "nobody")
    wire.write(
        {
            "output_id": "success",
            "output_data": {"message": f"Hello, {name}!"},
            "debug_logs": "v1 plugin ran\n",
        }
    )
    sys.exit(0)
