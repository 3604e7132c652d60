"""``arcaflow-steps workflow``: run an Arcaflow workflow file, as the Go engine's ``arcaflow``.

Startup order (as the Go engine's, reference/workflow.md §1.3): parse the flags
(``-version``/``-h`` end here); resolve ``-workflow``, ``-input`` and ``-config`` against the
context directory; read all three files (a missing one is exit 1 naming its absolute path);
load the config; plan the workflow (every plugin's schema is probed; a problem is exit 1 with
its path in the file); ``-get-namespaces`` prints the namespace table here; then the input is
loaded and validated (exit 1) and the run starts.

stdout carries exactly one document when an output was produced (the Go engine's YAML, or
``--format json``); stderr carries the log and the stage progress of every step, sub-workflow
steps included. Exit codes: 0 a non-error output, 1 anything invalid (usage, files, config,
workflow, input), 2 an error output, 3 the run failed (no output can be produced any more),
130/143 interrupted by SIGINT/SIGTERM before an output (as ``run``).

Signals (:mod:`._signals`): the first SIGINT/SIGTERM closes every running step of every
(sub)workflow (``WorkflowRun.close()``: graceful); an output produced meanwhile is printed as
usual. The second force-closes them.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import stat
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from . import EXIT_ERROR_OUTPUT, EXIT_FATAL, EXIT_INVALID, EXIT_OK, PROG
from ._signals import Interrupted, RunSignals
from ._workflow_flags import USAGE, UsageError, WorkflowFlags, parse_flags

if TYPE_CHECKING:
    from .._events import StepEvent, StepObserver
    from .._registry import Registry
    from ..workflow import WorkflowModel, WorkflowPlan, WorkflowResult, WorkflowRun
    from ._progress import Progress
    from ._workflow_config import WorkflowConfig
    from ._workflow_log import WorkflowLog

__all__ = ["add_arguments", "run"]

_WAIT_SLICE: Final = 0.1
_PLUGIN_KIND: Final = "plugin"
#: The kind whose ``workflow`` names a sub-workflow file, and how many such files the warm-up
#: hints may read (each is read again when the step is planned).
_SUB_WORKFLOW_KIND: Final = "foreach"
_HINT_FILES: Final = 16


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Take every argument after ``workflow`` as is: Go ``flag`` rules, not argparse's."""
    parser.add_argument("workflow_args", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)


class WorkflowFiles:
    """The three files of a run, resolved against the context directory and read.

    Thread safety: not thread-safe; the command builds and reads it on its main thread.
    """

    def __init__(self, flags: WorkflowFlags) -> None:
        #: The context directory, absolute (against the process CWD).
        self.context_dir = Path(os.path.abspath(flags.context))
        self.workflow_path = self._resolve(flags.workflow)
        self.input_path = None if flags.input is None else self._resolve(flags.input)
        self.config_path = None if flags.config is None else self._resolve(flags.config)
        # All three are read before anything is parsed, as the Go engine does.
        self.workflow_text = _read("workflow", self.workflow_path)
        self.input_text = None if self.input_path is None else _read("input", self.input_path)
        self.config_text = None if self.config_path is None else _read("config", self.config_path)

    def _resolve(self, name: str) -> Path:
        """Return ``name`` joined to the context directory (an absolute one as is)."""
        return Path(os.path.normpath(self.context_dir / name))


def _read(what: str, path: Path) -> str:
    from .._yaml_limits import read_bounded
    from ..workflow import WorkflowError

    try:
        return read_bounded(path).decode("utf-8")
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise WorkflowError(f"cannot read {what} file {path}: {reason}") from None
    except UnicodeDecodeError as exc:
        raise WorkflowError(
            f"cannot read {what} file {path}: not UTF-8 text ({exc.reason} at byte {exc.start})"
        ) from None


def run(args: argparse.Namespace) -> int:
    """Run ``arcaflow-steps workflow`` with ``args.workflow_args``; return the exit code."""
    try:
        flags = parse_flags(args.workflow_args)
    except UsageError as exc:  # as argparse's usage errors in the other commands
        sys.stderr.write(USAGE.split("\n\n", 1)[0] + "\n")
        sys.stderr.write(f"{PROG} workflow: error: {exc}\n")
        raise SystemExit(EXIT_INVALID) from None
    if flags.help:
        sys.stdout.write(USAGE)
        return EXIT_OK
    if flags.version:
        from . import installed_version

        sys.stdout.write(f"{PROG} {installed_version()}\n")
        return EXIT_OK
    files = WorkflowFiles(flags)
    config = _load_config(files)
    from . import runs_as_program
    from ._workflow_log import WorkflowLog, bridged_logging

    log = WorkflowLog("debug" if flags.debug else config.log_level)
    signals = RunSignals()
    signals.install()
    try:
        with bridged_logging(log):
            return _run_signalled(args, flags, files, config=config, log=log, signals=signals)
    finally:
        if runs_as_program():
            signals.ignore()
        else:
            signals.restore()


