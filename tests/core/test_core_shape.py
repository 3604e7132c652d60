"""The shape of core: it knows providers, not the plugin provider's deployers or stages; builtins
and contrib use only public modules; core's modules and classes stay small and free of import
circles.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import arcaflow_steps

CORE = Path(arcaflow_steps.__file__).parent
REPO = CORE.parent.parent
#: Issue 10's done-criterion: no core module over ~400 lines, no class over ~250.
MAX_MODULE_LINES = 400
MAX_CLASS_LINES = 250


def core_modules() -> list[Path]:
    return sorted(path for path in CORE.rglob("*.py") if "_templates" not in path.parts)


def module_name(path: Path) -> str:
    parts = path.relative_to(CORE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@pytest.mark.parametrize(
    "pattern",
    [
        r"(?i)deployer",
        r"""["']crashed["']""",
        r"""(==|!=)\s*["']error["']|["']error["']\s*(==|!=)""",
        r"RLIMIT_NOFILE|EMFILE",
    ],
    ids=["deployer", "crashed-stage", "error-output-id", "descriptor-limit"],
)
def test_core_names_no_plugin_fact(pattern: str) -> None:
    """No core module names a deployer, the plugin's ``crashed`` stage, an ``error`` output
    id or the open file limit: those are the plugin provider's, expressed in its lifecycle and
    output schemas, and its bound on plugin processes.

    One exception: ``cli/_workflow_config.py`` reads the Go engine's config file, whose
    ``deployers`` key is part of the format ``arcaflow-steps workflow`` accepts; it checks the
    entries with the plugin provider's ``deploy_schema`` and passes them on as the steps'
    ``deploy``, knowing no deployer itself."""
    exempt = {r"(?i)deployer": {Path("cli/_workflow_config.py")}}.get(pattern, set())
    found = [
        f"{path.relative_to(CORE)}:{number}: {line.strip()}"
        for path in core_modules()
        if path.relative_to(CORE) not in exempt
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(pattern, line)
    ]
    assert [] == found


def test_builtins_contrib_and_the_template_import_only_public_core_modules() -> None:
    """Built-in and contrib providers, and the scaffold, import no private core module."""
    roots = [REPO / "builtin_providers", REPO / "contrib", CORE / "cli" / "_templates"]
    private = re.compile(r"^\s*(from|import)\s+arcaflow_steps\._", re.MULTILINE)
    found = [
        str(path.relative_to(REPO))
        for root in roots
        for path in sorted(root.rglob("*"))
        if path.suffix in {".py", ".tmpl"} and private.search(path.read_text())
    ]
    assert [] == found


def test_core_modules_and_classes_stay_small() -> None:
    """Every core module (``_schema/``, ``testing/`` and ``cli/`` included, the scaffold's
    templates not) stays within 400 lines, and every class in it, nested ones too, within 250."""
    modules, classes = {}, {}
    for path in core_modules():
        source = path.read_text()
        where = str(path.relative_to(CORE))
        modules[where] = len(source.splitlines())
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.ClassDef) and node.end_lineno is not None:
                classes[f"{where}:{node.name}"] = node.end_lineno - node.lineno + 1
    assert {} == {where: lines for where, lines in modules.items() if lines > MAX_MODULE_LINES}
    assert {} == {name: lines for name, lines in classes.items() if lines > MAX_CLASS_LINES}


def _imports_at_import_time(path: Path) -> set[str]:
    """Return the core modules ``path`` imports when it is imported (not under TYPE_CHECKING,
    not inside functions)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.dump(node.test):
            continue
        for sub in ast.walk(node) if isinstance(node, ast.If | ast.Try) else (node,):
            if isinstance(sub, ast.ImportFrom):
                base = package.split(".")
                if sub.level > 1:
                    base = base[: -(sub.level - 1)]
                target = (
                    ".".join([*base, *([sub.module] if sub.module else [])])
                    if sub.level
                    else sub.module or ""
                )
                found.update(f"{target}.{alias.name}" for alias in sub.names)
                found.add(target)
            elif isinstance(sub, ast.Import):
                found.update(alias.name for alias in sub.names)
    return found


def test_core_has_no_import_circle() -> None:
    """No core module imports, at import time, a module that imports it back (directly or
    through others)."""
    modules = {module_name(path): path for path in core_modules()}
    graph = {
        name: {dep for dep in _imports_at_import_time(path) if dep in modules and dep != name}
        for name, path in modules.items()
    }
    circles = []
    for start in sorted(graph):
        stack, seen = [(start, (start,))], set()
        while stack:
            current, trail = stack.pop()
            for dep in sorted(graph[current]):
                if dep == start:
                    circles.append(" -> ".join((*trail, dep)))
                elif dep not in seen:
                    seen.add(dep)
                    stack.append((dep, (*trail, dep)))
    assert [] == circles
