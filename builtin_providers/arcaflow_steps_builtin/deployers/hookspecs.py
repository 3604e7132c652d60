"""The deployers of the ``plugin`` provider: their hook, entry-point group and loading rules.

Deployers are the ``plugin`` provider's own extension axis (core knows nothing of them, as the
Go engine's step core does not). A deployer package declares one entry point per deployer in
the group ``arcaflow.step_deployers``, **named after its** ``deployer_name``; the entry point
names a module implementing :func:`arcaflow_steps_deployers` with this module's
:data:`hookimpl` (not ``arcaflow_steps.hookimpl``: the two hook sets are separate)::

    # pyproject.toml
    [project.entry-points."arcaflow.step_deployers"]
    ssh = "acme_steps.deployers"

    # acme_steps/deployers.py
    from arcaflow_steps_builtin.deployers.hookspecs import hookimpl

    @hookimpl
    def arcaflow_steps_deployers():
        return [SshDeployerFactory()]  # a DeployerFactory with deployer_name "ssh"

The plugin provider loads the group through the registry
(:meth:`arcaflow_steps.ProviderContext.extensions` with :data:`DEPLOYERS`), with the rules
kinds follow: a package that fails to import or register is a load failure naming its
distribution and entry point, and the others keep working; from the module of entry point
``N`` the factories whose ``deployer_name`` is ``N`` are kept (one module may serve several
entry points); a ``deployer_name`` offered twice for one deployment type is refused;
``ARCAFLOW_STEPS_DISABLE_PLUGINS`` and ``-p no:NAME`` block deployer entry points too.
``arcaflow-steps check`` reports the failures, ``list`` and ``describe plugin`` show the
deployers.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

import pluggy

from arcaflow_steps import ExtensionGroup

if TYPE_CHECKING:
    from ._protocols import DeployerFactory

__all__ = [
    "DEPLOYERS",
    "DEPLOYER_GROUP",
    "PROJECT_NAME",
    "arcaflow_steps_deployers",
    "hookimpl",
    "hookspec",
]

#: The pluggy project name of deployer hooks.
PROJECT_NAME: Final = "arcaflow_steps_deployers"
#: The entry-point group of deployer packages; entry points are named after the deployer.
DEPLOYER_GROUP: Final = "arcaflow.step_deployers"

#: Marks a function as the specification of a deployer hook (used by this module).
hookspec: Final = pluggy.HookspecMarker(PROJECT_NAME)
#: Marks a function in a deployer package as the implementation of a deployer hook.
hookimpl: Final = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def arcaflow_steps_deployers() -> Sequence[DeployerFactory]:
    """Return the deployer factories this package offers to the ``plugin`` provider.

    Called once per registry, the first time the plugin provider needs a deployer (or
    ``arcaflow-steps check``/``describe plugin`` lists them), on that thread.
    ``deployer_name`` must be unique per deployment type.
    """
    raise NotImplementedError  # pragma: no cover - a specification, never called


def _deployer_name(factory: DeployerFactory) -> str:
    return factory.deployer_name


def _deployment_type(factory: DeployerFactory) -> str:
    return factory.deployment_type


#: The deployers as an extension group of the ``plugin`` provider.
DEPLOYERS: Final = ExtensionGroup(
    group=DEPLOYER_GROUP,
    what="deployer",
    specs=sys.modules[__name__],
    project_name=PROJECT_NAME,
    hook="arcaflow_steps_deployers",
    name_of=_deployer_name,
    scope="deployment type",
    scope_of=_deployment_type,
)
