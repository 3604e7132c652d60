"""Random workflows of ``dummy`` steps against an oracle of what must come out.

Each step's name is a literal (blank ones make the step fail with its ``error`` output) or the
concatenation of earlier steps' greetings. A step succeeds exactly when it has a non-blank
literal name or every step it reads succeeded (and the run did not end before it ran). The
one output reads some steps with ``!expr`` and others with ``!wait-optional``: it is produced
exactly when every ``!expr`` step succeeded, holds every succeeded ``!wait-optional`` step and
no other, and otherwise the run fails saying no output can be produced. Every step ends with a
result either way.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from exec_support import e, hand_plan, output
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arcaflow_steps import Registry
from arcaflow_steps.workflow._template import WaitOptional


@pytest.fixture(scope="module")
def registry() -> Iterator[Registry]:
    registry = Registry.from_entry_points()
    yield registry
    registry.close()


@st.composite
def workflows(draw: Any) -> tuple[list[str | list[int]], list[int], list[int]]:
    """Names (a literal, or the indexes of earlier steps read), then the output's required
    and optional steps."""
    size = draw(st.integers(1, 8))
    names: list[str | list[int]] = []
    for index in range(size):
        if index and draw(st.booleans()):
            names.append(sorted(draw(st.sets(st.integers(0, index - 1), min_size=1))))
        else:
            names.append(draw(st.sampled_from(["A", "B", " "])))
    required = sorted(draw(st.sets(st.integers(0, size - 1), max_size=3)))
    optional = sorted(draw(st.sets(st.integers(0, size - 1), max_size=3)) - set(required))
    return names, required, optional


def greeting_of(index: int) -> str:
    return f"$.steps.s{index}.greet.success.message"


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(workflows())
def test_results_match_the_oracle(
    registry: Registry, workflow: tuple[list[str | list[int]], list[int], list[int]]
) -> None:
    """Output, output data and each step's success are what the oracle says."""
    names, required, optional = workflow
    expected: dict[int, str | None] = {}  # step -> its greeting, None when it fails
    steps: dict[str, dict[str, Any]] = {}
    for index, name in enumerate(names):
        if isinstance(name, str):
            steps[f"s{index}"] = {"kind": "dummy", "name": name}
            expected[index] = f"Hello {name}!" if name.strip() else None
        else:
            text = " + ".join(greeting_of(read) for read in name)
            steps[f"s{index}"] = {"kind": "dummy", "name": e(text)}
            parts = [expected[read] for read in name]
            known = [part for part in parts if part is not None]
            expected[index] = f"Hello {''.join(known)}!" if len(known) == len(parts) else None
    template: dict[str, Any] = {f"r{index}": e(greeting_of(index)) for index in required}
    template |= {f"o{index}": WaitOptional(e(greeting_of(index))) for index in optional}
    result = hand_plan(registry, steps, [output("success", template)]).run()

    assert {f"s{index}" for index in range(len(names))} == set(result.step_results)
    if any(expected[index] is None for index in required):
        assert result.output_id is None
        assert (result.error or "").startswith("no output can be produced any more: success ")
    else:
        data = {f"r{index}": expected[index] for index in required}
        data |= {f"o{index}": expected[index] for index in optional if expected[index]}
        assert ("success", data) == (result.output_id, result.output_data)
        # What the output read ran to its end; other steps may have been closed first.
        needed, todo = set(), [*required, *optional]
        while todo:
            index = todo.pop()
            if index not in needed:
                needed.add(index)
                reads = names[index]
                if isinstance(reads, list):
                    todo += reads
        assert {f"s{i}": expected[i] is not None for i in needed} == {
            f"s{i}": result.step_results[f"s{i}"].output_id == "success" for i in needed
        }
