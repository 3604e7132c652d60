"""The ``approval`` provider: a manual gate with a deadline.

Step definition::

    kind: approval
    question: "Deploy release 1.4 to production?"   # run keyword (required)
    approval:                                        # provider keyword (optional)
      deadline: 3600          # seconds to wait for a decision, then ``expired``
      answer_file: /run/gate/answer   # a decision may arrive as this file
      terminal: true          # ask on the controlling terminal (arcaflow-steps run)
      poll_interval: 0.1      # how often the file and the terminal are checked
    decision: {approved: true, by: ci, comment: pre-approved}  # stage input (optional)

Lifecycle::

    ask ──> decide ──> approved   output approved {by, comment, source}
     │        ├──────> rejected   output rejected (error) {by, comment, source}
     │        ├──────> expired    output expired (error) {deadline}
     │        └──────> closed     output closed {cancelled}
     └───────────────> closed

``ask`` shows the question (on the terminal when ``terminal`` is set) and moves on; ``decide``
waits for the first decision from any source: the ``decision`` stage input, the answer file, or a
``yes``/``no`` typed on the terminal. The decision may arrive long after the step started:
``provide_stage_input("decide", {"decision": {...}})`` adds the field to the (empty) input the
runner gave ``decide`` at launch — incremental stage input; giving it twice is refused. While
no decision has arrived the step's ``state()`` is ``waiting_for_input``: it is blocked on a
person.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Mapping
from typing import Any, Final

import attrs

from arcaflow_steps import Lifecycle, LifecycleStage, LifecycleStageWithSchema
from arcaflow_steps.authoring import (
    BaseRunningStep,
    Finish,
    Move,
    Outcome,
    SimpleRunnableStep,
    StepProviderBase,
    on_stage,
    without_schemas,
)
from arcaflow_steps.schema import (
    BoolSchema,
    DisplayValue,
    FloatSchema,
    PropertySchema,
    StepOutputSchema,
    StringSchema,
    object_scope,
)

from ._answers import AnswerFile, Decision, TerminalPrompt

__all__ = ["LIFECYCLE", "ApprovalConfig", "ApprovalProvider", "ApprovalStage", "ApprovalStep"]


class ApprovalStage(enum.StrEnum):
    """The stages of an approval step."""

    ASK = "ask"
    DECIDE = "decide"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"
    CLOSED = "closed"


@attrs.frozen(kw_only=True)
class ApprovalConfig:
    """The ``approval`` provider keyword: how long to wait and where answers come from."""

    __arcaflow_id__ = "ApprovalConfig"

    deadline: float = attrs.field(
        default=3600.0,
        metadata={"name": "Deadline", "description": "Seconds to wait for a decision.", "min": 0},
    )
    answer_file: str | None = attrs.field(
        default=None,
        metadata={
            "name": "Answer file",
            "description": "A decision may arrive as this file (yes/no, or a YAML mapping).",
            "min": 1,
        },
    )
    terminal: bool = attrs.field(
        default=False,
        metadata={"name": "Terminal", "description": "Ask on the controlling terminal."},
    )
    poll_interval: float = attrs.field(
        default=0.1,
        metadata={"name": "Poll interval", "description": "Seconds between checks.", "min": 0.01},
    )


_DECISION_SCOPE: Final = object_scope(
    "Decision",
    approved=PropertySchema(type=BoolSchema(), required=True),
    by=PropertySchema(type=StringSchema(), display=DisplayValue(name="Decided by")),
    comment=PropertySchema(type=StringSchema()),
)


def _decided_scope(name: str) -> Any:
    return object_scope(
        name,
        by=PropertySchema(type=StringSchema(), required=True),
        comment=PropertySchema(type=StringSchema(), required=True),
        source=PropertySchema(type=StringSchema(), required=True),
    )


LIFECYCLE: Final = Lifecycle(
    initial_stage=ApprovalStage.ASK,
    stages=[
        LifecycleStageWithSchema(
            stage=LifecycleStage(
                id=ApprovalStage.ASK,
                running_name="asking",
                finished_name="asked",
                next_stages={ApprovalStage.DECIDE, ApprovalStage.CLOSED},
            ),
            outputs={
                "asked": StepOutputSchema(
                    schema=object_scope(
                        "Asked", question=PropertySchema(type=StringSchema(), required=True)
                    )
                )
            },
        ),
        LifecycleStageWithSchema(
            stage=LifecycleStage(
                id=ApprovalStage.DECIDE,
                waiting_name="waiting for a decision",
                running_name="waiting for a decision",
                finished_name="decided",
                input_fields={"decision"},
                next_stages={
                    ApprovalStage.APPROVED,
                    ApprovalStage.REJECTED,
                    ApprovalStage.EXPIRED,
                    ApprovalStage.CLOSED,
                },
            ),
            input_schema={
                "decision": PropertySchema(
                    type=_DECISION_SCOPE,
                    display=DisplayValue(
                        name="Decision", description="Approve or reject; may arrive any time."
                    ),
                )
            },
        ),
        LifecycleStageWithSchema(
            stage=LifecycleStage(id=ApprovalStage.APPROVED, finished_name="approved"),
            outputs={"approved": StepOutputSchema(schema=_decided_scope("Approved"))},
        ),
        LifecycleStageWithSchema(
            stage=LifecycleStage(id=ApprovalStage.REJECTED, finished_name="rejected"),
            outputs={"rejected": StepOutputSchema(schema=_decided_scope("Rejected"), error=True)},
        ),
        LifecycleStageWithSchema(
            stage=LifecycleStage(id=ApprovalStage.EXPIRED, finished_name="expired"),
            outputs={
                "expired": StepOutputSchema(
                    schema=object_scope(
                        "Expired", deadline=PropertySchema(type=FloatSchema(), required=True)
                    ),
                    error=True,
                )
            },
        ),
        LifecycleStageWithSchema(
            stage=LifecycleStage(id=ApprovalStage.CLOSED, finished_name="closed"),
            outputs={
                "closed": StepOutputSchema(
                    schema=object_scope(
                        "ApprovalClosed",
                        cancelled=PropertySchema(type=BoolSchema(), required=True),
                    )
                )
            },
        ),
    ],
)

RUN_SCHEMA: Final = {
    "question": PropertySchema(
        type=StringSchema(min=1),
        required=True,
        display=DisplayValue(name="Question", description="What the person approves."),
    )
}


def _from_input(decision: Mapping[str, Any]) -> Decision:
    return Decision(
        approved=bool(decision["approved"]),
        by=str(decision.get("by") or "unknown"),
        comment=str(decision.get("comment") or ""),
        source="input",
    )


class ApprovalStep(BaseRunningStep):
    """One gate.

    Thread safety: safe to share.
    """

    blocking = True

    def __init__(self, config: ApprovalConfig, question: str) -> None:
        super().__init__()
        self.config = config
        self.question = question

    @on_stage(ApprovalStage.ASK)
    def ask(self, inputs: Mapping[str, Any]) -> Outcome:
        """Publish the question."""
        del inputs
        return Move(to=ApprovalStage.DECIDE, output_id="asked", output={"question": self.question})

    def _input_decision(self) -> Decision | None:
        # The stage input grows: the runner gives {} at launch, a decision may follow any time.
        given = (self.stage_input(ApprovalStage.DECIDE) or {}).get("decision")
        return _from_input(given) if given else None

    @on_stage(ApprovalStage.DECIDE)
    def decide(self, inputs: Mapping[str, Any]) -> Outcome:
        """Wait for the first decision from stage input, the answer file or the terminal."""
        del inputs
        deadline = time.monotonic() + self.config.deadline
        path = self.config.answer_file
        answer_file = None if path is None else AnswerFile(path)
        prompt = None
        if self.config.terminal:
            prompt = TerminalPrompt(
                f"\napproval needed ({self.run_id}): {self.question}\n"
                f"approve? [yes/no] (deadline in {self.config.deadline:g} s): "
            )
            if not prompt.open():
                prompt = None
        self.set_waiting_for_input(True)  # blocked on a person from here on
        try:
            while True:
                decision = (
                    self._input_decision()
                    or (answer_file.poll() if answer_file is not None else None)
                    or (prompt.poll(0) if prompt is not None else None)
                )
                if decision is not None:
                    return self._decided_outcome(decision)
                if self.is_closing:
                    return self.closed_outcome(ApprovalStage.DECIDE, forced=False)
                if time.monotonic() >= deadline:
                    return Finish(
                        stage=ApprovalStage.EXPIRED,
                        output_id="expired",
                        output={"deadline": float(self.config.deadline)},
                    )
                left = max(deadline - time.monotonic(), 0)
                if prompt is not None:
                    decision = prompt.poll(min(self.config.poll_interval, left))
                    if decision is not None:
                        return self._decided_outcome(decision)
                else:
                    # Stage input wakes this at once; only a file needs polling.
                    polled = answer_file is not None
                    self.sleep(
                        min(self.config.poll_interval, left) if polled else left, wake_on_input=True
                    )
        finally:
            self.set_waiting_for_input(False)
            if prompt is not None:
                prompt.close()

    def _decided_outcome(self, decision: Decision) -> Finish:
        if decision.approved:
            return Finish(
                stage=ApprovalStage.APPROVED, output_id="approved", output=decision.as_output()
            )
        return Finish(
            stage=ApprovalStage.REJECTED, output_id="rejected", output=decision.as_output()
        )

    def closed_outcome(self, stage: str | None, *, forced: bool) -> Finish:
        """End in ``closed``: nobody decided."""
        del stage, forced
        return Finish(stage=ApprovalStage.CLOSED, output_id="closed", output={"cancelled": True})


class ApprovalProvider(StepProviderBase[ApprovalConfig]):
    """The provider of kind ``approval``.

    Thread safety: safe to share (immutable).
    """

    kind = "approval"
    provider_keyword = "approval"
    run_keyword = "question"
    config_type = ApprovalConfig

    def lifecycle(self) -> Lifecycle[LifecycleStage]:
        """Return the lifecycle without schemas."""
        return without_schemas(LIFECYCLE)

    def load_schema(self, provider_input: ApprovalConfig) -> SimpleRunnableStep:
        """Return the runnable approval step for this configuration."""
        return SimpleRunnableStep(
            LIFECYCLE,
            RUN_SCHEMA,
            lambda run_input, run_id: ApprovalStep(provider_input, run_input["question"]),
        )
