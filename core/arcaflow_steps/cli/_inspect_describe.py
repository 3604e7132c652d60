"""``arcaflow-steps describe KIND``: keywords, lifecycle (table and Mermaid) and schemas."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .._protocols import AnyProvider

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
    from .._extensions import ExtensionOwner

    return provider.extension_tables() if isinstance(provider, ExtensionOwner) else ()


def _provider_fields(provider_schema: dict[str, Any]) -> list[tuple[str, str, bool, str]]:
    """Return (field, type, required, description) of the provider keyword's object, if any."""
    rows: list[tuple[str, str, bool, str]] = []
    for prop in provider_schema.values():
        body = prop.get("type", {})
        if body.get("type_id") == "scope":
            body = body.get("objects", {}).get(body.get("root"), {})
        for name, field in body.get("properties", {}).items():
            field_type = field.get("type", {})
            type_id = str(field_type.get("type_id", "?"))
            if type_id == "ref":
                type_id = f"ref {field_type.get('id', '?')}"
            display = field.get("display") or {}
            rows.append(
                (name, type_id, bool(field.get("required")), str(display.get("description", "")))
            )
    return rows


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
            config = Table(
                title=f"provider keyword {record['provider_keyword']!r}", title_justify="left"
            )
            for column in ("field", "type", "required", "description"):
                config.add_column(column)
            for name, type_id, required, description in fields:
                config.add_row(
                    Text(name), Text(type_id), Text("yes" if required else ""), Text(description)
                )
            out.print(config)
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
