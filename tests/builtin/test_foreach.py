"""The foreach provider: sub-workflows per item, with real plugin steps (python deployer)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from foreach_support import HELLO_SUB, NAME_INPUT, Intervals, foreach_registry, plan, write
from plugin_support import PROMPT

from arcaflow_steps import Registry, StageInputError, StepDefinitionError
from arcaflow_steps.testing import RecordingStageChangeHandler
from arcaflow_steps.workflow import InvalidWorkflowError
from arcaflow_steps_builtin.foreach import ForeachProvider, ForeachRunnableStep

__all__ = ["foreach_registry"]  # the fixture, imported for pytest

#: A parent workflow whose foreach step ``loop`` runs ``sub.yaml`` over literal items.
PARENT = """
version: v0.2.0
input: {root: R, objects: {R: {id: R, properties: {}}}}
steps:
  loop:
    kind: foreach
    workflow: sub.yaml
    items: ITEMS
    parallelism: PARALLELISM
outputs:
  success: {results: !expr $.steps.loop.outputs.success.data}
  error: !expr $.steps.loop.failed.error
"""

#: A sub-workflow that ends with ``other`` for the name ``nobody``.
OTHER_SUB = (
    "version: v0.2.0\n"
    + NAME_INPUT
    + """
steps:
  h:
    plugin: {src: "{steps}", deployment_type: python}
    step: hello
    input: {name: !expr $.input.name}
outputs:
  success: {message: !expr $.steps.h.outputs.success.message}
  other: {error: !expr $.steps.h.outputs.error.error}
"""
)

#: A sub-workflow whose step sleeps ``$.input.seconds``.
SLEEP_SUB = """
version: v0.2.0
input:
  root: R
  objects:
    R: {id: R, properties: {seconds: {type: {type_id: float}}}}
steps:
  s:
    plugin: {src: "{steps}", deployment_type: python}
    step: sleep
    input: {seconds: !expr $.input.seconds}
outputs:
  success: {slept: !expr $.steps.s.outputs.success.slept}
"""


def parent(items: str, parallelism: int = 1) -> str:
    return PARENT.replace("ITEMS", items).replace("PARALLELISM", str(parallelism))


def test_items_run_in_order_and_each_success_is_collected(
    tmp_path: Path, foreach_registry: Registry
) -> None:
    """Every item's sub-workflow runs; the success outputs come back in item order."""
    write(tmp_path, "workflow.yaml", parent("[{name: a}, {name: b}, {name: c}]", 2))
    write(tmp_path, "sub.yaml", HELLO_SUB)
    result = plan(tmp_path, foreach_registry).run({}, timeout=PROMPT)
    assert (None, "success") == (result.error, result.output_id)
    assert {
        "results": [
            {"message": "Hello, a!"},
            {"message": "Hello, b!"},
            {"message": "Hello, c!"},
        ]
    } == result.output_data


def test_empty_items_succeed_at_once(tmp_path: Path, foreach_registry: Registry) -> None:
    """No items: the step succeeds with an empty list and no sub-workflow runs."""
    write(tmp_path, "workflow.yaml", parent("[]"))
    write(tmp_path, "sub.yaml", HELLO_SUB)
    result = plan(tmp_path, foreach_registry).run({}, timeout=PROMPT)
    assert ("success", {"results": []}) == (result.output_id, result.output_data)


def test_an_item_ending_in_another_output_fails_the_step(
    tmp_path: Path, foreach_registry: Registry
) -> None:
    """An item whose sub-workflow ends with an output other than success is a failed item;
    the error output keeps the successful items' data and the failed ones' messages by index."""
    write(tmp_path, "workflow.yaml", parent("[{name: a}, {name: nobody}, {name: c}]", 3))
    write(tmp_path, "sub.yaml", OTHER_SUB)
    result = plan(tmp_path, foreach_registry).run({}, timeout=PROMPT)
    assert ("error", True) == (result.output_id, result.is_error)
    assert {
        "data": {0: {"message": "Hello, a!"}, 2: {"message": "Hello, c!"}},
        "messages": {1: "item 1 ended with output 'other'"},
    } == result.output_data
    assert "failed" == result.step_results["loop"].stage


