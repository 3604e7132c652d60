"""The Go engine's foreach tests (arcaflow-engine ``workflow/workflow_test.go``), ported.

The engine runs them with its in-process ``test-impl`` deployer; here every plugin step is the
real SDK plugin ``tests/plugins/plugin_steps.py`` under the python deployer: its ``sleep``
stands for the engine's ``wait`` (seconds, not milliseconds), its ``hello`` for ``hello`` (a
``{name}`` input instead of ``{fail}``; ``fail`` is its own step). Expected data follows from
that: our hello says ``Hello, <name>!`` where the engine's returned ``{}``.
"""

from __future__ import annotations

import time
from pathlib import Path

from foreach_support import Intervals, foreach_registry, plan, write
from plugin_support import PROMPT

from arcaflow_steps import Registry

__all__ = ["foreach_registry"]  # the fixture, imported for pytest

SLEEP_SUB = """
version: v0.2.0
input:
  root: RootObject
  objects:
    RootObject:
      id: RootObject
      properties:
        seconds: {type: {type_id: float}}
steps:
  wait_1:
    plugin: {src: "{steps}", deployment_type: python}
    step: sleep
    input: {seconds: !expr $.input.seconds}
outputs:
  success:
    b: !expr $.steps.wait_1.outputs
"""


def test_wait_for_serial_foreach(tmp_path: Path, foreach_registry: Registry) -> None:
    """TestWaitForSerial_Foreach: a foreach step with ``wait_for`` on another step's success
    starts its items only after that step finished."""
    write(
        tmp_path,
        "workflow.yaml",
        """
version: v0.2.0
input: {root: RootObject, objects: {RootObject: {id: RootObject, properties: {}}}}
steps:
  second_wait:
    wait_for: !expr $.steps.first_wait.outputs.success
    kind: foreach
    items:
    - seconds: 0.1
    workflow: subworkflow.yaml
  first_wait:
    plugin: {src: "{steps}", deployment_type: python}
    step: sleep
    input: {seconds: 0.1}
outputs:
  success:
    first_step_output: !expr $.steps.first_wait.outputs
    second_step_output: !expr $.steps.second_wait.outputs
""",
    )
    write(tmp_path, "subworkflow.yaml", SLEEP_SUB)
    running = Intervals("running")
    result = plan(tmp_path, foreach_registry, observers=[running]).run({}, timeout=PROMPT)
    assert "success" == result.output_id
    assert {
        "first_step_output": {"success": {"slept": 0.1}},
        "second_step_output": {"success": {"data": [{"b": {"success": {"slept": 0.1}}}]}},
    } == result.output_data
    assert running.left["first_wait"] <= running.entered["second_wait[0].wait_1"]


def test_foreach_with_parallelism_expr(tmp_path: Path, foreach_registry: Registry) -> None:
    """TestForeachWithParallelismExpr: ``parallelism`` may be an expression."""
    write(
        tmp_path,
        "workflow.yaml",
        """
version: v0.2.0
input:
  root: RootObject
  objects:
    RootObject:
      id: RootObject
      properties:
        parallelism: {type: {type_id: integer}}
steps:
  subwf_step:
    kind: foreach
    items:
    - seconds: 0
    - seconds: 0
    - seconds: 0
    workflow: subworkflow.yaml
    parallelism: !expr $.input.parallelism
outputs:
  success:
    first_step_output: !expr $.steps.subwf_step.outputs
""",
    )
    write(tmp_path, "subworkflow.yaml", SLEEP_SUB)
    workflow_plan = plan(tmp_path, foreach_registry)
    for parallelism in (1, 10):
        result = workflow_plan.run({"parallelism": parallelism}, timeout=PROMPT)
        assert "success" == result.output_id
        assert 3 == len(result.output_data["first_step_output"]["success"]["data"])


#: step_a (hello) runs when the input says "a", step_b (sleep) when it says "b".
TWO_STEPS = """
version: v0.2.0
input:
  root: RootObject
  objects:
    RootObject:
      id: RootObject
      properties:
        step_to_run: {type: {type_id: string}}
steps:
  step_a:
    plugin: {src: "{steps}", deployment_type: python}
    step: hello
    input: {name: a}
    enabled: !expr $.input.step_to_run == "a"
  step_b:
    plugin: {src: "{steps}", deployment_type: python}
    step: sleep
    input: {seconds: 0}
    enabled: !expr $.input.step_to_run == "b"
  subwf_step:
    kind: foreach
    items:
    - ITEM
    workflow: subworkflow.yaml
outputs:
  success:
    subwf_result: !expr $.steps.subwf_step.outputs
"""

HELLO_OUTPUT = """{type_id: object, id: HelloOutput,
                    properties: {message: {type: {type_id: string}}}}"""
SLEEP_OUTPUT = """{type_id: object, id: SleepOutput,
                    properties: {slept: {type: {type_id: float}}}}"""
DISABLED_OUTPUT = """{type_id: object, id: DisabledMessageOutput,
                    properties: {message: {type: {type_id: string}}}}"""


