"""Static typing of expressions against the type of ``$``.

:func:`infer_type` gives the type of an expression's value (templates, data with
expressions inside, are typed by ``workflow._template_types`` on top of it). The planner
builds the type of ``$`` (an object with ``input``, the input scope, and
``steps.<id>.<stage>.<output id>``, each output a scope) and checks the inferred types with
:func:`~._compatible.assignable_problems`.

Theory of operation: one walk over the syntax tree, each node giving its type and the scope
its refs resolve in (the innermost :class:`~arcaflow_steps.schema.ScopeSchema` above it). Refs
and scopes are resolved only where a value is looked into, never copied; the type handed out
is made self-contained with :func:`~._scoped.detach`. Work is linear in the expression's size.

Where we differ from the Go engine (each also in ``docs/expressions.md``):

- brackets work on objects (``$.steps["my-step"]``: a literal key is a field name; a computed
  string key gives ``any``) and dots on maps with string keys (``$.input.m.key``);
- dot access on a one-of reads a field every option has (its type, or ``any`` when the
  options disagree); the discriminator is such a field;
- ``any`` operands and arguments are accepted (checked when evaluated): ``$.any_value + 1``
  is an integer, ``!$.any_value`` a boolean; integer and string enums act as integers and
  strings;
- an integer argument fits a float parameter (``ceil(1)``), as integers fit floats elsewhere.

Thread safety: safe to share (pure functions over immutable records).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final, TypeAlias

from ...schema import (
    AnySchema,
    BoolSchema,
    FloatSchema,
    IntSchema,
    ListSchema,
    MapSchema,
    ObjectSchema,
    OneOfIntSchema,
    OneOfStringSchema,
    ScopeSchema,
    StringEnumSchema,
    StringSchema,
    TypeSchema,
)
from .._errors import ExpressionTypeError
from ._ast import (
    Attribute,
    Binary,
    BinaryOperator,
    Call,
    Expression,
    Index,
    Literal,
    Node,
    Root,
    Unary,
    UnaryOperator,
)
from ._compatible import assignable_problems
from ._format import format_node
from ._functions import FUNCTIONS, Function
from ._scoped import UnresolvedRefError, describe, detach, kind, resolve

__all__ = ["infer_type"]

#: A type and the scope its refs resolve in.
_Typed: TypeAlias = tuple[TypeSchema, ScopeSchema | None]

_ARITHMETIC: Final = frozenset(
    {
        BinaryOperator.SUBTRACT,
        BinaryOperator.MULTIPLY,
        BinaryOperator.DIVIDE,
        BinaryOperator.MODULO,
        BinaryOperator.POWER,
    }
)
#: The operand kinds each operator takes (reference §5.4).
_OPERAND_KINDS: Final[dict[BinaryOperator, tuple[str, ...]]] = {
    BinaryOperator.ADD: ("integer", "float", "string"),
    **dict.fromkeys(_ARITHMETIC, ("integer", "float")),
    **dict.fromkeys(
        (
            BinaryOperator.LESS,
            BinaryOperator.LESS_EQUAL,
            BinaryOperator.GREATER,
            BinaryOperator.GREATER_EQUAL,
        ),
        ("integer", "float", "string"),
    ),
    **dict.fromkeys(
        (BinaryOperator.EQUAL, BinaryOperator.NOT_EQUAL), ("integer", "float", "string", "bool")
    ),
    **dict.fromkeys((BinaryOperator.AND, BinaryOperator.OR), ("bool",)),
}
_FRESH: Final[dict[str, TypeSchema]] = {
    "integer": IntSchema(),
    "float": FloatSchema(),
    "string": StringSchema(),
    "bool": BoolSchema(),
}
_ANY: Final = AnySchema()


def infer_type(expression: Expression, root: TypeSchema) -> TypeSchema:
    """Return the type of the expression's value, given ``root``, the type of ``$``.

    Raises:
        ExpressionTypeError: a field, step, stage, output or function does not exist, an
            operator or function does not take its operands' types, or a ref in a schema
            is broken. The message names the sub-path and the valid choices:
            ``$.steps.a.outputs.success: no field 'nme'; fields: id, name``.
    """
    schema, scope = _Inference(expression, root).infer(expression.root)
    return detach(schema, scope)


class _Inference:
    """The walk over one expression."""

    def __init__(self, expression: Expression, root: TypeSchema) -> None:
        self.expression = expression
        self.root = root

    def error(self, reason: str) -> ExpressionTypeError:
        return ExpressionTypeError(reason, expression=self.expression.source)

    def infer(self, node: Node) -> _Typed:
        """Return the type of ``node`` and the scope its refs resolve in."""
        return _INFER[type(node)](self, node)

    def root_type(self, node: Root) -> _Typed:
        return self.root, None

    def literal(self, node: Literal) -> _Typed:
        return _literal_type(node.value), None

    def attribute(self, node: Attribute) -> _Typed:
        return self.field(self.infer(node.value), node.name, node.value)

    def resolved(self, typed: _Typed, node: Node) -> _Typed:
        try:
            return resolve(*typed)
        except UnresolvedRefError as exc:
            raise self.error(f"{format_node(node)}: schema error: {exc}") from None

    def field(self, container: _Typed, name: str, node: Node) -> _Typed:
        """Return the type of field ``name`` of ``node``'s value (of type ``container``)."""
        schema, scope = self.resolved(container, node)
        if isinstance(schema, ObjectSchema):
            prop = schema.properties.get(name)
            if prop is None:
                raise self.error(_no_field(node, name, schema.properties))
            return prop.type, scope
        if isinstance(schema, AnySchema):
            return _ANY, None
        if isinstance(schema, MapSchema):
            return self.map_value(schema, scope, StringSchema(), name, node)
        if isinstance(schema, OneOfStringSchema | OneOfIntSchema):
            return self.common_field(schema, scope, name, node)
        raise self.error(
            f"{format_node(node)}: {describe(schema)} has no fields (reading {name!r})"
        )

    def map_value(
        self,
        schema: MapSchema,
        scope: ScopeSchema | None,
        key_type: TypeSchema,
        key: object,
        node: Node,
    ) -> _Typed:
        """Return the value type of map ``schema`` read with a key of ``key_type`` (``key``:
        the literal key, or ``None`` when it is computed)."""
        key_kind = kind(key_type)
        if key_kind not in ("any", kind(schema.keys)):
            raise self.error(
                f"{format_node(node)}: a key of this map must be {describe(schema.keys)}, "
                f"got {describe(key_type)}"
            )
        if (
            isinstance(schema.keys, StringEnumSchema)
            and key is not None
            and key not in schema.keys.values
        ):
            raise self.error(
                f"{format_node(node)}: no key {key!r}; keys: "
                + ", ".join(sorted(schema.keys.values))
            )
        return schema.values, scope

    def common_field(
        self,
        schema: OneOfStringSchema | OneOfIntSchema,
        scope: ScopeSchema | None,
        name: str,
        node: Node,
    ) -> _Typed:
        """Return the type of a field every option of the one-of has."""
        if name == schema.discriminator_field_name:
            return (StringSchema() if isinstance(schema, OneOfStringSchema) else IntSchema()), None
        found: list[_Typed] = []
        missing: list[str] = []
        for key, member in schema.types.items():
            option, option_scope = self.resolved((member, scope), node)
            prop = option.properties.get(name) if isinstance(option, ObjectSchema) else None
            if prop is None:
                missing.append(str(key))
            else:
                found.append((prop.type, option_scope))
        if missing:
            raise self.error(
                f"{format_node(node)}: field {name!r} is not in every option of "
                f"{describe(schema)}; missing in: {', '.join(sorted(missing))}"
            )
        first = found[0]
        if all(typed[0] == first[0] and typed[1] is first[1] for typed in found):
            return first
        if all(typed[0] == first[0] and not _may_hold_refs(typed[0]) for typed in found):
            return first[0], None
        return _ANY, None

    def index(self, node: Index) -> _Typed:
        container = self.infer(node.value)
        key_type, _ = self.infer(node.key)
        literal = node.key.value if isinstance(node.key, Literal) else None
        schema, scope = self.resolved(container, node.value)
        if isinstance(schema, ListSchema):
            if kind(key_type) not in ("integer", "any") or isinstance(literal, bool):
                raise self.error(
                    f"{format_node(node.value)}: a list index must be an integer, "
                    f"got {describe(key_type)}"
                )
            return schema.items, scope
        if isinstance(schema, MapSchema):
            return self.map_value(schema, scope, key_type, literal, node.value)
        if isinstance(schema, AnySchema):
            return _ANY, None
        if isinstance(schema, ObjectSchema | OneOfStringSchema | OneOfIntSchema):
            if isinstance(literal, str):
                return self.field((schema, scope), literal, node.value)
            if kind(key_type) in ("string", "any"):
                return _ANY, None
            raise self.error(
                f"{format_node(node.value)}: an object's fields are named by strings, "
                f"got {describe(key_type)}"
            )
        raise self.error(f"{format_node(node.value)}: {describe(schema)} cannot be indexed")

    def call(self, node: Call) -> _Typed:
        function = FUNCTIONS.get(node.function)
        if function is None:
            raise self.error(
                f"no function {node.function!r}; functions: {', '.join(sorted(FUNCTIONS))}"
            )
        if len(node.arguments) != len(function.parameters):
            raise self.error(
                f"{node.function}() takes {len(function.parameters)} "
                f"argument{'s' if len(function.parameters) != 1 else ''}, got "
                f"{len(node.arguments)}: {signature(function)}"
            )
        arguments = []
        for position, (argument, parameter) in enumerate(
            zip(node.arguments, function.parameters, strict=True), 1
        ):
            argument_type = detach(*self.infer(argument))
            problems = assignable_problems(
                argument_type, parameter, path=f"{node.function}() argument {position}"
            )
            if problems:
                raise self.error("; ".join(problems) + f": {signature(function)}")
            arguments.append(argument_type)
        return function.result_type(arguments), None

    def unary(self, node: Unary) -> _Typed:
        operand, _ = self.resolved(self.infer(node.operand), node.operand)
        operand_kind = kind(operand)
        if node.operator is UnaryOperator.NOT:
            if operand_kind not in ("bool", "any"):
                raise self.error(
                    f"'!' needs a boolean, got {describe(operand)} from {format_node(node.operand)}"
                )
            return BoolSchema(), None
        if operand_kind not in ("integer", "float", "any"):
            raise self.error(
                f"'-' needs an integer or a float, got {describe(operand)} "
                f"from {format_node(node.operand)}"
            )
        return _FRESH.get(operand_kind, _ANY), None

    def binary(self, node: Binary) -> _Typed:
        left, _ = self.resolved(self.infer(node.left), node.left)
        right, _ = self.resolved(self.infer(node.right), node.right)
        allowed = _OPERAND_KINDS[node.operator]
        kinds = []
        for side, operand, schema in (("left", node.left, left), ("right", node.right, right)):
            operand_kind = kind(schema)
            if operand_kind not in (*allowed, "any"):
                raise self.error(
                    f"invalid type {operand_kind!r} from {side} expression "
                    f"{format_node(operand)!r} for binary operation "
                    f"'{node.operator.value}'; expected one of {', '.join(allowed)}"
                )
            kinds.append(operand_kind)
        left_kind, right_kind = kinds
        if "any" not in kinds and left_kind != right_kind:
            raise self.error(
                f"left ({left_kind}) and right ({right_kind}) types do not match for binary "
                f"expression {format_node(node)!r}"
            )
        if node.operator is BinaryOperator.ADD or node.operator in _ARITHMETIC:
            known = left_kind if left_kind != "any" else right_kind
            return _FRESH.get(known, _ANY), None
        return BoolSchema(), None


