"""The workflow file's shape: keys, version, input schema, steps and outputs, each problem one
line with its path (the Go engine's messages, reference §3, reworded with the path)."""

from __future__ import annotations

from pathlib import Path

import pytest

from arcaflow_steps.schema import (
    IntSchema,
    ObjectSchema,
    PropertySchema,
    ScopeSchema,
    StepOutputSchema,
    StringSchema,
)
from arcaflow_steps.workflow import (
    InvalidWorkflowError,
    WorkflowModel,
    parse_workflow,
    read_workflow,
)
from arcaflow_steps.workflow._expressions import parse_expression
from arcaflow_steps.workflow._template import Expr
from arcaflow_steps.workflow._yaml import load_workflow_yaml

HELLO = """\
version: v0.2.0
input:
  root: R
  objects:
    R:
      id: R
      properties:
        name: {type: {type_id: string}}
steps:
  h:
    plugin: {src: hello, deployment_type: python}
    input: {name: !expr $.input.name}
outputs:
  success: {msg: !expr $.steps.h.outputs.success.message}
"""

KEYS = "input, output, outputSchema, outputs, steps, version"


def expr(text: str, path: str) -> Expr:
    return Expr(parse_expression(text), path)


def parse(text: str) -> WorkflowModel:
    return parse_workflow(load_workflow_yaml(text, "workflow.yaml"), source="workflow.yaml")


def error(text: str) -> str:
    with pytest.raises(InvalidWorkflowError) as info:
        parse(text)
    return str(info.value)


def edit(old: str, new: str) -> str:
    assert old in HELLO
    return HELLO.replace(old, new, 1)


def test_hello_is_read_into_its_model() -> None:
    """The reference's hello workflow: its input scope, its step as a template, its output."""
    expected = WorkflowModel(
        version="v0.2.0",
        input=ScopeSchema(
            root="R",
            objects={
                "R": ObjectSchema(
                    id="R", properties={"name": PropertySchema(type=StringSchema(), required=True)}
                )
            },
        ),
        steps={
            "h": {
                "plugin": {"src": "hello", "deployment_type": "python"},
                "input": {"name": expr("$.input.name", "steps.h.input.name")},
            }
        },
        outputs={
            "success": {"msg": expr("$.steps.h.outputs.success.message", "outputs.success.msg")}
        },
        source="workflow.yaml",
    )
    assert expected == parse(HELLO)


def test_read_workflow_names_the_file(tmp_path: Path) -> None:
    """``read_workflow`` reads the file and names it, as given, in the model and messages."""
    path = tmp_path / "workflow.yaml"
    path.write_text(HELLO)
    assert str(path) == read_workflow(path).source
    path.write_text(HELLO.replace("v0.2.0", "v0.3.0"))
    with pytest.raises(InvalidWorkflowError) as info:
        read_workflow(path)
    assert (
        f"{path}: version: unsupported workflow schema version: v0.3.0; supported: v0.2.0 "
        "(line 1, column 1)" == str(info.value)
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(b"", "{path}: empty workflow file", id="empty"),
        pytest.param(b"# only a comment\n", "{path}: empty workflow file", id="comment-only"),
        pytest.param(
            b"version: \xff\n",
            "workflow file '{path}' is not UTF-8 text: byte 0xff at line 1 cannot be decoded",
            id="not-utf-8",
        ),
        pytest.param(None, "workflow file '{path}' does not exist", id="missing"),
    ],
)
def test_a_file_that_cannot_be_a_workflow(
    tmp_path: Path, content: bytes | None, message: str
) -> None:
    """An empty, non-UTF-8 or missing file is one clear line."""
    path = tmp_path / "workflow.yaml"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(InvalidWorkflowError) as info:
        read_workflow(path)
    assert message.format(path=path) == str(info.value)


