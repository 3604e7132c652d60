"""Reading the plugin-level forms: a step's schema (input, outputs, signals) and a plugin's
schema (its steps), as the ATP hello message carries them.
"""

from __future__ import annotations

from typing import Any

from ._form import (
    check_depth,
    read_bool,
    read_keyed,
    read_mapping,
    read_required,
    read_str,
    read_str_key,
)
from ._parse import parse_display, parse_scope
from ._plugin_records import PluginSchema, SignalSchema, StepOutputSchema, StepSchema

__all__ = ["parse_plugin_schema", "parse_step"]


def _parse_signal(data: Any, path: str) -> SignalSchema:
    data = read_mapping(data, path)
    return SignalSchema(
        id=read_str(read_required(data, "id", path), f"{path}.id"),
        data_schema=parse_scope(
            read_required(data, "data_schema", path), path=f"{path}.data_schema"
        ),
        display=parse_display(data.get("display"), f"{path}.display"),
    )


def _parse_output(data: Any, path: str) -> StepOutputSchema:
    data = read_mapping(data, path)
    return StepOutputSchema(
        schema=parse_scope(read_required(data, "schema", path), path=f"{path}.schema"),
        display=parse_display(data.get("display"), f"{path}.display"),
        error=read_bool(data, "error", path, default=False),
    )


def parse_step(data: Any, *, path: str = "$") -> StepSchema:
    """Return the step schema of the form."""
    check_depth(data, path)
    data = read_mapping(data, path)
    present: set[str] = set()
    signals: dict[str, dict[str, SignalSchema]] = {}
    for key in ("signal_handlers", "signal_emitters"):
        value = data.get(key)
        if value is not None:
            signals[key] = read_keyed(value, f"{path}.{key}", read_str_key, _parse_signal)
            if not signals[key]:
                present.add(key)
    return StepSchema(
        id=read_str(read_required(data, "id", path), f"{path}.id"),
        input=parse_scope(read_required(data, "input", path), path=f"{path}.input"),
        outputs=read_keyed(
            read_required(data, "outputs", path), f"{path}.outputs", read_str_key, _parse_output
        ),
        signal_handlers=signals.get("signal_handlers", {}),
        signal_emitters=signals.get("signal_emitters", {}),
        display=parse_display(data.get("display"), f"{path}.display"),
        present_empty=present,
    )


def parse_plugin_schema(data: Any, *, path: str = "$") -> PluginSchema:
    """Return the plugin schema of the form (what the ATP hello message carries).

    Raises:
        InvalidSchemaError: the data is not a valid plugin schema; the error names the path.
    """
    check_depth(data, path)
    data = read_mapping(data, path)
    steps_path = f"{path}.steps"
    return PluginSchema(
        steps=read_keyed(
            read_required(data, "steps", path),
            steps_path,
            read_str_key,
            lambda value, item_path: parse_step(value, path=item_path),
        )
    )
