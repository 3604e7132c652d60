"""Helpers of the ``arcaflow-steps workflow`` CLI tests (not a test module)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "builtin"))

from plugin_support import descendants, wait_gone

__all__ = ["CLI", "PLUGINS", "ROOT", "STEPS", "descendants", "wait_gone", "workflow_cli"]

ROOT = Path(__file__).resolve().parents[2]
PLUGINS = ROOT / "tests" / "plugins"
#: The SDK plugin with many steps (tests/plugins/README.md).
STEPS = str(PLUGINS / "plugin_steps.py")
_BESIDE = Path(sys.executable).with_name("arcaflow-steps")
#: The CLI of the environment running the tests (not whatever is first on PATH).
CLI = str(_BESIDE) if _BESIDE.exists() else (shutil.which("arcaflow-steps") or "arcaflow-steps")


def workflow_cli(
    *args: str, cwd: Path, timeout: float = 90, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``arcaflow-steps workflow ARGS`` in ``cwd`` and return what it did."""
    return subprocess.run(
        [CLI, "workflow", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env={**os.environ, **(env or {})},
    )
