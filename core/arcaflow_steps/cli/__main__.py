"""``python -m arcaflow_steps.cli``: the same as the ``arcaflow-steps`` command."""

import sys

from . import main

sys.exit(main())
