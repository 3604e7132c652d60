"""The conformance kit: a pytest plugin that checks a provider obeys the lifecycle rules.

Opt in from a ``conftest.py`` or test module (nothing is loaded automatically)::

    pytest_plugins = ["arcaflow_steps.testing"]

then subclass :class:`ProviderConformance` as ``Test<Something>`` and override its
``provider`` and ``conformance_cases`` fixtures. Each rule is one test:

* kind and keywords are valid and distinct; the lifecycle is a valid DAG; schemas are valid;
* the first stage is the initial stage; only declared transitions and outputs; exactly one
  terminal stage;
* ``waiting_for_input`` is reported while blocked on input;
* ``close()`` and ``force_close()`` are idempotent and bounded from any stage and from another
  thread; no thread is left running after close.

A failure raises :class:`ConformanceError` (an ``AssertionError``) naming the rule, the case
and the step's stage history. ``start_step`` and ``run_step`` are pytest *fixtures* (request
them as test arguments, typed :class:`StartStep` / :class:`RunStep`; they are not plain
functions) that run a provider's step for the author's own tests; their :class:`StepOutcome`
has assertion helpers (``assert_success``, ``assert_output``, ``assert_error``) that print
the history on failure.
:class:`RecordingStageChangeHandler` is a checking fake of
:class:`~arcaflow_steps.StageChangeHandler` usable anywhere. The check functions
(``check_*``, :func:`run_case`) work without pytest.
"""

from ._cases import ConformanceCase, ConformanceError, PreparedCase, StepOutcome, prepare_case
from ._checks import (
    check_close,
    check_conformance,
    check_kind_and_keywords,
    check_lifecycle,
    check_schemas,
    check_waiting_for_input,
    run_case,
)
from ._harness import StartedStep
from ._history import RecordKind, Rule, StepRecord, Violation
from ._recording import RecordingStageChangeHandler
from ._suite import ProviderConformance, RunStep, StartStep, run_step, start_step

__all__ = [
    "ConformanceCase",
    "ConformanceError",
    "PreparedCase",
    "ProviderConformance",
    "RecordKind",
    "RecordingStageChangeHandler",
    "Rule",
    "RunStep",
    "StartStep",
    "StartedStep",
    "StepOutcome",
    "StepRecord",
    "Violation",
    "check_close",
    "check_conformance",
    "check_kind_and_keywords",
    "check_lifecycle",
    "check_schemas",
    "check_waiting_for_input",
    "prepare_case",
    "run_case",
    "run_step",
    "start_step",
]
