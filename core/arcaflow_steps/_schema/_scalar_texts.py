"""The text a scalar was written as, for a string field given a number or a boolean.

The Go engine reads every scalar of a workflow file and its input file as its text, so a string
field given ``true`` gets ``"true"``, given ``3.10`` gets ``"3.10"``, given ``0x10`` gets
``"0x10"``. Our YAML 1.2 loader types scalars (``true`` a bool, ``3.10`` the float 3.1,
``0x10`` the int 16), and the plugin SDK's conversions for a string field give ``"True"`` and
``"16"`` and refuse floats. Within :func:`scalar_texts`, validation of a string field that was
given a bool, int or float at a path the mapping knows takes the text written there instead;
every other value and field type is validated as before. The mapping's keys are paths as the
validator writes them, a map's keys as fields (``steps.a.input.env.HOME``, ``$.input.xs[0]``).

Thread safety: the texts are a context variable: each thread (and each copied context) sees
its own.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from typing import Final

__all__ = [
    "canonical_path",
    "scalar_text",
    "scalar_texts",
    "scalar_texts_active",
    "without_scalar_texts",
]

_TEXTS: Final[ContextVar[Mapping[str, str] | None]] = ContextVar(
    "arcaflow_steps_scalar_texts", default=None
)
_NO_CHANGE: Final = contextlib.nullcontext()
#: A map key as the validator writes it: ``['key']`` (``repr`` of a string key).
_MAP_KEY: Final = re.compile(r"\[('(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")\]")


@contextlib.contextmanager
def scalar_texts(texts: Mapping[str, str]) -> Iterator[None]:
    """Within the block, a bool, int or float validated as a string at a path of ``texts``
    becomes the text given for that path."""
    token = _TEXTS.set(texts)
    try:
        yield
    finally:
        _TEXTS.reset(token)


def scalar_texts_active() -> bool:
    """Return whether texts apply here (inside :func:`scalar_texts` with some texts)."""
    return bool(_TEXTS.get())


def without_scalar_texts() -> contextlib.AbstractContextManager[None]:
    """Return a context in which no texts apply (a map's keys: a key at ``m[1]`` is not the
    value written there); outside :func:`scalar_texts` a shared no-op."""
    return scalar_texts({}) if _TEXTS.get() else _NO_CHANGE


def scalar_text(value: object, path: str) -> str | None:
    """Return the text ``value`` was written as at ``path``, if it is a number or a boolean
    and the current texts know the path."""
    texts = _TEXTS.get()
    if not texts or not isinstance(value, bool | int | float):
        return None
    return texts.get(canonical_path(path))


def canonical_path(path: str) -> str:
    """Return ``path`` with map keys written as fields: ``a['b'].c`` -> ``a.b.c``."""
    if "[" not in path:
        return path
    import ast

    return _MAP_KEY.sub(lambda match: "." + str(ast.literal_eval(match[1])), path)
