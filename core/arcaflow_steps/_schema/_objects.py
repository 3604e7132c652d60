"""Validation of objects: properties, scopes, refs and one-of (see :mod:`._validate`).

A property's value is checked through the dispatch table (:mod:`._dispatch`), so objects nest
in lists, maps and each other without this module importing the container checks.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._error_records import ValidationProblem
from .._errors import quote
from ._defaults import default_value
from ._dispatch import CHECKERS, Problems
from ._records import (
    ObjectSchema,
    OneOfIntSchema,
    OneOfStringSchema,
    PropertySchema,
    RefSchema,
    ScopeSchema,
)
from ._scalars import _quote_sorted, describe_value

__all__ = ["check_object", "check_one_of", "check_properties", "check_ref", "check_scope"]


def _is_set(value: Mapping[str, Any], name: str) -> bool:
    return value.get(name) is not None


def check_properties(
    properties: Mapping[str, PropertySchema],
    value: Any,
    path: str,
    scope: ScopeSchema | None,
    problems: Problems,
) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        problems.append(
            ValidationProblem(path=path, message=f"expected a mapping, got {describe_value(value)}")
        )
        return {}
    result: dict[str, Any] = {}
    # The keys-view comparison runs in C; the common case (no unknown keys) costs one call.
    unknown = () if value.keys() <= properties.keys() else [k for k in value if k not in properties]
    for key in unknown:
        problems.append(
            ValidationProblem(
                path=path,
                message=f"unknown field {describe_value(key)}; valid fields: "
                f"{_quote_sorted(properties)}",
            )
        )
    for name, prop in properties.items():
        item = value.get(name)
        if item is not None:
            item_type = prop.type
            result[name] = CHECKERS[type(item_type)](
                item_type, item, f"{path}.{name}", scope, problems
            )
            for other in prop.conflicts:
                # Report a pair once even when both properties declare the conflict.
                if _is_set(value, other) and not (
                    other in result and name in properties[other].conflicts
                ):
                    problems.append(
                        ValidationProblem(
                            path=path,
                            message=f"field {quote(name)} conflicts with {quote(other)}; set "
                            "one of the two, not both",
                        )
                    )
            continue
        if prop.required:
            problems.append(
                ValidationProblem(path=path, message=f"missing required field {quote(name)}")
            )
            continue
        missing_reason = (
            _conditionally_required(prop, value)
            if prop.required_if or prop.required_if_not
            else None
        )
        if missing_reason is not None:
            problems.append(
                ValidationProblem(
                    path=path, message=f"missing field {quote(name)}, required {missing_reason}"
                )
            )
        elif prop.default is not None:
            item_type = prop.type
            result[name] = CHECKERS[type(item_type)](
                item_type, default_value(prop, scope), f"{path}.{name}", scope, problems
            )
    return result


def _conditionally_required(prop: PropertySchema, value: Mapping[str, Any]) -> str | None:
    for other in prop.required_if:
        if _is_set(value, other):
            return f"because {quote(other)} is set"
    if prop.required_if_not and not any(_is_set(value, other) for other in prop.required_if_not):
        if len(prop.required_if_not) == 1:
            return f"because {quote(prop.required_if_not[0])} is not set"
        return f"because none of {_quote_sorted(prop.required_if_not)} is set"
    return None


def check_object(
    schema: ObjectSchema, value: Any, path: str, scope: ScopeSchema | None, problems: Problems
) -> Any:
    return check_properties(schema.properties, value, path, scope, problems)


def check_scope(
    schema: ScopeSchema, value: Any, path: str, scope: ScopeSchema | None, problems: Problems
) -> Any:
    root = schema.objects.get(schema.root)
    if root is None:
        problems.append(
            ValidationProblem(
                path=path,
                message=f"schema error: scope root {schema.root!r} is not declared; declared "
                f"objects: {_quote_sorted(schema.objects)}",
            )
        )
        return value
    return check_properties(root.properties, value, path, schema, problems)


def check_ref(
    schema: RefSchema, value: Any, path: str, scope: ScopeSchema | None, problems: Problems
) -> Any:
    target = scope.objects.get(schema.id) if scope is not None else None
    if target is None:
        declared = _quote_sorted(scope.objects) if scope is not None else "none (no scope)"
        problems.append(
            ValidationProblem(
                path=path,
                message=f"schema error: ref {schema.id!r} does not name an object of the "
                f"enclosing scope; declared objects: {declared}",
            )
        )
        return value
    return check_properties(target.properties, value, path, scope, problems)


def check_one_of(
    schema: OneOfStringSchema | OneOfIntSchema,
    value: Any,
    path: str,
    scope: ScopeSchema | None,
    problems: Problems,
) -> Any:
    if not isinstance(value, Mapping):
        problems.append(
            ValidationProblem(path=path, message=f"expected a mapping, got {describe_value(value)}")
        )
        return value
    field = schema.discriminator_field_name
    if field not in value or value[field] is None:
        problems.append(
            ValidationProblem(
                path=path,
                message=f"missing discriminator field {quote(field)}; valid values: "
                f"{_quote_sorted(schema.types)}",
            )
        )
        return value
    discriminator = value[field]
    expected_type = str if isinstance(schema, OneOfStringSchema) else int
    types: Mapping[Any, ObjectSchema | RefSchema | ScopeSchema] = schema.types
    # As in the SDK, the value is not converted (no 1 -> "1"), but a bool is an int: True
    # picks member 1 (and comes back as 1).
    member = types.get(discriminator) if isinstance(discriminator, expected_type) else None
    if member is None:
        problems.append(
            ValidationProblem(
                path=f"{path}.{field}",
                message=f"invalid discriminator {describe_value(discriminator)}; "
                f"valid values: {_quote_sorted(schema.types)}",
            )
        )
        return value
    properties, member_scope = _object_properties(member, path, scope, problems)
    if properties is None:
        return value
    if field in properties:
        return check_properties(properties, value, path, member_scope, problems)
    rest = {key: item for key, item in value.items() if key != field}
    result = {field: int(discriminator) if expected_type is int else discriminator}
    result.update(check_properties(properties, rest, path, member_scope, problems))
    return result


def _object_properties(
    member: ObjectSchema | RefSchema | ScopeSchema,
    path: str,
    scope: ScopeSchema | None,
    problems: Problems,
) -> tuple[Mapping[str, PropertySchema] | None, ScopeSchema | None]:
    if isinstance(member, ObjectSchema):
        return member.properties, scope
    if isinstance(member, ScopeSchema):
        root = member.objects.get(member.root)
        if root is None:
            problems.append(
                ValidationProblem(
                    path=path,
                    message=f"schema error: scope root {member.root!r} is not declared; "
                    f"declared objects: {_quote_sorted(member.objects)}",
                )
            )
            return None, member
        return root.properties, member
    target = scope.objects.get(member.id) if scope is not None else None
    if target is None:
        problems.append(
            ValidationProblem(
                path=path,
                message=f"schema error: ref {member.id!r} does not name an object of the "
                "enclosing scope",
            )
        )
        return None, scope
    return target.properties, scope
