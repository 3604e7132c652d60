"""The public API: each public module's ``__all__`` is complete, sorted and shows its path.

The top level exports lazily (PEP 562), so its names live in three places in
``arcaflow_steps/__init__.py``: the ``TYPE_CHECKING`` imports, ``_EXPORTS`` and ``__all__``.
These tests keep them equal, keep the top level small, and check the public submodules
(``schema``, ``authoring``, ``testing``, ``hookspecs``) the same way.
"""

from __future__ import annotations

import ast
import importlib
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

import arcaflow_steps
import arcaflow_steps.authoring
import arcaflow_steps.schema
import arcaflow_steps.testing
import arcaflow_steps.warm_ups
from arcaflow_steps import hookspecs

#: The public submodules besides the top level (``hookspecs`` is checked on its own).
SUBMODULES = (
    arcaflow_steps.schema,
    arcaflow_steps.authoring,
    arcaflow_steps.testing,
    arcaflow_steps.warm_ups,
)

INIT = Path(arcaflow_steps.__file__)


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
    assert sorted(arcaflow_steps.__all__, key=isort_key) == arcaflow_steps.__all__


def test_all_equals_exports_and_type_checking_imports() -> None:
    """``__all__``, the lazy ``_EXPORTS`` and the typed imports name the same things."""
    exports = {name: module for module, names in arcaflow_steps._EXPORTS.items() for name in names}
    assert sorted(arcaflow_steps.__all__) == sorted(exports)
    assert type_checking_imports() == exports


def test_every_export_resolves_to_its_module_object() -> None:
    """Each exported name is the object its module defines, reachable as an attribute."""
    for module, names in arcaflow_steps._EXPORTS.items():
        source = importlib.import_module(module, "arcaflow_steps")
        for name in names:
            assert getattr(source, name) is getattr(arcaflow_steps, name), name


def test_dir_lists_every_export() -> None:
    """``dir(arcaflow_steps)`` includes every exported name, loaded or not."""
    assert set(arcaflow_steps.__all__) <= set(dir(arcaflow_steps))


def test_unknown_attribute_raises_attribute_error() -> None:
    """A name the package does not export is an AttributeError, as for any module."""
    with pytest.raises(AttributeError) as excinfo:
        arcaflow_steps.NoSuchThing  # type: ignore[attr-defined]  # noqa: B018
    assert "module 'arcaflow_steps' has no attribute 'NoSuchThing'" == str(excinfo.value)