def test_foreach_with_one_of(tmp_path: Path, foreach_registry: Registry) -> None:
    """TestForeachWithOneOf: ``!oneof`` builds an item from whichever step ran; the
    sub-workflow's one_of input type matches the inferred one."""
    item = """input_1: !oneof
        discriminator: "result"
        one_of:
          a: !expr $.steps.step_a.outputs.success
          b: !expr $.steps.step_b.outputs.success
      input_2: !oneof
        discriminator: "result"
        one_of:
          a: !expr $.steps.step_a.disabled.output
          b: !expr $.steps.step_b.disabled.output"""
    write(tmp_path, "workflow.yaml", TWO_STEPS.replace("ITEM", item))
    write(
        tmp_path,
        "subworkflow.yaml",
        f"""
version: v0.2.0
input:
  root: RootObject
  objects:
    RootObject:
      id: RootObject
      properties:
        input_1:
          type:
            type_id: one_of_string
            discriminator_field_name: result
            types:
              a: {HELLO_OUTPUT}
              b: {SLEEP_OUTPUT}
        input_2:
          type:
            type_id: one_of_string
            discriminator_field_name: result
            types:
              a: {DISABLED_OUTPUT}
              b: {DISABLED_OUTPUT}
steps:
  placeholder_step:
    plugin: {{src: "{{steps}}", deployment_type: python}}
    step: hello
    input: {{name: placeholder}}
outputs:
  success: !expr $.input
""",
    )
    workflow_plan = plan(tmp_path, foreach_registry)
    result = workflow_plan.run({"step_to_run": "a"}, timeout=PROMPT)
    assert "success" == result.output_id
    assert {
        "subwf_result": {
            "success": {
                "data": [
                    {
                        "input_1": {"result": "a", "message": "Hello, a!"},
                        "input_2": {"result": "b", "message": "Step step_b/sleep disabled"},
                    }
                ]
            }
        }
    } == result.output_data
    result = workflow_plan.run({"step_to_run": "b"}, timeout=PROMPT)
    assert "success" == result.output_id
    assert {
        "subwf_result": {
            "success": {
                "data": [
                    {
                        "input_1": {"result": "b", "slept": 0.0},
                        "input_2": {"result": "a", "message": "Step step_a/hello disabled"},
                    }
                ]
            }
        }
    } == result.output_data


def test_foreach_with_optional(tmp_path: Path, foreach_registry: Registry) -> None:
    """TestForeachWithOptional: ``!wait-optional`` item fields are present only when their
    step ran; the sub-workflow's optional input properties accept that."""
    item = """input_1: !wait-optional $.steps.step_a.outputs.success
      input_2: !wait-optional $.steps.step_b.outputs.success"""
    write(tmp_path, "workflow.yaml", TWO_STEPS.replace("ITEM", item))
    write(
        tmp_path,
        "subworkflow.yaml",
        f"""
version: v0.2.0
input:
  root: RootObject
  objects:
    RootObject:
      id: RootObject
      properties:
        input_1: {{required: false, type: {HELLO_OUTPUT}}}
        input_2: {{required: false, type: {SLEEP_OUTPUT}}}
steps:
  placeholder_step:
    plugin: {{src: "{{steps}}", deployment_type: python}}
    step: hello
    input: {{name: placeholder}}
outputs:
  success: !expr $.input
""",
    )
    workflow_plan = plan(tmp_path, foreach_registry)
    expected = {
        "a": {"input_1": {"message": "Hello, a!"}},
        "b": {"input_2": {"slept": 0.0}},
        "non-existent": {},
    }
    for step_to_run, item_data in expected.items():
        result = workflow_plan.run({"step_to_run": step_to_run}, timeout=PROMPT)
        assert "success" == result.output_id, result.error
        assert {"subwf_result": {"success": {"data": [item_data]}}} == result.output_data


def test_multi_dependency_foreach(tmp_path: Path, foreach_registry: Registry) -> None:
    """TestMultiDependencyForeach: when an item's sub-workflow cannot succeed, the parent
    run fails at once ("no more possible outputs"), not after its other, long step."""
    write(
        tmp_path,
        "workflow.yaml",
        """
version: v0.2.0
input: {root: RootObject, objects: {RootObject: {id: RootObject, properties: {}}}}
steps:
  subworkflow:
    kind: foreach
    items:
    - {}
    workflow: subworkflow.yaml
  long_wait:
    plugin: {src: "{steps}", deployment_type: python}
    step: hang
    input: {seconds: 60}
outputs:
  success:
    long_wait_output: !expr $.steps.long_wait.outputs
    subworkflow_output: !expr $.steps.subworkflow.outputs.success
""",
    )
    write(
        tmp_path,
        "subworkflow.yaml",
        """
version: v0.2.0
input: {root: RootObject, objects: {RootObject: {id: RootObject, properties: {}}}}
steps:
  failed_step:
    plugin: {src: "{steps}", deployment_type: python}
    step: fail
    input: {}
outputs:
  success:
    b: !expr $.steps.failed_step.outputs.success
""",
    )
    workflow_plan = plan(tmp_path, foreach_registry)
    started = time.monotonic()
    result = workflow_plan.run({}, timeout=PROMPT)
    assert result.output_id is None
    assert result.error is not None
    assert result.error.startswith("no output can be produced any more"), result.error
    assert time.monotonic() - started < 15