def test_an_item_whose_run_fails_fails_the_step(tmp_path: Path, foreach_registry: Registry) -> None:
    """An item whose sub-workflow produces no output fails with the run's reason."""
    write(tmp_path, "workflow.yaml", parent("[{name: nobody}]"))
    write(tmp_path, "sub.yaml", HELLO_SUB)
    result = plan(tmp_path, foreach_registry).run({}, timeout=PROMPT)
    assert "error" == result.output_id
    assert {} == result.output_data["data"]
    message = result.output_data["messages"][0]
    assert message.startswith("item 0 failed: no output can be produced any more"), message


def test_parallelism_bounds_the_items_running_at_once(
    tmp_path: Path, foreach_registry: Registry
) -> None:
    """At most ``parallelism`` items run at the same time, and that many do (measured from
    each item step's first stage to its completion)."""
    write(tmp_path, "sub.yaml", SLEEP_SUB)
    items = "[{seconds: 0.3}, {seconds: 0.3}, {seconds: 0.3}, {seconds: 0.3}]"
    for parallelism in (1, 2):
        write(tmp_path, "workflow.yaml", parent(items, parallelism))
        intervals = Intervals(None)
        workflow_plan = plan(tmp_path, foreach_registry, observers=[intervals])
        result = workflow_plan.run({}, timeout=PROMPT)
        assert "success" == result.output_id
        assert {"loop", *(f"loop[{index}].s" for index in range(4))} == set(intervals.entered)
        intervals.forget("loop")
        assert parallelism == intervals.max_overlap()


def test_a_disabled_foreach_step_says_so(tmp_path: Path, foreach_registry: Registry) -> None:
    """``enabled: false`` disables the step: ``disabled.output`` names it, nothing runs."""
    write(
        tmp_path,
        "workflow.yaml",
        """
version: v0.2.0
input: {root: R, objects: {R: {id: R, properties: {go: {type: {type_id: bool}}}}}}
steps:
  loop:
    kind: foreach
    workflow: sub.yaml
    items: [{name: a}]
    enabled: !expr $.input.go
outputs:
  success: {data: !expr $.steps.loop.outputs.success.data}
  skipped: {message: !expr $.steps.loop.disabled.output.message}
""",
    )
    write(tmp_path, "sub.yaml", HELLO_SUB)
    workflow_plan = plan(tmp_path, foreach_registry)
    disabled = workflow_plan.run({"go": False}, timeout=PROMPT)
    assert ("skipped", {"message": "Step foreach loop disabled"}) == (
        disabled.output_id,
        disabled.output_data,
    )
    enabled = workflow_plan.run({"go": True}, timeout=PROMPT)
    assert ("success", {"data": [{"message": "Hello, a!"}]}) == (
        enabled.output_id,
        enabled.output_data,
    )


def test_nested_foreach_runs_two_levels(tmp_path: Path, foreach_registry: Registry) -> None:
    """A sub-workflow with its own foreach step runs as recursion; outputs nest."""
    write(
        tmp_path,
        "workflow.yaml",
        """
version: v0.2.0
input: {root: P, objects: {P: {id: P, properties: {}}}}
steps:
  outer:
    kind: foreach
    workflow: levels/middle.yaml
    items: [{names: [{name: a}, {name: b}]}, {names: [{name: c}]}]
    parallelism: 2
outputs:
  success: {all: !expr $.steps.outer.outputs.success.data}
""",
    )
    # Paths are relative to the root context at every level: sub.yaml, not levels/sub.yaml.
    write(
        tmp_path,
        "levels/middle.yaml",
        """
version: v0.2.0
input:
  root: M
  objects:
    M: {id: M, properties: {names: {type: {type_id: list, items: {type_id: ref, id: R}}}}}
    R: {id: R, properties: {name: {type: {type_id: string}}}}
steps:
  inner:
    kind: foreach
    workflow: sub.yaml
    items: !expr $.input.names
outputs:
  success: {inner: !expr $.steps.inner.outputs.success.data}
""",
    )
    write(tmp_path, "sub.yaml", HELLO_SUB)
    result = plan(tmp_path, foreach_registry).run({}, timeout=PROMPT)
    assert "success" == result.output_id
    assert {
        "all": [
            {"inner": [{"message": "Hello, a!"}, {"message": "Hello, b!"}]},
            {"inner": [{"message": "Hello, c!"}]},
        ]
    } == result.output_data


