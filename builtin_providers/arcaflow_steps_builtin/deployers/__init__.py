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

The deployer protocols (:class:`DeployerFactory` → :class:`Deployer` →
:class:`PluginConnection`) are exported here; the hook, its entry-point group and the loading
rules are in :mod:`.hookspecs`. The built-ins' hook lives in :mod:`._hooks` (the entry points
name it); this package imports nothing until an attribute is asked for, so the python warm-up
(:mod:`._python_warm_up`) and the fork server it starts load without the deployers' schemas.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from ._hooks import LazyDeployerFactory, arcaflow_steps_deployers
    from ._protocols import Deployer, DeployerFactory, PluginConnection, UnknownDeployerError
    from .command import CommandDeployerFactory
    from .python import PythonDeployerFactory

__all__ = [
    "CommandDeployerFactory",
    "Deployer",
    "DeployerFactory",
    "LazyDeployerFactory",
    "PluginConnection",
    "PythonDeployerFactory",
    "UnknownDeployerError",
    "arcaflow_steps_deployers",
]

#: Exported name -> the submodule defining it (imported on first access, PEP 562).
_EXPORTS: Final = {
    "CommandDeployerFactory": ".command",
    "Deployer": "._protocols",
    "DeployerFactory": "._protocols",
    "LazyDeployerFactory": "._hooks",
    "PluginConnection": "._protocols",
    "PythonDeployerFactory": ".python",
    "UnknownDeployerError": "._protocols",
    "arcaflow_steps_deployers": "._hooks",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
