"""The stdout document of ``arcaflow-steps workflow``: the Go engine's bytes, reading back
exactly as the data that was printed.

The expected documents in ``data/go-output-document-*.out`` were printed by the Go engine
0.21.0 itself (``output_document_probe.py`` runs it on the workflows of
``output_document_cases.py``: typed values come from a typed input file, strings are
literals). Ours must be the same bytes except on the lines of ``DIFFERENCES``, each a
deliberate difference documented in docs/workflow-differences.md.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import yaml
from cli_support import workflow_cli
from hypothesis import given, settings
from hypothesis import strategies as st
from output_document_cases import CASES

from arcaflow_steps.cli._output_document import format_output_document
from arcaflow_steps.workflow._yaml import load_data_yaml

DATA = Path(__file__).parent / "data"

#: (case, line number, the Go engine's line, ours, why): every line where we differ on purpose.
DIFFERENCES = [
    ("scalars", 10, "        n: v\n", '        "n": v\n', "YAML 1.1 reads n as false"),
    ("scalars", 17, "        yes: v\n", '        "yes": v\n', "YAML 1.1 reads yes as true"),
    ("scalars", 29, "                - y: z\n", '                - "y": z\n', "YAML 1.1: y"),
    *(
        ("scalars", line, f"        - {word}\n", f'        - "{word}"\n', "YAML 1.1: a boolean")
        for line, word in enumerate(("yes", "no", "on", "off", "y", "n", "Yes"), start=32)
    ),
    ("scalars", 73, "        - |4-\n", "        - |2-\n", "the indicator is relative"),
    ("scalars", 76, "        - |4-\n", "        - |2-\n\n", "yaml.v3 loses the leading break"),
    ("scalars", 83, "        - 1:30\n", '        - "1:30"\n', "YAML 1.1 reads 90 (base 60)"),
    ("scalars", 102, "        - =\n", '        - "="\n', "YAML 1.1 reads the value tag"),
    ("scalars", 103, "        - <<\n", '        - "<<"\n', "YAML 1.1 reads a merge key"),
    ("scalars", 132, "        - '\u2028'\n", '        - "\\L"\n', "LS: a break in 1.1, not 1.2"),
    ("scalars", 136, "        - 1e999\n", '        - "1e999"\n', "YAML 1.2 reads a float (inf)"),
    ("scalars", 176, " " * 22 + "- |4-\n", " " * 22 + "- |2-\n", "the indicator is relative"),
    ("layout", 7, " " * 18 + "r: |4-\n", " " * 18 + "r: |2-\n", "the indicator is relative"),
    ("layout", 28, "        - - |4-\n", "        - - |2-\n", "the indicator is relative"),
]


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_document_is_the_go_engines(case: str) -> None:
    """Byte for byte what the Go engine printed, but for the listed deliberate differences."""
    go_text = (DATA / f"go-output-document-{case}.out").read_bytes().decode()
    lines = [line + "\n" for line in go_text.split("\n")[:-1]]  # LS is not a line end here
    for name, number, go_line, our_line, _ in DIFFERENCES:
        if name == case:
            assert go_line == lines[number - 1], "the Go output changed: re-check the list"
            lines[number - 1] = our_line
    assert "".join(lines) == format_output_document("success", CASES[case][1])


def test_every_listed_difference_is_a_real_difference() -> None:
    """Each listed line differs from the Go engine's, so the list hides nothing by accident."""
    assert [] == [d for d in DIFFERENCES if d[2] == d[3]]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param({}, "output_data: {}\noutput_id: done\n", id="empty"),
        pytest.param(
            {"errors": {10: "x", 2: "y"}, "b": True},
            'output_data:\n    b: true\n    errors:\n        2: "y"\n        10: x\n'
            "output_id: done\n",
            id="int-keys-sorted-by-value",
        ),
        pytest.param(
            {"p": 10**20, "m": -(2**63) - 1, "k": 2**64 - 1},
            "output_data:\n    k: 18446744073709551615\n    m: !!int -9223372036854775809\n"
            "    p: !!int 100000000000000000000\noutput_id: done\n",
            id="ints-past-64-bits-keep-their-tag",
        ),
        pytest.param(
            {"x": None, "t": (1, "a")},
            "output_data:\n    t:\n        - 1\n        - a\n    x: null\noutput_id: done\n",
            id="null-and-tuple",
        ),
    ],
)
def test_documents_the_go_engine_cannot_print(data: dict[str, Any], expected: str) -> None:
    """Int keys (foreach's error output), big ints, null and tuples print as YAML data."""
    assert expected == format_output_document("done", data)


