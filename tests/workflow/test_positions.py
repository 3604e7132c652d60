"""Problems found after YAML name their line and column (``workflow/_positions.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from arcaflow_steps.workflow import InvalidWorkflowError, read_workflow
from arcaflow_steps.workflow._positions import SourcePositions
from arcaflow_steps.workflow._yaml import load_workflow_yaml_located

TEXT = """\
version: v0.2.0
input:
  root: R
  objects: {R: {id: R, properties: {}}}
steps:
  a:
    kind: dummy
    input:
      names: [x, y, {deep: 1}]
outputs:
  success: {all: !expr $.steps.a.outputs}
"""


@pytest.fixture(name="positions")
def _positions() -> SourcePositions:
    return load_workflow_yaml_located(TEXT, "w.yaml")[1]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        pytest.param("version", (1, 1), id="top-level-key"),
        pytest.param("steps.a", (6, 3), id="a-mapping-entry-at-its-key"),
        pytest.param("steps.a.input.names[1]", (9, 18), id="a-list-item"),
        pytest.param("steps.a.input.names[2].deep", (9, 22), id="inside-a-flow-list"),
        pytest.param("outputs.success.all", (11, 13), id="an-expression"),
        pytest.param("steps.a.input.nope.deeper", (8, 5), id="a-missing-key-at-its-parent"),
        pytest.param("steps.a.input.names[]", (9, 7), id="any-item-at-the-list"),
        pytest.param("steps.a.input.names[9]", (9, 7), id="a-missing-index-at-the-list"),
    ],
)
def test_a_path_is_placed_where_it_or_its_nearest_parent_starts(
    positions: SourcePositions, path: str, expected: tuple[int, int]
) -> None:
    assert positions.locate(path) == expected


@pytest.mark.parametrize("path", ["", "nothing.here", "[]", "steps.a.input.names]["])
def test_a_path_not_in_the_file_has_no_place(positions: SourcePositions, path: str) -> None:
    assert positions.locate(path) is None


def test_only_problems_of_the_same_file_without_a_place_get_one(
    positions: SourcePositions,
) -> None:
    other = InvalidWorkflowError("bad", path="steps.a", source="other.yaml")
    assert positions.place(other, "w.yaml") is other
    placed = InvalidWorkflowError("bad", path="steps.a", source="w.yaml", line=2, column=4)
    assert positions.place(placed, "w.yaml") is placed
    whole_file = InvalidWorkflowError("bad", source="w.yaml")
    assert positions.place(whole_file, "w.yaml") is whole_file
    found = positions.place(InvalidWorkflowError("bad", path="steps.a", source="w.yaml"), "w.yaml")
    assert (found.line, found.column, found.path) == (6, 3, "steps.a")
    assert str(found) == "w.yaml: steps.a: bad (line 6, column 3)"


def test_the_place_ends_the_first_line_of_a_problem_of_several_lines() -> None:
    error = InvalidWorkflowError("2 problems:\n- one\n- two", path="p", source="w.yaml")
    assert str(error.located(3, 7)) == "w.yaml: p: 2 problems: (line 3, column 7)\n- one\n- two"


def test_a_shape_problem_of_a_read_file_names_its_line(tmp_path: Path) -> None:
    (tmp_path / "w.yaml").write_text(TEXT.replace("  a:\n", "  a: [1]\n  b:\n"))
    with pytest.raises(InvalidWorkflowError) as excinfo:
        read_workflow(tmp_path / "w.yaml")
    assert (excinfo.value.line, excinfo.value.column, excinfo.value.path) == (6, 3, "steps.a")
    assert str(excinfo.value).endswith("got a list (line 6, column 3)")
