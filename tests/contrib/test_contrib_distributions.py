"""The contrib packages are real distributions: installing one adds its kind, and each passes
its own test suite (the conformance kit included) when installed into a fresh venv."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

from distributions._venv import TestVenv, build_wheel

CONTRIB = Path(__file__).resolve().parents[2] / "contrib"
#: kind -> distribution name (the directory under contrib/ is the kind).
PACKAGES = {
    "approval": "arcaflow-steps-approval",
    "http": "arcaflow-steps-http",
    "shell": "arcaflow-steps-shell",
}
VERSION = "0.1.0"


def _installed_here() -> list[str]:
    found = []
    for distribution in PACKAGES.values():
        try:
            metadata.distribution(distribution)
        except metadata.PackageNotFoundError:
            continue
        found.append(distribution)
    return found


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One wheel per contrib package, built from its pyproject.toml and src/ tree."""
    installed = _installed_here()
    if installed:  # the fresh venvs see this interpreter's packages, so kinds would clash
        pytest.fail(
            f"{', '.join(installed)} installed in the test interpreter's environment; "
            "uninstall it (develop contrib packages in a venv of their own)"
        )
    out = tmp_path_factory.mktemp("contrib-wheels")
    return {kind: build_wheel(CONTRIB / kind, out) for kind in PACKAGES}


@pytest.fixture(scope="module")
def contrib_venv(tmp_path_factory: pytest.TempPathFactory, wheels: dict[str, Path]) -> TestVenv:
    """A fresh venv with all three contrib packages installed."""
    venv = TestVenv.create(tmp_path_factory.mktemp("contrib") / "venv")
    venv.install(list(wheels.values()))
    return venv


def _listed(venv: TestVenv) -> dict[str, dict[str, Any]]:
    result = venv.run_cli("list", "--format", "json")
    assert result.returncode == 0, result.stderr
    return {entry["kind"]: entry for entry in json.loads(result.stdout)["providers"]}


def _uninstall(venv: TestVenv, distribution: str) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(venv.python),
            "uninstall",
            "--yes",
            "--quiet",
            distribution,
        ],
        check=True,
        capture_output=True,
    )


def test_installing_adds_the_kind_and_uninstalling_removes_it(
    tmp_path: Path, wheels: dict[str, Path]
) -> None:
    """Each package's kind is listed with its distribution and version only while installed."""
    venv = TestVenv.create(tmp_path / "venv")
    before = _listed(venv)
    assert not set(PACKAGES) & set(before)
    for kind, distribution in PACKAGES.items():
        venv.install([wheels[kind]])
        listed = _listed(venv)
        assert listed[kind] == {
            "kind": kind,
            "distribution": distribution,
            "version": VERSION,
            "entry_point": kind,
            "module": f"arcaflow_steps_{kind}",
        }
        _uninstall(venv, distribution)
        assert kind not in _listed(venv)
    assert before == _listed(venv)


def test_check_passes_with_all_installed(contrib_venv: TestVenv) -> None:
    """`arcaflow-steps check` imports and validates every contrib provider and passes."""
    result = contrib_venv.run_cli("check")
    assert result.returncode == 0, result.stdout + result.stderr
    listed = _listed(contrib_venv)
    assert {kind: listed[kind]["distribution"] for kind in PACKAGES} == PACKAGES


@pytest.mark.timeout(180)  # a whole suite in a subprocess; CI machines may be loaded
@pytest.mark.parametrize("kind", sorted(PACKAGES))
def test_package_suite_passes_when_installed(contrib_venv: TestVenv, kind: str) -> None:
    """The package's own tests, conformance kit included, pass against the installed package."""
    result = subprocess.run(
        [str(contrib_venv.python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=CONTRIB / kind,
        env=contrib_venv.env(),
        capture_output=True,
        text=True,
        timeout=170,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert " skipped" not in result.stdout, result.stdout[-3000:]


def test_a_step_of_each_kind_runs_from_the_cli(contrib_venv: TestVenv, tmp_path: Path) -> None:
    """One step file with a shell step and a pre-approved gate runs end to end."""
    steps = tmp_path / "steps.yaml"
    steps.write_text(
        "steps:\n"
        "  hello:\n"
        "    kind: shell\n"
        "    command: [echo, hello]\n"
        "  gate:\n"
        "    kind: approval\n"
        "    question: go?\n"
        "    decision: {approved: true, by: ci}\n",
    )
    result = contrib_venv.run_cli("run", str(steps))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "output_id: success" in result.stdout, result.stdout
    assert "exit_code: 0" in result.stdout, result.stdout
    assert "output_id: approved" in result.stdout


def test_contrib_kinds_are_workflow_steps(contrib_venv: TestVenv, tmp_path: Path) -> None:
    """Third-party kinds take part in workflows like the built-in ones: a gate's output
    enables a shell step, whose output feeds another's stage input through an expression."""
    (tmp_path / "workflow.yaml").write_text(
        "version: v0.2.0\n"
        "input:\n"
        "  root: R\n"
        "  objects:\n"
        "    R: {id: R, properties: {word: {type: {type_id: string}}}}\n"
        "steps:\n"
        "  gate:\n"
        "    kind: approval\n"
        "    question: go?\n"
        "    decision: {approved: true, by: ci}\n"
        "  say:\n"
        "    kind: shell\n"
        "    command: [echo, hello]\n"
        "    stdin: !expr $.input.word\n"
        "  upper:\n"
        "    kind: shell\n"
        "    command: [tr, a-z, A-Z]\n"
        "    stdin: !expr $.steps.say.success.success.stdout + $.input.word\n"
        "outputs:\n"
        "  success:\n"
        "    by: !expr $.steps.gate.approved.approved.by\n"
        "    shouted: !expr $.steps.upper.success.success.stdout\n"
    )
    (tmp_path / "input.yaml").write_text("word: world\n")
    result = contrib_venv.run_cli(
        "workflow", "-context", str(tmp_path), "-input", "input.yaml", "--format", "json"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout) == {
        "output_id": "success",
        "output_data": {"by": "ci", "shouted": "HELLO\nWORLD"},
    }


def test_a_failing_command_is_an_error_output_not_a_crash(
    contrib_venv: TestVenv, tmp_path: Path
) -> None:
    """A command that exits non-zero ends in the error output: exit 2, not 3 (crash)."""
    steps = tmp_path / "steps.yaml"
    steps.write_text("kind: shell\ncommand: [sh, -c, 'exit 5']\n")
    result = contrib_venv.run_cli("run", str(steps))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "output_id: error" in result.stdout, result.stdout
    assert "exit_code: 5" in result.stdout, result.stdout
