"""The executor's engine logic on ``dummy`` steps (instant, real provider, real runner).

A dummy step has one stage, ``greet``, that takes ``name`` and ends with ``success
{message: "Hello <name>!"}``, or ``error {error}`` for a blank name or when closed first:
``$.steps.a.greet.success.message`` is its greeting.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from exec_support import e, hand_plan, output

from arcaflow_steps import Registry, StepEvent, StepEventKind
from arcaflow_steps.schema import IntSchema
from arcaflow_steps.workflow._template import OneOf, SoftOptional, WaitOptional


@pytest.fixture(scope="module")
def registry() -> Iterator[Registry]:
    registry = Registry.from_entry_points()
    yield registry
    registry.close()


def dummy(name: Any) -> dict[str, Any]:
    return {"kind": "dummy", "name": name}


def greeting(step_id: str) -> Any:
    return e(f"$.steps.{step_id}.greet.success.message", f"steps.{step_id}")


def test_a_chain_passes_data_from_step_to_step(registry: Registry) -> None:
    """Each step gets the previous one's greeting; the output reads the last."""
    plan = hand_plan(
        registry,
        {
            "a": dummy(e("$.input.name")),
            "b": dummy(greeting("a")),
            "c": dummy(greeting("b")),
        },
        [output("success", {"message": greeting("c")})],
    )
    result = plan.run({"name": "Arca"})
    assert (None, "success") == (result.error, result.output_id)
    assert {"message": "Hello Hello Hello Arca!!!"} == result.output_data
    assert not result.is_error
    assert ["a", "b", "c"] == list(result.step_results)
    assert {"success"} == {step.output_id for step in result.step_results.values()}


def test_fan_in_waits_for_every_dependency(registry: Registry) -> None:
    """A stage input reading two steps is provided once both produced their output."""
    plan = hand_plan(
        registry,
        {
            "a": dummy("A"),
            "b": dummy("B"),
            "c": dummy(
                e('$.steps.a.greet.success.message + " & " + $.steps.b.greet.success.message')
            ),
        },
        [output("success", {"message": greeting("c")})],
    )
    assert {"message": "Hello Hello A! & Hello B!!"} == plan.run().output_data


def test_oneof_takes_the_option_that_resolved(registry: Registry) -> None:
    """``!oneof`` is the option whose step output came, with the discriminator added."""
    either = OneOf(
        "result",
        (
            ("ok", e("$.steps.a.greet.success")),
            ("failed", e("$.steps.a.greet.error")),
        ),
        "outputs.success.v",
    )
    plan = hand_plan(registry, {"a": dummy(" ")}, [output("success", {"v": either})])
    assert {"v": {"result": "failed", "error": "cannot greet a blank name"}} == (
        plan.run().output_data
    )
    plan = hand_plan(registry, {"a": dummy("X")}, [output("success", {"v": either})])
    assert {"v": {"result": "ok", "message": "Hello X!"}} == plan.run().output_data


def test_wait_optional_waits_then_omits_what_cannot_come(registry: Registry) -> None:
    """A ``!wait-optional`` field is present if its step succeeded, left out if it failed."""

    def template() -> dict[str, Any]:
        return {
            "maybe": WaitOptional(e("$.steps.a.greet.success.message")),
            "sure": greeting("b"),
        }

    plan = hand_plan(registry, {"a": dummy(" "), "b": dummy("B")}, [output("out", template())])
    assert {"sure": "Hello B!"} == plan.run().output_data
    plan = hand_plan(registry, {"a": dummy("A"), "b": dummy("B")}, [output("out", template())])
    assert {"maybe": "Hello A!", "sure": "Hello B!"} == plan.run().output_data


def test_soft_optional_never_waits(registry: Registry) -> None:
    """An output of ``$.input`` and a ``!soft-optional`` field is produced before any step
    output is processed, so the soft field is left out."""
    template = {"name": e("$.input.name"), "soft": SoftOptional(greeting("a"))}
    plan = hand_plan(registry, {"a": dummy("A")}, [output("out", template)])
    result = plan.run({"name": "Arca"})
    assert {"name": "Arca"} == result.output_data
    assert "success" == result.step_results["a"].output_id


def test_a_failed_dependency_closes_the_dependant_and_ends_the_run(registry: Registry) -> None:
    """When no output can come any more the run fails at once, saying why each cannot."""
    plan = hand_plan(
        registry,
        {"a": dummy(" "), "b": dummy(greeting("a"))},
        [output("success", {"message": greeting("b")})],
    )
    result = plan.run()
    assert (None, None) == (result.output_id, result.output_data)
    assert (
        "no output can be produced any more: success needs steps.b.greet.success, but step 'b' "
        "was closed: its input for stage 'greet' needs steps.a.greet.success, but step 'a' "
        "ended in stage 'greet' with output 'error': cannot greet a blank name"
    ) == result.error
    closed = result.step_results["b"]
    assert ("greet", "error", None) == (closed.stage, closed.output_id, closed.error)