def test_import_is_lazy() -> None:
    """``import arcaflow_steps`` imports none of its parts until a name is used (only the
    helper that makes the exports lazy)."""
    code = (
        "import sys, arcaflow_steps\n"
        "print(sorted(m for m in sys.modules if m.startswith('arcaflow_steps.')))\n"
        "print('attr' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert "['arcaflow_steps._lazy_exports']\nFalse\n" == result.stdout


def test_exported_classes_show_the_public_module() -> None:
    """Exported classes say ``arcaflow_steps`` in reprs and tracebacks, not a private module."""
    private = sorted(
        name
        for name in arcaflow_steps.__all__
        if isinstance(getattr(arcaflow_steps, name), type)
        and getattr(arcaflow_steps, name).__module__ != "arcaflow_steps"
    )
    assert [] == private


def test_top_level_holds_what_an_author_and_a_host_need() -> None:
    """The top level is the provider protocols and records, hooks, registry, runner, results
    and errors: no schema model, no authoring aid, no internals."""
    errors = [
        name
        for name in arcaflow_steps.__all__
        if isinstance(getattr(arcaflow_steps, name), type)
        and issubclass(getattr(arcaflow_steps, name), arcaflow_steps.ArcaflowStepsError)
    ]
    others = sorted(set(arcaflow_steps.__all__) - set(errors))
    assert [
        "AnyProvider",
        "ClosableProvider",
        "ExtensionGroup",
        "ExtensionOwner",
        "ExtensionTable",
        "Extensions",
        "GracefulRunningStep",
        "KindSource",
        "Lifecycle",
        "LifecycleStage",
        "LifecycleStageWithSchema",
        "LoadFailure",
        "ObserverHooks",
        "PreparedStep",
        "Provider",
        "ProviderContext",
        "Registry",
        "RunnableStep",
        "RunningStep",
        "RunningStepState",
        "SchemaHintProvider",
        "StageChangeHandler",
        "StepEvent",
        "StepEventKind",
        "StepExecution",
        "StepObserver",
        "StepResult",
        "StepRunner",
        "hookimpl",
        "prepare_step",
    ] == others


@pytest.mark.parametrize("module", SUBMODULES, ids=lambda module: module.__name__)
def test_submodule_all_is_sorted_complete_and_shows_its_path(module: ModuleType) -> None:
    """A public submodule's ``__all__`` is sorted, names every public name it has, and its
    classes say that module in reprs and tracebacks."""
    assert sorted(module.__all__, key=isort_key) == module.__all__
    public = {
        name
        for name, value in vars(module).items()
        if not name.startswith("_") and not isinstance(value, ModuleType) and name != "annotations"
    }
    assert sorted(public) == sorted(module.__all__)
    private = [
        name
        for name in module.__all__
        if isinstance(getattr(module, name), type)
        and getattr(module, name).__module__ != module.__name__
    ]
    assert [] == private


def test_every_error_is_in_the_one_tree_at_the_top_level() -> None:
    """Every error class of the public modules derives from ``ArcaflowStepsError`` and is
    exported at the top level (plugin-protocol errors included)."""
    errors = {
        name
        for module in (arcaflow_steps, arcaflow_steps.schema, arcaflow_steps.authoring)
        for name in module.__all__
        if isinstance(getattr(module, name), type) and issubclass(getattr(module, name), Exception)
    }
    assert [] == [
        name
        for name in sorted(errors)
        if not issubclass(getattr(arcaflow_steps, name, object), arcaflow_steps.ArcaflowStepsError)
    ]


def test_hookimpl_marks_arcaflow_steps_hooks() -> None:
    """``hookimpl`` is the pluggy marker of project ``arcaflow_steps``, as hookspecs declares."""
    assert "arcaflow_steps" == arcaflow_steps.hookimpl.project_name
    assert hookspecs.hookimpl is arcaflow_steps.hookimpl


def test_hookspecs_module_all_is_sorted_and_defined() -> None:
    """The public ``hookspecs`` module's ``__all__`` is sorted and names only what exists."""
    assert sorted(hookspecs.__all__, key=isort_key) == hookspecs.__all__
    assert [] == [name for name in hookspecs.__all__ if not hasattr(hookspecs, name)]


#: Names the CHANGELOG's Unreleased section records as removed or no longer public.
REMOVED_NAMES = {
    "arcaflow_steps.DEFAULT_CLOSE_TIMEOUT",
    "arcaflow_steps.DEFAULT_KIND",
    "arcaflow_steps.DeployerLoadError",
    "arcaflow_steps.DuplicateDeployerError",
    "arcaflow_steps.EntryPointInfo",
    "arcaflow_steps.LifecycleRules",
    "arcaflow_steps.ProviderContext.deployer_factories",
    "arcaflow_steps.ProviderSource",
    "arcaflow_steps.RecordedState",
    "arcaflow_steps.RunnableCache",
    "arcaflow_steps.StepGuard",
    "arcaflow_steps.TransitionTable",
}
REPO = INIT.parent.parent.parent
QUALIFIED_NAME = re.compile(r"`(arcaflow_steps(?:_builtin)?(?:\.[A-Za-z_]\w*)+)`")


def resolves(qualified: str) -> bool:
    """Return whether ``qualified`` names a module or an attribute reachable from one."""
    parts = qualified.split(".")
    for split in range(len(parts), 0, -1):
        try:
            value: object = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        for part in parts[split:]:
            if not hasattr(value, part):
                return False
            value = getattr(value, part)
        return True
    return False


def documented_names() -> list[tuple[str, str]]:
    """Return (where, name) for every fully qualified name quoted in the docs and in the
    CHANGELOG's Unreleased section."""
    changelog = (REPO / "CHANGELOG.md").read_text()
    unreleased = changelog.partition("## Unreleased")[2].partition("\n## ")[0]
    texts = {"CHANGELOG.md (Unreleased)": unreleased}
    for path in [REPO / "README.md", REPO / "CONTRIBUTING.md", *sorted(REPO.glob("docs/*.md"))]:
        texts[str(path.relative_to(REPO))] = path.read_text()
    return [(where, name) for where, text in texts.items() for name in QUALIFIED_NAME.findall(text)]


def test_docs_name_only_importable_things() -> None:
    """Every ``arcaflow_steps…`` name the docs and the Unreleased changes quote can be imported
    from where they say (besides the names the CHANGELOG records as removed)."""
    stale = sorted(
        f"{where}: {name}"
        for where, name in documented_names()
        if name not in REMOVED_NAMES and not resolves(name)
    )
    assert [] == stale


def test_every_public_class_says_whether_it_is_thread_safe() -> None:
    """Every public class's docstring has a ``Thread safety:`` line (STYLE.md); an error class
    may inherit it from ``ArcaflowStepsError``, which states it for the whole tree."""
    lacking = sorted(
        f"{module.__name__}.{name}"
        for module in (arcaflow_steps, *SUBMODULES, hookspecs)
        for name in module.__all__
        if isinstance(cls := getattr(module, name), type)
        and not any(
            "Thread safety:" in (base.__doc__ or "")
            for base in (cls.__mro__ if issubclass(cls, Exception) else (cls,))
            if base.__module__.startswith("arcaflow_steps")
        )
    )
    assert [] == lacking
