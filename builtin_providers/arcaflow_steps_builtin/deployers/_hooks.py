"""Registration of the built-in deployers: the ``arcaflow_steps_deployers`` hook (the entry
points of group ``arcaflow.step_deployers`` name this module) and the lazy container factories.
"""

from __future__ import annotations

import importlib
import importlib.util
import threading
from collections.abc import Mapping
from typing import Any, Final, final

from arcaflow_steps import DeploymentError
from arcaflow_steps.schema import ScopeSchema

from ._protocols import Deployer, DeployerFactory
from .command import CommandDeployerFactory
from .hookspecs import hookimpl
from .python import PythonDeployerFactory

__all__ = ["LazyDeployerFactory", "arcaflow_steps_deployers"]

#: module -> (deployer name, deployment type) of the container deployers.
_CONTAINER_DEPLOYERS: Final = {"docker": ("docker", "image"), "podman": ("podman", "image")}


@final
class LazyDeployerFactory:
    """A deployer factory whose module is imported only when the deployer is first used.

    Listing deployers (``check``, ``describe``, a python-only run) then costs nothing for the
    container deployers; their modules load when an ``image`` step needs them.

    Thread safety: safe to share; the module is loaded once under a lock.
    """

    def __init__(self, module: str, deployer_name: str, deployment_type: str) -> None:
        self._module = module
        self.deployer_name: Final = deployer_name
        self.deployment_type: Final = deployment_type
        # Guards _factory (loaded once).
        self._lock = threading.Lock()
        self._factory: DeployerFactory | None = None

    def _load(self) -> DeployerFactory:
        with self._lock:
            if self._factory is None:
                try:
                    module = importlib.import_module(self._module)
                except ImportError as exc:
                    raise DeploymentError(
                        f"deployer {self.deployer_name!r} cannot be loaded: {exc}"
                    ) from exc
                for factory in module.deployer_factories():
                    if factory.deployer_name == self.deployer_name:
                        self._factory = factory
                        break
                else:
                    raise DeploymentError(
                        f"module {self._module!r} offers no deployer {self.deployer_name!r}"
                    )
            return self._factory

    def configuration_schema(self) -> ScopeSchema:
        """Return the real factory's configuration schema (loading its module)."""
        return self._load().configuration_schema()

    def create(self, config: Mapping[str, Any]) -> Deployer:
        """Create a deployer with the real factory (loading its module)."""
        return self._load().create(config)


def _container_factories() -> list[DeployerFactory]:
    factories: list[DeployerFactory] = []
    for module, (name, deployment_type) in _CONTAINER_DEPLOYERS.items():
        qualified = f"{__package__}.{module}"
        if importlib.util.find_spec(qualified) is not None:
            factories.append(LazyDeployerFactory(qualified, name, deployment_type))
    return factories


@hookimpl
def arcaflow_steps_deployers() -> list[DeployerFactory]:
    """Return the python and command deployers, plus docker and podman (loaded lazily)."""
    return [PythonDeployerFactory(), CommandDeployerFactory(), *_container_factories()]
