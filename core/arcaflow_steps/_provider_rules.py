"""The rules a provider must follow before the registry hands it out.

(Its schemas' meaning — defaults of their type, ``min <= max``, unique object ids — is decided
by ``_schema_rules.py``, shared with ``prepare_step`` and the conformance kit.)

A step definition is one flat mapping: ``kind``, the provider keyword, the run keyword and the
stage input fields share its keys. So they must all be distinct and none may be ``kind``, or a
definition could not say which value goes where. The lifecycle must be a valid DAG
(:meth:`Lifecycle.validate`). The conformance kit calls :func:`validate_provider` too, so the
rules live in one place.

Optional members (``schema_hint_fields``, ``close``, ``extension_groups`` with
``extension_tables``) are declared protocols, not runtime-checkable ones: they are checked here,
once, and read with :func:`schema_hint_fields`, :func:`closable` and :func:`extension_owner`
(by name, with a typed cast), never with ``isinstance``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final, cast

from ._entry_points import is_valid_name
from ._errors import InvalidProviderError, quote, quote_sorted
from ._lifecycle import Lifecycle, LifecycleStage
from ._protocols import AnyProvider

if TYPE_CHECKING:
    from ._extensions import ExtensionOwner
    from ._protocols import ClosableProvider

__all__ = [
    "KIND_KEY",
    "REQUIRED_MEMBERS",
    "adapt_provider",
    "closable",
    "extension_owner",
    "schema_hint_fields",
    "validate_provider",
]

#: The step-definition key that selects the provider.
KIND_KEY: Final = "kind"
#: What every provider (typed or untyped) must have.
REQUIRED_MEMBERS: Final = (
    "kind",
    "lifecycle",
    "load_schema",
    "provider_keyword",
    "provider_schema",
    "run_keyword",
)

_KEYWORD_RULE: Final = (
    "the provider keyword, the run keyword and every stage input field must be distinct "
    "and none may be 'kind'"
)


def adapt_provider(provider: Any) -> AnyProvider:
    """Return the untyped face of a provider: ``provider.any()`` if it has one, else itself.

    Raises:
        InvalidProviderError: a required member is missing.
    """
    adapted: Any = provider.any() if callable(getattr(provider, "any", None)) else provider
    missing = [name for name in REQUIRED_MEMBERS if not hasattr(adapted, name)]
    if missing:
        kind = getattr(adapted, "kind", None)
        raise InvalidProviderError(
            str(kind) if isinstance(kind, str) else type(provider).__name__,
            f"{type(adapted).__name__} lacks {', '.join(repr(name) for name in missing)}; "
            f"a provider needs {', '.join(repr(name) for name in REQUIRED_MEMBERS)}",
        )
    result: AnyProvider = adapted
    return result


def validate_provider(provider: AnyProvider) -> None:
    """Raise unless the provider's kind, keywords and lifecycle follow the registry's rules.

    Raises:
        InvalidProviderError: bad kind, keyword, a collision between keywords, or a provider
            schema that does not describe exactly the provider keyword.
        InvalidLifecycleError: the lifecycle is not a DAG with one initial stage from which
            every stage is reachable.
    """
    kind = provider.kind
    if not isinstance(kind, str) or not is_valid_name(kind):
        raise InvalidProviderError(
            str(kind), f"kind {kind!r} is not a valid name; use lowercase [a-z][a-z0-9_-]*"
        )
    lifecycle = provider.lifecycle()
    if not isinstance(lifecycle, Lifecycle):
        raise InvalidProviderError(
            kind,
            f"lifecycle() returned {type(lifecycle).__name__}, expected arcaflow_steps.Lifecycle",
        )
    _check_keywords(kind, provider.provider_keyword, provider.run_keyword, lifecycle)
    lifecycle.validate(kind)
    _check_provider_schema(kind, provider)
    _check_optional_members(kind, provider)


def schema_hint_fields(provider: AnyProvider) -> frozenset[str]:
    """Return the provider's :class:`~arcaflow_steps.SchemaHintProvider` fields (or none)."""
    # Read by name: a runtime protocol check costs ~14 us, about what the rest of prepare_step
    # costs for a simple step. prepare_step may get a provider the registry never checked, so
    # anything but strings is ignored here too.
    fields: Any = getattr(provider, "schema_hint_fields", None)
    if not fields or isinstance(fields, str):
        return frozenset()
    return frozenset(field for field in fields if isinstance(field, str))


