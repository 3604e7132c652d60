"""Replica of ``quay.io/arcalot/arcaflow-plugin-example:0.5.1`` for the basic-examples tests.

The same schema as the original (step ``hello-world``; input ``InputParams {name}``, ``name`` a
one-of keyed by ``_type``: ``fullname`` -> ``FullName {first_name, last_name}``, ``nickname`` ->
``Nickname {nick}``, each field at least one letter and letters only; outputs ``success
{message}`` and ``error {error}``), so the upstream workflows type-check against it unchanged.

Run: ``python plugin_example.py --atp`` or ``python -m plugin_example --atp``.
"""

import dataclasses
import re
import sys
import typing

from arcaflow_plugin_sdk import annotations, plugin, schema, validation

_LETTERS = re.compile("^[a-zA-Z]+$")


@dataclasses.dataclass
class FullName:
    """A first and a last name."""

    first_name: typing.Annotated[
        str, validation.min(1), validation.pattern(_LETTERS), schema.name("First name")
    ]
    last_name: typing.Annotated[
        str, validation.min(1), validation.pattern(_LETTERS), schema.name("Last name")
    ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}"


@dataclasses.dataclass
class Nickname:
    """The one name someone prefers."""

    nick: typing.Annotated[
        str, validation.min(1), validation.pattern(_LETTERS), schema.name("Nickname")
    ]

    def __str__(self) -> str:
        return self.nick


@dataclasses.dataclass
class InputParams:
    """Whom the step greets."""

    name: typing.Annotated[
        typing.Annotated[
            FullName, annotations.discriminator_value("fullname"), schema.name("Full name")
        ]
        | typing.Annotated[
            Nickname, annotations.discriminator_value("nickname"), schema.name("Nick")
        ],
        schema.name("Name"),
        schema.description("Who do we say hello to?"),
        annotations.discriminator("_type"),
    ]


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
