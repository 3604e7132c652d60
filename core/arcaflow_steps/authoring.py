"""The authoring aid: base classes that do a provider's bookkeeping.

:class:`BaseRunningStep` keeps the state, locks, callbacks and close of a running step, so a
provider is a few dozen lines of stage methods (:func:`on_stage`) that return what happens
next (:class:`Move`, :class:`Finish`, :class:`WaitForInput`); :class:`StepProviderBase`,
:class:`SimpleRunnableStep` and :class:`TypedProviderAdapter` do the same for the provider and
runnable step. See CONTRIBUTING.md, "Writing a provider".
"""

from __future__ import annotations

from ._authoring import BaseRunningStep
from ._outcomes import Finish, Move, Outcome, WaitForInput, on_stage
from ._provider_base import (
    SimpleRunnableStep,
    StepProviderBase,
    TypedProviderAdapter,
    without_schemas,
)

__all__ = [
    "BaseRunningStep",
    "Finish",
    "Move",
    "Outcome",
    "SimpleRunnableStep",
    "StepProviderBase",
    "TypedProviderAdapter",
    "WaitForInput",
    "on_stage",
    "without_schemas",
]

for _name in __all__:
    _value = globals()[_name]
    if isinstance(_value, type):
        _value.__module__ = __name__