def test_a_runtime_expression_error_ends_the_step_with_the_message(registry: Registry) -> None:
    """A key the data lacks ends the consuming step (not the process); its dependants fail."""
    plan = hand_plan(
        registry,
        {"a": dummy("A"), "b": dummy(e("$.steps.a.greet.success.nope", "steps.b.name"))},
        [output("success", {"message": greeting("b")})],
    )
    result = plan.run()
    step_error = result.step_results["b"].error
    assert step_error is not None
    assert step_error.startswith(
        "step 'b': input for stage 'greet' cannot be evaluated: steps.b.name: "
    )
    assert result.error == (
        "no output can be produced any more: success needs steps.b.greet.success, but step "
        f"'b' ended in stage 'greet' with output 'error': {step_error}"
    )


def test_a_refused_stage_input_ends_the_step(registry: Registry) -> None:
    """An evaluated input the stage schema refuses ends the step with the validation message."""
    plan = hand_plan(
        registry,
        {"a": dummy("A"), "b": dummy(e("$.steps.a.greet.success"))},
        [output("success", {"message": greeting("b")})],
    )
    result = plan.run()
    assert result.output_id is None
    assert (
        "step 'b': refused input for stage 'greet': expected a string, got a mapping "
        "@ $.steps.b.name"
    ) == result.step_results["b"].error


def test_a_failing_output_is_dropped_and_another_wins(registry: Registry) -> None:
    """An output whose evaluation or validation fails does not end the run."""
    plan = hand_plan(
        registry,
        {"a": dummy("A")},
        [
            output("broken", {"n": e("$.steps.a.greet.success.missing")}),
            output("wrong", {"n": greeting("a")}, fields={"n": IntSchema()}),
            output("good", {"message": greeting("a")}),
        ],
    )
    result = plan.run()
    assert ("good", {"message": "Hello A!"}) == (result.output_id, result.output_data)


def test_only_failing_outputs_fail_the_run_with_each_reason(registry: Registry) -> None:
    """When every output failed its evaluation, the error lists each one's reason."""
    plan = hand_plan(
        registry,
        {"a": dummy("A")},
        [output("wrong", {"n": greeting("a")}, fields={"n": IntSchema()})],
    )
    assert (
        "no output can be produced any more: wrong failed: "
        "expected an integer, got 'Hello A!' @ outputs.wrong.n"
    ) == plan.run().error


def test_the_first_ready_output_in_file_order_wins(registry: Registry) -> None:
    """Outputs ready in the same round: the first in file order, every time."""
    plan = hand_plan(
        registry,
        {"a": dummy("A")},
        [output(name, {"m": greeting("a")}, error=name == "c") for name in ("c", "b", "a")],
    )
    results = [plan.run() for _ in range(5)]
    assert [("c", True)] * 5 == [(result.output_id, result.is_error) for result in results]


def test_step_ids_carry_the_prefix_for_observers_only(registry: Registry) -> None:
    """Observers see prefixed step ids; the result is keyed by the workflow's own ids."""
    seen: list[StepEvent] = []

    class Recorder:
        def on_event(self, event: StepEvent) -> None:
            seen.append(event)

    plan = hand_plan(
        registry,
        {"a": dummy("A"), "b": dummy(greeting("a"))},
        [output("success", {"message": greeting("b")})],
        observers=[Recorder()],
    )
    run = plan.start({}, step_id_prefix="loop[3].")
    result = run.wait(10)
    assert {"a", "b"} == set(result.step_results)
    completed = [event.step_id for event in seen if event.kind is StepEventKind.COMPLETED]
    assert ["loop[3].a", "loop[3].b"] == completed
    assert {"loop[3].a", "loop[3].b"} == {execution.step_id for execution in run.executions()}


def test_a_whole_step_waits_for_its_completion(registry: Registry) -> None:
    """``$.steps.a`` waits until a completed and reads every stage it left with an output."""
    plan = hand_plan(registry, {"a": dummy("A")}, [output("success", {"a": e("$.steps.a")})])
    assert {"a": {"greet": {"success": {"message": "Hello A!"}}}} == plan.run().output_data


