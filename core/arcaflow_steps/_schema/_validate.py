"""Validation of values against schema records.

Theory of operation: :func:`validate` walks the schema and the value together, appending a
:class:`~arcaflow_steps.schema.ValidationProblem` (message + path) for everything wrong instead of
stopping at the first problem, and builds the validated value on the way: defaults are applied
to missing optional properties, integers given for floats become floats, and the discriminator
of a one-of is kept. When the walk ends with problems, one :class:`SchemaValidationError` lists
them all. Scalars are checked in :mod:`._scalars`, objects (properties, scopes, refs, one-of) in
:mod:`._objects`, lists and maps here; they recurse through one dispatch table
(:mod:`._dispatch`), which this module fills.

String patterns must match at the start of the string (``re.match``), as in the SDK. Lists
given for ``any`` must hold items of one type, as the SDK requires.

Values are converted as a plugin built with ``arcaflow-plugin-sdk`` 0.14.3 converts its own
input (``*Type.unserialize``), and the converted value is returned: an integer given for a
string becomes its decimal string, a string for a number is read with ``int()`` / ``float()``
(or with the schema's units, ``"2kB"``), ``0``/``1`` and words like ``"yes"``/``"off"`` are
booleans, ``True``/``2.0`` pick the integer enum member equal to them, map keys go through
their type's conversions. The conversions live in :mod:`._scalars`. A property whose value is
``None`` counts as not set (a YAML key without a value), as in the SDK. Nothing becomes a
string that was not a string or an integer.

Refs resolve in the innermost enclosing scope. Paths look like ``$.input.count``,
``$.items[2]`` and ``$.map['key']``.

Differences from ``arcaflow-plugin-sdk`` 0.14.3 (details in ``docs/schema-differences.md``):

- a boolean given for an integer comes back as ``0``/``1`` (the SDK keeps the ``bool``);
- the SDK's ``conflicts`` counts a key whose value is ``null`` as set; we count it as unset;
- for ``any`` lists the SDK accepts items of a subclass of the first item's type (``[1, true]``),
  we require one exact type;
- the SDK stops at the first problem, we report all; an unknown ``one_of_int`` discriminator
  makes the SDK fail with ``TypeError``, we report it; the SDK changes the given lists and
  one-of mappings in place, we never change the input;
- we return plain data with defaults applied, the SDK returns dataclasses.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._error_records import ValidationProblem
from .._errors import SchemaValidationError
from ._dispatch import CHECKERS, Problems
from ._objects import check_object, check_one_of, check_properties, check_ref, check_scope
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
from ._scalar_texts import without_scalar_texts
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
    describe_value,
)

__all__ = [
    "check_value",
    "describe_value",
    "validate",
    "validate_properties",
]


def _check_size(
    schema: ListSchema | MapSchema, size: int, word: str, path: str, problems: Problems
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
    schema: ListSchema, value: Any, path: str, scope: ScopeSchema | None, problems: Problems
) -> Any:
    if not isinstance(value, list | tuple):
        problems.append(
            ValidationProblem(path=path, message=f"expected a list, got {describe_value(value)}")
        )
        return value
    _check_size(schema, len(value), "item", path, problems)
    items = schema.items
    check = CHECKERS[type(items)]
    return [
        check(items, item, f"{path}[{index}]", scope, problems) for index, item in enumerate(value)
    ]


def _check_map(
    schema: MapSchema, value: Any, path: str, scope: ScopeSchema | None, problems: Problems
) -> Any:
    if not isinstance(value, Mapping):
        problems.append(
            ValidationProblem(path=path, message=f"expected a mapping, got {describe_value(value)}")
        )
        return value
    _check_size(schema, len(value), "item", path, problems)
    keys, values = schema.keys, schema.values
    check_key = CHECKERS[type(keys)]
    check_value = CHECKERS[type(values)]
    result: dict[Any, Any] = {}
    for key, item in value.items():
        item_path = _key_path(path, key)
        before = len(problems)
        with without_scalar_texts():  # a key is not the value written at its path
            converted = check_key(keys, key, item_path, scope, problems)
        if len(problems) > before:
            problems[before:] = [
                ValidationProblem(path=problem.path, message=f"invalid key: {problem.message}")
                for problem in problems[before:]
            ]
        elif converted in result:
            # Two keys converted to one ({1: …, "1": …} with string keys): the SDK refuses too.
            problems.append(
                ValidationProblem(
                    path=item_path,
                    message=f"invalid key: {describe_value(key)} is the key "
                    f"{describe_value(converted)} once converted, which is already set",
                )
            )
        result[converted] = check_value(values, item, item_path, scope, problems)
    return result


CHECKERS.update(
    {
        StringSchema: _check_string,
        PatternSchema: _check_pattern,
        IntSchema: _check_int,
        FloatSchema: _check_float,
        BoolSchema: _check_bool,
        StringEnumSchema: _check_string_enum,
        IntEnumSchema: _check_int_enum,
        ListSchema: _check_list,
        MapSchema: _check_map,
        ObjectSchema: check_object,
        ScopeSchema: check_scope,
        RefSchema: check_ref,
        OneOfStringSchema: check_one_of,
        OneOfIntSchema: check_one_of,
        AnySchema: _check_any,
    }
)


def validate(schema: TypeSchema, value: Any, *, path: str = "$") -> Any:
    """Return ``value`` validated against ``schema``, with defaults applied.

    Raises:
        SchemaValidationError: listing every problem found, each with its path.
    """
    problems: Problems = []
    try:
        check = CHECKERS[type(schema)]
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
    problems: Problems = []
    result = check_properties(properties, value, path, scope, problems)
    if problems:
        raise SchemaValidationError(problems)
    return result


def check_value(
    schema: TypeSchema, value: Any, scope: ScopeSchema | None, *, path: str = "$"
) -> list[ValidationProblem]:
    """Return the problems of ``value`` against ``schema``, refs resolving in ``scope``."""
    problems: Problems = []
    CHECKERS[type(schema)](schema, value, path, scope, problems)
    return problems
