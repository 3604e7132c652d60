"""scope_from_attrs: attrs classes declare schemas; validated data structures with cattrs."""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import attrs
import cattrs
import pytest

from arcaflow_steps import InvalidSchemaError, SchemaValidationError
from arcaflow_steps.schema import (
    AnySchema,
    BoolSchema,
    DisplayValue,
    FloatSchema,
    IntEnumSchema,
    IntSchema,
    ListSchema,
    MapSchema,
    ObjectSchema,
    PatternSchema,
    PropertySchema,
    RefSchema,
    ScopeSchema,
    StringEnumSchema,
    StringSchema,
    parse_scope,
    scope_from_attrs,
    serialize_scope,
    validate,
)


class Mode(enum.StrEnum):
    FAST = "fast"
    SAFE = "safe"


class Priority(enum.IntEnum):
    LOW = 1
    HIGH = 2


@attrs.frozen
class Limits:
    cpu: float = attrs.field(default=1.0, metadata={"min": 0.1})
    memory: int | None = None


@attrs.frozen
class Config:
    src: str = attrs.field(
        metadata={"name": "Source", "description": "Where", "min": 1, "pattern": "^[a-z]"}
    )
    retries: int = attrs.field(default=3, metadata={"min": 0, "max": 5, "examples": [1]})
    verbose: bool = False
    mode: Mode = Mode.SAFE
    priority: Priority | None = None
    tags: tuple[str, ...] = attrs.field(default=(), metadata={"max": 2})
    env: Mapping[str, str] = attrs.field(factory=dict)
    limits: Limits = attrs.field(factory=Limits)
    extra: Sequence[Limits] = ()
    shape: Literal["round", "square"] = "round"
    regex: re.Pattern[str] | None = None
    anything: Any = None
    token: str | None = attrs.field(default=None, metadata={"conflicts": ["src_file"]})
    src_file: str | None = attrs.field(default=None, metadata={"required_if_not": ["token"]})


def test_scope_from_attrs_maps_every_type() -> None:
    """Each attribute becomes a property with its type, requiredness, default and display."""
    expected = ScopeSchema(
        root="Config",
        objects={
            "Config": ObjectSchema(
                id="Config",
                properties={
                    "src": PropertySchema(
                        type=StringSchema(min=1, pattern="^[a-z]"),
                        display=DisplayValue(name="Source", description="Where"),
                        required=True,
                    ),
                    "retries": PropertySchema(
                        type=IntSchema(min=0, max=5), default="3", examples=("1",)
                    ),
                    "verbose": PropertySchema(type=BoolSchema(), default="false"),
                    "mode": PropertySchema(
                        type=StringEnumSchema(
                            values={
                                "fast": DisplayValue(name="FAST"),
                                "safe": DisplayValue(name="SAFE"),
                            }
                        ),
                        default='"safe"',
                    ),
                    "priority": PropertySchema(
                        type=IntEnumSchema(
                            values={1: DisplayValue(name="LOW"), 2: DisplayValue(name="HIGH")}
                        )
                    ),
                    "tags": PropertySchema(
                        type=ListSchema(items=StringSchema(), max=2), default="[]"
                    ),
                    "env": PropertySchema(
                        type=MapSchema(keys=StringSchema(), values=StringSchema()), default="{}"
                    ),
                    "limits": PropertySchema(
                        type=RefSchema(id="Limits"), default='{"cpu": 1.0, "memory": null}'
                    ),
                    "extra": PropertySchema(
                        type=ListSchema(items=RefSchema(id="Limits")), default="[]"
                    ),
                    "shape": PropertySchema(
                        type=StringEnumSchema(
                            values={
                                "round": DisplayValue(name="round"),
                                "square": DisplayValue(name="square"),
                            }
                        ),
                        default='"round"',
                    ),
                    "regex": PropertySchema(type=PatternSchema()),
                    "anything": PropertySchema(type=AnySchema()),
                    "token": PropertySchema(type=StringSchema(), conflicts=("src_file",)),
                    "src_file": PropertySchema(type=StringSchema(), required_if_not=("token",)),
                },
            ),
            "Limits": ObjectSchema(
                id="Limits",
                properties={
                    "cpu": PropertySchema(type=FloatSchema(min=0.1), default="1.0"),
                    "memory": PropertySchema(type=IntSchema()),
                },
            ),
        },
    )
    assert expected == scope_from_attrs(Config)


def test_attrs_scope_validates_and_structures() -> None:
    """Validated data (defaults applied) structures into the attrs class with cattrs."""
    scope = scope_from_attrs(Config)
    data = validate(scope, {"src": "abc", "token": "t", "priority": 2, "extra": [{"cpu": 2}]})
    expected = Config(
        src="abc",
        token="t",
        priority=Priority.HIGH,
        extra=(Limits(cpu=2.0),),
        limits=Limits(cpu=1.0),
    )
    actual = cattrs.structure(data, Config)
    assert expected == attrs.evolve(actual, extra=tuple(actual.extra))


def test_attrs_scope_round_trips_the_form() -> None:
    """A scope built from attrs serializes and parses back to itself."""
    scope = scope_from_attrs(Config)
    assert scope == parse_scope(serialize_scope(scope))


def test_attrs_scope_reports_problems() -> None:
    """Constraints from metadata are enforced with paths."""
    with pytest.raises(SchemaValidationError) as excinfo:
        validate(scope_from_attrs(Config), {"src": "", "retries": 9, "limits": {"cpu": 0}})
    assert [str(problem) for problem in excinfo.value.problems] == [
        "expected at least 1 character, got 0 @ $.src",
        "'' does not match the pattern '^[a-z]' @ $.src",
        "expected at most 5, got 9 @ $.retries",
        "expected at least 0.1, got 0.0 @ $.limits.cpu",
        "missing field 'src_file', required because 'token' is not set @ $",
    ]


def test_unsupported_types_are_refused() -> None:
    """A type that has no schema equivalent raises InvalidSchemaError naming the attribute."""

    @attrs.frozen
    class Bad:
        pair: tuple[int, str]

    with pytest.raises(InvalidSchemaError, match=r"fixed-length tuple .* @ \$\.Bad\.pair"):
        scope_from_attrs(Bad)

    @attrs.frozen
    class Worse:
        when: complex

    with pytest.raises(InvalidSchemaError, match=r"cannot express type <class 'complex'>"):
        scope_from_attrs(Worse)


def test_recursive_classes_terminate() -> None:
    """A self-referencing class becomes a ref to its own object."""

    @attrs.frozen
    class Node:
        value: int
        children: list[Node] = attrs.field(factory=list)

    scope = scope_from_attrs(Node)
    assert RefSchema(id="Node") == scope.objects["Node"].properties["children"].type.items  # type: ignore[union-attr]
    assert validate(scope, {"value": 1, "children": [{"value": 2}]}) == {
        "value": 1,
        "children": [{"value": 2, "children": []}],
    }
