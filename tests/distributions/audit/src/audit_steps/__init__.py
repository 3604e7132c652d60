import json
import os

from arcaflow_steps import hookimpl


def _write(record):
    path = os.environ.get("AUDIT_STEPS_LOG")
    if path:
        with open(path, "a", encoding="utf-8") as log:
            log.write(json.dumps(record) + "\n")


@hookimpl
def arcaflow_steps_stage_changed(event):
    _write(["event", event.step_id, str(event.kind), event.stage])


@hookimpl
def arcaflow_steps_step_completed(result):
    _write(["result", result.step_id, result.output_id])
