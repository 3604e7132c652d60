"""Static typing of expressions (infer_type) against a hand-built type of ``$``."""

from __future__ import annotations

import re
import timeit

import pytest
from plan_support import expr, hello, model
from types_support import INPUT, ROOT, SUCCESS, prop

from arcaflow_steps.schema import (
    AnySchema,
    BoolSchema,
    FloatSchema,
    IntSchema,
    ListSchema,
    ObjectSchema,
    OneOfStringSchema,
    RefSchema,
    ScopeSchema,
    StringSchema,
    TypeSchema,
)
from arcaflow_steps.workflow import ExpressionTypeError, WorkflowContext, plan_workflow
from arcaflow_steps.workflow._expressions import infer_type, parse_expression
from arcaflow_steps.workflow._root_type import root_type


def infer(text: str) -> TypeSchema:
    return infer_type(parse_expression(text), ROOT)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$.input.name", StringSchema(min=1)),
        ("input.name", StringSchema(min=1)),
        ("$.input.n", IntSchema(min=0)),
        ("$.input.items[0].id", IntSchema()),
        ("$.input.items[-1].next.next.id", IntSchema()),
        ("$.input.probe.next.id", IntSchema()),
        ("$.input.counts.x", IntSchema()),
        ('$.input.counts["a-b"]', IntSchema()),
        ("$.input.counts[$.input.name]", IntSchema()),
        ("$.input.by_number[2]", StringSchema()),
        ('$.input.by_colour["red"]', FloatSchema()),
        ("$.input.by_colour.blue", FloatSchema()),
        ("$.input.anything", AnySchema()),
        ("$.input.anything.a[0].b", AnySchema()),
        ('$.input.anything["k"]', AnySchema()),
        ("$.input.choice.x", IntSchema()),
        ("$.input.choice.kind", StringSchema()),
        ('$.input["name"]', StringSchema(min=1)),
        ('$["input"].n', IntSchema(min=0)),
        ('$.steps["a"].outputs.success.id', IntSchema()),
        ("$.input[$.input.name]", AnySchema()),
        ("$.steps.a.outputs.success.name", StringSchema()),
        ("$.steps.b.closed.result.cancelled", BoolSchema()),
        ("$.steps.a.outputs.success", SUCCESS),
        ("$.input.items[0]", ScopeSchema(root="Item", objects=INPUT.objects)),
        ("$.input.probe", ScopeSchema(root="Item", objects=INPUT.objects)),
        (
            "$.input.items",
            ListSchema(items=ScopeSchema(root="Item", objects=INPUT.objects)),
        ),
        ("5", IntSchema()),
        ("5.5", FloatSchema()),
        ('"x"', StringSchema()),
        ("true", BoolSchema()),
    ],
)
def test_path_types(text: str, expected: TypeSchema) -> None:
    """A path's type is the schema it reads, refs resolved, self-contained (scopes kept)."""
    assert expected == infer(text)


