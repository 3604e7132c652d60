"""``arcaflow-steps describe KIND``: keywords, lifecycle (table and Mermaid) and schemas."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .._protocols import AnyProvider
from .._provider_rules import extension_owner

if TYPE_CHECKING:
    from .._extensions import ExtensionTable
from . import _add_format_option, _add_plugin_options
from ._common import emit, make_registry

__all__ = ["add_arguments", "describe_record", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``describe``."""
    parser.add_argument("kind", metavar="KIND", help="the step kind, as written after 'kind:'")
    _add_format_option(parser)
    _add_plugin_options(parser)


def _extension_tables(provider: AnyProvider) -> Sequence[ExtensionTable]:
    """Return what a provider shows about its extensions (:class:`ExtensionOwner`), if any."""
    owner = extension_owner(provider)
    return owner.extension_tables() if owner is not None else ()


def _type_text(field_type: dict[str, Any]) -> str:
    """Return a short human name of a serialized type (enum values, ref ids, scope roots)."""
    type_id = str(field_type.get("type_id", "?"))
    if type_id == "ref":
        return f"ref {field_type.get('id', '?')}"
    if type_id == "scope":
        return f"object {field_type.get('root', '?')}"
    if type_id == "object":
        return f"object {field_type.get('id', '?')}"
    if type_id in {"enum_string", "enum_integer"}:
        values = ", ".join(str(value) for value in field_type.get("values", {}))
        return f"one of {values}"
    if type_id == "list":
        return f"list of {_type_text(field_type.get('items', {}))}"
    return type_id


FieldRow = tuple[str, str, bool, str, str]


def _field_rows(properties: dict[str, Any]) -> list[FieldRow]:
    """Return (field, type, required, default, description) of serialized properties."""
    rows: list[FieldRow] = []
    for name, field in properties.items():
        display = field.get("display") or {}
        rows.append(
            (
                str(name),
                _type_text(field.get("type", {})),
                bool(field.get("required")),
                str(field.get("default") or ""),
                str(display.get("description", "")),
            )
        )
    return rows


def _provider_fields(provider_schema: dict[str, Any]) -> list[FieldRow]:
    """Return the rows of the provider keyword's object, if any."""
    rows: list[FieldRow] = []
    for prop in provider_schema.values():
        body = prop.get("type", {})
        if body.get("type_id") == "scope":
            body = body.get("objects", {}).get(body.get("root"), {})
        rows += _field_rows(body.get("properties", {}))
    return rows


def _runnable_schemas(provider: AnyProvider) -> dict[str, Any]:
    """Return the run schema and the stages' input and output schemas, as plain data.

    They belong to a loaded runnable, so the provider is loaded with its default
    configuration (no provider keyword). When that is not possible (the ``plugin`` provider
    needs a ``src``), ``schemas_unavailable`` says why.
    """
    from .._errors import ArcaflowStepsError
    from .._schema import serialize_property, serialize_scope
    from .._step_json_schema import runnable_schemas

    try:
        loaded = runnable_schemas(provider)
    except ArcaflowStepsError as exc:
        return {
            "schemas_unavailable": "the run keyword's and stages' schemas depend on the "
            f"provider keyword; without one: {exc}"
        }
    run_schema, lifecycle = loaded.run_schema, loaded.lifecycle
    return {
        "run_schema": {name: serialize_property(prop) for name, prop in run_schema.items()},
        "stage_schemas": {
            str(stage.id): {
                "input_schema": {
                    str(name): serialize_property(prop) for name, prop in stage.input_schema.items()
                },
                "outputs": {
                    str(output_id): {
                        "error": output.error,
                        "schema": serialize_scope(output.schema),
                    }
                    for output_id, output in stage.outputs.items()
                },
            }
            for stage in lifecycle.stages
        },
    }


def describe_record(provider: AnyProvider, source: Any) -> dict[str, Any]:
    """Return everything ``describe`` shows about a provider, as plain data."""
    from .._schema import serialize_property
    from ._diagram import lifecycle_mermaid

    lifecycle = provider.lifecycle()
    record: dict[str, Any] = {"kind": str(provider.kind)}
    if source is not None:
        record.update(
            distribution=source.distribution,
            version=source.version,
            entry_point=source.entry_point,
            module=source.module,
        )
    record.update(
        provider_keyword=provider.provider_keyword,
        run_keyword=provider.run_keyword,
        provider_schema={
            name: serialize_property(prop) for name, prop in provider.provider_schema().items()
        },
        lifecycle={
            "initial_stage": str(lifecycle.initial_stage),
            "stages": [
                {
                    "id": str(stage.id),
                    "input_fields": sorted(str(field) for field in stage.input_fields),
                    "next_stages": sorted(str(next_stage) for next_stage in stage.next_stages),
                    "terminal": stage.is_terminal,
                    "fatal": stage.fatal,
                    "input_only": stage.input_only,
                    "waiting_name": stage.waiting_name,
                    "running_name": stage.running_name,
                    "finished_name": stage.finished_name,
                }
                for stage in lifecycle.stages
            ],
        },
        mermaid=lifecycle_mermaid(lifecycle),
    )
    record.update(_runnable_schemas(provider))
    for extension_table in _extension_tables(provider):
        record[extension_table.title] = extension_table.data
    return record