def test_other_values_are_refused() -> None:
    """Anything but plain data is a TypeError naming its type."""
    with pytest.raises(TypeError, match=r"^cannot print a value of type bytes in the output"):
        format_output_document("x", {"b": b"raw"})


DUMMY_WORKFLOW = """\
version: v0.2.0
input: {root: R, objects: {R: {id: R, properties: {name: {type: {type_id: string}}}}}}
steps:
  a: {kind: dummy, name: !expr $.input.name}
outputs:
  success: {msg: !expr $.steps.a.greet.success.message, flag: "yes", "n": !expr 5.0, l: [1, 2]}
"""


def test_the_cli_prints_the_document(tmp_path: Path) -> None:
    """``arcaflow-steps workflow`` prints the document on stdout (YAML is the default)."""
    (tmp_path / "workflow.yaml").write_text(DUMMY_WORKFLOW)
    (tmp_path / "input.yaml").write_text('name: "1:30"\n')
    completed = workflow_cli("-input", "input.yaml", cwd=tmp_path)
    assert 0 == completed.returncode, completed.stderr
    assert (
        'output_data:\n    flag: "yes"\n    l:\n        - 1\n        - 2\n'
        '    msg: Hello 1:30!\n    "n": 5.0\noutput_id: success\n'
    ) == completed.stdout


# --- round trip --------------------------------------------------------------------------

TEXT = st.text(
    st.characters(exclude_categories=["Cs"]) | st.sampled_from(list(" \t\n\r:#-?'\"|>[]{},&*!%@`"))
) | st.sampled_from(
    [
        *("yes", "No", "on", "~", "null", "", "1:30", "0x1F", "0o17", "1e3", "1_000", ".inf"),
        *("<<", "=", "2024-01-01", "- a", "a: b", " x", "x ", "\n", "a\n\n", " a\nb", "\ufeffa"),
        "\u2028",
    ]
)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | TEXT
)
KEYS = TEXT | st.integers(min_value=-5, max_value=1000)
DATA_VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=4),
    max_leaves=12,
)


def same(left: Any, right: Any) -> bool:
    """Equality that tells types apart and counts NaN equal to NaN."""
    if type(left) is not type(right):
        return False
    if isinstance(left, dict):
        return left.keys() == right.keys() and all(same(left[k], right[k]) for k in left)
    if isinstance(left, list):
        return len(left) == len(right) and all(map(same, left, right))
    if isinstance(left, float) and math.isnan(left):
        return math.isnan(right)
    return bool(left == right)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(KEYS, DATA_VALUES, max_size=5), TEXT)
def test_our_yaml_1_2_loader_reads_back_what_was_printed(
    data: dict[Any, Any], output_id: str
) -> None:
    """The document read with our YAML 1.2 loader is exactly the data and id printed."""
    text = format_output_document(output_id, data)
    loaded = load_data_yaml(text, "stdout")
    assert same({"output_data": data, "output_id": output_id}, loaded), text


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(KEYS, DATA_VALUES, max_size=5))
def test_a_yaml_1_1_reader_reads_back_what_was_printed(data: dict[Any, Any]) -> None:
    """PyYAML's safe_load (YAML 1.1) reads the same data too: yes, 1:30, 0b1 are quoted."""
    text = format_output_document("done", data)
    loaded = yaml.load(
        text, Loader=yaml.CSafeLoader if hasattr(yaml, "CSafeLoader") else yaml.SafeLoader
    )
    assert same({"output_data": data, "output_id": "done"}, loaded), text
