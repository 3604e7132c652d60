"""CONTRIBUTING's provider walk-through is the provider that is tested: its marked Python blocks,
assembled in order, are a package that loads through its hook and passes the conformance kit
unmodified (issue 10: "a provider written from it passes the kit").
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

import arcaflow_steps
from arcaflow_steps import Registry

CONTRIBUTING = Path(arcaflow_steps.__file__).parent.parent.parent / "CONTRIBUTING.md"
#: A block of the walk-through: ``<!-- walkthrough: PATH -->`` right before a Python block.
MARKED_BLOCK = re.compile(
    r"^<!-- walkthrough: (?P<path>\S+) -->\n```python\n(?P<code>.*?)^```$", re.DOTALL | re.M
)
PYTHON_BLOCK = re.compile(r"^```python$", re.M)


def walkthrough_section() -> str:
    """Return sections 3 to 7 of "Writing a provider" (the code of the walk-through)."""
    text = CONTRIBUTING.read_text()
    return text[text.index("### 3. The hook") : text.index("### 8. Install it and look")]


def walkthrough_files() -> dict[str, str]:
    """Return path -> source of the files the marked blocks make, each block in order."""
    files: dict[str, list[str]] = {}
    for match in MARKED_BLOCK.finditer(CONTRIBUTING.read_text()):
        files.setdefault(match["path"], []).append(match["code"])
    return {path: "\n\n".join(blocks) for path, blocks in files.items()}


@pytest.fixture
def greet_package(tmp_path: Path) -> Path:
    """Write the walk-through's files under ``tmp_path`` and return it."""
    for path, source in walkthrough_files().items():
        target = tmp_path / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(source)
    return tmp_path


def test_every_python_block_of_the_walkthrough_is_part_of_a_file() -> None:
    """Sections 3 to 7 show no Python a reader would copy that the test does not assemble, and
    the blocks make the provider module, the kit's conftest and the test module."""
    section = walkthrough_section()
    assert len(PYTHON_BLOCK.findall(section)) == len(MARKED_BLOCK.findall(section))
    assert [
        "src/arcaflow_steps_greet/__init__.py",
        "tests/conftest.py",
        "tests/test_provider.py",
    ] == sorted(walkthrough_files())


def test_walkthrough_provider_loads_through_its_hook(greet_package: Path) -> None:
    """The assembled module's hook gives the registry a valid ``greet`` provider."""
    spec = importlib.util.spec_from_file_location(
        "walkthrough_greet", greet_package / "src" / "arcaflow_steps_greet" / "__init__.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    registry = Registry.from_plugins([module])
    assert () == registry.check()
    assert ["greet"] == list(registry.kinds())
    assert "greet" == registry.get("greet").kind


def test_walkthrough_provider_passes_the_conformance_kit(greet_package: Path) -> None:
    """pytest on the walk-through's tests, as a newcomer would run it, passes every rule of the
    conformance kit and the example test."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "tests",
            "-q",
            "-p",
            "no:cacheprovider",
            "-W",
            "error",
            "-o",
            "timeout=60",
        ],
        cwd=greet_package,
        env={"PYTHONPATH": str(greet_package / "src"), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert 0 == result.returncode, result.stdout + result.stderr
    summary = result.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"\d+ passed in [\d.]+s", summary), summary
