"""The public API: ``arcaflow_steps.__all__`` is complete, sorted and shows the public path."""

from __future__ import annotations

import types

import arcaflow_steps
from arcaflow_steps import hookspecs


def test_all_is_sorted() -> None:
    """``__all__`` is sorted (plain ``sorted``: constants and classes before functions)."""
    assert sorted(arcaflow_steps.__all__) == arcaflow_steps.__all__


def test_all_equals_public_names() -> None:
    """Every public name of the package is exported, and nothing else (httpx's rule)."""
    public = sorted(
        name
        for name, value in vars(arcaflow_steps).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    )
    assert public == arcaflow_steps.__all__


def test_exported_classes_show_the_public_module() -> None:
    """Exported classes say ``arcaflow_steps`` in reprs and tracebacks, not a private module."""
    private = sorted(
        name
        for name in arcaflow_steps.__all__
        if isinstance(getattr(arcaflow_steps, name), type)
        and getattr(arcaflow_steps, name).__module__ != "arcaflow_steps"
    )
    assert [] == private


def test_hookimpl_marks_arcaflow_steps_hooks() -> None:
    """``hookimpl`` is the pluggy marker of project ``arcaflow_steps``, as hookspecs declares."""
    assert "arcaflow_steps" == arcaflow_steps.hookimpl.project_name
    assert hookspecs.hookimpl is arcaflow_steps.hookimpl


def test_hookspecs_module_all_is_sorted_and_defined() -> None:
    """The public ``hookspecs`` module's ``__all__`` is sorted and names only what exists."""
    assert sorted(hookspecs.__all__) == hookspecs.__all__
    assert [] == [name for name in hookspecs.__all__ if not hasattr(hookspecs, name)]
