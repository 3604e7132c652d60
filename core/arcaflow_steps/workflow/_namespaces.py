"""Namespaces: the object schemas a workflow's steps publish, by name (reference §9).

Every step publishes, for every stage:

- ``$.steps.<id>.<stage>.inputs.<field>`` for each stage input field whose type is a scope or
  a list of scopes (``foreach``'s ``items`` publishes the sub-workflow's input scope);
- ``$.steps.<id>.<stage>.outputs.<output id>`` for each output the stage declares;
- ``<one of those>.<property>`` for a top-level property of such a scope that reuses the object
  of another namespace (a sub-workflow's input property typed through a namespaced ref).

Each namespace holds the objects of that scope. A workflow's ``input`` may use them
(``type_id: ref`` with a ``namespace``), and ``-get-namespaces`` prints them: one row per
object, sorted by namespace, then object id, as the Go engine does.

:func:`resolve_namespaced_refs` replaces each such ref of the input scope by a view of the
namespace's scope rooted at the object (``ScopeSchema(root=id, objects=<its objects>)``), so
the object's own refs keep resolving where they were declared and nothing is copied. An
unknown namespace lists every namespace with its objects; an unknown object id lists the
namespace's objects (the Go engine panics there).

Thread safety: the functions are safe to call from any thread.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs

from .._errors import quote_sorted
from .._lifecycle import Lifecycle, LifecycleStageWithSchema
from ..schema import (
    ListSchema,
    MapSchema,
    ObjectSchema,
    OneOfIntSchema,
    OneOfStringSchema,
    PropertySchema,
    RefSchema,
    ScopeSchema,
    TypeSchema,
)
from ._errors import InvalidWorkflowError

__all__ = ["namespace_rows", "resolve_namespaced_refs", "step_namespaces"]


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
                _publish(found, f"{prefix}.inputs.{field}", scope)
        for output_id, output in stage.outputs.items():
            _publish(found, f"{prefix}.outputs.{output_id}", output.schema)
    return found


def _publish(found: dict[str, ScopeSchema], namespace: str, scope: ScopeSchema) -> None:
    """Publish ``scope`` as ``namespace``, and a top-level property that reuses another
    namespace's object (a sub-workflow input's resolved ref) as ``namespace.<property>``."""
    found[namespace] = scope
    root = scope.objects.get(scope.root)
    if root is None:
        return
    for name, prop in root.properties.items():
        if isinstance(prop.type, ScopeSchema):
            found[f"{namespace}.{name}"] = prop.type


def namespace_rows(namespaces: Mapping[str, ScopeSchema]) -> tuple[tuple[str, str], ...]:
    """Return ``(object id, namespace)`` for every object of every namespace, sorted by
    namespace, then object id."""
    rows: Iterable[tuple[str, str]] = (
        (str(object_id), namespace)
        for namespace, scope in namespaces.items()
        for object_id in scope.objects
    )
    return tuple(sorted(rows, key=lambda row: (row[1], row[0])))


class _Resolver:
    """Rewrites the types that hold namespaced refs; shares every other record.

    Thread safety: not thread-safe; confine to one call.
    """

    def __init__(self, namespaces: Mapping[str, ScopeSchema], source: str) -> None:
        self.namespaces = namespaces
        self.source = source

    def ref(self, ref: RefSchema, path: str) -> TypeSchema:
        namespace = ref.namespace
        assert namespace is not None
        scope = self.namespaces.get(namespace)
        if scope is None:
            listing = "".join(
                f"\n  {name}: {', '.join(sorted(self.namespaces[name].objects))}"
                for name in sorted(self.namespaces)
            )
            raise InvalidWorkflowError(
                f"unknown namespace {namespace!r}; namespaces and their objects:"
                + (listing or " none"),
                path=f"{path}.namespace",
                source=self.source,
            )
        if ref.id not in scope.objects:
            raise InvalidWorkflowError(
                f"namespace {namespace!r} has no object {ref.id!r}; objects: "
                f"{quote_sorted(scope.objects)}",
                path=f"{path}.id",
                source=self.source,
            )
        return ScopeSchema(root=ref.id, objects=scope.objects)

    def type(self, schema: TypeSchema, path: str) -> TypeSchema:
        """Return ``schema`` with its namespaced refs resolved (itself when it has none)."""
        if isinstance(schema, RefSchema):
            return schema if schema.namespace is None else self.ref(schema, path)
        changes = self._changes(schema, path)
        return attrs.evolve(schema, **changes) if changes else schema

    def _changes(self, schema: TypeSchema, path: str) -> dict[str, Any]:
        if isinstance(schema, ObjectSchema):
            return self._mapping("properties", schema.properties, self.property, path)
        if isinstance(schema, ScopeSchema):
            return self._mapping("objects", schema.objects, self.type, path)
        if isinstance(schema, OneOfStringSchema | OneOfIntSchema):
            return self._mapping("types", schema.types, self.type, path)
        if isinstance(schema, ListSchema):
            items = self.type(schema.items, f"{path}.items")
            return {} if items is schema.items else {"items": items}
        if isinstance(schema, MapSchema):
            values = self.type(schema.values, f"{path}.values")
            return {} if values is schema.values else {"values": values}
        return {}

    @staticmethod
    def _mapping(
        field: str, mapping: Mapping[Any, Any], resolve: Callable[[Any, str], Any], path: str
    ) -> dict[str, Any]:
        resolved = {key: resolve(value, f"{path}.{field}.{key}") for key, value in mapping.items()}
        if all(resolved[key] is value for key, value in mapping.items()):
            return {}
        return {field: resolved}

    def property(self, prop: PropertySchema, path: str) -> PropertySchema:
        resolved = self.type(prop.type, f"{path}.type")
        return prop if resolved is prop.type else attrs.evolve(prop, type=resolved)


def resolve_namespaced_refs(
    scope: ScopeSchema, namespaces: Mapping[str, ScopeSchema], *, source: str
) -> ScopeSchema:
    """Return the input ``scope`` with every namespaced ref resolved (``scope`` itself when
    it has none).

    Raises:
        InvalidWorkflowError: a ref names an unknown namespace, or an object the namespace
            lacks (with the path in the file, ``input.objects.R.properties.p.type.id``).
    """
    resolved = _Resolver(namespaces, source).type(scope, "input")
    assert isinstance(resolved, ScopeSchema)
    return resolved