def test_one_plan_serves_every_step_naming_the_file(
    tmp_path: Path, foreach_registry: Registry
) -> None:
    """Two foreach steps naming the same sub-workflow share one plan of it."""
    write(
        tmp_path,
        "workflow.yaml",
        """
version: v0.2.0
input: {root: R, objects: {R: {id: R, properties: {}}}}
steps:
  one: {kind: foreach, workflow: sub.yaml, items: [{name: a}]}
  two: {kind: foreach, workflow: ./sub.yaml, items: [{name: b}]}
outputs:
  success:
    one: !expr $.steps.one.outputs.success.data
    two: !expr $.steps.two.outputs.success.data
""",
    )
    write(tmp_path, "sub.yaml", HELLO_SUB)
    workflow_plan = plan(tmp_path, foreach_registry)
    one, two = (workflow_plan.steps[step].prepared.runnable for step in ("one", "two"))
    assert isinstance(one, ForeachRunnableStep)
    assert isinstance(two, ForeachRunnableStep)
    assert one.plan is two.plan
    result = workflow_plan.run({}, timeout=PROMPT)
    assert {"one": [{"message": "Hello, a!"}], "two": [{"message": "Hello, b!"}]} == (
        result.output_data
    )


def test_a_sub_workflow_without_success_is_refused(
    tmp_path: Path, foreach_registry: Registry
) -> None:
    """The sub-workflow must have an output ``success``: the error lists its outputs."""
    write(tmp_path, "workflow.yaml", parent("[{name: a}]"))
    write(tmp_path, "sub.yaml", HELLO_SUB.replace("  success:", "  done:"))
    with pytest.raises(InvalidWorkflowError) as excinfo:
        plan(tmp_path, foreach_registry)
    assert "sub.yaml: outputs: the sub-workflow has no output 'success'; outputs: 'done'" == (
        str(excinfo.value)
    )


@pytest.mark.parametrize(
    ("files", "chain"),
    [
        pytest.param({"sub.yaml": "sub.yaml"}, "sub.yaml -> sub.yaml", id="direct"),
        pytest.param(
            {"sub.yaml": "other.yaml", "other.yaml": "sub.yaml"},
            "sub.yaml -> other.yaml -> sub.yaml",
            id="through-another",
        ),
    ],
)
def test_a_sub_workflow_that_includes_itself_is_refused(
    tmp_path: Path, foreach_registry: Registry, files: dict[str, str], chain: str
) -> None:
    """A workflow that runs itself (directly or through another) is refused, naming the chain."""
    write(tmp_path, "workflow.yaml", parent("[{name: a}]"))
    for name, includes in files.items():
        write(
            tmp_path,
            name,
            "version: v0.2.0\n"
            + NAME_INPUT
            + f"""
steps:
  again: {{kind: foreach, workflow: {includes}, items: [{{name: x}}]}}
outputs:
  success: {{all: !expr $.steps.again.outputs.success.data}}
""",
        )
    with pytest.raises(InvalidWorkflowError) as excinfo:
        plan(tmp_path, foreach_registry)
    names = chain.split(" -> ")
    assert (
        f"{names[-2]}: steps.again: the sub-workflow {names[0]} includes itself: {chain} "
        "(line 9, column 3)"
    ) == str(excinfo.value)


