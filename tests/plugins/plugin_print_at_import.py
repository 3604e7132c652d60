"""ATP test plugin that prints to stdout at import time, corrupting the ATP stream.

The Python SDK redirects stdout only after the handshake, so this text reaches the engine
before the hello. Run: ``python -m plugin_print_at_import --atp``.
"""

import dataclasses
import sys

from arcaflow_plugin_sdk import plugin

print("Hello from import time! This text lands on the ATP stream.")


@dataclasses.dataclass
class InputParams:
    name: str


@dataclasses.dataclass
class SuccessOutput:
    message: str


@plugin.step(
    id="hello-world",
    name="Hello world!",
    description="Says hello, after printing at import time",
    outputs={"success": SuccessOutput},
)
def hello_world(params: InputParams) -> tuple[str, SuccessOutput]:
    return "success", SuccessOutput(f"Hello, {params.name}!")


if __name__ == "__main__":
    sys.exit(plugin.run(plugin.build_schema(hello_world)))
