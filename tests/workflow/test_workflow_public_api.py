"""The public API of ``arcaflow_steps.workflow``: lazy, complete, sorted, showing its path.

Like the top level, the package exports lazily (PEP 562): its names live in three places in
``arcaflow_steps/workflow/__init__.py`` (the ``TYPE_CHECKING`` imports, ``_EXPORTS`` and
``__all__``), which these tests keep equal.
"""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

import arcaflow_steps
from arcaflow_steps import workflow

INIT = Path(workflow.__file__)
PUBLIC_MODULE = "arcaflow_steps.workflow"


def isort_key(name: str) -> tuple[int, str]:
    """Sort like ruff's RUF022: CONSTANTS, then Classes, then functions."""
    if name.isupper():
        return 0, name
    return (1 if name[:1].isupper() else 2), name


def type_checking_imports() -> dict[str, str]:
    """Return name -> module of the ``if TYPE_CHECKING:`` imports of ``__init__.py``."""
    tree = ast.parse(INIT.read_text())
    block = next(
        node
        for node in tree.body
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING"
    )
    return {
        alias.asname or alias.name: "." * node.level + (node.module or "")
        for node in block.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }


def test_all_is_sorted() -> None:
    """``__all__`` is sorted the way ruff sorts it (constants, classes, then functions)."""
    assert sorted(workflow.__all__, key=isort_key) == workflow.__all__


def test_all_equals_exports_and_type_checking_imports() -> None:
    """``__all__``, the lazy ``_EXPORTS`` and the typed imports name the same things."""
    exports = {name: module for module, names in workflow._EXPORTS.items() for name in names}
    assert sorted(workflow.__all__) == sorted(exports)
    assert type_checking_imports() == exports


def test_every_export_resolves_to_its_module_object() -> None:
    """Each exported name is the object its module defines, reachable as an attribute."""
    for module, names in workflow._EXPORTS.items():
        source = importlib.import_module(module, PUBLIC_MODULE)
        for name in names:
            assert getattr(source, name) is getattr(workflow, name), name


def test_unknown_attribute_raises_attribute_error() -> None:
    """A name the package does not export is an AttributeError, as for any module."""
    with pytest.raises(AttributeError) as excinfo:
        workflow.NoSuchThing  # type: ignore[attr-defined]  # noqa: B018
    assert "module 'arcaflow_steps.workflow' has no attribute 'NoSuchThing'" == str(excinfo.value)


def test_import_is_lazy() -> None:
    """``import arcaflow_steps.workflow`` imports none of its parts until a name is used."""
    code = (
        "import sys, arcaflow_steps.workflow\n"
        "print(sorted(m for m in sys.modules if m.startswith('arcaflow_steps.workflow.')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert "[]\n" == result.stdout


def test_exported_classes_show_the_public_module_and_thread_safety() -> None:
    """Exported classes say ``arcaflow_steps.workflow`` in reprs and tracebacks, and their
    docstrings say whether they are thread-safe (errors inherit it from the tree's base)."""
    classes = [
        getattr(workflow, name)
        for name in workflow.__all__
        if isinstance(getattr(workflow, name), type)
    ]
    assert [] == [cls.__name__ for cls in classes if cls.__module__ != PUBLIC_MODULE]
    assert [] == [
        cls.__name__
        for cls in classes
        if not issubclass(cls, arcaflow_steps.ArcaflowStepsError)
        and "Thread safety:" not in (cls.__doc__ or "")
    ]


def test_errors_belong_to_the_one_tree() -> None:
    """Every exported error derives from ``WorkflowError`` and so from
    ``ArcaflowStepsError``."""
    errors = [
        getattr(workflow, name)
        for name in workflow.__all__
        if isinstance(getattr(workflow, name), type)
        and issubclass(getattr(workflow, name), Exception)
    ]
    assert errors
    assert [] == [
        error.__name__ for error in errors if not issubclass(error, workflow.WorkflowError)
    ]