def _load_config(files: WorkflowFiles) -> WorkflowConfig:
    from ._workflow_config import WorkflowConfig, parse_config

    if files.config_text is None:
        return WorkflowConfig()
    from ..workflow._yaml import load_data_yaml

    source = str(files.config_path)
    return parse_config(load_data_yaml(files.config_text, source), source=source)


def _run_signalled(
    args: argparse.Namespace,
    flags: WorkflowFlags,
    files: WorkflowFiles,
    *,
    config: WorkflowConfig,
    log: WorkflowLog,
    signals: RunSignals,
) -> int:
    """Plan, then print the namespaces or run; signals as in the module docstring.

    Order matters for start-up time, as in ``run``: once the workflow file is read, the
    warm-ups start (a plugin interpreter imports the plugin SDK) while the
    registry, the providers and the planner are imported.
    """
    from .._entry_points import PROVIDER_GROUP, WARM_UP_GROUP
    from .._warm_up import WarmUps, start_warm_ups
    from ._common import make_registry, scan_entry_points

    registry_args = _registry_args(args, flags)
    registry: Registry | None = None
    warm_ups = WarmUps()
    try:
        try:
            with signals.raising():
                found, blocked = scan_entry_points(registry_args, WARM_UP_GROUP)
                model = _read_model(files, log)
                warm_ups = start_warm_ups(
                    found[PROVIDER_GROUP],
                    found[WARM_UP_GROUP],
                    _definitions(model, config, files.context_dir),
                )
                registry = make_registry(registry_args, (found, blocked))
                plan, observers = _plan(model, files, config, log, registry)
        except Interrupted as interrupted:
            name = signal.Signals(interrupted.signum).name
            sys.stderr.write(f"{PROG}: interrupted by {name} while planning the workflow\n")
            return 128 + interrupted.signum
        if flags.get_namespaces:
            rows = plan.namespaces()
            if not rows:
                log.log("warning", "No namespaces found in workflow")
            from ._namespace_table import namespace_table

            sys.stdout.write(namespace_table(rows))
            sys.stdout.flush()
            return EXIT_OK
        input_data = _load_input(files, plan)
        if log.is_enabled("debug"):  # as the Go engine: its graph as a Mermaid flowchart
            from ..workflow._mermaid import workflow_mermaid

            chart = workflow_mermaid(plan.steps, plan.outputs)
            log.log(
                "debug", f"Starting workflow execution...\n{chart}", labels={"source": "executor"}
            )
        # Stage progress is information: shown at log level info (the default) or debug.
        result = _execute(plan, input_data, observers, signals, quiet=not log.is_enabled("info"))
        for step_result in result.step_results.values():
            registry.observers().on_result(step_result)
    finally:
        if registry is not None:
            registry.close()
        warm_ups.close()
    return _report(result, flags.output_format, signals)


def _read_model(files: WorkflowFiles, log: WorkflowLog) -> WorkflowModel:
    from ..workflow._workflow_file import parse_workflow
    from ..workflow._yaml import load_workflow_yaml_located

    source = str(files.workflow_path)
    log.log("debug", f"Loading workflow {source}", labels={"source": "workflow"})
    data, positions = load_workflow_yaml_located(files.workflow_text, source)
    return parse_workflow(data, source=source, positions=positions)


def _definitions(
    model: WorkflowModel, config: WorkflowConfig, context_dir: Path
) -> list[Mapping[str, Any]]:
    """Return the steps' definitions with the config's defaults, as warm-up hints, with those
    of the sub-workflows that ``foreach`` steps name (each file read once, at most
    ``_HINT_FILES`` of them, regular files only: a FIFO is read once, by the planner). A file
    that cannot be read or parsed adds nothing here; planning reports it."""
    from .._errors import ArcaflowStepsError
    from ..workflow._workflow_file import read_workflow
    from ._workflow_config import step_defaults

    fill_in = step_defaults(config)
    definitions: list[Mapping[str, Any]] = []
    pending = [model]
    seen: set[Path] = set()
    while pending:
        for step_id, definition in pending.pop().steps.items():
            kind = definition.get("kind", _PLUGIN_KIND)
            definitions.append(
                fill_in(step_id, kind, definition) if isinstance(kind, str) else definition
            )
            sub_workflow = definition.get("workflow")
            if kind != _SUB_WORKFLOW_KIND or not isinstance(sub_workflow, str):
                continue
            path = Path(os.path.normpath(context_dir / sub_workflow))
            if path in seen or len(seen) >= _HINT_FILES:
                continue
            seen.add(path)
            try:
                if stat.S_ISREG(path.stat().st_mode):
                    pending.append(read_workflow(path))
            except (ArcaflowStepsError, OSError, ValueError):
                continue
    return definitions


