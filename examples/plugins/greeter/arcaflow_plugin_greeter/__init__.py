"""A tiny real Arcaflow plugin, written with ``arcaflow-plugin-sdk``: it greets someone.

Run it by hand: ``python -m arcaflow_plugin_greeter -f input.yaml`` (with this directory's
parent on ``PYTHONPATH``), or through arcaflow-steps: ``arcaflow-steps run examples/greet.yaml``.
"""

import dataclasses
import time
import typing

from arcaflow_plugin_sdk import plugin, schema


@dataclasses.dataclass
class GreetInput:
    """Who to greet and how."""

    name: typing.Annotated[
        str, schema.min(1), schema.name("Name"), schema.description("Who to greet")
    ]
    times: typing.Annotated[
        int,
        schema.min(1),
        schema.max(10),
        schema.name("Times"),
        schema.description("How many times to say hello"),
    ] = 1
    shout: typing.Annotated[bool, schema.name("Shout"), schema.description("Greet in capitals")] = (
        False
    )
    delay: typing.Annotated[
        float,
        schema.min(0.0),
        schema.name("Delay"),
        schema.description("Seconds to think before greeting"),
    ] = 0.0


@dataclasses.dataclass
class Greeting:
    """A successful greeting."""

    message: typing.Annotated[str, schema.name("Message")]


@dataclasses.dataclass
class Refusal:
    """The plugin refuses to greet (an error output)."""

    error: typing.Annotated[str, schema.name("Error")]


@plugin.step(
    id="greet",
    name="Greet",
    description="Says hello; refuses to greet 'nobody' (error output)",
    outputs={"success": Greeting, "error": Refusal},
)
def greet(params: GreetInput) -> tuple[str, Greeting | Refusal]:
    """Greet ``params.name``."""
    if params.name.lower() == "nobody":
        return "error", Refusal(error="I cannot greet nobody")
    if params.delay:
        time.sleep(params.delay)
    message = " ".join([f"Hello, {params.name}!"] * params.times)
    return "success", Greeting(message=message.upper() if params.shout else message)


SCHEMA = plugin.build_schema(greet)