def closable(provider: AnyProvider) -> ClosableProvider | None:
    """Return the provider as a :class:`~arcaflow_steps.ClosableProvider` if it has ``close``
    (checked callable by :func:`validate_provider`)."""
    if getattr(provider, "close", None) is None:
        return None
    return cast("ClosableProvider", provider)


def extension_owner(provider: AnyProvider) -> ExtensionOwner | None:
    """Return the provider as an :class:`~arcaflow_steps.ExtensionOwner` if it declares its
    extension groups (both members checked by :func:`validate_provider`)."""
    if getattr(provider, "extension_groups", None) is None:
        return None
    return cast("ExtensionOwner", provider)


def _check_optional_members(kind: str, provider: AnyProvider) -> None:
    hints = getattr(provider, "schema_hint_fields", None)
    if hints is not None and (
        isinstance(hints, str | bytes)
        or not isinstance(hints, frozenset | set | tuple | list)
        or not all(isinstance(field, str) for field in hints)
    ):
        raise InvalidProviderError(
            kind,
            f"schema_hint_fields must be a set of stage input field names "
            f"(arcaflow_steps.SchemaHintProvider), got {hints!r}",
        )
    members = {
        name: getattr(provider, name, None)
        for name in ("close", "extension_groups", "extension_tables")
    }
    for name, member in members.items():
        if member is not None and not callable(member):
            raise InvalidProviderError(
                kind, f"{name} must be a method, got {type(member).__name__}"
            )
    groups, tables = members["extension_groups"], members["extension_tables"]
    if (groups is None) != (tables is None):
        has, lacks = (
            ("extension_groups", "extension_tables")
            if tables is None
            else ("extension_tables", "extension_groups")
        )
        raise InvalidProviderError(
            kind,
            f"it has {has} but not {lacks}; arcaflow_steps.ExtensionOwner needs both, or neither",
        )


def _check_provider_schema(kind: str, provider: AnyProvider) -> None:
    # The schema package is not needed to list kinds.
    from ._schema import PropertySchema
    from ._schema_rules import schema_problem

    schema = provider.provider_schema()
    keys = sorted(str(key) for key in schema) if isinstance(schema, Mapping) else None
    if keys != [provider.provider_keyword]:
        got = "no mapping" if keys is None else f"keys {quote_sorted(keys)}"
        raise InvalidProviderError(
            kind,
            f"provider_schema() must map exactly the provider keyword "
            f"{provider.provider_keyword!r} to its property, got {got}",
        )
    prop = schema[provider.provider_keyword]
    if not isinstance(prop, PropertySchema):
        raise InvalidProviderError(
            kind,
            f"provider_schema()[{provider.provider_keyword!r}] must be an "
            f"arcaflow_steps.schema.PropertySchema, got {type(prop).__name__}",
        )
    problem = schema_problem(prop)
    if problem is not None:
        raise InvalidProviderError(
            kind,
            f"provider_schema()[{provider.provider_keyword!r}] is not a valid schema: {problem}",
        )


def _check_keywords(
    kind: str, provider_keyword: Any, run_keyword: Any, lifecycle: Lifecycle[LifecycleStage]
) -> None:
    owners: dict[str, str] = {}

    def claim(key: Any, role: str, stage: str | None = None) -> None:
        where = f" of stage {quote(stage)}" if stage is not None else ""
        if not isinstance(key, str) or not key:
            raise InvalidProviderError(
                kind, f"{role}{where} {quote(key)} must be a non-empty string"
            )
        if key == KIND_KEY:
            raise InvalidProviderError(
                kind, f"{role} 'kind'{where} is reserved for the step kind; {_KEYWORD_RULE}"
            )
        owner = owners.get(key)
        if owner is not None:
            raise InvalidProviderError(
                kind, f"{role} {quote(key)}{where} is also the {owner}; {_KEYWORD_RULE}"
            )
        owners[key] = role + where

    claim(provider_keyword, "provider keyword")
    claim(run_keyword, "run keyword")
    for stage in sorted(lifecycle.stages, key=lambda stage: str(stage.id)):
        for field in sorted(stage.input_fields):
            claim(field, "input field", str(stage.id))