def test_root_alone_is_the_root_type() -> None:
    """``$`` alone has the type of ``$``."""
    assert ROOT is infer("$")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 + 2", IntSchema()),
        ("$.input.n + 1", IntSchema()),  # constraints dropped
        ("$.input.f * 2.0", FloatSchema()),
        ('$.input.name + "!"', StringSchema()),
        ("$.input.level + 1", IntSchema()),
        ('$.input.colour + "!"', StringSchema()),
        ("-2 + 3", IntSchema()),
        ("-$.input.f", FloatSchema()),
        ("2 ^ 3", IntSchema()),
        ("7 % 3", IntSchema()),
        ("1 < 2", BoolSchema()),
        ('"a" >= "b"', BoolSchema()),
        ("true == false", BoolSchema()),
        ("$.input.n != 3", BoolSchema()),
        ("true && !false || $.input.flag", BoolSchema()),
        ("$.input.anything + 1", IntSchema()),
        ("1.5 + $.input.anything", FloatSchema()),
        ("$.input.anything + $.input.anything", AnySchema()),
        ("-$.input.anything", AnySchema()),
        ("!$.input.anything", BoolSchema()),
        ("$.input.anything == 1", BoolSchema()),
    ],
)
def test_operator_types(text: str, expected: TypeSchema) -> None:
    """Operators give the Go engine's result types; ``any`` operands are checked at run time."""
    assert expected == infer(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("intToString($.input.n)", StringSchema()),
        ("floatToString(1.5)", StringSchema()),
        ("ceil(1)", FloatSchema()),
        ("ceil($.input.level)", FloatSchema()),
        ('splitString("a,b", ",")', ListSchema(items=StringSchema())),
        ('splitString("a,b", ",")[1]', StringSchema()),
        ("toUpper($.input.anything)", StringSchema()),
        ("intToString(stringToInt($.input.name))", StringSchema()),
        (
            "bindConstants($.input.items, $.input.n)",
            ListSchema(
                items=ObjectSchema(
                    id="Item__integer",
                    properties={
                        "item": prop(ScopeSchema(root="Item", objects=INPUT.objects)),
                        "constant": prop(IntSchema(min=0)),
                    },
                    id_unenforced=True,
                )
            ),
        ),
    ],
)
def test_call_types(text: str, expected: TypeSchema) -> None:
    """A call has its function's result type (bindConstants': built from its arguments)."""
    assert expected == infer(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("$.inptu", "$: no field 'inptu'; fields: input, steps"),
        ("$.steps.c.outputs", "$.steps: no step 'c'; steps: a, b"),
        (
            "$.steps.a.running",
            "$.steps.a: no stage 'running' with outputs; stages: closed, crashed, outputs",
        ),
        (
            '$.steps["a"].running',
            "$.steps[\"a\"]: no stage 'running' with outputs; stages: closed, crashed, outputs",
        ),
        ("$.steps.a.outputs.nope", "$.steps.a.outputs: no output 'nope'; outputs: error, success"),
        (
            "$.steps.a.outputs.success.nme",
            "$.steps.a.outputs.success: no field 'nme'; fields: id, name",
        ),
        ("$.input.items[0].nope", "$.input.items[0]: no field 'nope'; fields: id, next"),
        ("$.input.name.x", "$.input.name: a string has no fields (reading 'x')"),
        ("$.input.name[0]", "$.input.name: a string cannot be indexed"),
        (
            '$.input.items["x"]',
            "$.input.items: a list index must be an integer, got a string",
        ),
        ("$.input.items[true]", "$.input.items: a list index must be an integer, got a boolean"),
        ("$.input.counts[1]", "$.input.counts: a key of this map must be a string, got an integer"),
        (
            "$.input.by_number.x",
            "$.input.by_number: a key of this map must be an integer, got a string",
        ),
        ("$.input.by_colour.green", "$.input.by_colour: no key 'green'; keys: blue, red"),
        (
            "$.input[1]",
            "$.input: an object's fields are named by strings, got an integer",
        ),
        (
            "$.input.choice.y",
            "$.input.choice: field 'y' is not in every option of one of 'a', 'b' (by 'kind'); "
            "missing in: a",
        ),
        (
            "1 + 1.5",
            "left (integer) and right (float) types do not match for binary expression '1 + 1.5'",
        ),
        (
            '$.input.n + "x"',
            "left (integer) and right (string) types do not match for binary expression "
            "'$.input.n + \"x\"'",
        ),
        (
            "true + 1",
            "invalid type 'bool' from left expression 'true' for binary operation '+'; "
            "expected one of integer, float, string",
        ),
        (
            '"a" - "b"',
            "invalid type 'string' from left expression '\"a\"' for binary operation '-'; "
            "expected one of integer, float",
        ),
        (
            "1 && true",
            "invalid type 'integer' from left expression '1' for binary operation '&&'; "
            "expected one of bool",
        ),
        (
            "$.input.flag < true",
            "invalid type 'bool' from left expression '$.input.flag' for binary operation '<'; "
            "expected one of integer, float, string",
        ),
        (
            "$.input.probe == 1",
            "invalid type 'object' from left expression '$.input.probe' for binary operation "
            "'=='; expected one of integer, float, string, bool",
        ),
        ("!1", "'!' needs a boolean, got an integer from 1"),
        ('-"x"', "'-' needs an integer or a float, got a string from \"x\""),
        (
            "nofunc(1)",
            "no function 'nofunc'; functions: abs, bindConstants, boolToString, ceil, "
            "floatToFormattedString, floatToInt, floatToString, floor, getEnvVar, intToFloat, "
            "intToString, readFile, round, splitString, stringToBool, stringToFloat, "
            "stringToInt, toLower, toUpper",
        ),
        (
            "intToString(1, 2)",
            "intToString() takes 1 argument, got 2: intToString(integer) -> string",
        ),
        (
            "getEnvVar()",
            "getEnvVar() takes 2 arguments, got 0: getEnvVar(string, string) -> string",
        ),
        (
            "intToString($.input.name)",
            "intToString() argument 1: expected an integer, got a string: "
            "intToString(integer) -> string",
        ),
        (
            "floatToInt(true)",
            "floatToInt() argument 1: expected a float, got a boolean: "
            "floatToInt(float) -> integer",
        ),
        (
            "bindConstants(1, 2)",
            "bindConstants() argument 1: expected a list of any, got an integer: "
            "bindConstants(list, any) -> list",
        ),
        (
            "intToString(nope(1))",
            "no function 'nope'; functions: abs, bindConstants, "
            "boolToString, ceil, floatToFormattedString, floatToInt, floatToString, floor, "
            "getEnvVar, intToFloat, intToString, readFile, round, splitString, stringToBool, "
            "stringToFloat, stringToInt, toLower, toUpper",
        ),
    ],
)
def test_type_errors(text: str, message: str) -> None:
    """Each static problem names the sub-path or operation and the valid choices."""
    with pytest.raises(ExpressionTypeError, match=f"^{re.escape(message)} \\(in expression "):
        infer(text)


