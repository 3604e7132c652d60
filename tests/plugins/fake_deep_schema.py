"""Raw ATP v3 fake plugin whose hello holds a schema nested ``$FAKE_SCHEMA_DEPTH`` lists deep.

Step ``deep`` takes ``{value}``, a list of lists of … strings, ``$FAKE_SCHEMA_DEPTH`` (default
500) levels deep; the plugin then waits for stdin EOF. Run: ``python fake_deep_schema.py --atp``.
"""

import os
import sys

from _fake_atp import Wire, object_scope, step_schema

if __name__ == "__main__":
    value: dict[str, object] = {"type_id": "string"}
    for _ in range(int(os.environ.get("FAKE_SCHEMA_DEPTH", "500"))):
        value = {"type_id": "list", "items": value}
    step = step_schema("deep")
    step["input"] = object_scope("Input", value={"type": value, "required": True})
    wire = Wire()
    wire.handshake({"steps": {"deep": step}})
    wire.drain()
    sys.exit(0)
