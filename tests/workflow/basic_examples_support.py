"""What the basic-examples tests and their Go recorder share (not a test module).

``EXAMPLES`` says how each example of ``basic_examples/`` runs (its flags, its environment)
and ``comparable`` turns an output document's data into what two runs on different machines
or engines can agree on: the metadata plugin's facts describe the machine, so they are
replaced by their shape (field -> type name).
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import attrs

__all__ = [
    "EXAMPLES",
    "EXAMPLES_DIR",
    "FACT_FIELDS",
    "PLUGIN_SOURCES",
    "VARIANTS",
    "Example",
    "Variant",
    "comparable",
]

EXAMPLES_DIR = Path(__file__).resolve().parent / "basic_examples"

#: The plugin sources the ported files name (relative to an example's directory), by the
#: module the Go engine's python deployer runs for them.
PLUGIN_SOURCES = {
    "plugin-example": "../../../plugins/plugin_example.py",
    "plugin-metadata": "../../../plugins/plugin_metadata.py",
    "plugin-template-python": "../../../plugins/plugin_template_python.py",
}

#: The metadata plugin's ``success`` fields (object ``SelectedFacts``), in schema order.
FACT_FIELDS = (
    "architecture",
    "fqdn",
    "kernel",
    "memtotal_mb",
    "swaptotal_mb",
    "processor_cores",
    "processor_count",
    "processor_threads_per_core",
    "product_name",
    "product_version",
    "system_vendor",
    "processor",
    "env",
    "uptime_seconds",
)


@attrs.frozen(kw_only=True)
class Example:
    """How one example runs: ``arcaflow-steps workflow ARGS`` in its directory."""

    name: str
    args: tuple[str, ...] = ()
    env: dict[str, str] = attrs.field(factory=dict)


#: Every example, with the input or config file it ships (the upstream README's command).
EXAMPLES = (
    Example(name="basic", args=("-input", "input.yaml")),
    Example(name="bind-constants", args=("-input", "input.yaml")),
    # The output is the plugin's $HOSTNAME (set in a container); here the test sets it.
    Example(name="config-file", args=("-config", "config.yaml"), env={"HOSTNAME": "example-host"}),
    Example(name="namespaced-scopes", args=("-input", "input.yaml")),
    Example(name="parallel", args=("-input", "input.yaml")),
    Example(name="quoting"),
    Example(name="serial-data_passing"),
    Example(name="serial-wait_for", args=("-input", "input.yaml")),
    Example(name="sub-workflow-foreach", args=("-input", "input.yaml")),
)


@attrs.frozen(kw_only=True)
class Variant:
    """An example run with another input (``-input`` a file holding ``input_text``)."""

    name: str
    example: str
    input_text: str


#: The examples' failure paths (and two edge cases) on real plugins, compared with Go too.
VARIANTS = (
    # The plugin's pattern refuses the value when the step starts (types agree before).
    Variant(name="nickname-not-letters", example="basic", input_text="nickname: Arca1ot\n"),
    Variant(name="input-missing-field", example="basic", input_text="{}\n"),
    Variant(
        name="fullname-without-last-name",
        example="namespaced-scopes",
        input_text="example_plugin_params:\n  name: {_type: fullname, first_name: Arca}\n",
    ),
    Variant(
        name="unknown-name-type",
        example="namespaced-scopes",
        input_text="example_plugin_params:\n  name: {_type: nope, nick: Arca}\n",
    ),
    # One item's step refuses its input: foreach ends in its error output, no workflow output.
    Variant(
        name="foreach-item-refused",
        example="sub-workflow-foreach",
        input_text=(
            "iterations:\n  - {loop_id: 1, nickname: John}\n  - {loop_id: 2, nickname: R1ngo}\n"
        ),
    ),
    Variant(
        name="foreach-no-items",
        example="bind-constants",
        input_text="repeated_inputs: {name: Beatle}\niterations: []\n",
    ),
    # A string of digits for an integer field: the SDKs accept it, so does the Go engine.
    Variant(
        name="loop-id-as-string",
        example="sub-workflow-foreach",
        input_text="iterations:\n  - {loop_id: '7', nickname: John}\n",
    ),
)


def _shape(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(key): _shape(item) for key, item in value.items()} if value else "map"
    return type(value).__name__


def comparable(data: Any, *, fqdn: str | None = None) -> Any:
    """Return ``data`` with what describes the machine replaced by placeholders.

    An object with exactly the fields of ``SelectedFacts`` becomes ``{field: type name}``
    (``env`` -> ``"map"``: its keys are the machine's); the greeting of the machine's name
    (serial-data_passing), ``Hello, <fqdn>!``, becomes ``Hello, <fqdn>!`` literally;
    everything else stays as it is.
    """
    fqdn = socket.getfqdn() if fqdn is None else fqdn
    if isinstance(data, dict):
        if set(data) == set(FACT_FIELDS):
            return {key: "map" if key == "env" else _shape(data[key]) for key in FACT_FIELDS}
        return {key: comparable(item, fqdn=fqdn) for key, item in data.items()}
    if isinstance(data, list):
        return [comparable(item, fqdn=fqdn) for item in data]
    if data == f"Hello, {fqdn}!":
        return "Hello, <fqdn>!"
    return data
