"""`arcaflow-steps new-provider NAME` scaffolds a package that installs, is listed, runs and
passes its own conformance tests unmodified."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from arcaflow_steps.cli.new_provider import ScaffoldError, render_provider
from distributions._venv import TestVenv


@pytest.fixture(scope="module")
def scaffold_venv(tmp_path_factory: pytest.TempPathFactory) -> tuple[TestVenv, Path]:
    """A fresh venv in which the CLI scaffolded `greet` and pip built and installed it."""
    root = tmp_path_factory.mktemp("scaffold")
    venv = TestVenv.create(root / "venv")
    package = root / "greet"
    result = venv.run_cli("new-provider", "greet", "--directory", str(package))
    assert result.returncode == 0, result.stdout + result.stderr
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(venv.python),
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--disable-pip-version-check",
            str(package),
        ],
        check=True,
        capture_output=True,
        timeout=55,
    )
    return venv, package


def test_scaffold_writes_a_complete_package(tmp_path: Path) -> None:
    """The package has its metadata, hookimpl module, provider, tests and an example."""
    written = render_provider("my-gate", tmp_path / "pkg")
    assert sorted(path.relative_to(tmp_path / "pkg").as_posix() for path in written) == [
        "README.md",
        "example.yaml",
        "pyproject.toml",
        "src/arcaflow_steps_my_gate/__init__.py",
        "src/arcaflow_steps_my_gate/_provider.py",
        "src/arcaflow_steps_my_gate/py.typed",
        "tests/conftest.py",
        "tests/test_provider.py",
    ]
    pyproject = (tmp_path / "pkg" / "pyproject.toml").read_text()
    assert 'name = "arcaflow-steps-my-gate"' in pyproject
    assert (
        '[project.entry-points."arcaflow.step_providers"]\nmy-gate = "arcaflow_steps_my_gate"'
        in pyproject
    )
    provider = (tmp_path / "pkg" / "src" / "arcaflow_steps_my_gate" / "_provider.py").read_text()
    assert "class MyGateProvider(StepProviderBase[MyGateConfig]):" in provider
    assert "{{" not in provider


def test_scaffolded_package_is_listed_with_its_distribution(
    scaffold_venv: tuple[TestVenv, Path],
) -> None:
    """After installing, `list` shows the kind from the new distribution and version."""
    venv, _ = scaffold_venv
    result = venv.run_cli("list", "--format", "json")
    assert result.returncode == 0, result.stderr
    kinds = {entry["kind"]: entry for entry in json.loads(result.stdout)["providers"]}
    assert kinds["greet"] == {
        "kind": "greet",
        "distribution": "arcaflow-steps-greet",
        "version": "0.1.0",
        "entry_point": "greet",
        "module": "arcaflow_steps_greet",
    }


def test_scaffolded_package_passes_check(scaffold_venv: tuple[TestVenv, Path]) -> None:
    """`check` imports and validates the new provider (and everything else) and passes."""
    venv, _ = scaffold_venv
    result = venv.run_cli("check")
    assert result.returncode == 0, result.stdout + result.stderr


def test_scaffolded_example_runs(scaffold_venv: tuple[TestVenv, Path]) -> None:
    """The example step file runs to the success output."""
    venv, package = scaffold_venv
    result = venv.run_cli("run", str(package / "example.yaml"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "output_id: success" in result.stdout
    assert "message: Hello world" in result.stdout


def test_scaffolded_failure_is_an_error_output_exit_2(
    scaffold_venv: tuple[TestVenv, Path], tmp_path: Path
) -> None:
    """The scaffold's ordinary failure is an error output (exit 2), not a fatal stage (3)."""
    venv, _ = scaffold_venv
    step = tmp_path / "blank.yaml"
    step.write_text("kind: greet\nmessage: ' '\n")
    result = venv.run_cli("run", "-q", str(step))
    assert 2 == result.returncode, result.stdout + result.stderr
    assert "output_id: error" in result.stdout


def test_scaffolded_tests_pass_unmodified(scaffold_venv: tuple[TestVenv, Path]) -> None:
    """The package's own tests, the conformance kit included, pass as generated."""
    venv, package = scaffold_venv
    result = subprocess.run(
        [str(venv.python), "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=package,
        env=venv.env(),
        capture_output=True,
        text=True,
        timeout=55,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "14 passed" in result.stdout


def test_invalid_name_is_refused_with_the_rule(tmp_path: Path) -> None:
    """A name that is not a valid kind is refused, saying what a kind looks like."""
    with pytest.raises(
        ScaffoldError,
        match=r"provider name 'My Kind' is not a valid kind; use lowercase \[a-z\]\[a-z0-9_-\]\*",
    ):
        render_provider("My Kind", tmp_path / "x")
    assert not (tmp_path / "x").exists()


def test_existing_directory_is_not_overwritten(tmp_path: Path) -> None:
    """Scaffolding into a non-empty directory is refused and touches nothing."""
    target = tmp_path / "busy"
    target.mkdir()
    (target / "keep.txt").write_text("mine")
    with pytest.raises(ScaffoldError, match=r"directory '.*busy' exists and is not empty"):
        render_provider("greet", target)
    assert [path.name for path in target.iterdir()] == ["keep.txt"]


def test_cli_reports_scaffold_errors_without_traceback(
    scaffold_venv: tuple[TestVenv, Path],
) -> None:
    """The CLI prints one error line and exits 1 for a bad name."""
    venv, _ = scaffold_venv
    result = venv.run_cli("new-provider", "Bad_Name")
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "arcaflow-steps: error: provider name 'Bad_Name' is not a valid kind; "
        "use lowercase [a-z][a-z0-9_-]*"
    )


def test_cli_notes_a_kind_that_is_already_installed(
    scaffold_venv: tuple[TestVenv, Path], tmp_path: Path
) -> None:
    """Scaffolding a kind some installed distribution provides says which one, and still works."""
    venv, _ = scaffold_venv
    result = venv.run_cli("new-provider", "dummy", "--directory", str(tmp_path / "dummy"))
    assert result.returncode == 0, result.stderr
    assert result.stderr.startswith(
        "note: kind 'dummy' is already provided by arcaflow-steps 0.1.0; with both installed, "
        "'arcaflow-steps check' reports the kind as provided twice"
    )
    assert (tmp_path / "dummy" / "pyproject.toml").exists()
