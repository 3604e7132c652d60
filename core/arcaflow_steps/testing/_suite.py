"""The pytest face of the kit: factory fixtures and the :class:`ProviderConformance` test base.

Nothing here runs unless a test asks for it: the fixtures are not autouse, and the test base
is only collected through a ``Test*`` subclass in the author's own test module.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from typing import Any, Protocol

import pytest

from ._cases import ConformanceCase, StepOutcome, prepare_case
from ._checks import (
    ProviderLike,
    check_close,
    check_kind_and_keywords,
    check_lifecycle,
    check_schemas,
    check_waiting_for_input,
    run_case,
)
from ._harness import StartedStep
from ._history import Rule

__all__ = ["ProviderConformance", "RunStep", "StartStep", "run_step", "start_step"]


class StartStep(Protocol):
    """The ``start_step`` fixture: start one execution and return it, recorded.

    Thread safety: call it from the test's thread; the step it returns may be driven from any.
    """

    def __call__(
        self,
        provider: ProviderLike,
        definition: Mapping[str, Any],
        *,
        withhold: Collection[str] = (),
        case_id: str = "step",
        timeout: float = 10.0,
        close_timeout: float = 5.0,
    ) -> StartedStep:
        """Start ``definition`` on ``provider``; stage inputs of ``withhold`` are held back."""


class RunStep(Protocol):
    """The ``run_step`` fixture: run one execution to completion and return its outcome.

    Thread safety: call it from the test's thread; each call runs its own step.
    """

    def __call__(
        self,
        provider: ProviderLike,
        definition: Mapping[str, Any],
        *,
        case_id: str = "step",
        timeout: float = 10.0,
        close_timeout: float = 5.0,
    ) -> StepOutcome:
        """Run ``definition`` on ``provider`` undisturbed; close it and check for threads."""


@pytest.fixture
def start_step() -> Iterator[StartStep]:
    """Start steps recorded by the kit; every step still running at teardown is force-closed."""
    started: list[StartedStep] = []

    def start(
        provider: ProviderLike,
        definition: Mapping[str, Any],
        *,
        withhold: Collection[str] = (),
        case_id: str = "step",
        timeout: float = 10.0,
        close_timeout: float = 5.0,
    ) -> StartedStep:
        case = ConformanceCase(
            id=case_id, definition=definition, timeout=timeout, close_timeout=close_timeout
        )
        step = prepare_case(provider, case).start(withhold=withhold)
        started.append(step)
        return step

    yield start
    for step in started:
        if step.handler.completion() is None:
            step.close(force=True)


@pytest.fixture
def run_step(start_step: StartStep) -> RunStep:
    """Run steps to completion; ``outcome.assert_success()`` prints the history on failure."""

    def run(
        provider: ProviderLike,
        definition: Mapping[str, Any],
        *,
        case_id: str = "step",
        timeout: float = 10.0,
        close_timeout: float = 5.0,
    ) -> StepOutcome:
        step = start_step(
            provider, definition, case_id=case_id, timeout=timeout, close_timeout=close_timeout
        )
        return step.wait()

    return run


class ProviderConformance:
    """The conformance suite: subclass it as ``Test<Something>`` and override two fixtures.

    ``provider`` returns the provider under test (a ``Provider`` or an ``AnyProvider``);
    ``conformance_cases`` returns at least one :class:`ConformanceCase`. Cover each terminal
    stage you can reach, and include a case that runs for a while (so ``close()`` is tested
    while the step works) and one whose stage input is needed::

        pytest_plugins = ["arcaflow_steps.testing"]

        class TestShellConformance(ProviderConformance):
            @pytest.fixture
            def provider(self) -> ShellProvider:
                return ShellProvider()

            @pytest.fixture
            def conformance_cases(self) -> list[ConformanceCase]:
                return [ConformanceCase(id="ok", definition={"shell": {...}})]

    Thread safety: not applicable (pytest runs each test on one thread).
    """

    @pytest.fixture
    def provider(self) -> ProviderLike:
        """The provider under test: override this fixture."""
        pytest.fail(f"{type(self).__name__} must override the 'provider' fixture")

    @pytest.fixture
    def conformance_cases(self) -> Sequence[ConformanceCase]:
        """The cases to run: override this fixture."""
        pytest.fail(f"{type(self).__name__} must override the 'conformance_cases' fixture")

    @staticmethod
    def _cases(cases: Sequence[ConformanceCase]) -> Sequence[ConformanceCase]:
        if not cases:
            pytest.fail("'conformance_cases' returned no case; the kit needs at least one")
        return cases

    def test_kind_and_keywords_are_valid_and_distinct(self, provider: ProviderLike) -> None:
        """The kind is valid; keywords and stage input fields are distinct and not 'kind'."""
        check_kind_and_keywords(provider)

    def test_lifecycle_is_a_valid_dag(self, provider: ProviderLike) -> None:
        """The lifecycle is a DAG whose one stage without inbound edges is the initial stage."""
        check_lifecycle(provider)

    def test_schemas_are_valid(
        self, provider: ProviderLike, conformance_cases: Sequence[ConformanceCase]
    ) -> None:
        """Provider, run, stage input and output schemas are valid and every case fits them."""
        check_schemas(provider, self._cases(conformance_cases))

    def test_first_stage_is_the_initial_stage(
        self, provider: ProviderLike, conformance_cases: Sequence[ConformanceCase]
    ) -> None:
        """Every run reports the initial stage first."""
        for case in self._cases(conformance_cases):
            run_case(provider, case).assert_conforms(Rule.INITIAL_STAGE)

    def test_only_declared_transitions_and_outputs(
        self, provider: ProviderLike, conformance_cases: Sequence[ConformanceCase]
    ) -> None:
        """Every move is a declared transition; every output is declared and matches its schema."""
        for case in self._cases(conformance_cases):
            run_case(provider, case).assert_conforms(Rule.DECLARED_TRANSITIONS)

    def test_ends_in_exactly_one_terminal_stage(
        self, provider: ProviderLike, conformance_cases: Sequence[ConformanceCase]
    ) -> None:
        """Every run completes once, from a terminal stage, and reports nothing afterwards."""
        for case in self._cases(conformance_cases):
            run_case(provider, case).assert_conforms(Rule.ONE_TERMINAL_STAGE)

    def test_never_crashes(
        self, provider: ProviderLike, conformance_cases: Sequence[ConformanceCase]
    ) -> None:
        """No stage method raises or returns an outcome its lifecycle does not allow."""
        for case in self._cases(conformance_cases):
            run_case(provider, case).assert_conforms(Rule.NO_CRASH)

    def test_stage_and_state_are_updated_before_callbacks(
        self, provider: ProviderLike, conformance_cases: Sequence[ConformanceCase]
    ) -> None:
        """Inside on_stage_change the step is in the new stage; inside on_step_complete it is
        finished."""
        for case in self._cases(conformance_cases):
            run_case(provider, case).assert_conforms(Rule.CONSISTENT_STATE)

    def test_cases_end_as_expected(
        self, provider: ProviderLike, conformance_cases: Sequence[ConformanceCase]
    ) -> None:
        """Every case ends in its expected stage and output and breaks no rule."""
        for case in self._cases(conformance_cases):
            run_case(provider, case).assert_conforms()

    def test_reports_waiting_for_input_while_blocked(
        self, provider: ProviderLike, conformance_cases: Sequence[ConformanceCase]
    ) -> None:
        """A step blocked on stage input reports waiting_for_input and stays until it arrives."""
        for case in self._cases(conformance_cases):
            check_waiting_for_input(provider, case)

    def test_close_is_idempotent_and_bounded(
        self, provider: ProviderLike, conformance_cases: Sequence[ConformanceCase]
    ) -> None:
        """close() from any stage and other threads returns in time and ends in one terminal."""
        for case in self._cases(conformance_cases):
            check_close(provider, case)

    def test_force_close_is_idempotent_and_bounded(
        self, provider: ProviderLike, conformance_cases: Sequence[ConformanceCase]
    ) -> None:
        """force_close() from any stage and other threads returns in time and ends the step."""
        for case in self._cases(conformance_cases):
            check_close(provider, case, force=True)

    def test_no_thread_left_after_close(
        self, provider: ProviderLike, conformance_cases: Sequence[ConformanceCase]
    ) -> None:
        """No thread the step started is still running after close() returned."""
        for case in self._cases(conformance_cases):
            run_case(provider, case).assert_conforms(Rule.NO_THREAD_LEFT)
            check_close(provider, case, rules=[Rule.NO_THREAD_LEFT])


for _cls in (StartStep, RunStep, ProviderConformance):
    _cls.__module__ = "arcaflow_steps.testing"