def test_a_directory_is_not_a_workflow_file(tmp_path: Path) -> None:
    """A directory given as the workflow file says so."""
    with pytest.raises(InvalidWorkflowError) as info:
        read_workflow(tmp_path)
    assert f"workflow file '{tmp_path}' is a directory" == str(info.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("- a\n", f"a workflow file is a mapping of {KEYS}; got a list", id="list"),
        pytest.param(
            HELLO + "foo: 1\n", f"foo: unknown key 'foo'; valid keys: {KEYS}", id="unknown-key"
        ),
        pytest.param(
            edit("version: v0.2.0\n", ""),
            "missing required key 'version' (the workflow schema version, v0.2.0)",
            id="no-version",
        ),
        pytest.param(
            edit("version: v0.2.0", "version: v0.3.0"),
            "version: unsupported workflow schema version: v0.3.0; supported: v0.2.0",
            id="unsupported-version",
        ),
        pytest.param(
            edit("version: v0.2.0", "version: 0.2.0"),
            "version: the version must look like 'v0.2.0' (v<major>.<minor>.<patch>), got '0.2.0'",
            id="version-pattern",
        ),
        pytest.param(
            edit("version: v0.2.0", "version: 0.2"),
            "version: the version must look like 'v0.2.0' (v<major>.<minor>.<patch>), got 0.2",
            id="version-float",
        ),
        pytest.param(
            edit("version: v0.2.0", "version: !expr $.v"),
            "version: the version cannot hold expressions or engine tags",
            id="version-expression",
        ),
        pytest.param(
            "version: v0.2.0\nsteps: {}\noutputs: {}\n",
            "missing required key 'input' (the input schema: 'root' and 'objects')",
            id="no-input",
        ),
        pytest.param(
            edit("steps:\n", "stepz:\n"),
            f"stepz: unknown key 'stepz'; valid keys: {KEYS}",
            id="misspelled-steps",
        ),
        pytest.param(
            HELLO.split("steps:", maxsplit=1)[0] + "outputs: {}\n",
            "missing required key 'steps' (a mapping of step id to step definition)",
            id="no-steps",
        ),
        pytest.param(
            HELLO.split("outputs:", maxsplit=1)[0],
            "missing required key 'outputs' (a mapping of output id to output data; or the "
            "deprecated 'output')",
            id="no-outputs",
        ),
    ],
)
def test_top_level_problems(text: str, message: str) -> None:
    """Top-level keys, the version and the required parts: one line naming the key and what
    is valid (Go: ``Invalid parameter 'foo', expected one of: …``, ``unsupported workflow
    schema version: v0.3.0``, ``This field is required because 'outputs' is not set``)."""
    assert f"workflow.yaml: {message}" == error(text)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        pytest.param(
            "      id: R\n",
            "      id: Other\n",
            "input.objects.R.id: invalid input schema: object declared as 'R' has id 'Other'; "
            "each object of a scope must be declared under its own id, so ids are unique",
            id="object-key-differs-from-id",
        ),
        pytest.param(
            "root: R",
            "root: X",
            "input.root: invalid input schema: root object 'X' is not declared; declared "
            "objects: 'R'",
            id="unknown-root",
        ),
        pytest.param(
            "{type: {type_id: string}}",
            "{type: {type_id: integr}}",
            "input.objects.R.properties.name.type: invalid input schema: unknown type_id "
            "'integr'; valid type ids: 'any', 'bool', 'enum_integer', 'enum_string', 'float', "
            "'integer', 'list', 'map', 'object', 'one_of_int', 'one_of_string', 'pattern', "
            "'ref', 'scope', 'string'",
            id="unknown-type-id",
        ),
        pytest.param(
            "{type: {type_id: string}}",
            "{type: {type_id: integer}, default: '{'}",
            "input.objects.R.properties.name.default: invalid input schema: default '{' is not "
            "valid JSON: Expecting property name enclosed in double quotes: line 1 column 2 "
            "(char 1)",
            id="default-not-json",
        ),
        pytest.param(
            "root: R",
            "root: !expr $.input.root",
            "input.root: the input schema cannot hold expressions or engine tags",
            id="expression-in-input",
        ),
    ],
)
def test_input_schema_problems_are_errors_not_panics(old: str, new: str, message: str) -> None:
    """The input schema mistakes that panic the Go engine (reference §3.2: object key ≠ id,
    unknown root, non-JSON default) are one line with the path here."""
    assert f"workflow.yaml: {message}" == error(edit(old, new))


@pytest.mark.parametrize(
    ("written", "default"),
    [
        ("hello", '"hello"'),
        ("'\"quoted\"'", '"quoted"'),
        ("'5'", '"5"'),
        ("5", '"5"'),
        ("'{\"a\": 1}'", '"{\\"a\\": 1}"'),
    ],
)
def test_a_string_property_default_is_the_string_written(written: str, default: str) -> None:
    """A string property's default that is not the JSON of a string is the string itself
    (Go: a non-JSON text is wrapped in quotes, so ``default: hello`` works)."""
    model = parse(
        edit("{type: {type_id: string}}", f"{{type: {{type_id: string}}, default: {written}}}")
    )
    assert default == model.input.objects["R"].properties["name"].default


