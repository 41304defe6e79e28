"""Payload templates: Parameters, ResultSelector, ItemSelector, Assign (JSONPath) and Arguments,
Output, Assign (JSONata), compiled once into a tree whose constant parts are shared.

Implements https://docs.aws.amazon.com/step-functions/latest/dg/input-output-inputpath-params.html
(``"key.$": "<path or intrinsic>"`` fields) and the JSONata templates of
https://docs.aws.amazon.com/step-functions/latest/dg/transforming-data.html (any string value
``{% ... %}`` is an expression, at any depth).

A template is evaluated against an :class:`EvalScope` that resolves paths (state input, context
object, variables) and runs expressions; the engine builds one per evaluation.
"""

from __future__ import annotations

from typing import Any, Protocol

from headwater.services.stepfunctions.asl import errors, intrinsics
from headwater.services.stepfunctions.asl.errors import StatesError
from headwater.services.stepfunctions.asl.intrinsics import IntrinsicSyntaxError
from headwater.services.stepfunctions.asl.jsonata_ import (
    UNDEFINED,
    Expression,
    JsonataSyntaxError,
    is_expression,
    undefined_error,
)
from headwater.services.stepfunctions.asl.jsonpath import (
    InvalidPath,
    JsonPath,
    PathNotFound,
    compile_path,
)
from headwater.services.stepfunctions.asl.values import to_json


class TemplateError(ValueError):
    """A template that cannot be compiled; ``field`` names the offending key."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class EvalScope(Protocol):
    """What templates read at run time (built by the engine for each evaluation)."""

    input: Any

    def resolve(self, path: JsonPath) -> Any: ...

    def jsonata(self, expression: Expression, field: str | None = None) -> Any: ...

    def uuid(self) -> str: ...

    def random_int(self, low: int, high: int, seed: int | None) -> int: ...

    def set_result(self, result: Any) -> None: ...

    def set_error_output(self, error_output: Any) -> None: ...

    def map_item_value(self) -> Any: ...


class Node:
    __slots__ = ()
    dynamic = True

    def evaluate(self, scope: EvalScope) -> Any:
        raise NotImplementedError


class Const(Node):
    __slots__ = ("value",)
    dynamic = False

    def __init__(self, value: Any) -> None:
        self.value = value

    def evaluate(self, scope: EvalScope) -> Any:
        return self.value


class Obj(Node):
    __slots__ = ("entries",)

    def __init__(self, entries: tuple[tuple[str, Node], ...]) -> None:
        self.entries = entries

    def evaluate(self, scope: EvalScope) -> Any:
        return {key: node.evaluate(scope) for key, node in self.entries}


class Arr(Node):
    __slots__ = ("items",)

    def __init__(self, items: tuple[Node, ...]) -> None:
        self.items = items

    def evaluate(self, scope: EvalScope) -> Any:
        return [node.evaluate(scope) for node in self.items]


class PathRef(Node):
    """``"field.$": "$.a.b"`` (also ``$$.…`` and ``$variable.…``)."""

    __slots__ = ("field", "path")

    def __init__(self, path: JsonPath, field: str) -> None:
        self.path = path
        self.field = field

    def evaluate(self, scope: EvalScope) -> Any:
        try:
            return scope.resolve(self.path)
        except PathNotFound:
            raise StatesError(
                errors.RUNTIME,
                f"The JSONPath '{self.path.text}' specified for the field '{self.field}' could "
                f"not be found in the input '{to_json(scope.input)}'",
            ) from None


class IntrinsicRef(Node):
    __slots__ = ("call", "field")

    def __init__(self, call: intrinsics.Call, field: str) -> None:
        self.call = call
        self.field = field

    def evaluate(self, scope: EvalScope) -> Any:
        return self.call.evaluate(_IntrinsicScope(scope, self.field), scope)


class _IntrinsicScope:
    __slots__ = ("field", "scope")

    def __init__(self, scope: EvalScope, field: str) -> None:
        self.scope = scope
        self.field = field

    def resolve(self, path: JsonPath) -> Any:
        try:
            return self.scope.resolve(path)
        except PathNotFound:
            raise StatesError(
                errors.RUNTIME,
                f"The JSONPath '{path.text}' specified for the field '{self.field}' could not "
                f"be found in the input '{to_json(self.scope.input)}'",
            ) from None


class Expr(Node):
    """A JSONata ``{% %}`` string; ``field`` is AWS's slash path to it (``Output/result``)."""

    __slots__ = ("expression", "field")

    def __init__(self, expression: Expression, field: str) -> None:
        self.expression = expression
        self.field = field

    def evaluate(self, scope: EvalScope) -> Any:
        value = scope.jsonata(self.expression, self.field)
        if value is UNDEFINED:
            raise undefined_error(self.expression, self.field)
        return value


