"""``examples/workflow/`` runs from a clean clone, through the CLI, as its README says."""

from __future__ import annotations

import json
import re

from cli_support import ROOT, descendants, wait_gone, workflow_cli

EXPECTED = {
    "first": "Hello, Arca!",
    "second": "Hello, Hello, Arca!!",
    "loud": {"result": "disabled", "message": "Step loud/greet disabled"},
    "friends": [{"message": "Hello, Ada!"}, {"message": "Hello, Grace!"}],
}


def test_the_example_workflow_passes_data_waits_skips_and_loops() -> None:
    """Data passing, a wait_for, a disabled step handled with !ordisabled and a foreach over
    a sub-workflow, with the embedded python deployer: exit 0 and the expected output."""
    completed = workflow_cli(
        "-context", "examples/workflow", "-input", "input.yaml", "--format", "json", cwd=ROOT
    )
    assert 0 == completed.returncode, completed.stderr
    assert {"output_id": "success", "output_data": EXPECTED} == json.loads(completed.stdout)
    # the items ran as sub-workflow steps, after `second` (wait_for), and left nothing behind
    second_done = re.search(r"^second +finished", completed.stderr, re.M)
    first_item = re.search(r"^friends\[0\]\.greet ", completed.stderr, re.M)
    assert second_done is not None, completed.stderr
    assert first_item is not None, completed.stderr
    assert second_done.start() < first_item.start()
    assert set() == wait_gone(descendants()), "processes left behind"