@pytest.mark.parametrize(
    ("written", "default"),
    [("5", "5"), ("'5'", "5"), ("-1", "-1"), ("'-1'", "-1")],
)
def test_other_defaults_are_json(written: str, default: str) -> None:
    """Any other property's default is JSON: a typed YAML value is written as its JSON."""
    model = parse(
        edit("{type: {type_id: string}}", f"{{type: {{type_id: integer}}, default: {written}}}")
    )
    assert (IntSchema(), default) == (
        model.input.objects["R"].properties["name"].type,
        model.input.objects["R"].properties["name"].default,
    )


def test_a_list_default_and_examples_become_json() -> None:
    """A YAML list default and examples are written as JSON."""
    model = parse(
        edit(
            "{type: {type_id: string}}",
            "{type: {type_id: list, items: {type_id: string}}, default: [a, b], examples: [[c]]}",
        )
    )
    name = model.input.objects["R"].properties["name"]
    assert ('["a", "b"]', ('["c"]',)) == (name.default, name.examples)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        pytest.param(
            "steps:\n  h:\n    plugin: {src: hello, deployment_type: python}\n"
            "    input: {name: !expr $.input.name}\n",
            "steps: {}\n",
            "steps: 'steps' must be a mapping of step id to step definition with at least "
            "one step; got an empty mapping",
            id="no-steps",
        ),
        pytest.param(
            "steps:\n  h:\n    plugin: {src: hello, deployment_type: python}\n"
            "    input: {name: !expr $.input.name}\n",
            "steps: [h]\n",
            "steps: 'steps' must be a mapping of step id to step definition with at least "
            "one step; got a list",
            id="steps-list",
        ),
        pytest.param(
            "  h:\n",
            "  h h:\n",
            "steps: step id 'h h' is not valid: use letters, digits and '-', '_', '$', '@' "
            "(at most 255)",
            id="step-id-space",
        ),
        pytest.param(
            "  h:\n",
            f"  {'h' * 256}:\n",
            f"steps: step id {'h' * 256!r} is not valid: use letters, digits and '-', '_', "
            "'$', '@' (at most 255)",
            id="step-id-too-long",
        ),
        pytest.param(
            "  h:\n    plugin: {src: hello, deployment_type: python}\n"
            "    input: {name: !expr $.input.name}\n",
            "  h: hello\n",
            "steps.h: a step definition must be a mapping (kind, its provider's keys and stage "
            "inputs); got a string",
            id="step-not-a-map",
        ),
        pytest.param(
            "  h:\n",
            "  h:\n    kind: !expr $.input.kind\n",
            "steps.h.kind: 'kind' must be a step kind's name (a literal string); got an engine tag",
            id="kind-expression",
        ),
    ],
)
def test_step_problems(old: str, new: str, message: str) -> None:
    """Steps: at least one, ids by the Go pattern (1-255 of letters, digits, ``-_$@``), each a
    mapping with a literal ``kind`` when given (Go: ``Must have at least 1 items, 0 given``)."""
    assert f"workflow.yaml: {message}" == error(edit(old, new))


def test_step_ids_may_hold_dollar_at_dash_and_underscore() -> None:
    """``$@-_`` are valid in step and output ids, as in the Go engine."""
    model = parse(edit("  h:\n", "  $my@step-1_x:\n").replace("  success:", "  my-out_1:"))
    assert (["$my@step-1_x"], ["my-out_1"]) == (list(model.steps), list(model.outputs))


def test_output_becomes_the_success_output() -> None:
    """The deprecated ``output:`` is the output ``success``."""
    model = parse(edit("outputs:\n  success: {msg: ", "output: {msg: "))
    assert {
        "success": {"msg": expr("$.steps.h.outputs.success.message", "output.msg")}
    } == model.outputs


OUTPUT_SCHEMA = """\
outputSchema:
  success:
    schema:
      root: O
      objects:
        O: {id: O, properties: {msg: {type: {type_id: string}}}}
"""


