"""Validation of values against schema records.

Theory of operation: :func:`validate` walks the schema and the value together, appending a
:class:`~arcaflow_steps.schema.ValidationProblem` (message + path) for everything wrong instead of
stopping at the first problem, and builds the validated value on the way: defaults are applied
to missing optional properties, integers given for floats become floats, and the discriminator
of a one-of is kept. When the walk ends with problems, one :class:`SchemaValidationError` lists
them all.

String patterns must match at the start of the string (``re.match``), as in the SDK. Lists
given for ``any`` must hold items of one type, as the SDK requires.

Typing is strict: a string is never turned into a number, a boolean is not an integer (YAML
``true`` stays a boolean), only an integer is accepted where a float is expected. A property
whose value is ``None`` counts as not set (a YAML key without a value), as in the SDK.

Refs resolve in the innermost enclosing scope. Paths look like ``$.input.count``,
``$.items[2]`` and ``$.map['key']``.

Differences from ``arcaflow-plugin-sdk`` 0.14.3 (details in ``docs/schema-differences.md``):

- the SDK silently coerces, and we reject: integers to strings; strings (also with units, such
  as ``"2kB"``) to integers and floats; booleans to integers and floats; ``0``/``1`` and words
  like ``"yes"``/``"off"`` to booleans; ``true``/``2.0`` to integer enum members; map keys
  through the same rules;
- the SDK's ``conflicts`` counts a key whose value is ``null`` as set; we count it as unset;
- for ``any`` lists the SDK accepts items of a subclass of the first item's type (``[1, true]``),
  we require one exact type;
- the SDK stops at the first problem, we report all; an unknown ``one_of_int`` discriminator
  makes the SDK fail with ``TypeError``, we report it;
- we return plain data with defaults applied, the SDK returns dataclasses.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

from .._error_records import ValidationProblem
from .._errors import SchemaValidationError, quote
from ._defaults import default_value
from ._records import (
    AnySchema,
    BoolSchema,
    FloatSchema,
    IntEnumSchema,
    IntSchema,
    ListSchema,
    MapSchema,
    ObjectSchema,
    OneOfIntSchema,
    OneOfStringSchema,
    PatternSchema,
    PropertySchema,
    RefSchema,
    ScopeSchema,
    StringEnumSchema,
    StringSchema,
    TypeSchema,
)
from ._scalars import (
    _check_any,
    _check_bool,
    _check_float,
    _check_int,
    _check_int_enum,
    _check_pattern,
    _check_string,
    _check_string_enum,
    _key_path,
    _plural,
    _quote_sorted,
    describe_value,
)

__all__ = [
    "check_value",
    "describe_value",
    "validate",
    "validate_properties",
]

_Problems = list[ValidationProblem]
_Checker = Callable[[Any, Any, str, "ScopeSchema | None", _Problems], Any]


def _check_size(
    schema: ListSchema | MapSchema, size: int, word: str, path: str, problems: _Problems
) -> None:
    if schema.min is not None and size < schema.min:
        problems.append(
            ValidationProblem(
                path=path, message=f"expected at least {_plural(schema.min, word)}, got {size}"
            )
        )
    if schema.max is not None and size > schema.max:
        problems.append(
            ValidationProblem(
                path=path, message=f"expected at most {_plural(schema.max, word)}, got {size}"
            )
        )


def _check_list(
    schema: ListSchema, value: Any, path: str, scope: ScopeSchema | None, problems: _Problems
) -> Any:
    if not isinstance(value, list | tuple):
        problems.append(
            ValidationProblem(path=path, message=f"expected a list, got {describe_value(value)}")
        )
        return value
    _check_size(schema, len(value), "item", path, problems)
    items = schema.items
    check = _CHECKERS[type(items)]
    return [
        check(items, item, f"{path}[{index}]", scope, problems) for index, item in enumerate(value)
    ]


def _check_map(
    schema: MapSchema, value: Any, path: str, scope: ScopeSchema | None, problems: _Problems
) -> Any:
    if not isinstance(value, Mapping):
        problems.append(
            ValidationProblem(path=path, message=f"expected a mapping, got {describe_value(value)}")
        )
        return value
    _check_size(schema, len(value), "item", path, problems)
    keys, values = schema.keys, schema.values
    check_key = _CHECKERS[type(keys)]
    check_value = _CHECKERS[type(values)]
    result: dict[Any, Any] = {}
    for key, item in value.items():
        item_path = _key_path(path, key)
        before = len(problems)
        check_key(keys, key, item_path, scope, problems)
        if len(problems) > before:
            problems[before:] = [
                ValidationProblem(path=problem.path, message=f"invalid key: {problem.message}")
                for problem in problems[before:]
            ]
        result[key] = check_value(values, item, item_path, scope, problems)
    return result


def _is_set(value: Mapping[str, Any], name: str) -> bool:
    return value.get(name) is not None


def _check_properties(
    properties: Mapping[str, PropertySchema],
    value: Any,
    path: str,
    scope: ScopeSchema | None,
    problems: _Problems,
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
            result[name] = _CHECKERS[type(item_type)](
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
            result[name] = _CHECKERS[type(item_type)](
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


def _check_object(
    schema: ObjectSchema, value: Any, path: str, scope: ScopeSchema | None, problems: _Problems
) -> Any:
    return _check_properties(schema.properties, value, path, scope, problems)


def _check_scope(
    schema: ScopeSchema, value: Any, path: str, scope: ScopeSchema | None, problems: _Problems
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
    return _check_properties(root.properties, value, path, schema, problems)


def _check_ref(
    schema: RefSchema, value: Any, path: str, scope: ScopeSchema | None, problems: _Problems
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
    return _check_properties(target.properties, value, path, scope, problems)


def _check_one_of(
    schema: OneOfStringSchema | OneOfIntSchema,
    value: Any,
    path: str,
    scope: ScopeSchema | None,
    problems: _Problems,
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
    member = (
        types.get(discriminator)
        if isinstance(discriminator, expected_type) and not isinstance(discriminator, bool)
        else None
    )
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
        return _check_properties(properties, value, path, member_scope, problems)
    rest = {key: item for key, item in value.items() if key != field}
    result = {field: discriminator}
    result.update(_check_properties(properties, rest, path, member_scope, problems))
    return result


def _object_properties(
    member: ObjectSchema | RefSchema | ScopeSchema,
    path: str,
    scope: ScopeSchema | None,
    problems: _Problems,
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


_CHECKERS: Final[dict[type[Any], _Checker]] = {
    StringSchema: _check_string,
    PatternSchema: _check_pattern,
    IntSchema: _check_int,
    FloatSchema: _check_float,
    BoolSchema: _check_bool,
    StringEnumSchema: _check_string_enum,
    IntEnumSchema: _check_int_enum,
    ListSchema: _check_list,
    MapSchema: _check_map,
    ObjectSchema: _check_object,
    ScopeSchema: _check_scope,
    RefSchema: _check_ref,
    OneOfStringSchema: _check_one_of,
    OneOfIntSchema: _check_one_of,
    AnySchema: _check_any,
}


def validate(schema: TypeSchema, value: Any, *, path: str = "$") -> Any:
    """Return ``value`` validated against ``schema``, with defaults applied.

    Raises:
        SchemaValidationError: listing every problem found, each with its path.
    """
    problems: _Problems = []
    try:
        check = _CHECKERS[type(schema)]
    except KeyError:
        raise TypeError(f"not a schema type record: {schema!r}") from None
    result = check(schema, value, path, schema if type(schema) is ScopeSchema else None, problems)
    if problems:
        raise SchemaValidationError(problems)
    return result


def validate_properties(
    properties: Mapping[str, PropertySchema],
    value: Mapping[str, Any],
    *,
    path: str = "$",
    scope: ScopeSchema | None = None,
) -> dict[str, Any]:
    """Return ``value`` validated as a mapping of the named ``properties``, defaults applied.

    Unknown keys, missing required properties and invalid values are all reported. Refs in the
    properties' types resolve in ``scope``.

    Raises:
        SchemaValidationError: listing every problem found, each with its path.
    """
    problems: _Problems = []
    result = _check_properties(properties, value, path, scope, problems)
    if problems:
        raise SchemaValidationError(problems)
    return result


def check_value(
    schema: TypeSchema, value: Any, scope: ScopeSchema | None, *, path: str = "$"
) -> list[ValidationProblem]:
    """Return the problems of ``value`` against ``schema``, refs resolving in ``scope``."""
    problems: _Problems = []
    _CHECKERS[type(schema)](schema, value, path, scope, problems)
    return problems
