"""The built-in ``plugin`` provider (entry point ``plugin``).

See :mod:`arcaflow_steps_builtin.plugin._provider` for the step definition it accepts and
:mod:`arcaflow_steps_builtin.plugin._running` for what happens in each stage.
"""

from __future__ import annotations

from arcaflow_steps import ProviderContext, hookimpl

from ..deployers.hookspecs import DEPLOYERS
from ._provider import PluginProvider
from ._runnable import PluginRunnableStep, is_error_output
from ._running import PluginRunningStep
from ._stages import PLUGIN_LIFECYCLE, PluginStage

__all__ = [
    "PLUGIN_LIFECYCLE",
    "PluginProvider",
    "PluginRunnableStep",
    "PluginRunningStep",
    "PluginStage",
    "arcaflow_steps_providers",
    "is_error_output",
]


@hookimpl
def arcaflow_steps_providers(context: ProviderContext) -> list[PluginProvider]:
    """Offer the ``plugin`` provider; it loads its deployers through ``context``."""
    return [PluginProvider(lambda: context.extensions(DEPLOYERS).items)]