def test_a_reference_to_nothing_of_this_run_fails_its_consumer(registry: Registry) -> None:
    """A path naming no step output of the run (a planner bug) fails the output, not the run's
    process, with the path in the message."""
    plan = hand_plan(
        registry,
        {"a": dummy("A")},
        [output("success", {"x": e("$.steps.zz.greet.success")})],
    )
    assert (
        "no output can be produced any more: success needs $.steps.zz.greet.success, "
        "but this run has no steps.zz.greet.success"
    ) == plan.run().error


def test_an_output_without_step_dependencies_ends_the_run_first(registry: Registry) -> None:
    """An output of ``$.input`` only ends the run before any step output is used (as in Go);
    the step still waiting for its input is closed, and every step has a result."""
    plan = hand_plan(
        registry,
        {"a": dummy("A"), "b": dummy(greeting("a"))},
        [output("success", {"name": e("$.input.name")})],
    )
    result = plan.run({"name": "Arca"})
    assert ("success", {"name": "Arca"}) == (result.output_id, result.output_data)
    assert {"a": "success", "b": "error"} == {
        step_id: step.output_id for step_id, step in result.step_results.items()
    }


def test_a_oneof_option_must_be_an_object(registry: Registry) -> None:
    """A ``!oneof`` option that evaluates to something else fails its consumer, saying so."""
    either = OneOf("kind", (("text", greeting("a")),), "outputs.success.v")
    plan = hand_plan(registry, {"a": dummy("A")}, [output("success", {"v": either})])
    assert (
        "no output can be produced any more: success failed: outputs.success.v: option 'text' "
        "of the !oneof is not an object (got str)"
    ) == plan.run().error


def test_optional_list_items_are_left_out_when_they_cannot_come(registry: Registry) -> None:
    """A ``!wait-optional`` list item whose step failed is left out of the list."""
    items = [greeting("a"), WaitOptional(greeting("b")), WaitOptional(greeting("a"))]
    plan = hand_plan(
        registry, {"a": dummy("A"), "b": dummy(" ")}, [output("success", {"all": items})]
    )
    assert {"all": ["Hello A!", "Hello A!"]} == plan.run().output_data


def test_a_finished_run_leaves_no_thread_behind(registry: Registry) -> None:
    """Once ``wait`` returned, the executor thread and every step-closing thread are gone."""
    before = set(threading.enumerate())
    plan = hand_plan(
        registry,
        {"a": dummy(" "), "b": dummy(greeting("a")), "c": dummy(e("$.steps.a.greet.nope"))},
        [output("success", {"message": greeting("b")})],
    )
    assert plan.run().output_id is None
    assert set() == set(threading.enumerate()) - before


def test_a_run_without_background_is_run_by_the_thread_that_runs_it_to_end(
    registry: Registry,
) -> None:
    """``background=False`` starts the steps but no executor thread: ``run_to_end`` processes
    the events on the calling thread (once); ``wait`` then returns the same result."""
    plan = hand_plan(
        registry,
        {"a": dummy(e("$.input.name")), "b": dummy(greeting("a"))},
        [output("success", {"message": greeting("b")})],
    )
    before = set(threading.enumerate())
    run = plan.start({"name": "Arca"}, background=False)
    assert not [t for t in set(threading.enumerate()) - before if t.name.endswith("workflow")]
    result = run.run_to_end()
    assert ("success", {"message": "Hello Hello Arca!!"}) == (result.output_id, result.output_data)
    assert result is run.wait(0)
    with pytest.raises(RuntimeError, match="processed elsewhere"):
        run.run_to_end()
    assert set() == set(threading.enumerate()) - before


def test_a_background_run_cannot_be_run_to_end(registry: Registry) -> None:
    plan = hand_plan(registry, {"a": dummy("A")}, [output("success", {"m": greeting("a")})])
    run = plan.start({})
    with pytest.raises(RuntimeError, match="processed elsewhere"):
        run.run_to_end()
    assert "success" == run.wait(10).output_id


def test_a_template_record_used_twice_resolves_in_both_places(registry: Registry) -> None:
    """One ``!oneof`` / ``!wait-optional`` record in two places (a YAML alias) resolves in
    each."""
    either = OneOf(
        "k", (("x", e("$.steps.b.greet.success")), ("y", e("$.steps.a.greet.success"))), "o"
    )
    maybe = WaitOptional(e("$.steps.b.greet.success.message"))
    template = {"p1": either, "p2": either, "m1": maybe, "m2": maybe}
    plan = hand_plan(registry, {"a": dummy("A"), "b": dummy(" ")}, [output("out", template)])
    picked = {"k": "y", "message": "Hello A!"}
    assert {"p1": picked, "p2": picked} == plan.run().output_data
