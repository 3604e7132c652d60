"""Import a Python plugin once in a *source zygote*, then start each of its runs at ``plugin.run``.

Standard library only, Python 3.9+: :mod:`._zygote` loads this file by path, in the plugin's
interpreter, when a source is started a second time (see its "Source zygotes").

Theory of operation. :func:`preload` runs the plugin module as ``__main__`` exactly as a forked
plugin would (``runpy``, the run's argv, environment and ``sys.path``) with the SDK's
``plugin.run`` replaced by a function that records the arguments it is given and raises a
private ``BaseException``: the import, the schema building, everything the module does before it
hands its schema to the SDK happens here, once. Each run's child (a fork of the source zygote)
then calls the real ``plugin.run`` with the recorded arguments (:func:`run_preloaded`): it starts
at the ATP handshake.

That is only the same as running the module in the child when nothing the module did could
differ or be seen, so the preload is refused, and the source falls back to forking each run
from the SDK zygote as before, when the module:

- wrote anything to its stdout or stderr (descriptors 1 and 2 are a file read afterwards: a
  ``print`` at import corrupts the ATP stream, and must do so in the run's own process);
- left a thread running (forking a multi-threaded process is unsafe), a file descriptor open
  (each run's child closes every descriptor beyond stdio), a signal wakeup descriptor set, or
  a file in its working directory (an empty directory of its own);
- raised, exited, finished without calling ``plugin.run``, or called it somewhere a run could
  not be resumed: not from the module's top-level code, or not as its last statement, which
  must be ``plugin.run(...)`` or ``sys.exit(plugin.run(...))`` (possibly inside trailing
  ``if __name__ == "__main__":`` blocks) — code after it would not run.

What stays different (documented for users in docs/reliability.md): module-level code runs
once per source zygote, so a value read at import (``os.getpid()``, the time, the working
directory, a counter) is the zygote's, shared by every run it forks, and an import-time side
effect outside the process (a file elsewhere, a network call) happens once, not once per run.
"""

from __future__ import annotations

import ast
import os
import runpy
import sys
import threading
from typing import Any

__all__ = ["Preloaded", "preload"]


class _Captured(BaseException):
    """Raised by the stand-in ``plugin.run``: the module got as far as starting its plugin."""


class Preloaded:
    """What a run of a preloaded plugin needs: the recorded ``plugin.run`` call, and
    ``__main__`` and ``sys.argv[0]`` as the module saw them."""

    def __init__(
        self,
        *,
        run: Any,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        main: Any,
        argv0: str,
        exits: bool,
    ) -> None:
        self.run = run
        self.args = args
        self.kwargs = kwargs
        self.main = main
        self.argv0 = argv0
        #: The call was ``sys.exit(plugin.run(...))``: its result is the exit code.
        self.exits = exits

    def start(self) -> int:
        """Call the real ``plugin.run`` as the module would have (in a run's child); return
        the exit code, or raise ``SystemExit`` as ``sys.exit(plugin.run(...))`` would."""
        sys.modules["__main__"] = self.main
        sys.argv[0] = self.argv0
        result = self.run(*self.args, **self.kwargs)
        if self.exits:
            raise SystemExit(result)
        return 0


def _is_exit(node: ast.expr) -> bool:
    """Return whether ``node`` names ``sys.exit``, ``exit`` or ``quit``."""
    if isinstance(node, ast.Attribute):
        return node.attr == "exit" and isinstance(node.value, ast.Name) and node.value.id == "sys"
    return isinstance(node, ast.Name) and node.id in ("exit", "quit")


def _last_statement_mode(filename: str, line: int) -> bool | None:  # noqa: PLR0911 - per shape
    """Return how the statement at ``line`` of ``filename`` ends the module: True for
    ``sys.exit(<call>)``, False for a bare ``<call>``; None when it is not the module's last
    statement of either form (or the file cannot be read and parsed)."""
    try:
        with open(filename, "rb") as source:
            tree = ast.parse(source.read(), filename)
    except (OSError, SyntaxError, ValueError):
        return None
    body: list[ast.stmt] = tree.body
    while body:
        statement = body[-1]
        end = getattr(statement, "end_lineno", None) or statement.lineno
        if not statement.lineno <= line <= end:
            return None
        if isinstance(statement, ast.If):
            branch = statement.body
            if statement.orelse and statement.orelse[0].lineno <= line:
                branch = statement.orelse
            body = branch
            continue
        if not isinstance(statement, ast.Expr) or not isinstance(statement.value, ast.Call):
            return None
        call = statement.value
        if _is_exit(call.func):
            if len(call.args) == 1 and not call.keywords and isinstance(call.args[0], ast.Call):
                return True
            return None
        return False
    return None


def preload(  # noqa: PLR0911 - one return per reason to refuse
    sdk_module: Any, module: str | None, path: str | None, directory: str
) -> Any:
    """Run the plugin as ``__main__`` up to its ``plugin.run`` call.

    Returns a :class:`Preloaded`, or a string saying why this source cannot be preloaded
    (then the caller must not fork runs from this process: the module may have done anything).
    The caller has set the run's argv, environment, ``sys.path`` and working directory
    (``directory``, empty), and made descriptors 1 and 2 a file it checks afterwards.
    """
    real_run = sdk_module.run
    calls: list[tuple[Preloaded, tuple[str, str, int, Any]]] = []

    def capture(*args: Any, **kwargs: Any) -> Any:
        frame = sys._getframe(1)
        where = (
            frame.f_code.co_name,
            frame.f_code.co_filename,
            frame.f_lineno,
            frame.f_globals.get("__name__"),
        )
        main = sys.modules.get("__main__")
        preloaded = Preloaded(
            run=real_run, args=args, kwargs=kwargs, main=main, argv0=sys.argv[0], exits=False
        )
        calls.append((preloaded, where))
        raise _Captured

    sdk_module.run = capture
    try:
        if module:
            runpy.run_module(module, run_name="__main__", alter_sys=True)
        else:
            assert path is not None
            runpy.run_path(path, run_name="__main__")
    except _Captured:
        pass
    except SystemExit:
        return "the module exited"
    except BaseException as exc:  # any failure means: do not preload
        return f"importing it raised {type(exc).__name__}"
    else:
        return "it did not call plugin.run"
    finally:
        sdk_module.run = real_run
    if len(calls) != 1:
        return "it called plugin.run more than once"
    preloaded, (code_name, filename, line, module_name) = calls[0]
    if code_name != "<module>" or module_name != "__main__":
        return "plugin.run is not called from the module's top-level code"
    exits = _last_statement_mode(filename, line)
    if exits is None:
        return "plugin.run(...) is not the module's last statement"
    preloaded.exits = exits
    if threading.active_count() != 1:
        return "the module started a thread"
    if os.listdir(directory):
        return "the module wrote to its working directory"
    return preloaded
