"""Schemas of real ``arcaflow-plugin-sdk`` plugins for the schema tests.

No ``from __future__ import annotations`` and no PEP 604 unions here: the SDK reads real
``typing`` annotations and does not understand ``X | None``.
"""

# ruff: noqa: UP006, UP007, UP045 (the SDK needs typing.Optional/Union/List/Dict)

import dataclasses
import enum
import re
import typing

from arcaflow_plugin_sdk import plugin, schema


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Level(enum.Enum):
    LOW = 1
    HIGH = 2


@dataclasses.dataclass
class Inner:
    x: typing.Annotated[int, schema.min(1), schema.max(10)]
    y: typing.Optional[str] = None


@dataclasses.dataclass
class Apple:
    weight: typing.Annotated[float, schema.min(0.5)]


@dataclasses.dataclass
class Pear:
    count: int
    ripe: bool = True


@dataclasses.dataclass
class GreetInput:
    name: typing.Annotated[
        str,
        schema.name("Name"),
        schema.description("Who to greet"),
        schema.min(1),
        schema.max(20),
        schema.pattern(re.compile("^[a-z]+$")),
        schema.example("alice"),
    ]
    count: typing.Annotated[int, schema.units(schema.UNIT_BYTE), schema.min(0)] = 3
    ratio: typing.Annotated[float, schema.min(0.0), schema.max(1.0)] = 0.5
    flag: bool = False
    color: Color = Color.RED
    level: typing.Optional[Level] = None
    tags: typing.Annotated[typing.List[str], schema.max(3)] = dataclasses.field(
        default_factory=list
    )
    inner: typing.Optional[Inner] = None
    inners: typing.Annotated[typing.List[Inner], schema.min(1)] = dataclasses.field(
        default_factory=lambda: [Inner(1)]
    )
    labels: typing.Dict[str, int] = dataclasses.field(default_factory=dict)
    fruit: typing.Annotated[
        typing.Union[
            typing.Annotated[Apple, schema.discriminator_value("apple")],
            typing.Annotated[Pear, schema.discriminator_value("pear")],
        ],
        schema.discriminator("kind"),
    ] = None
    other: typing.Annotated[
        typing.Optional[str], schema.required_if("level"), schema.conflicts("regex")
    ] = None
    fallback: typing.Annotated[typing.Optional[str], schema.required_if_not("other")] = None
    anything: typing.Optional[typing.Any] = None
    regex: typing.Optional[re.Pattern] = None


@dataclasses.dataclass
class Greeting:
    text: str


@dataclasses.dataclass
class Failure:
    error: str


@plugin.step(
    id="greet",
    name="Greet",
    description="Says hello",
    outputs={"success": Greeting, "error": Failure},
)
def greet(params: GreetInput) -> typing.Tuple[str, typing.Union[Greeting, Failure]]:
    return "success", Greeting(f"hello {params.name}")


@dataclasses.dataclass
class IntChoiceA:
    a: str


@dataclasses.dataclass
class IntChoiceB:
    b: typing.Dict[int, typing.List[float]]


@dataclasses.dataclass
class InlinedCat:
    species: str
    lives: int = 9


@dataclasses.dataclass
class InlinedDog:
    species: str
    good: bool = True


@dataclasses.dataclass
class ShapeInput:
    choice: typing.Annotated[
        typing.Union[
            typing.Annotated[IntChoiceA, schema.discriminator_value(1)],
            typing.Annotated[IntChoiceB, schema.discriminator_value(2)],
        ],
        schema.discriminator("id"),
    ]
    pet: typing.Annotated[
        typing.Union[
            typing.Annotated[InlinedCat, schema.discriminator_value("cat")],
            typing.Annotated[InlinedDog, schema.discriminator_value("dog")],
        ],
        schema.discriminator("species", discriminator_inlined=True),
    ]
    matrix: typing.List[typing.List[int]] = dataclasses.field(default_factory=list)
    by_level: typing.Dict[str, Level] = dataclasses.field(default_factory=dict)
    seconds: typing.Annotated[
        typing.Optional[float], schema.units(schema.UNIT_TIME), schema.min(0.0)
    ] = None


@dataclasses.dataclass
class ShapeOutput:
    pets: typing.List[typing.Dict[str, typing.Any]]


@plugin.step(
    id="shape",
    name="Shape",
    description="Nested one-ofs",
    icon="<svg></svg>",
    outputs={"success": ShapeOutput},
)
def shape(params: ShapeInput) -> typing.Tuple[str, ShapeOutput]:
    return "success", ShapeOutput([])


@dataclasses.dataclass
class WaitInput:
    seconds: typing.Annotated[float, schema.min(0.0)] = 1.0


