"""Replica of ``quay.io/arcalot/arcaflow-plugin-template-python:0.4.0`` for the basic-examples
tests.

The same schema as the original: step ``hello-world``, input ``InputParams {name}`` (a string of
at least one character), outputs ``success {message}`` and ``error {error}``.

Run: ``python plugin_template_python.py --atp`` or ``python -m plugin_template_python --atp``.
"""

import dataclasses
import sys
import typing

from arcaflow_plugin_sdk import plugin, validation


@dataclasses.dataclass
class InputParams:
    """Whom the step greets."""

    name: typing.Annotated[str, validation.min(1)]


@dataclasses.dataclass
class SuccessOutput:
    """The greeting."""

    message: str


@dataclasses.dataclass
class ErrorOutput:
    """Why there is no greeting."""

    error: str


@plugin.step(
    id="hello-world",
    name="Hello world!",
    description="Says hello :)",
    outputs={"success": SuccessOutput, "error": ErrorOutput},
)
def hello_world(params: InputParams) -> tuple[str, SuccessOutput | ErrorOutput]:
    return "success", SuccessOutput(f"Hello, {params.name}!")


if __name__ == "__main__":
    sys.exit(plugin.run(plugin.build_schema(hello_world)))
