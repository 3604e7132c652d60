"""The guard's rules: is a provider's report legal, given what was recorded so far?

Each function checks one kind of report against a :class:`~arcaflow_steps._step_history.StepHistory`
and its lifecycle's rules, and raises :class:`~arcaflow_steps.IllegalStageTransitionError`
(what, which step, which stage, what is allowed) without changing anything. The guard calls
them with its lock held.
"""

from __future__ import annotations

from typing import Any

from ._errors import IllegalStageTransitionError, SchemaValidationError, quote
from ._schema import validate
from ._step_history import StepHistory

__all__ = [
    "after_completion_error",
    "check_change",
    "check_completion",
    "check_stage_failure",
]


def check_change(
    history: StepHistory,
    previous_stage: str | None,
    previous_output_id: str | None,
    previous_output: Any,
    new_stage: str,
) -> Any:
    """Check a move to ``new_stage``; return the validated output of the stage it leaves."""
    table = history.rules.table
    current = history.stage
    failed = history.failed_stages
    if history.result is not None:
        raise after_completion_error(history, f"reported a move to stage {quote(new_stage)}")
    if previous_stage != current:
        raise _wrong_previous_error(history, previous_stage, f"a move to stage {quote(new_stage)}")
    if not table.allows(current, new_stage) or new_stage in failed:
        what = (
            f"cannot start in stage {quote(new_stage)}"
            if current is None
            else f"cannot move to stage {quote(new_stage)}"
        )
        if new_stage in failed:
            what += " (it was reported as failed)"
        raise IllegalStageTransitionError(
            history.step_id, current, what, table.allowed_next(current) - failed
        )
    if current is None:
        if previous_output_id is not None or previous_output is not None:
            raise IllegalStageTransitionError(
                history.step_id,
                None,
                f"reported output {quote(previous_output_id)} with its first stage",
                table.allowed_next(None),
            )
        return None
    return _check_output(history, current, previous_output_id, previous_output, completing=False)


def check_completion(
    history: StepHistory, previous_stage: str | None, output_id: str | None, output: Any
) -> Any:
    """Check a completion in ``previous_stage``; return the validated output."""
    table = history.rules.table
    current = history.stage
    if history.result is not None:
        raise after_completion_error(history, "reported completion")
    if current is None:
        raise IllegalStageTransitionError(
            history.step_id, None, "completed before entering a stage", table.allowed_next(None)
        )
    if previous_stage != current:
        raise _wrong_previous_error(history, previous_stage, "completion")
    if not table.is_terminal(current):
        raise IllegalStageTransitionError(
            history.step_id,
            current,
            f"completed in non-terminal stage {quote(current)}",
            table.terminal_stages_from(current),
        )
    return _check_output(history, current, output_id, output, completing=True)


def check_stage_failure(history: StepHistory, stage: str) -> IllegalStageTransitionError | None:
    """Return why a report that ``stage`` will produce no output is illegal, if it is."""
    if history.result is not None:
        return after_completion_error(history, "reported a stage failure")
    if not history.rules.table.has_stage(stage):
        return IllegalStageTransitionError(
            history.step_id,
            history.stage,
            f"reported a failure of undeclared stage {quote(stage)}",
            history.rules.table.next_stages,
        )
    return None


def after_completion_error(history: StepHistory, what: str) -> IllegalStageTransitionError:
    """Return the refusal of ``what`` arriving after the step completed."""
    assert history.result is not None
    return IllegalStageTransitionError(
        history.step_id, history.result.stage, f"{what} after the step completed", ()
    )


def _check_output(
    history: StepHistory, stage: str, output_id: str | None, output: Any, *, completing: bool
) -> Any:
    declared = history.rules.outputs.get(stage, {})
    step_id = history.step_id
    if output_id is None:
        if output is not None:
            raise IllegalStageTransitionError(
                step_id, stage, "reported output data without an output id", declared
            )
        if completing and declared:
            raise IllegalStageTransitionError(
                step_id, stage, "completed without an output id", declared
            )
        return None
    schema = declared.get(output_id)
    if schema is None:
        raise IllegalStageTransitionError(
            step_id,
            stage,
            f"reported undeclared output {quote(output_id)} of stage {quote(stage)}",
            declared,
        )
    try:
        return validate(schema.schema, output, path="$")
    except SchemaValidationError as exc:
        problems = "; ".join(str(problem) for problem in exc.problems)
        raise IllegalStageTransitionError(
            step_id,
            stage,
            f"reported output {quote(output_id)} that does not match its schema ({problems})",
            declared,
        ) from None


def _wrong_previous_error(
    history: StepHistory, previous_stage: str | None, what: str
) -> IllegalStageTransitionError:
    said = f"stage {quote(previous_stage)}" if previous_stage is not None else "no stage"
    current = history.stage
    return IllegalStageTransitionError(
        history.step_id,
        current,
        f"reported {what} from {said}",
        () if current is None else (current,),
    )