def test_foreach_outside_a_workflow_is_refused() -> None:
    """Without a workflow being planned, a foreach step has no context to find its file in."""
    with pytest.raises(StepDefinitionError) as excinfo:
        ForeachProvider().load_schema({"workflow": "sub.yaml"})
    assert (
        "foreach steps run only inside a workflow (arcaflow-steps workflow); cannot run the "
        "sub-workflow 'sub.yaml' on its own"
    ) == str(excinfo.value)


def test_a_bad_item_fails_the_step_before_any_item_runs(
    tmp_path: Path, foreach_registry: Registry
) -> None:
    """Items are checked against the sub-workflow's input first; a bad one fails the step with
    its index and problem, and no item runs."""
    write(tmp_path, "workflow.yaml", parent("[{name: a}]"))
    write(tmp_path, "sub.yaml", HELLO_SUB)
    runnable = plan(tmp_path, foreach_registry).steps["loop"].prepared.runnable
    assert isinstance(runnable, ForeachRunnableStep)
    handler = RecordingStageChangeHandler(lifecycle=runnable.lifecycle({}), step_id="loop")
    step = runnable.start({}, handler, "loop")
    step.provide_stage_input("enabling", {})
    step.provide_stage_input("execute", {"items": [{"name": "a"}, {"nme": "b"}]})
    assert handler.wait_for_completion(PROMPT), handler.format_history()
    assert () == handler.violations()
    record = handler.completion()
    assert record is not None
    assert ("failed", "error") == (record.stage, record.output_id)
    assert {} == record.output["data"]
    assert [1] == list(record.output["messages"])
    assert record.output["messages"][1].startswith("item 1 is not an input of sub.yaml: ")


def test_closing_the_run_closes_every_item(tmp_path: Path, foreach_registry: Registry) -> None:
    """Closing a run mid-way closes each running item's sub-workflow: the foreach step ends
    closed and no plugin process is left (checked by the registry fixture)."""
    write(
        tmp_path,
        "sub.yaml",
        "version: v0.2.0\n"
        + NAME_INPUT
        + """
steps:
  wait:
    plugin: {src: "{steps}", deployment_type: python}
    step: hang
    input: {seconds: 60}
outputs:
  success: {slept: !expr $.steps.wait.outputs.success.slept}
""",
    )
    write(tmp_path, "workflow.yaml", parent("[{name: a}, {name: b}, {name: c}]", 2))
    running = Intervals("running")
    workflow_plan = plan(tmp_path, foreach_registry, observers=[running])
    run = workflow_plan.start({})
    deadline = time.monotonic() + PROMPT
    while len(running.entered) < 2:
        assert time.monotonic() < deadline, "the items never ran"
        time.sleep(0.01)
    started = time.monotonic()
    closer = threading.Thread(target=run.close)
    closer.start()
    closer.join(PROMPT)
    assert not closer.is_alive()
    assert time.monotonic() - started < 10
    result = run.wait(PROMPT)
    assert result.output_id is None
    assert "closed" == result.step_results["loop"].stage
    assert {"loop[0].wait", "loop[1].wait"} == set(running.entered)


def test_self_inclusion_is_found_across_concurrent_loads(
    tmp_path: Path, foreach_registry: Registry
) -> None:
    """Steps of one file load concurrently; the chain of files being planned follows them
    into the planner's threads, so self-inclusion is still refused (not recursion)."""
    write(tmp_path, "workflow.yaml", parent("[{name: a}]"))
    write(tmp_path, "leaf.yaml", HELLO_SUB)
    write(
        tmp_path,
        "sub.yaml",
        "version: v0.2.0\n"
        + NAME_INPUT
        + """
steps:
  leaf: {kind: foreach, workflow: leaf.yaml, items: [{name: x}]}
  again: {kind: foreach, workflow: sub.yaml, items: [{name: x}]}
outputs:
  success: {all: !expr $.steps.again.outputs.success.data}
""",
    )
    with pytest.raises(InvalidWorkflowError) as excinfo:
        plan(tmp_path, foreach_registry)
    assert (
        "sub.yaml: steps.again: the sub-workflow sub.yaml includes itself: sub.yaml -> sub.yaml "
        "(line 10, column 3)"
    ) == str(excinfo.value)


