"""One-step ATP test plugin that runs on Python 3.9 (no ``X | Y`` at run time).

``hello-world`` greets ``name`` and reports the interpreter's version, so a test can tell
which interpreter ran it. Run: ``python plugin_py39.py --atp``.
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
    python: str


@plugin.step(
    id="hello-world",
    name="Hello world!",
    description="Says hello and names its interpreter",
    outputs={"success": SuccessOutput},
)
def hello_world(params: InputParams) -> tuple[str, SuccessOutput]:
    version = "{}.{}".format(*sys.version_info[:2])
    return "success", SuccessOutput(message=f"Hello, {params.name}!", python=version)


if __name__ == "__main__":
    sys.exit(plugin.run(plugin.build_schema(hello_world)))
