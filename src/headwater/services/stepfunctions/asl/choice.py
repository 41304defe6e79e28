"""Choice rules, compiled to plain Python closures once per definition.

Implements the rules of https://docs.aws.amazon.com/step-functions/latest/dg/state-choice.html :
every comparison operator and its ``…Path`` variant, ``Is*`` type tests, ``StringMatches`` and
the ``And``/``Or``/``Not`` combinators (JSONPath), and ``Condition`` (JSONata).

A comparison whose operands have the wrong types is simply false (``NumericEquals`` on a
string); a ``Variable`` that does not resolve is false for ``IsPresent`` and a ``States.Runtime``
failure for everything else.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from typing import Any

from headwater.services.stepfunctions.asl import errors, timestamps
from headwater.services.stepfunctions.asl.errors import StatesError
from headwater.services.stepfunctions.asl.jsonata_ import (
    Expression,
    JsonataSyntaxError,
    expected_type_error,
    is_expression,
)
from headwater.services.stepfunctions.asl.jsonpath import (
    InvalidPath,
    JsonPath,
    PathNotFound,
    compile_path,
)
from headwater.services.stepfunctions.asl.payload import EvalScope

Test = Callable[[EvalScope], bool]


class RuleError(ValueError):
    """A malformed rule (a definition error); ``location`` is relative to the rule."""

    def __init__(self, message: str, location: str = "") -> None:
        super().__init__(message)
        self.location = location


_ORDER = {
    "Equals": operator.eq,
    "LessThan": operator.lt,
    "GreaterThan": operator.gt,
    "LessThanEquals": operator.le,
    "GreaterThanEquals": operator.ge,
}


def _is_number(v: Any) -> bool:
    return (type(v) is int or type(v) is float)


def _is_string(v: Any) -> bool:
    return type(v) is str


def _is_bool(v: Any) -> bool:
    return type(v) is bool


_KINDS: dict[str, tuple[Callable[[Any], bool], Callable[[Any], Any]]] = {
    "String": (_is_string, lambda v: v),
    "Numeric": (_is_number, lambda v: v),
    "Boolean": (_is_bool, lambda v: v),
    "Timestamp": (lambda v: timestamps.parse(v) is not None, timestamps.parse),
}

COMPARISONS: set[str] = set()
for _kind in _KINDS:
    for _op in _ORDER:
        if _kind == "Boolean" and _op != "Equals":
            continue
        COMPARISONS.add(_kind + _op)
        COMPARISONS.add(_kind + _op + "Path")
TYPE_TESTS = {"IsNull", "IsPresent", "IsNumeric", "IsString", "IsBoolean", "IsTimestamp"}
OPERATORS = COMPARISONS | TYPE_TESTS | {"StringMatches"}


def _resolve(scope: EvalScope, path: JsonPath) -> Any:
    try:
        return scope.resolve(path)
    except PathNotFound:
        raise StatesError(
            errors.RUNTIME,
            f"Invalid path '{path.text}': The choice state's condition path references an "
            f"invalid value.",
        ) from None


def _path(value: Any, where: str) -> JsonPath:
    try:
        return compile_path(value)
    except InvalidPath:
        raise RuleError(f"The value for the field '{where}' must be a valid JSONPath",
                        where) from None


def compile_rule(rule: Any, top: bool = True) -> Test:
    """A JSONPath-mode rule (with or without ``Next``) as a closure over an EvalScope."""
    if not isinstance(rule, dict):
        raise RuleError("A choice rule must be an OBJECT")
    for combinator in ("And", "Or"):
        if combinator in rule:
            subs = rule[combinator]
            if not isinstance(subs, list) or not subs:
                raise RuleError(f"The field '{combinator}' must be a non-empty ARRAY", combinator)
            tests = tuple(compile_rule(r, False) for r in subs)
            if combinator == "And":
                return lambda scope: all(t(scope) for t in tests)
            return lambda scope: any(t(scope) for t in tests)
    if "Not" in rule:
        inner = compile_rule(rule["Not"], False)
        return lambda scope: not inner(scope)
    ops = [k for k in rule if k in OPERATORS]
    if "Variable" not in rule:
        raise RuleError("A choice rule must have a 'Variable' field or be And/Or/Not")
    if len(ops) != 1:
        raise RuleError("A choice rule must have exactly one comparison operator")
    variable = _path(rule["Variable"], "Variable")
    return _comparison(variable, ops[0], rule[ops[0]])


def _comparison(variable: JsonPath, op: str, operand: Any) -> Test:
    if op in TYPE_TESTS:
        if not isinstance(operand, bool):
            raise RuleError(f"The value for the field '{op}' must be a BOOLEAN", op)
        return _type_test(variable, op, operand)
    if op == "StringMatches":
        if not isinstance(operand, str):
            raise RuleError("The value for the field 'StringMatches' must be a STRING", op)
        pattern = _wildcard(operand)

        def matches(scope: EvalScope) -> bool:
            value = _resolve(scope, variable)
            return type(value) is str and pattern.fullmatch(value) is not None

        return matches
    by_path = op.endswith("Path")
    base = op[:-4] if by_path else op
    kind = next(k for k in _KINDS if base.startswith(k))
    compare = _ORDER[base[len(kind):]]
    check, convert = _KINDS[kind]
    if by_path:
        other = _path(operand, op)

        def against_path(scope: EvalScope) -> bool:
            value = _resolve(scope, variable)
            expected = _resolve(scope, other)
            if not (check(value) and check(expected)):
                return False
            return bool(compare(convert(value), convert(expected)))

        return against_path
    if not check(operand):
        raise RuleError(f"The value for the field '{op}' must be a {_type_word(kind)}", op)
    fixed = convert(operand)

    if kind == "Numeric":
        # The hot path of counter loops: no conversion, one type check.
        def numeric(scope: EvalScope) -> bool:
            value = _resolve(scope, variable)
            t = type(value)
            return (t is int or t is float) and compare(value, fixed)

        return numeric

    def against_value(scope: EvalScope) -> bool:
        value = _resolve(scope, variable)
        return check(value) and bool(compare(convert(value), fixed))

    return against_value


def _type_word(kind: str) -> str:
    return {"String": "STRING", "Numeric": "NUMBER", "Boolean": "BOOLEAN",
            "Timestamp": "TIMESTAMP STRING"}[kind]


def _type_test(variable: JsonPath, op: str, want: bool) -> Test:
    if op == "IsPresent":
        return lambda scope: _present(scope, variable) is want
    checks: dict[str, Callable[[Any], bool]] = {
        "IsNull": lambda v: v is None,
        "IsNumeric": _is_number,
        "IsString": _is_string,
        "IsBoolean": _is_bool,
        "IsTimestamp": lambda v: timestamps.parse(v) is not None,
    }
    check = checks[op]

    def test(scope: EvalScope) -> bool:
        try:
            value = scope.resolve(variable)
        except PathNotFound:
            # AWS quirk: a missing variable is simply "not of that type", no failure.
            return not want
        return check(value) is want

    return test


def _present(scope: EvalScope, path: JsonPath) -> bool:
    try:
        scope.resolve(path)
    except PathNotFound:
        return False
    return True


def _wildcard(pattern: str) -> re.Pattern[str]:
    """StringMatches: ``*`` matches anything; ``\\*`` and ``\\\\`` are a literal star and
    backslash."""
    out = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern) and pattern[i + 1] in "*\\":
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if ch == "*" else re.escape(ch))
        i += 1
    return re.compile("".join(out), re.DOTALL)


def compile_condition(value: Any) -> Test:
    """A JSONata-mode ``Condition``: an expression (or a literal boolean) giving a boolean."""
    if isinstance(value, bool):
        return lambda scope: value
    if not is_expression(value):
        raise RuleError("The value for the field 'Condition' must be a JSONata expression",
                        "Condition")
    try:
        expression = Expression.from_template(value)
    except JsonataSyntaxError as exc:
        raise RuleError(f"The JSONata expression in 'Condition' is invalid: {exc}",
                        "Condition") from None

    def condition(scope: EvalScope) -> bool:
        result = scope.jsonata(expression, "Condition")
        if type(result) is not bool:
            raise expected_type_error(expression, "Condition", "boolean",
                                      None if result is _undefined() else result)
        return result

    return condition


def _undefined() -> Any:
    from headwater.services.stepfunctions.asl.jsonata_ import UNDEFINED

    return UNDEFINED