def test_bind_constants_gives_every_item_the_shared_value(
    tmp_path: Path, foreach_registry: Registry
) -> None:
    """``items: !expr bindConstants(items, constant)``: each item's sub-workflow gets
    ``{item, constant}``; the nested objects keep the parent's object ids."""
    write(
        tmp_path,
        "workflow.yaml",
        """
version: v0.2.0
input:
  root: P
  objects:
    P:
      id: P
      properties:
        names: {type: {type_id: list, items: {type_id: ref, id: Item}}}
        shared: {type: {type_id: ref, id: Const}}
    Item: {id: Item, properties: {name: {type: {type_id: string}}}}
    Const: {id: Const, properties: {suffix: {type: {type_id: string}}}}
steps:
  loop:
    kind: foreach
    workflow: sub.yaml
    items: !expr bindConstants($.input.names, $.input.shared)
    parallelism: 2
outputs:
  success: {all: !expr $.steps.loop.outputs.success.data}
""",
    )
    write(
        tmp_path,
        "sub.yaml",
        """
version: v0.2.0
input:
  root: Item__Const
  objects:
    Item__Const:
      id: Item__Const
      properties:
        item: {type: {type_id: ref, id: Item}}
        constant: {type: {type_id: ref, id: Const}}
    Item: {id: Item, properties: {name: {type: {type_id: string}}}}
    Const: {id: Const, properties: {suffix: {type: {type_id: string}}}}
steps:
  h:
    plugin: {src: "{steps}", deployment_type: python}
    step: hello
    input: {name: !expr $.input.item.name + $.input.constant.suffix}
outputs:
  success: {message: !expr $.steps.h.outputs.success.message}
""",
    )
    result = plan(tmp_path, foreach_registry).run(
        {"names": [{"name": "a"}, {"name": "b"}], "shared": {"suffix": "-san"}}, timeout=PROMPT
    )
    assert (None, "success") == (result.error, result.output_id)
    assert {"all": [{"message": "Hello, a-san!"}, {"message": "Hello, b-san!"}]} == (
        result.output_data
    )


def test_ordisabled_handles_a_disabled_foreach_step(
    tmp_path: Path, foreach_registry: Registry
) -> None:
    """``!ordisabled $.steps.loop.outputs.success`` gives the data when the step ran and
    ``{result: disabled, message}`` when it was disabled."""
    write(
        tmp_path,
        "workflow.yaml",
        """
version: v0.2.0
input: {root: R, objects: {R: {id: R, properties: {go: {type: {type_id: bool}}}}}}
steps:
  loop: {kind: foreach, workflow: sub.yaml, items: [{name: a}], enabled: !expr $.input.go}
outputs:
  success: {loop: !ordisabled $.steps.loop.outputs.success}
""",
    )
    write(tmp_path, "sub.yaml", HELLO_SUB)
    workflow_plan = plan(tmp_path, foreach_registry)
    disabled = workflow_plan.run({"go": False}, timeout=PROMPT)
    assert {"loop": {"result": "disabled", "message": "Step foreach loop disabled"}} == (
        disabled.output_data
    )
    enabled = workflow_plan.run({"go": True}, timeout=PROMPT)
    assert {"loop": {"result": "enabled", "data": [{"message": "Hello, a!"}]}} == (
        enabled.output_data
    )