def compile_jsonpath_template(value: Any, field: str) -> Node:
    """A Parameters-style template: keys ending in ``.$`` hold a path or an intrinsic call."""
    node = _jsonpath_node(value, field)
    return node if node.dynamic else Const(value)


def _jsonpath_node(value: Any, field: str) -> Node:
    if isinstance(value, dict):
        entries: list[tuple[str, Node]] = []
        for key, item in value.items():
            if key.endswith(".$") and len(key) > 2:
                entries.append((key[:-2], dynamic_field(key, item)))
            else:
                entries.append((key, _jsonpath_node(item, key)))
        if any(n.dynamic for _, n in entries):
            return Obj(tuple(entries))
        return Const(value)
    if isinstance(value, list):
        items = tuple(_jsonpath_node(v, field) for v in value)
        if any(n.dynamic for n in items):
            return Arr(items)
        return Const(value)
    return Const(value)


def dynamic_field(key: str, value: Any) -> Node:
    if not isinstance(value, str):
        raise TemplateError(key, f"The value for the field '{key}' must be a STRING")
    if intrinsics.is_intrinsic(value):
        try:
            return IntrinsicRef(intrinsics.parse(value), key)
        except IntrinsicSyntaxError as exc:
            raise TemplateError(
                key, f"The value for the field '{key}' must be a valid JSONPath or a valid "
                f"intrinsic function call ({exc})"
            ) from None
    try:
        return PathRef(compile_path(value), key)
    except InvalidPath:
        raise TemplateError(
            key, f"The value for the field '{key}' must be a valid JSONPath or a valid "
            "intrinsic function call"
        ) from None


def compile_jsonata_template(value: Any, field: str) -> Node:
    """An Arguments/Output-style template: any ``{% %}`` string, at any depth, is evaluated."""
    node = _jsonata_node(value, field)
    return node if node.dynamic else Const(value)


def _jsonata_node(value: Any, field: str) -> Node:
    if isinstance(value, str):
        if is_expression(value):
            try:
                return Expr(Expression.from_template(value), field)
            except JsonataSyntaxError as exc:
                raise TemplateError(field, f"The JSONata expression in '{field}' is invalid: "
                                           f"{exc}") from None
        return Const(value)
    if isinstance(value, dict):
        entries = tuple((k, _jsonata_node(v, f"{field}/{k}")) for k, v in value.items())
        if any(n.dynamic for _, n in entries):
            return Obj(entries)
        return Const(value)
    if isinstance(value, list):
        items = tuple(_jsonata_node(v, f"{field}/{i}") for i, v in enumerate(value))
        if any(n.dynamic for n in items):
            return Arr(items)
        return Const(value)
    return Const(value)


def compile_jsonpath_assign(value: Any) -> Node:
    """Assign in a JSONPath state: a template whose top-level keys are variable names."""
    if not isinstance(value, dict):
        raise TemplateError("Assign", "The value of the field 'Assign' must be an OBJECT")
    return compile_jsonpath_template(value, "Assign")


def compile_jsonata_assign(value: Any) -> Node:
    if not isinstance(value, dict):
        raise TemplateError("Assign", "The value of the field 'Assign' must be an OBJECT")
    return compile_jsonata_template(value, "Assign")


def assigned_names(assign: Any) -> list[str]:
    """The variable names an Assign block sets (``name.$`` counts as ``name``)."""
    if not isinstance(assign, dict):
        return []
    return [k.removesuffix(".$") for k in assign]