def run(args: argparse.Namespace) -> int:
    """Describe one kind; an unknown or broken kind is an error (exit 1)."""
    registry = make_registry(args)
    try:
        provider = registry.get(args.kind)
        record = describe_record(provider, registry.source(args.kind))
        tables = _extension_tables(provider)
    finally:
        registry.close()

    def table() -> None:
        from rich.table import Table
        from rich.text import Text

        from ._common import console

        out = console()
        heading = f"kind {record['kind']!r}"
        if "distribution" in record:
            heading += (
                f" from {record['distribution']} {record['version']} "
                f"(entry point {record['entry_point']!r}, module {record['module']})"
            )
        out.print(Text(heading, style="bold"))
        out.print(Text(f"provider keyword: {record['provider_keyword']}"))
        out.print(Text(f"run keyword:      {record['run_keyword']}"))
        out.print(Text(f"initial stage:    {record['lifecycle']['initial_stage']}"))
        fields = _provider_fields(record["provider_schema"])
        if fields:
            out.print(_fields_table(f"provider keyword {record['provider_keyword']!r}", fields))
        if "run_schema" in record:
            out.print(
                _fields_table(
                    f"run keyword {record['run_keyword']!r}", _field_rows(record["run_schema"])
                )
            )
            out.print(_stage_inputs_table(record["stage_schemas"]))
            out.print(_outputs_table(record["stage_schemas"]))
        else:
            out.print(Text(str(record["schemas_unavailable"])))
        stages = Table(title="lifecycle", title_justify="left")
        for column in ("stage", "input fields", "next stages", "kind of stage"):
            stages.add_column(column)
        for stage in record["lifecycle"]["stages"]:
            what = (
                "input only"
                if stage["input_only"]
                else ("terminal" if stage["terminal"] else "")
                + (", fatal" if stage["fatal"] else "")
            )
            stages.add_row(
                Text(stage["id"]),
                Text(", ".join(stage["input_fields"])),
                Text(", ".join(stage["next_stages"])),
                Text(what.strip(", ")),
            )
        out.print(stages)
        for extension_table in tables:
            listing = Table(title=extension_table.title, title_justify="left")
            for column in extension_table.columns:
                listing.add_column(column)
            for row in extension_table.rows:
                listing.add_row(*(Text(cell) for cell in row))
            out.print(listing)
        out.print(Text("lifecycle diagram (Mermaid):"))
        out.print(Text("```mermaid\n" + record["mermaid"] + "```"))

    emit(record, args.format, table)
    return 0


_FIELD_COLUMNS = ("field", "type", "required", "default", "description")


def _table(title: str, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> Any:
    from rich.table import Table
    from rich.text import Text

    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*(Text(cell) for cell in row))
    return table


def _field_cells(row: FieldRow) -> tuple[str, ...]:
    name, type_text, required, default, description = row
    return (name, type_text, "yes" if required else "", default, description)


def _fields_table(title: str, rows: list[FieldRow]) -> Any:
    return _table(title, _FIELD_COLUMNS, [_field_cells(row) for row in rows])


def _stage_inputs_table(stage_schemas: dict[str, Any]) -> Any:
    rows = [
        (stage, *_field_cells(row))
        for stage, schemas in stage_schemas.items()
        for row in _field_rows(schemas["input_schema"])
    ]
    return _table("stage inputs", ("stage", *_FIELD_COLUMNS), rows)


def _outputs_table(stage_schemas: dict[str, Any]) -> Any:
    rows = []
    for stage, schemas in stage_schemas.items():
        for output_id, output in schemas["outputs"].items():
            scope = output["schema"]
            root = scope.get("objects", {}).get(scope.get("root"), {})
            fields = ", ".join(
                f"{name}{'' if prop.get('required') else '?'}: {_type_text(prop.get('type', {}))}"
                for name, prop in root.get("properties", {}).items()
            )
            rows.append((stage, output_id, "yes" if output["error"] else "", fields))
    return _table("outputs", ("stage", "output", "error", "fields"), rows)
