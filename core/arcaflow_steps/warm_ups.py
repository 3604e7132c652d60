"""What a warm-up may use (entry point group ``arcaflow.step_warm_ups``; CONTRIBUTING.md,
"Warm-ups").

:func:`claim_start_seed` hands out the *start-up seed* of ``arcaflow-steps run`` and
``workflow``: a copy of the CLI forked first thing, before its imports, waiting to become
whatever its claimant tells it (:meth:`StartSeed.become`: a module's function, called with
descriptors and JSON arguments, that never returns). A warm-up that would fork the CLI to get
a process on this interpreter (a fork server's zygote) claims it instead: that process, and
every process it forks, is then ~12 MB smaller. There is one seed per run, for the first
warm-up that claims it; once every warm-up was called an unclaimed seed is ended. Before
its claim the seed calls the functions named in the entry point group ``arcaflow.start_seed``
(*preparations*: a claimant's imports, done while the CLI is still importing itself). Standard
library only: importing this module costs nothing.
"""

from __future__ import annotations

from ._start_seed import StartSeed
from ._start_seed import claim as claim_start_seed

__all__ = ["StartSeed", "claim_start_seed"]

StartSeed.__module__ = __name__
