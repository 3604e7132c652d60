"""Raw fake plugin that answers the start message with text instead of a CBOR hello.

Run: ``python fake_text_hello.py --atp``.
"""

import sys

from _fake_atp import Wire

if __name__ == "__main__":
    wire = Wire()
    wire.read()
    wire.write_raw(b"Starting my plugin, version 1.2.3...\n")
    wire.drain()
    sys.exit(0)
