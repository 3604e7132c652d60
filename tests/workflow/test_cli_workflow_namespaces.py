"""The ``-get-namespaces`` table, byte for byte as the Go engine 0.21.0 prints it."""

from __future__ import annotations

from arcaflow_steps.cli._namespace_table import namespace_table

#: `arcaflow -get-namespaces` of a one-step workflow (bench hello plugin, step s0), captured
#: from the Go engine 0.21.0 binary.
GO_TABLE = (
    "OBJECT                   NAMESPACE   \n"
    "ClosedInfo                $.steps.s0.closed.outputs.result\n"
    "Crashed                   $.steps.s0.crashed.outputs.error\n"
    "DeployError               $.steps.s0.deploy_failed.outputs.error\n"
    "DisabledMessageOutput     $.steps.s0.disabled.outputs.output\n"
    "EnabledOutput             $.steps.s0.enabling.outputs.resolved\n"
    "HelloOutput               $.steps.s0.outputs.outputs.success\n"
    "HelloInput                $.steps.s0.starting.inputs.input\n"
    "StartedOutput             $.steps.s0.starting.outputs.started\n"
)


def test_table_matches_the_go_engine_byte_for_byte() -> None:
    """Column width from the longest object id plus Go's padding; header ends in spaces."""
    rows = [(line[:26].strip(), line[26:]) for line in GO_TABLE.splitlines()[1:]]
    assert GO_TABLE == namespace_table(rows)


def test_short_ids_get_the_minimum_width() -> None:
    """Ids shorter than the header: the header's width plus padding decides."""
    assert "OBJECT   NAMESPACE   \nA         $.x\n" == namespace_table([("A", "$.x")])


def test_no_rows_print_nothing() -> None:
    """As the Go engine: nothing on stdout (it logs a warning instead)."""
    assert "" == namespace_table([])
