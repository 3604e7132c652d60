"""``arcaflow-steps run FILE...``: run step files, progress on stderr, results on stdout.

Exit codes (DESIGN.md §7): 0 every step produced a non-error output; 2 an error output was
produced; 3 a step ended in a fatal stage of its lifecycle (a plugin that died or failed to
deploy; also one that cannot be deployed to read its schema) or misbehaved so that the runner
ended it; 1 invalid input. The worst code wins. Interrupted runs exit 128 + the signal number
(130 SIGINT, 143 SIGTERM) after printing what every step ended with (a step interrupted before
it started has no stage and says so).

Signals (:mod:`._signals`): the first SIGINT/SIGTERM closes every running step (graceful: the
provider cancels, waits its closure timeout, then stops); a second one force-closes them.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

from . import (
    EXIT_ERROR_OUTPUT,
    EXIT_FATAL,
    EXIT_OK,
    EXIT_TIMEOUT,
    PROG,
    _add_plugin_options,
)
from ._common import freeze_start_up_objects, make_registry, plain, scan_entry_points
from ._signals import Interrupted, RunSignals

if TYPE_CHECKING:
    from .._events import StepResult
    from .._registry import Registry
    from .._runner import StepExecution, StepRunner
    from .._step_definition import PreparedStep
    from ._files import StepSpec
    from ._progress import Progress

__all__ = ["add_arguments", "exit_code", "run"]

_WAIT_SLICE = 0.1


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``run``."""
    parser.add_argument(
        "files",
        nargs="+",
        metavar="FILE",
        help="a step file: one step definition, or a 'steps:' map of them ('-' reads stdin)",
    )
    parser.add_argument(
        "--format", choices=("yaml", "json"), default="yaml", help="result format on stdout"
    )
    parser.add_argument(
        "--parallelism",
        type=int,
        default=None,
        metavar="N",
        help="run at most N steps at once (default: all)",
    )
    parser.add_argument(
        "--timeout",
        type=_seconds,
        default=None,
        metavar="SECONDS",
        help="close steps still running after SECONDS (the run then exits 124)",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no stage progress on stderr")
    parser.add_argument(
        "--live",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="show progress as a live table (default: when stderr is a terminal)",
    )
    _add_plugin_options(parser)


def _seconds(text: str) -> float:
    """Return ``--timeout``'s value: a finite number of seconds above 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(
            f"expected a finite number of seconds above 0, got {text!r}"
        )
    return value


def exit_code(results: Mapping[str, StepResult], fatal: Mapping[str, frozenset[str]]) -> int:
    """Return the exit code for the results (``fatal``: step id -> its fatal stages)."""
    code = EXIT_OK
    for step_id, result in results.items():
        if result.error is not None or result.stage in fatal.get(step_id, frozenset()):
            return EXIT_FATAL
        if result.is_error or result.output_id is None:
            code = EXIT_ERROR_OUTPUT
    return code


class _SlicedWriter:
    """Writes long text to stdout in slices, so a 100 MB output is never encoded in one piece."""

    _SLICE: Final = 1 << 20

    def write(self, text: str) -> None:
        for start in range(0, len(text), self._SLICE):
            sys.stdout.write(text[start : start + self._SLICE])


#: Strings this long are printed by us, not by the YAML emitter (libyaml copies them twice).
_LARGE_TEXT: Final = 1 << 20


def _write_results(data: dict[str, Any], output_format: str) -> None:
    """Print the results on stdout, streaming: peak memory stays near twice their own size."""
    writer = _SlicedWriter()
    if output_format == "json":
        json.dump(data, writer, indent=2)
        sys.stdout.write("\n")
        sys.stdout.flush()
        return
    import yaml

    from .._yaml12 import Yaml12SafeDumper

    # Large strings become placeholders in the YAML document and are then written in their
    # place as JSON strings, which are YAML double-quoted scalars (escaped to ASCII, DEL too).
    large: list[str] = []
    marker = f"arcaflow-steps-large-text-{os.getpid()}-{time.monotonic_ns()}-"
    document = _swap_large_text(data, large, marker)
    # libyaml's emitter when PyYAML has it (the pure-Python one takes ~0.5 s per MB of text),
    # quoting every string YAML 1.1 or 1.2 would read as something else.
    text = yaml.dump(document, Dumper=Yaml12SafeDumper, sort_keys=False, allow_unicode=True)
    pieces = text.split(marker)
    writer.write(pieces[0])
    for piece in pieces[1:]:
        index, _, rest = piece.partition(";")
        writer.write(json.dumps(large[int(index)]).replace("\x7f", "\\u007f"))
        writer.write(rest)
    sys.stdout.flush()


def _swap_large_text(value: Any, large: list[str], marker: str) -> Any:
    """Return ``value`` with every string of ``_LARGE_TEXT`` or more replaced by a marker."""
    if isinstance(value, str):
        if len(value) < _LARGE_TEXT:
            return value
        large.append(value)
        return f"{marker}{len(large) - 1};"
    if isinstance(value, dict):
        return {key: _swap_large_text(item, large, marker) for key, item in value.items()}
    if isinstance(value, list):
        return [_swap_large_text(item, large, marker) for item in value]
    return value


def _record(result: StepResult) -> dict[str, Any]:
    record: dict[str, Any] = {
        "stage": str(result.stage),
        "output_id": result.output_id,
        "output_data": plain(result.output_data),
    }
    if result.error is not None:
        record["error"] = result.error
    return record


def _wait_all(executions: Sequence[StepExecution]) -> dict[str, StepResult]:
    results: dict[str, StepResult] = {}
    for execution in executions:
        while True:
            try:
                results[execution.step_id] = execution.wait(_WAIT_SLICE)
                break
            except TimeoutError:
                continue
    return results


def run(args: argparse.Namespace) -> int:
    """Prepare every step (all or nothing), run them, print results, return the exit code.

    Order matters for start-up time: read the step files and the entry-point metadata, start
    the warm-ups (:mod:`arcaflow_steps._warm_up`: a plugin interpreter then starts while we
    import the rest), and only then import the runner and the providers. Signals at any
    moment: :mod:`._signals`.
    """
    from .._errors import StepDefinitionError

    if args.parallelism is not None and args.parallelism < 1:
        raise StepDefinitionError(f"--parallelism must be at least 1, got {args.parallelism}")
    from . import runs_as_program

    signals = RunSignals()
    signals.install()
    try:
        return _run_signalled(args, signals)
    finally:
        if runs_as_program():
            signals.ignore()
        else:
            signals.restore()


def _run_signalled(args: argparse.Namespace, signals: RunSignals) -> int:
    from .._entry_points import PROVIDER_GROUP, WARM_UP_GROUP
    from .._warm_up import WarmUps, start_warm_ups
    from ._files import read_step_files

    specs: list[StepSpec] = []
    warm_ups = WarmUps()
    try:
        try:
            with signals.raising():
                specs = read_step_files(args.files)
                scanned = scan_entry_points(args, WARM_UP_GROUP)
                found = scanned[0]
                warm_ups = start_warm_ups(
                    found[PROVIDER_GROUP],
                    found[WARM_UP_GROUP],
                    (spec.definition for spec in specs),
                )
                # After the warm-ups: the registry imports attrs and pluggy.
                registry = make_registry(args, scanned)
        except Interrupted as interrupted:
            return _interrupted_while_preparing(interrupted, specs, args.format)
        return _run_with(args, specs, registry, signals)
    finally:
        warm_ups.close()


def _interrupted_while_preparing(
    interrupted: Interrupted, specs: Sequence[StepSpec], output_format: str
) -> int:
    """Report every step as not started (no stage) and return 128 + the signal number."""
    sys.stderr.write(f"{PROG}: interrupted while preparing steps\n")
    if specs:
        name = signal.Signals(interrupted.signum).name
        record = {
            "stage": None,
            "output_id": None,
            "output_data": None,
            "error": f"not started: interrupted by {name} while preparing steps",
        }
        _write_results({spec.step_id: dict(record) for spec in specs}, output_format)
    return 128 + interrupted.signum


def _run_with(
    args: argparse.Namespace, specs: Sequence[StepSpec], registry: Registry, signals: RunSignals
) -> int:
    from .._errors import ArcaflowStepsError, StepDefinitionError
    from .._runner import StepRunner
    from .._step_definition import prepare_step
    from ._progress import make_progress

    try:
        prepared: list[PreparedStep] = []
        try:
            with signals.raising():  # loading a plugin's schema may take a while
                for spec in specs:
                    try:
                        prepared.append(
                            prepare_step(registry, spec.step_id, spec.definition, path=spec.path)
                        )
                    except ArcaflowStepsError as exc:
                        error = StepDefinitionError(str(exc), source=spec.source)
                        if _is_deploy_failure(exc):  # the plugin could not show its schema
                            sys.stderr.write(f"{PROG}: error: {error}\n")
                            return EXIT_FATAL
                        raise error from exc
        except Interrupted as interrupted:
            return _interrupted_while_preparing(interrupted, specs, args.format)
        progress = make_progress(prepared, quiet=args.quiet, live=args.live)
        observers = registry.observers()  # the installed packages' observer hooks
        runner = StepRunner(parallelism=args.parallelism, observers=(progress, observers))
        progress.start()
        freeze_start_up_objects()
        signals.attach(runner, progress)
        try:
            try:
                executions = [runner.start(step) for step in prepared]
            finally:
                signals.all_started()
            timed_out = (
                _close_after(runner, args.timeout, progress)
                if args.timeout is not None
                else threading.Event()
            )
            results = _wait_all(executions)
        finally:
            runner.close()
            progress.stop()
        for step_id in results:
            observers.on_result(results[step_id])
    finally:
        registry.close()
    _write_results({step_id: _record(result) for step_id, result in results.items()}, args.format)
    if signals.received is not None:
        return 128 + signals.received
    if timed_out.is_set():
        return EXIT_TIMEOUT
    fatal = {
        step.step_id: frozenset(str(s.id) for s in step.lifecycle.stages if s.stage.fatal)
        for step in prepared
    }
    return exit_code(results, fatal)


def _is_deploy_failure(error: Exception) -> bool:
    """Return whether preparing failed because a plugin could not be deployed or spoken to
    (not because the definition names something unknown: a ``LookupError``, exit 1)."""
    from .._errors import DeploymentError, PluginProtocolError

    return isinstance(error, (DeploymentError, PluginProtocolError)) and not isinstance(
        error, LookupError
    )


def _close_after(runner: StepRunner, timeout: float, progress: Progress) -> threading.Event:
    """Close every running step after ``timeout`` seconds; the event says it happened."""
    deadline = time.monotonic() + timeout
    reached = threading.Event()

    def close_late() -> None:
        while time.monotonic() < deadline:
            time.sleep(min(_WAIT_SLICE, max(0.0, deadline - time.monotonic())))
            if all(execution.is_finished() for execution in runner.executions()):
                return
        reached.set()
        progress.line("*", f"--timeout {timeout:g}s reached: closing every running step")
        runner.close()

    threading.Thread(target=close_late, name="arcaflow-steps-timeout", daemon=True).start()
    return reached
