"""Kind 'echo'; records every stage event in $GOOD_STEPS_EVENT_LOG when it is set."""

import json
import os

from steps_testbase import EchoProvider

from arcaflow_steps import hookimpl


@hookimpl
def arcaflow_steps_providers(context):
    return [EchoProvider("echo")]


@hookimpl
def arcaflow_steps_stage_changed(event):
    path = os.environ.get("GOOD_STEPS_EVENT_LOG")
    if path:
        with open(path, "a", encoding="utf-8") as log:
            log.write(json.dumps([event.step_id, str(event.kind), event.stage]) + "\n")
