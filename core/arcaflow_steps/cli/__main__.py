"""``python -m arcaflow_steps.cli``: the same as the ``arcaflow-steps`` command."""

from . import console_main

console_main()