_INFER: Final[dict[type[Any], Callable[[_Inference, Any], _Typed]]] = {
    Root: _Inference.root_type,
    Literal: _Inference.literal,
    Attribute: _Inference.attribute,
    Index: _Inference.index,
    Call: _Inference.call,
    Unary: _Inference.unary,
    Binary: _Inference.binary,
}


def _may_hold_refs(schema: TypeSchema) -> bool:
    """Return whether ``schema``'s meaning may depend on its scope (it is not a scalar)."""
    return kind(schema) in ("list", "map", "object", "one_of_string", "one_of_int")


def _literal_type(value: object) -> TypeSchema:
    if isinstance(value, bool):
        return BoolSchema()
    if isinstance(value, int):
        return IntSchema()
    if isinstance(value, float):
        return FloatSchema()
    return StringSchema()


def signature(function: Function) -> str:
    """Return ``name(parameter types) -> result type`` for messages."""
    parameters = ", ".join(kind(parameter) for parameter in function.parameters)
    return f"{function.name}({parameters}) -> {kind(function.result)}"


def _steps_level(node: Node) -> tuple[str, ...] | None:
    """Return the literal names from ``$`` to ``node`` (``("steps", "a")``), or ``None``
    when the path holds a computed part or a call."""
    names: list[str] = []
    while not isinstance(node, Root):
        if isinstance(node, Attribute):
            names.append(node.name)
            node = node.value
        elif isinstance(node, Index) and isinstance(node.key, Literal):
            names.append(str(node.key.value))
            node = node.value
        else:
            return None
    return tuple(reversed(names))


def _no_field(node: Node, name: str, properties: Mapping[str, object]) -> str:
    """Return the message for a missing field ``name`` of ``node``'s object, in the words of
    where it is: a step, a stage with outputs, an output, or a field."""
    choices = ", ".join(sorted(properties)) or "none"
    level = _steps_level(node)
    noun = "field"
    if level is not None and level[:1] == ("steps",):
        noun = {1: "step", 2: "stage", 3: "output"}.get(len(level), "field")
    if noun == "stage":
        return f"{format_node(node)}: no stage {name!r} with outputs; stages: {choices}"
    return f"{format_node(node)}: no {noun} {name!r}; {noun}s: {choices}"
