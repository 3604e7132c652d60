"""Namespaces: the object schemas a workflow's steps publish, by name (reference §9).

Every step publishes, for every stage:

- ``$.steps.<id>.<stage>.inputs.<field>`` for each stage input field whose type is a scope or
  a list of scopes (``foreach``'s ``items`` publishes the sub-workflow's input scope);
- ``$.steps.<id>.<stage>.outputs.<output id>`` for each output the stage declares.

Each namespace holds the objects of that scope. A workflow's ``input`` may use them
(``type_id: ref`` with a ``namespace``), and ``-get-namespaces`` prints them: one row per
object, sorted by namespace, then object id, as the Go engine does.

Thread safety: the functions are safe to call from any thread.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from .._lifecycle import Lifecycle, LifecycleStageWithSchema
from ..schema import ListSchema, ScopeSchema, TypeSchema

__all__ = ["namespace_rows", "step_namespaces"]


def _published_scope(type_schema: TypeSchema) -> ScopeSchema | None:
    if isinstance(type_schema, ListSchema):
        type_schema = type_schema.items
    return type_schema if isinstance(type_schema, ScopeSchema) else None


def step_namespaces(
    step_id: str, lifecycle: Lifecycle[LifecycleStageWithSchema]
) -> dict[str, ScopeSchema]:
    """Return namespace -> scope for every namespace step ``step_id`` publishes."""
    found: dict[str, ScopeSchema] = {}
    for stage in lifecycle.stages:
        prefix = f"$.steps.{step_id}.{stage.id}"
        for field, prop in stage.input_schema.items():
            scope = _published_scope(prop.type)
            if scope is not None:
                found[f"{prefix}.inputs.{field}"] = scope
        for output_id, output in stage.outputs.items():
            found[f"{prefix}.outputs.{output_id}"] = output.schema
    return found


def namespace_rows(namespaces: Mapping[str, ScopeSchema]) -> tuple[tuple[str, str], ...]:
    """Return ``(object id, namespace)`` for every object of every namespace, sorted by
    namespace, then object id."""
    rows: Iterable[tuple[str, str]] = (
        (str(object_id), namespace)
        for namespace, scope in namespaces.items()
        for object_id in scope.objects
    )
    return tuple(sorted(rows, key=lambda row: (row[1], row[0])))