@dataclasses.dataclass
class WaitOutput:
    waited: float


@dataclasses.dataclass
class CancelInput:
    reason: str = "user"


@dataclasses.dataclass
class ProgressSignal:
    percent: typing.Annotated[int, schema.min(0), schema.max(100)]


class Waiter:
    @plugin.step_with_signals(
        id="wait",
        name="Wait",
        description="Waits until cancelled",
        outputs={"success": WaitOutput},
        signal_handler_method_names=["cancel"],
        signal_emitters=[
            schema.SignalSchema(
                id="progress",
                data_schema=schema.build_object_schema(ProgressSignal),
                display=schema.DisplayValue(name="Progress"),
            )
        ],
        step_object_constructor=lambda: Waiter(),  # noqa: PLW0108 (defined below)
    )
    def wait(self, params: WaitInput) -> typing.Tuple[str, WaitOutput]:
        return "success", WaitOutput(params.seconds)

    @plugin.signal_handler(id="cancel", name="Cancel", description="Stops waiting")
    def cancel(self, params: CancelInput) -> None:
        pass


GREET = plugin.build_schema(greet)
SHAPE = plugin.build_schema(shape)
WAIT = plugin.build_schema(Waiter.wait)
MULTI = plugin.build_schema(greet, shape, Waiter.wait)


def _hand_written() -> schema.Schema:
    """Return a schema written with the SDK's classes: error outputs, inline objects, scopes."""
    point = schema.ObjectSchema(
        "Point",
        {
            "x": schema.PropertySchema(schema.IntSchema(), required=True),
            "y": schema.PropertySchema(
                schema.IntSchema(min=-5, max=5),
                required=False,
                default="0",
                examples=["1", "-2"],
                display=schema.DisplayValue(name="Y", description="Vertical", icon="<svg/>"),
            ),
        },
    )
    nested_scope = schema.ScopeSchema({"Point": point}, "Point")
    root = schema.ObjectSchema(
        "Root",
        {
            "shape": schema.PropertySchema(
                schema.OneOfStringSchema(
                    {
                        "inline": schema.ObjectSchema(
                            "Inline", {"r": schema.PropertySchema(schema.FloatSchema())}
                        ),
                        "scoped": nested_scope,
                        "ref": schema.RefSchema("Point"),
                    },
                    discriminator_inlined=False,
                    discriminator_field_name="form",
                ),
                required=True,
            ),
            "weights": schema.PropertySchema(
                schema.MapSchema(
                    schema.IntEnumSchema(
                        {1: schema.DisplayValue("one"), 2: schema.DisplayValue("two")}
                    ),
                    schema.ListSchema(schema.FloatSchema(min=0.0), min=1, max=4),
                    min=0,
                    max=2,
                ),
                required=False,
                default='{"1": [1.5]}',
            ),
            "mode": schema.PropertySchema(
                schema.StringEnumSchema({"fast": schema.DisplayValue("Fast")}),
                required=False,
                required_if_not=["weights"],
                required_if=[],
            ),
            "raw": schema.PropertySchema(schema.AnySchema(), required=False),
            "regex": schema.PropertySchema(schema.PatternSchema(), required=False),
            "point": schema.PropertySchema(
                schema.RefSchema("Point", display=schema.DisplayValue(name="P")),
                required=False,
            ),
        },
        id_unenforced=True,
    )
    result_scope = schema.ScopeSchema(
        {
            "Result": schema.ObjectSchema(
                "Result", {"ok": schema.PropertySchema(schema.BoolSchema())}
            )
        },
        "Result",
    )
    return schema.Schema(
        {
            "draw": schema.StepSchema(
                "draw",
                schema.ScopeSchema({"Root": root, "Point": point}, "Root"),
                {
                    "success": schema.StepOutputSchema(result_scope),
                    "failed": schema.StepOutputSchema(
                        result_scope, display=schema.DisplayValue(name="Failed"), error=True
                    ),
                },
                signal_handlers={},
                signal_emitters={},
                display=schema.DisplayValue(name="Draw"),
            )
        }
    )


HAND_WRITTEN = _hand_written()

#: id -> SDK schema object (``SCHEMA_SCHEMA.serialize`` turns it into the serialized form).
PLUGINS: typing.Dict[str, typing.Any] = {
    "greet": GREET,
    "shape": SHAPE,
    "wait": WAIT,
    "multi": MULTI,
    "hand-written": HAND_WRITTEN,
}


def serialized(plugin_id: str) -> typing.Dict[str, typing.Any]:
    """Return the SDK's serialized form of one of the plugins."""
    return schema.SCHEMA_SCHEMA.serialize(PLUGINS[plugin_id])
