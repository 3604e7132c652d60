"""Properties of the YAML 1.2 loaders: JSON loads as itself, and no text crashes them.

YAML 1.2 is a superset of JSON, so every JSON document must load as the data it encodes (YAML
1.1 resolvers fail this: ``1e+20`` is a string there). Whatever text a user gives, the loaders
either return data or raise an :class:`InvalidWorkflowError`; nothing else escapes.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from arcaflow_steps.workflow import InvalidWorkflowError, parse_workflow
from arcaflow_steps.workflow._yaml import load_data_yaml, load_workflow_yaml

#: Text YAML allows unescaped (JSON may write C1 controls, DEL and U+FFFE raw; YAML may not).
text = st.text(
    st.characters(exclude_categories=("Cs", "Cc"), exclude_characters="\ufeff\ufffe\uffff")
    | st.sampled_from("\t\n\r\x00\x1f")  # escaped by json.dumps
)
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | text
)
json_data = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(text, children, max_size=4),
    max_leaves=20,
)


def same(expected: Any, actual: Any) -> bool:
    """Return whether two JSON values are equal with the same types (``1 != 1.0 != True``)."""
    if type(expected) is not type(actual):
        return False
    if isinstance(expected, dict):
        return list(expected) == list(actual) and all(
            same(value, actual[key]) for key, value in expected.items()
        )
    if isinstance(expected, list):
        return len(expected) == len(actual) and all(map(same, expected, actual))
    return bool(expected == actual)


@given(data=json_data, indent=st.sampled_from([None, 2]))
def test_json_loads_as_the_data_it_encodes(data: Any, indent: int | None) -> None:
    """Every JSON document (flow style or indented) of characters YAML allows loads as its
    data, types included, in a data file and in a workflow file (whose keys are strings)."""
    text = json.dumps(data, ensure_ascii=False, indent=indent)
    assert same(data, load_data_yaml(text, "data.json"))
    assert same(data, load_workflow_yaml(text, "workflow.json"))


yaml_alphabet = st.sampled_from(
    [*"abc01:-_.$[]{},'\"!&*<>|#%@`?~ \t\n", "!expr ", "!oneof", "!ordisabled ", "&a ", "*a"]
)


def errors(text: str) -> list[str]:
    """Return the error of the data loader and of the workflow loader plus shape check."""
    found = []
    for read in (
        lambda: load_data_yaml(text, "f.yaml"),
        lambda: parse_workflow(load_workflow_yaml(text, "f.yaml"), source="f.yaml"),
    ):
        try:
            read()
        except InvalidWorkflowError as exc:
            found.append(str(exc))
    return found


@given(text=st.lists(yaml_alphabet, max_size=40).map("".join))
def test_no_text_crashes_the_loaders(text: str) -> None:
    """Random YAML-ish text (tags, anchors, indicators) gives data or one InvalidWorkflowError
    of one line, from the data loader, the workflow loader and the workflow file's check."""
    assert [] == [error for error in errors(text) if "\n" in error]