def test_output_schema_entries_are_step_output_schemas() -> None:
    """``outputSchema`` entries are step output schemas (``error`` defaults to false)."""
    model = parse(
        HELLO + OUTPUT_SCHEMA + "  other:\n    error: true\n    schema: {root: E, "
        "objects: {E: {id: E, properties: {}}}}\n"
    )
    assert {
        "success": StepOutputSchema(
            schema=ScopeSchema(
                root="O",
                objects={
                    "O": ObjectSchema(
                        id="O",
                        properties={"msg": PropertySchema(type=StringSchema(), required=True)},
                    )
                },
            )
        ),
        "other": StepOutputSchema(
            schema=ScopeSchema(root="E", objects={"E": ObjectSchema(id="E", properties={})}),
            error=True,
        ),
    } == model.output_schema


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            edit("outputs:\n  success: {msg: ", "output: {msg: ").replace(
                "version:", "outputs: {a: {}}\nversion:"
            ),
            "outputs: 'output' (deprecated: the one output 'success') conflicts with "
            "'outputs'; use 'outputs' alone",
            id="output-and-outputs",
        ),
        pytest.param(
            edit("outputs:\n  success: {msg: ", "output: {msg: ") + OUTPUT_SCHEMA,
            "outputSchema: 'output' (deprecated: the one output 'success') conflicts with "
            "'outputSchema'; use 'outputs' alone",
            id="output-and-output-schema",
        ),
        pytest.param(
            HELLO.split("outputs:", maxsplit=1)[0] + "outputs: {}\n",
            "outputs: 'outputs' must be a mapping of output id to output data with at least "
            "one output; got an empty mapping",
            id="no-outputs",
        ),
        pytest.param(
            edit("  success:", "  'a b':"),
            "outputs: output id 'a b' is not valid: use letters, digits and '-', '_', '$', '@'",
            id="output-id",
        ),
        pytest.param(
            HELLO + OUTPUT_SCHEMA.replace("  success:", "  other:"),
            "outputSchema: output 'success' has no entry; with 'outputSchema', every output "
            "of 'outputs' needs one",
            id="output-without-schema",
        ),
        pytest.param(
            HELLO + "outputSchema: {}\n",
            "outputSchema: 'outputSchema' must be a mapping of output id to its schema; got "
            "an empty mapping",
            id="empty-output-schema",
        ),
        pytest.param(
            HELLO + "outputSchema:\n  success: {scheme: {}}\n",
            "outputSchema.success: unknown key 'scheme'; valid keys: display, error, schema",
            id="output-schema-key",
        ),
        pytest.param(
            HELLO + "outputSchema:\n  success: {display: {name: S}}\n",
            "outputSchema.success: missing required key 'schema' (the output's scope)",
            id="output-schema-no-schema",
        ),
        pytest.param(
            HELLO + OUTPUT_SCHEMA + "    error: 'yes'\n",
            "outputSchema.success.error: expected true or false; got 'yes'",
            id="output-schema-error-flag",
        ),
        pytest.param(
            HELLO + OUTPUT_SCHEMA.replace("root: O", "root: P"),
            "outputSchema.success.schema.root: invalid schema: root object 'P' is not "
            "declared; declared objects: 'O'",
            id="output-schema-root",
        ),
        pytest.param(
            HELLO + OUTPUT_SCHEMA.replace("root: O", "root: !expr $.x"),
            "outputSchema.success.schema.root: 'outputSchema' cannot hold expressions or "
            "engine tags",
            id="output-schema-expression",
        ),
    ],
)
def test_output_problems(text: str, message: str) -> None:
    """``output``/``outputs``/``outputSchema`` rules of reference §3.1 and §3.4 (Go: ``Field
    conflicts 'outputs', set one of the two, not both``, ``could not find output id "success"
    in output schema``)."""
    assert f"workflow.yaml: {message}" == error(text)


def test_integer_keys_of_an_input_schema_are_read() -> None:
    """``enum_integer`` values keyed by plain integers load: keys are their text, which the
    schema reads as integers (an error for non-string keys would refuse such workflows)."""
    model = parse(
        edit(
            "{type: {type_id: string}}",
            "{type: {type_id: enum_integer, values: {1: {name: Low}, 2: {name: High}}}, "
            "default: 1}",
        )
    )
    name = model.input.objects["R"].properties["name"]
    assert ([1, 2], "1") == (list(name.type.values), name.default)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("part", "message"),
    [
        pytest.param(None, f"1: unknown key 1; valid keys: {KEYS}", id="top-level"),
        pytest.param(
            "steps",
            "steps: step id 1 is not valid: use letters, digits and '-', '_', '$', '@' (at "
            "most 255)",
            id="step-id",
        ),
        pytest.param(
            "outputs",
            "outputs: output id 1 is not valid: use letters, digits and '-', '_', '$', '@'",
            id="output-id",
        ),
    ],
)
def test_data_not_from_the_loader_is_checked_too(part: str | None, message: str) -> None:
    """``parse_workflow`` given an int key (not from the YAML loader, whose keys are strings)
    reports it instead of failing on it."""
    data = load_workflow_yaml(HELLO, "workflow.yaml")
    if part is None:
        data[1] = "x"
    else:
        data[part] = {**data[part], 1: {}}
    with pytest.raises(InvalidWorkflowError) as info:
        parse_workflow(data, source="workflow.yaml")
    assert f"workflow.yaml: {message}" == str(info.value)
