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

The container deployers are offered when their modules are importable; their optional
dependencies are only needed when they deploy.
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

from arcaflow_steps import hookimpl

from .command import CommandDeployerFactory
from .python import PythonDeployerFactory

__all__ = ["CommandDeployerFactory", "PythonDeployerFactory", "arcaflow_steps_deployers"]

_LOG = logging.getLogger(__name__)
_CONTAINER_MODULES = ("docker", "podman")


def _container_factories() -> list[Any]:
    factories: list[Any] = []
    for name in _CONTAINER_MODULES:
        try:
            module = importlib.import_module(f"{__name__}.{name}")
        except ImportError as exc:
            if exc.name != f"{__name__}.{name}":
                _LOG.debug("deployer module %r not available: %s", name, exc)
            continue
        factories.extend(module.deployer_factories())
    return factories


@hookimpl
def arcaflow_steps_deployers() -> list[Any]:
    """Return the python and command deployers, plus docker and podman when present."""
    return [PythonDeployerFactory(), CommandDeployerFactory(), *_container_factories()]
