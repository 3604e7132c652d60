"""A workflow's graph as a Mermaid flowchart, for ``-debug`` (the Go engine dumps its DAG so).

Theory of operation. The chart has two parts, as the Go engine's dump has: every step's
lifecycle (``steps.a.deploy-->steps.a.starting`` for each stage it may move to,
``steps.a.outputs-->steps.a.outputs.success`` for each output of a stage) and the dependencies
of the run (``steps.a.outputs.success-->steps.b.starting``: b's starting input waits for a's
success output; ``-->outputs.success`` for a workflow output). Edges are sorted and split
into the *success path* and the *error path*: an edge into a fatal stage or an error output,
or out of one, is on the error path. A dependency that waits for completion only
(``!wait-optional``) or not at all (``!soft-optional``) is dotted (``-.->``); ``!oneof``
groups and their options are nodes ``group<N>`` and ``group<N>.<option>``.

Thread safety: pure functions.
"""

from __future__ import annotations

from collections.abc import Mapping

from ._graph import EdgeKind
from ._plan_records import PlannedOutput, PlannedStep
from ._run_graph import Node, RunGraph

__all__ = ["workflow_mermaid"]


def workflow_mermaid(steps: Mapping[str, PlannedStep], outputs: Mapping[str, PlannedOutput]) -> str:
    """Return the flowchart of a planned workflow (several lines, no final newline)."""
    success: set[str] = set()
    error: set[str] = set()
    failing: set[str] = set()  # nodes on the error path: fatal stages and error outputs
    for step_id, step in steps.items():
        for stage in step.prepared.lifecycle.stages:
            stage_node = f"steps.{step_id}.{stage.id}"
            if stage.stage.fatal:
                failing.add(stage_node)
            for next_stage in stage.next_stages:
                target = f"steps.{step_id}.{next_stage}"
                fatal = step.prepared.lifecycle.stage(next_stage).stage.fatal
                (error if fatal else success).add(f"{stage_node}-->{target}")
            for output_id, output in stage.outputs.items():
                target = f"{stage_node}.{output_id}"
                if output.error:
                    failing.add(target)
                (error if output.error else success).add(f"{stage_node}-->{target}")
    graph = RunGraph(steps, outputs).graph
    for dependency, dependant, kind in graph.edges():
        source, target = _name(dependency), _name(dependant)
        arrow = "-.->" if kind in (EdgeKind.COMPLETION_AND, EdgeKind.OPTIONAL) else "-->"
        line = f"{source}{arrow}{target}"
        (error if source in failing or target in failing else success).add(line)
    return "\n".join(
        [
            "%% Mermaid markdown workflow",
            "flowchart LR",
            "%% Success path",
            *sorted(success),
            "%% Error path",
            *sorted(error),
            "%% Mermaid end",
        ]
    )


def _name(node: Node) -> str:
    kind, *rest = node
    if kind in ("stage", "output", "done", "consumer"):  # a consumer is its stage's input
        return ".".join(("steps", *map(str, rest)))
    if kind == "workflow_output":
        return f"outputs.{rest[0]}"
    if kind == "group":
        return f"group{rest[0]}"
    if kind == "option":
        return f"group{rest[0]}.{rest[1]}"
    return str(rest[0])  # "missing": the path that names nothing
