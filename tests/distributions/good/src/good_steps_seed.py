"""The start-up seed's preparation of kind 'echo' (entry point group ``arcaflow.start_seed``).

A module of its own, outside the ``good_steps`` package: the seed imports it while the command
line is still starting, so it must import nothing heavy (``good_steps`` imports arcaflow-steps).
"""

import json
import os


def prepare_seed():
    """Nothing to import ahead here; appends a record to $GOOD_STEPS_SEED_LOG when set."""
    path = os.environ.get("GOOD_STEPS_SEED_LOG")
    if path:
        with open(path, "a", encoding="utf-8") as log:
            log.write(json.dumps(["seed prepared", os.getpid()]) + "\n")