def test_items_are_type_checked_against_the_sub_workflow_input(
    tmp_path: Path, foreach_registry: Registry
) -> None:
    """Before anything runs, ``items`` must fit a list of the sub-workflow's input: an
    expression of another object type is refused with its place."""
    write(
        tmp_path,
        "workflow.yaml",
        """
version: v0.2.0
input:
  root: P
  objects:
    P: {id: P, properties: {names: {type: {type_id: list, items: {type_id: ref, id: Q}}}}}
    Q: {id: Q, properties: {name: {type: {type_id: string}}}}
steps:
  loop: {kind: foreach, workflow: sub.yaml, items: !expr $.input.names}
outputs:
  success: {all: !expr $.steps.loop.outputs.success.data}
""",
    )
    write(tmp_path, "sub.yaml", HELLO_SUB)
    with pytest.raises(InvalidWorkflowError) as excinfo:
        plan(tmp_path, foreach_registry)
    assert (
        f"{tmp_path / 'workflow.yaml'}: steps.loop.items[]: expected object 'R', got object 'Q' "
        "(both ids are enforced; reuse the target's object through its namespace) (from "
        "expression '$.input.names') (line 9, column 45)"
    ) == str(excinfo.value)


def test_the_input_reuses_the_item_type_through_the_foreach_namespace(
    tmp_path: Path, foreach_registry: Registry
) -> None:
    """``$.steps.loop.execute.inputs.items`` publishes the sub-workflow's input objects: a
    workflow input that refers to them passes whole items through (reference §9)."""
    write(
        tmp_path,
        "workflow.yaml",
        """
version: v0.2.0
input:
  root: P
  objects:
    P:
      id: P
      properties:
        names:
          type:
            type_id: list
            items: {type_id: ref, id: R, namespace: $.steps.loop.execute.inputs.items}
steps:
  loop: {kind: foreach, workflow: sub.yaml, items: !expr $.input.names}
outputs:
  success: {all: !expr $.steps.loop.outputs.success.data}
""",
    )
    write(tmp_path, "sub.yaml", HELLO_SUB)
    workflow_plan = plan(tmp_path, foreach_registry)
    assert ("R", "$.steps.loop.execute.inputs.items") in workflow_plan.namespaces()
    result = workflow_plan.run({"names": [{"name": "a"}]}, timeout=PROMPT)
    assert {"all": [{"message": "Hello, a!"}]} == result.output_data


@pytest.mark.parametrize(
    ("stage", "fields", "reason"),
    [
        pytest.param(
            "nope", {}, "unknown stage; stages taking input: 'enabling', 'execute'", id="stage"
        ),
        pytest.param(
            "execute",
            {"items": [], "colour": 1},
            "unknown input fields ['colour']; valid fields: 'items', 'parallelism', 'wait_for'",
            id="field",
        ),
        pytest.param(
            "outputs",
            {"items": []},
            "unknown input fields ['items']; valid fields: none",
            id="none",
        ),
        pytest.param("execute", {"items": "ab"}, "'items' must be a list, got 'ab'", id="items"),
        pytest.param(
            "enabling", {"enabled": "yes"}, "'enabled' must be a boolean, got 'yes'", id="enabled"
        ),
        pytest.param(
            "execute",
            {"items": [], "parallelism": 0},
            "expected at least 1, got 0 @ $.steps.loop.parallelism",
            id="parallelism",
        ),
    ],
)
def test_stage_input_the_step_cannot_use_is_refused(
    tmp_path: Path, foreach_registry: Registry, stage: str, fields: dict[str, object], reason: str
) -> None:
    """A stage input the step cannot use raises StageInputError naming the step, the stage
    and the problem; the step keeps waiting and closes normally."""
    write(tmp_path, "workflow.yaml", parent("[{name: a}]"))
    write(tmp_path, "sub.yaml", HELLO_SUB)
    runnable = plan(tmp_path, foreach_registry).steps["loop"].prepared.runnable
    assert isinstance(runnable, ForeachRunnableStep)
    handler = RecordingStageChangeHandler(lifecycle=runnable.lifecycle({}), step_id="loop")
    step = runnable.start({}, handler, "loop")
    with pytest.raises(StageInputError) as excinfo:
        step.provide_stage_input(stage, fields)
    assert f"step 'loop' stage '{stage}': {reason}" == str(excinfo.value)
    step.close()
    record = handler.completion()
    assert record is not None
    assert ("closed", "result") == (record.stage, record.output_id)
    assert () == handler.violations()


