"""Raw fake plugin that writes the first half of its hello, then dies (as if killed mid-write).

Run: ``python fake_half_hello.py --atp``.
"""

import os

import cbor2
from _fake_atp import Wire, plugin_schema

if __name__ == "__main__":
    wire = Wire()
    wire.read()
    hello = cbor2.dumps({"version": 3, "schema": plugin_schema("hello")})
    wire.write_raw(hello[: len(hello) // 2])
    os._exit(0)
