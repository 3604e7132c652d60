"""One-step ATP test plugin: ``hello-world`` greets ``name`` (error output for ``nobody``).

Run: ``python plugin_hello.py --atp`` or ``python -m plugin_hello --atp``.
"""

import dataclasses
import sys
import typing

from arcaflow_plugin_sdk import plugin, schema


@dataclasses.dataclass
class InputParams:
    name: typing.Annotated[str, schema.name("Name"), schema.description("Who to greet")]


@dataclasses.dataclass
class SuccessOutput:
    message: str


@dataclasses.dataclass
class ErrorOutput:
    error: str


@plugin.step(
    id="hello-world",
    name="Hello world!",
    description="Says hello :)",
    outputs={"success": SuccessOutput, "error": ErrorOutput},
)
def hello_world(
    params: InputParams,
) -> tuple[str, SuccessOutput | ErrorOutput]:
    print("printing to stdout from plugin")
    if params.name.lower() == "nobody":
        return "error", ErrorOutput(f"plugin says no to {params.name}")
    return "success", SuccessOutput(f"Hello, {params.name}!")


if __name__ == "__main__":
    sys.exit(plugin.run(plugin.build_schema(hello_world)))
