"""The built-in deployers of the ``plugin`` provider (entry point group
``arcaflow.step_deployers``).

=========  ===============  =====================================================
name       deployment type  runs
=========  ===============  =====================================================
python     python           Python plugins as local processes (:mod:`.python`)
command    command          any ATP executable, e.g. a Go SDK binary (:mod:`.command`)
docker     image            container images on a Docker engine (:mod:`.docker`)
podman     image            container images with podman (:mod:`.podman`)
=========  ===============  =====================================================

The container deployers are offered when their modules exist, as :class:`LazyDeployerFactory`
proxies: their modules are imported only when an ``image`` step uses them, and their optional
dependencies only when they deploy.

The hook lives in :mod:`._hooks` (the entry points name it); this package imports nothing until
an attribute is asked for, so the python warm-up (:mod:`._python_warm_up`) and the fork server
it starts load without the deployers' schemas.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from arcaflow_steps._lazy_exports import lazy_exports

if TYPE_CHECKING:
    from ._hooks import LazyDeployerFactory, arcaflow_steps_deployers
    from .command import CommandDeployerFactory
    from .python import PythonDeployerFactory

__all__ = [
    "CommandDeployerFactory",
    "LazyDeployerFactory",
    "PythonDeployerFactory",
    "arcaflow_steps_deployers",
]

#: Exported name -> the submodule defining it (imported on first access, PEP 562).
_EXPORTS: Final = {
    "CommandDeployerFactory": ".command",
    "LazyDeployerFactory": "._hooks",
    "PythonDeployerFactory": ".python",
    "arcaflow_steps_deployers": "._hooks",
}


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, __all__)