def test_example_new_with_dummy_steps(tmp_path: Path, foreach_registry: Registry) -> None:
    """internal/step/foreach ExampleNew: a foreach over the input's names whose sub-workflow
    greets each with a dummy step (our dummy's error output says ``error``, not ``reason``)."""
    write(
        tmp_path,
        "workflow.yaml",
        """
version: v0.2.0
input:
  root: names
  objects:
    names:
      id: names
      properties:
        names:
          type:
            type_id: list
            items:
              type_id: object
              id: name
              properties:
                name:
                  type:
                    type_id: string
steps:
  greet:
    kind: foreach
    items: !expr $.input.names
    workflow: subworkflow.yaml
    parallelism: 5
outputs:
  success:
    messages: !expr $.steps.greet.outputs.success.data
  failed:
    error: !expr $.steps.greet.failed.error
""",
    )
    write(
        tmp_path,
        "subworkflow.yaml",
        """
version: v0.2.0
input:
  root: name
  objects:
    name:
      id: name
      properties:
        name:
          type:
            type_id: string
steps:
  say_hi:
    kind: dummy
    name: !expr $.input.name
outputs:
  success:
    message: !expr $.steps.say_hi.greet.success.message
  error:
    reason: !expr $.steps.say_hi.greet.error.error
""",
    )
    result = plan(tmp_path, foreach_registry).run(
        {"names": [{"name": "Arca"}, {"name": "Lot"}]}, timeout=PROMPT
    )
    assert "success" == result.output_id
    assert "Hello Arca! Hello Lot!" == " ".join(
        entry["message"] for entry in result.output_data["messages"]
    )


def test_cache_subworkflows(tmp_path: Path, foreach_registry: Registry) -> None:
    """engine_test.go Test_CacheSubworkflows (fixtures/test-subworkflow): three foreach steps,
    two naming the same file, sub-workflows nested three levels deep; every step's output
    is ``success``."""
    sleep_step = """
  wait_1:
    plugin: {src: "{steps}", deployment_type: python}
    step: sleep
    input: {seconds: !expr $.input.seconds}"""
    head = """version: v0.2.0
input:
  root: RootObject
  objects:
    RootObject:
      id: RootObject
      properties:
        seconds: {type: {type_id: float, min: 0}}
steps:"""
    loop = """
  wait_loop:
    kind: foreach
    items:
      - seconds: .1
    workflow: NEXT"""
    leaf_outputs = "\noutputs:\n  success:\n    a: !expr $.steps.wait_1.outputs\n"
    loop_outputs = leaf_outputs + "    b: !expr $.steps.wait_loop.outputs\n"
    write(tmp_path, "depth-1_workflow-1.yaml", head + sleep_step + leaf_outputs)
    write(
        tmp_path,
        "depth-1_workflow-2.yaml",
        head + sleep_step + loop.replace("NEXT", "depth-2_workflow-1.yaml") + loop_outputs,
    )
    write(
        tmp_path,
        "depth-2_workflow-1.yaml",
        head + sleep_step + loop.replace("NEXT", "depth-3_workflow-1.yaml") + loop_outputs,
    )
    write(tmp_path, "depth-3_workflow-1.yaml", head + sleep_step + leaf_outputs)
    write(
        tmp_path,
        "workflow.yaml",
        """
version: v0.2.0
input: {root: RootObject, objects: {RootObject: {id: RootObject, properties: {}}}}
steps:
  wait_wf_1:
    kind: foreach
    items:
      - seconds: .1
    workflow: depth-1_workflow-1.yaml
  wait_wf_2:
    kind: foreach
    items:
      - seconds: .1
    workflow: depth-1_workflow-2.yaml
  wait_wf_3:
    kind: foreach
    items:
      - seconds: .1
    workflow: depth-1_workflow-1.yaml
outputs:
  success:
    step_1: !expr $.steps.wait_wf_1.outputs
    step_2: !expr $.steps.wait_wf_2.outputs
    step_3: !expr $.steps.wait_wf_3.outputs
""",
    )
    result = plan(tmp_path, foreach_registry).run({}, timeout=PROMPT)
    assert (None, "success", False) == (result.error, result.output_id, result.is_error)
    assert {"step_1", "step_2", "step_3"} == set(result.output_data)
    for value in result.output_data.values():
        assert ["success"] == list(value)
    deepest = result.output_data["step_2"]["success"]["data"][0]["b"]["success"]["data"][0]
    assert {"success": {"slept": 0.1}} == deepest["b"]["success"]["data"][0]["a"]
