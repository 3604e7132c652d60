"""Step files are YAML 1.2 (core schema): ``yes``, ``on``, ``1:30`` and dates are strings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from arcaflow_steps.cli import main
from arcaflow_steps.cli._files import read_step_files

Capture = pytest.CaptureFixture[str]

PREFIX = "arcaflow-steps: error: "


def read_value(tmp_path: Path, text: str) -> Any:
    path = tmp_path / "step.yaml"
    path.write_text(f"kind: dummy\nvalue: {text}\n")
    [spec] = read_step_files([str(path)])
    return spec.definition["value"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("yes", "yes"),
        ("No", "No"),
        ("on", "on"),
        ("off", "off"),
        ("y", "y"),
        ("1:30", "1:30"),
        ("2024-01-01", "2024-01-01"),
        ("2001-12-14t21:59:43.10-05:00", "2001-12-14t21:59:43.10-05:00"),
        ("0b101", "0b101"),
        ("1_000", "1_000"),
        ("017", 17),
        ("+5", 5),
        ("-0", 0),
        ("0o17", 15),
        ("0x1F", 31),
        ("0X1F", "0X1F"),
        ("1e-1", 0.1),
        ("1E3", 1000.0),
        (".5", 0.5),
        ("5.", 5.0),
        ("-.inf", float("-inf")),
        (".Inf", float("inf")),
        ("true", True),
        ("FALSE", False),
        ("tRUE", "tRUE"),
        ("null", None),
        ("~", None),
        ("", None),
        ("NuLL", "NuLL"),
        ("'5'", "5"),
        ("!!str 5", "5"),
        ("!!str true", "true"),
        ("!!float 5", 5.0),
        ("!!int 0x10", 16),
        ("! yes", "yes"),
        ("<<", "<<"),
    ],
)
def test_plain_scalars_follow_the_yaml_1_2_core_schema(
    tmp_path: Path, text: str, expected: Any
) -> None:
    """Plain scalars resolve by the YAML 1.2 core schema, as the Go engine's parser does;
    the YAML 1.1 booleans, sexagesimals, dates, binary and underscored ints stay strings."""
    value = read_value(tmp_path, text)
    assert (type(expected), expected) == (type(value), value)


def test_nan_is_a_float(tmp_path: Path) -> None:
    """``.nan`` (and ``.NaN``, ``.NAN``) is the float NaN."""
    values = [read_value(tmp_path, text) for text in (".nan", ".NaN", ".NAN")]
    assert [True, True, True] == [value != value for value in values]  # noqa: PLR0124


def test_merge_keys_still_merge(tmp_path: Path) -> None:
    """``<<: *anchor`` merges as before (a YAML 1.1 feature yaml.v3 keeps); own keys win."""
    path = tmp_path / "steps.yaml"
    path.write_text(
        "steps:\n  a: &a {kind: dummy, name: Arca}\n  b: {<<: [*a, {other: 1}], name: Bea}\n"
    )
    specs = read_step_files([str(path)])
    assert [
        {"kind": "dummy", "name": "Arca"},
        {"kind": "dummy", "name": "Bea", "other": 1},
    ] == [spec.definition for spec in specs]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            "kind: dummy\nname: !!int 1_000\n",
            "invalid YAML at line 2, column 7: '1_000' is not an integer (!!int in YAML 1.2)",
            id="int-tag",
        ),
        pytest.param(
            "kind: dummy\nname: !!bool yes\n",
            "invalid YAML at line 2, column 7: 'yes' is not a boolean (!!bool in YAML 1.2)",
            id="bool-tag",
        ),
        pytest.param(
            "kind: dummy\nname: !!float x\n",
            "invalid YAML at line 2, column 7: 'x' is not a float (!!float in YAML 1.2)",
            id="float-tag",
        ),
        pytest.param(
            "kind: dummy\nname: !!null x\n",
            "invalid YAML at line 2, column 7: 'x' is not a null (!!null in YAML 1.2)",
            id="null-tag",
        ),
        pytest.param(
            "kind: dummy\nname: !!map x\n",
            "invalid YAML at line 2, column 7: !!map cannot tag a scalar",
            id="map-tag-on-scalar",
        ),
        pytest.param(
            "kind: dummy\nname: !!timestamp 2024-01-01\n",
            "invalid YAML at line 2, column 7: unknown tag '!!timestamp'; valid tags: !!bool, "
            "!!float, !!int, !!map, !!null, !!seq, !!str",
            id="timestamp-tag",
        ),
        pytest.param(
            "kind: dummy\nname: !expr $.input.name\n",
            "invalid YAML at line 2, column 7: unknown tag '!expr'; valid tags: !!bool, "
            "!!float, !!int, !!map, !!null, !!seq, !!str",
            id="engine-tag",
        ),
        pytest.param(
            "kind: dummy\nname: Arca\nx: &x [*x]\n",
            "invalid YAML at line 3, column 4: an alias inside this anchored value names the "
            "value itself; a value cannot contain itself",
            id="recursive-alias",
        ),
        pytest.param(
            "kind: dummy\nname: A\x00\n",
            "invalid YAML at line 2, column 8: unacceptable character #x0000: control "
            "characters are not allowed",
            id="control-character",
        ),
        pytest.param(
            "kind: dummy\nname: Arca\n<<: [1]\n",
            "invalid YAML at line 3, column 6: a merge key (<<) needs a mapping or a list of "
            "mappings",
            id="merge-scalar",
        ),
        pytest.param(
            "kind: dummy\nname: " + "1" * 5000 + "\n",
            "invalid YAML at line 2, column 7: the integer has 5000 digits, more than can be read",
            id="huge-integer",
        ),
        pytest.param(
            "kind: dummy\nname: 0x" + "f" * 5000 + "\n",
            "invalid YAML at line 2, column 7: the integer 0xffffffffff… has more than 4300 "
            "decimal digits, more than can be read",
            id="huge-hexadecimal-integer",
        ),
        pytest.param(
            "kind: dummy\nname: 0o" + "7" * 5000 + "\n",
            "invalid YAML at line 2, column 7: the integer 0o7777777777… has more than 4300 "
            "decimal digits, more than can be read",
            id="huge-octal-integer",
        ),
    ],
)
def test_a_scalar_its_tag_refuses_is_one_line(
    capsys: Capture, tmp_path: Path, text: str, message: str
) -> None:
    """A core tag on text it does not fit, a tag outside the core schema (engine tags
    included) or a merge key on a scalar: one line with line and column, exit 1."""
    path = tmp_path / "steps.yaml"
    path.write_text(text)
    code = main(["run", str(path)])
    out, err = capsys.readouterr()
    assert (1, "", f"{PREFIX}{path}: {message}\n") == (code, out, err)


def test_yes_runs_as_the_string_it_looks_like(capsys: Capture, tmp_path: Path) -> None:
    """A dummy step named ``yes`` greets ``yes``: under YAML 1.1 it was the boolean ``True``
    and failed validation."""
    path = tmp_path / "hello.yaml"
    path.write_text("kind: dummy\nname: yes\n")
    code = main(["run", str(path)])
    out, err = capsys.readouterr()
    assert 0 == code, err
    assert {"message": "Hello yes!"} == yaml.safe_load(out)["hello"]["output_data"]
