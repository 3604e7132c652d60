"""Raw fake plugin that exits with status 3 before its hello, complaining on stderr.

Run: ``python fake_exit_early.py --atp``.
"""

import os

from _fake_atp import Wire

if __name__ == "__main__":
    Wire().read()
    os.write(2, b"fake plugin: cannot start, configuration missing\n")
    os._exit(3)