def _registry_args(args: argparse.Namespace, flags: WorkflowFlags) -> argparse.Namespace:
    """Return ``args`` with the blocking options given after ``workflow`` added."""
    merged = argparse.Namespace(**vars(args))
    merged.plugin_options = [*getattr(args, "plugin_options", []), *flags.plugin_options]
    merged.disabled_plugins = [*getattr(args, "disabled_plugins", []), *flags.disabled_plugins]
    return merged


class _LateObservers:
    """Forwards events to observers set once the plan is known (the progress display needs
    the planned steps; the context, which carries the observers, is made before planning).

    Thread safety: safe to share; the observers are set before any step starts.
    """

    def __init__(self) -> None:
        self.targets: tuple[StepObserver, ...] = ()

    def on_event(self, event: StepEvent) -> None:
        for target in self.targets:
            target.on_event(event)


def _plan(
    model: WorkflowModel,
    files: WorkflowFiles,
    config: WorkflowConfig,
    log: WorkflowLog,
    registry: Registry,
) -> tuple[WorkflowPlan, _LateObservers]:
    from ..workflow import WorkflowContext, plan_workflow
    from ._workflow_config import check_with_providers, step_defaults
    from ._workflow_log import LoggedOutputs

    check_with_providers(config, registry)
    late = _LateObservers()
    observers: list[StepObserver] = [late, registry.observers()]
    if config.logged_outputs:
        observers.append(LoggedOutputs(log, config.logged_outputs))
    context = WorkflowContext(
        context_dir=files.context_dir,
        registry=registry,
        step_defaults=step_defaults(config),
        observers=tuple(observers),
    )
    plan = plan_workflow(model, context)
    log.log("debug", f"Planned {len(plan.steps)} steps", labels={"source": "workflow"})
    return plan, late


def _load_input(files: WorkflowFiles, plan: WorkflowPlan) -> dict[str, Any]:
    """Return the input data, validated (defaults applied); no ``-input`` is ``{}``.

    Raises:
        WorkflowInputError: naming the input file (the Go engine exits 3 here; we exit 1).
    """
    from ..workflow import WorkflowInputError

    if files.input_text is None:
        return plan.validate_input({})
    from .._schema._scalar_texts import scalar_texts
    from ..workflow._yaml import load_data_yaml_texts

    source = str(files.input_path)
    data, texts = load_data_yaml_texts(files.input_text, source)
    if data is None:
        raise WorkflowInputError(
            "the input file holds no data (it is empty, only comments or null); it must be "
            "a mapping of the workflow's input fields, or leave out -input for no input",
            source=source,
        )
    try:
        # A string field given a number or boolean gets its text, as in the Go engine.
        with scalar_texts({f"$.input.{path}": text for path, text in texts.items()}):
            return plan.validate_input(data)
    except WorkflowInputError as exc:
        raise WorkflowInputError(exc.problem, source=source) from None


def _execute(
    plan: WorkflowPlan,
    input_data: dict[str, Any],
    late: _LateObservers,
    signals: RunSignals,
    *,
    quiet: bool,
) -> WorkflowResult:
    from ._common import freeze_start_up_objects
    from ._progress import make_progress

    progress: Progress = make_progress(
        [step.prepared for step in plan.steps.values()], quiet=quiet, live=None
    )
    late.targets = (progress,)
    progress.start()
    freeze_start_up_objects()
    workflow_run: WorkflowRun | None = None
    try:
        workflow_run = plan.start(input_data)
        signals.attach(workflow_run, progress)
        signals.all_started()
        while True:
            try:  # in slices: a signal is handled on this thread between them
                return workflow_run.wait(_WAIT_SLICE)
            except TimeoutError:
                continue
    finally:
        if workflow_run is not None:
            workflow_run.close()
        progress.stop()


def _report(result: WorkflowResult, output_format: str, signals: RunSignals) -> int:
    """Print the output document (if an output came) and return the exit code."""
    if result.output_id is None:
        sys.stderr.write(f"{PROG}: error: workflow failed: {result.error}\n")
        if signals.received is not None:
            return 128 + signals.received
        return EXIT_FATAL
    try:
        if output_format == "json":
            from ._common import plain

            document = {"output_id": result.output_id, "output_data": plain(result.output_data)}
            sys.stdout.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
        else:
            from ._output_document import format_output_document

            sys.stdout.write(format_output_document(result.output_id, result.output_data))
        sys.stdout.flush()
    except BrokenPipeError:  # nobody reads stdout (`| head`): the output still decides the code
        from . import _discard_stdout

        _discard_stdout()
    return EXIT_ERROR_OUTPUT if result.is_error else EXIT_OK
