"""Raw fake plugin that reads the start message and never says hello (until stdin ends).

Run: ``python fake_silent.py --atp``.
"""

import sys

from _fake_atp import Wire

if __name__ == "__main__":
    wire = Wire()
    wire.read()
    wire.drain()
    sys.exit(0)