def test_type_error_keeps_the_expression() -> None:
    """The error carries the reason and the whole expression text."""
    with pytest.raises(ExpressionTypeError) as excinfo:
        infer("  $.steps.a.outputs.success.nme ")
    assert "$.steps.a.outputs.success: no field 'nme'; fields: id, name" == excinfo.value.reason
    assert "$.steps.a.outputs.success.nme" == excinfo.value.expression


def test_broken_ref_is_a_type_error() -> None:
    """A ref naming no object of its scope is reported, not a crash."""
    broken = ScopeSchema(
        root="In",
        objects={"In": ObjectSchema(id="In", properties={"p": prop(RefSchema(id="Gone"))})},
    )
    root = root_type(broken, {})
    with pytest.raises(
        ExpressionTypeError,
        match=r"^\$\.input\.p: schema error: ref 'Gone' names no object of its scope; "
        r"declared objects: In \(in",
    ):
        infer_type(parse_expression("$.input.p.x"), root)


def test_one_of_options_that_disagree_give_any() -> None:
    """A field every option has, with different types in different options, is ``any``."""
    choice = OneOfStringSchema(
        types={
            "a": ObjectSchema(id="A", properties={"v": prop(IntSchema())}),
            "b": ObjectSchema(id="B", properties={"v": prop(StringSchema())}),
        }
    )
    root = root_type(
        ScopeSchema(
            root="In", objects={"In": ObjectSchema(id="In", properties={"c": prop(choice)})}
        ),
        {},
    )
    assert AnySchema() == infer_type(parse_expression("$.input.c.v"), root)
    assert StringSchema() == infer_type(parse_expression("$.input.c._type"), root)


def test_inference_is_fast() -> None:
    """A five-segment path types in well under 50 µs (measured ~2 µs), so 1,000 steps with a
    few expressions each stay far within the planning budget of 1 s."""
    expression = parse_expression("$.steps.a.outputs.success.name")
    seconds = min(timeit.repeat(lambda: infer_type(expression, ROOT), number=2000, repeat=3))
    assert seconds / 2000 < 50e-6


def test_types_of_a_real_plugin_step(plugin_context: WorkflowContext) -> None:
    """Against a planned workflow with a real SDK plugin, paths into its outputs and stages
    type as the plugin's schema says, and a wrong stage lists the plugin's stages."""
    plan = plan_workflow(
        model({"h": hello(expr("$.input.name"))}, {"success": {"m": 1}}), plugin_context
    )
    root = plan.root_type
    assert StringSchema() == infer_type(parse_expression("$.steps.h.outputs.success.message"), root)
    assert IntSchema() == infer_type(parse_expression("$.input.count + 1"), root)
    with pytest.raises(ExpressionTypeError) as excinfo:
        infer_type(parse_expression("$.steps.h.running.x"), root)
    assert (
        "$.steps.h: no stage 'running' with outputs; stages: closed, crashed, deploy_failed, "
        "disabled, enabling, outputs, starting"
    ) == excinfo.value.reason
    with pytest.raises(ExpressionTypeError) as excinfo:
        infer_type(parse_expression("$.steps.h.outputs.success.nme"), root)
    assert "$.steps.h.outputs.success: no field 'nme'; fields: message" == excinfo.value.reason
