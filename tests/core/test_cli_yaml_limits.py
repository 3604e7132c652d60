"""Step files past the YAML limits (alias expansion, nesting) are one line and exit 1."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from arcaflow_steps.cli import main

Capture = pytest.CaptureFixture[str]


def run_file(capsys: Capture, tmp_path: Path, text: str) -> tuple[int, str, str]:
    path = tmp_path / "steps.yaml"
    path.write_text(text)
    code = main(["run", "-q", str(path)])
    out, err = capsys.readouterr()
    return code, out, err


def laughs(levels: int) -> str:
    """Return the "billion laughs": each level lists the previous one nine times."""
    lines = ["kind: dummy", "name: Arca", "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


def nested(depth: int) -> str:
    return "kind: dummy\nname: Arca\nx: " + "[" * depth + "1" + "]" * depth + "\n"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        pytest.param(
            laughs(9),
            "at line 9, column 25: aliases expand the file by more than 10000000 bytes (each "
            "alias counts as a copy of what it names)",
            id="billion-laughs",
        ),
        pytest.param(
            nested(250),
            "at line 3, column 103: lists and mappings nest deeper than 100 levels",
            id="nested-250",
        ),
        pytest.param(
            "kind: dummy\nname: Arca\nx:\n" + "".join(f"{'  ' * i}k:\n" for i in range(1, 120)),
            "at line 103, column 201: lists and mappings nest deeper than 100 levels",
            id="nested-blocks",
        ),
        pytest.param(
            "kind: dummy\nname: Arca\n"
            f"a: &deep {'[' * 60}1{']' * 60}\n"
            f"b: {'[' * 50}*deep{']' * 50}\n",
            "at line 4, column 54: lists and mappings nest deeper than 100 levels through "
            "alias *deep",
            id="nested-through-alias",
        ),
    ],
)
def test_limits(capsys: Capture, tmp_path: Path, text: str, problem: str) -> None:
    """Each limit is one line naming the place in the file, exit 1, nothing run."""
    code, out, err = run_file(capsys, tmp_path, text)
    assert (1, "") == (code, out)
    assert f"arcaflow-steps: error: {tmp_path / 'steps.yaml'}: invalid YAML {problem}\n" == err


def test_aliases_used_normally_still_work(capsys: Capture, tmp_path: Path) -> None:
    """A few anchors reused (an alias, a merge key) load and run as before."""
    text = (
        "steps:\n"
        "  first: &greet {kind: dummy, name: Arca}\n"
        "  second: *greet\n"
        "  third:\n"
        "    <<: *greet\n"
        "    nickname: A\n"
    )
    code, out, err = run_file(capsys, tmp_path, text)
    assert 0 == code, err
    results = yaml.safe_load(out)
    assert {"first": "Hello Arca!", "second": "Hello Arca!", "third": "Hello A!"} == {
        step: result["output_data"]["message"] for step, result in results.items()
    }
