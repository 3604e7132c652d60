"""Raw fake plugin that speaks ATP version 2, which nobody supports any more.

Run: ``python fake_version2.py --atp``.
"""

import sys

from _fake_atp import Wire, plugin_schema

if __name__ == "__main__":
    wire = Wire()
    wire.handshake(plugin_schema("ok"), version=2)
    wire.drain()
    sys.exit(0)