def test_stage_input_is_taken_once(tmp_path: Path, foreach_registry: Registry) -> None:
    """A stage's input given twice is refused the second time; an empty input for a stage
    without input fields is accepted and ignored (as the runner may give it)."""
    write(tmp_path, "workflow.yaml", parent("[{name: a}]"))
    write(tmp_path, "sub.yaml", HELLO_SUB)
    runnable = plan(tmp_path, foreach_registry).steps["loop"].prepared.runnable
    assert isinstance(runnable, ForeachRunnableStep)
    handler = RecordingStageChangeHandler(lifecycle=runnable.lifecycle({}), step_id="loop")
    step = runnable.start({}, handler, "loop")
    step.provide_stage_input("outputs", {})
    step.provide_stage_input("enabling", {"enabled": False})
    with pytest.raises(StageInputError) as excinfo:
        step.provide_stage_input("enabling", {})
    assert "step 'loop' stage 'enabling': input provided more than once" == str(excinfo.value)
    assert handler.wait_for_completion(PROMPT), handler.format_history()
    assert "disabled" == step.current_stage()


def test_items_computed_from_another_steps_output(
    tmp_path: Path, foreach_registry: Registry
) -> None:
    """``items`` read from a plugin step's output wait for it: the foreach runs once the
    echo step returned its tags, one item per tag with a shared constant."""
    write(
        tmp_path,
        "workflow.yaml",
        """
version: v0.2.0
input: {root: R, objects: {R: {id: R, properties: {}}}}
steps:
  echo:
    plugin: {src: "{steps}", deployment_type: python}
    step: echo
    input:
      count: 1
      ratio: 0.5
      flag: true
      tags: [x, y, z]
      inner: {label: l}
      scores: {}
  loop:
    kind: foreach
    workflow: sub.yaml
    items: !expr bindConstants($.steps.echo.outputs.success.tags, "!")
    parallelism: 3
outputs:
  success: {all: !expr $.steps.loop.outputs.success.data}
""",
    )
    write(
        tmp_path,
        "sub.yaml",
        """
version: v0.2.0
input:
  root: T
  objects:
    T:
      id: T
      properties:
        item: {type: {type_id: string}}
        constant: {type: {type_id: string}}
steps:
  h:
    plugin: {src: "{steps}", deployment_type: python}
    step: hello
    input: {name: !expr $.input.item + $.input.constant}
outputs:
  success: {message: !expr $.steps.h.outputs.success.message}
""",
    )
    result = plan(tmp_path, foreach_registry).run({}, timeout=PROMPT)
    assert (None, "success") == (result.error, result.output_id)
    assert {
        "all": [{"message": "Hello, x!!"}, {"message": "Hello, y!!"}, {"message": "Hello, z!!"}]
    } == result.output_data


def test_a_missing_sub_workflow_names_the_step_that_wants_it(
    tmp_path: Path, foreach_registry: Registry
) -> None:
    """A sub-workflow file that does not exist is refused with the step that names it."""
    write(tmp_path, "workflow.yaml", parent("[{name: a}]").replace("sub.yaml", "nope.yaml"))
    with pytest.raises(InvalidWorkflowError) as excinfo:
        plan(tmp_path, foreach_registry)
    assert (
        f"{tmp_path / 'workflow.yaml'}: steps.loop: workflow file "
        f"{str(tmp_path / 'nope.yaml')!r} does not exist (line 5, column 3)"
    ) == str(excinfo.value)
