"""Choice rules: every operator family, Path variants, Is* tests, combinators, JSONata."""

from __future__ import annotations

from typing import Any

import pytest

from headwater.core.clock import ManualClock
from headwater.core.ids import SequentialIds
from headwater.services.stepfunctions.asl.choice import (
    COMPARISONS,
    RuleError,
    compile_condition,
    compile_rule,
)
from headwater.services.stepfunctions.asl.errors import StatesError
from headwater.services.stepfunctions.engine import _Runtime
from headwater.services.stepfunctions.scope import ContextInfo, RunScope, Variables


def scope(doc: Any) -> RunScope:
    return RunScope(doc, Variables(values={"limit": 3}), _Runtime(ManualClock(), SequentialIds()),
                    ContextInfo({"Name": "e"}, {"Name": "m"}), "Choice", 0.0)


def check(rule: dict[str, Any], doc: Any) -> bool:
    return compile_rule({**rule, "Next": "X"})(scope(doc))


@pytest.mark.parametrize("rule,doc,expected", [
    ({"Variable": "$.v", "StringEquals": "a"}, {"v": "a"}, True),
    ({"Variable": "$.v", "StringEquals": "a"}, {"v": 1}, False),
    ({"Variable": "$.v", "StringLessThan": "b"}, {"v": "a"}, True),
    ({"Variable": "$.v", "StringGreaterThanEquals": "b"}, {"v": "b"}, True),
    ({"Variable": "$.v", "NumericEquals": 1}, {"v": 1.0}, True),
    ({"Variable": "$.v", "NumericEquals": 1}, {"v": True}, False),
    ({"Variable": "$.v", "NumericLessThanEquals": 1.5}, {"v": 1.5}, True),
    ({"Variable": "$.v", "NumericGreaterThan": 1}, {"v": "2"}, False),
    ({"Variable": "$.v", "BooleanEquals": False}, {"v": False}, True),
    ({"Variable": "$.v", "BooleanEquals": False}, {"v": 0}, False),
    ({"Variable": "$.v", "TimestampEquals": "2012-10-09T19:00:55Z"},
     {"v": "2012-10-09T21:00:55+02:00"}, True),
    ({"Variable": "$.v", "TimestampLessThan": "2012-10-09T19:00:55Z"},
     {"v": "2012-10-09T19:00:54.999999999Z"}, True),
    ({"Variable": "$.v", "TimestampGreaterThan": "2012-10-09T19:00:55Z"}, {"v": "garbage"}, False),
    ({"Variable": "$.v", "StringMatches": "log-*.txt"}, {"v": "log-2024.txt"}, True),
    ({"Variable": "$.v", "StringMatches": "a\\*b"}, {"v": "a*b"}, True),
    ({"Variable": "$.v", "StringMatches": "a\\*b"}, {"v": "axb"}, False),
    ({"Variable": "$.v", "NumericLessThanPath": "$limit"}, {"v": 2}, True),
    ({"Variable": "$.v", "StringEqualsPath": "$.w"}, {"v": "x", "w": "x"}, True),
    ({"Variable": "$.v", "IsNull": True}, {"v": None}, True),
    ({"Variable": "$.v", "IsPresent": False}, {}, True),
    ({"Variable": "$.v", "IsPresent": True}, {"v": None}, True),
    ({"Variable": "$.v", "IsNumeric": True}, {"v": 1}, True),
    ({"Variable": "$.v", "IsString": False}, {"v": 1}, True),
    ({"Variable": "$.v", "IsBoolean": True}, {"v": True}, True),
    ({"Variable": "$.v", "IsTimestamp": True}, {"v": "2016-03-14T01:59:00Z"}, True),
    ({"Variable": "$.v", "IsTimestamp": True}, {"v": "2016-03-14 01:59:00Z"}, False),
    ({"Variable": "$.v", "IsString": True}, {}, False),
    ({"And": [{"Variable": "$.v", "IsPresent": True}, {"Variable": "$.v", "NumericEquals": 1}]},
     {"v": 1}, True),
    ({"Or": [{"Variable": "$.v", "NumericEquals": 2}, {"Variable": "$.v", "NumericEquals": 1}]},
     {"v": 1}, True),
    ({"Not": {"Variable": "$.v", "NumericEquals": 1}}, {"v": 1}, False),
])
def test_rules(rule: dict[str, Any], doc: Any, expected: bool) -> None:
    assert check(rule, doc) is expected


def test_every_comparison_has_a_path_variant() -> None:
    for op in COMPARISONS:
        assert (op[:-4] if op.endswith("Path") else op + "Path") in COMPARISONS


def test_a_missing_variable_is_a_runtime_error_except_for_is_tests() -> None:
    with pytest.raises(StatesError) as err:
        check({"Variable": "$.missing", "NumericEquals": 1}, {})
    assert err.value.error == "States.Runtime"


@pytest.mark.parametrize("rule", [
    {"Variable": "$.v"},
    {"Variable": "$.v", "NumericEquals": "1"},
    {"Variable": "$.v", "StringEquals": "a", "NumericEquals": 1},
    {"Variable": "not a path", "IsNull": True},
    {"And": []},
    {"Variable": "$.v", "IsNull": "yes"},
])
def test_malformed_rules(rule: dict[str, Any]) -> None:
    with pytest.raises(RuleError):
        compile_rule(rule)


def test_jsonata_condition_must_give_a_boolean() -> None:
    test = compile_condition("{% $states.input.n > 1 %}")
    assert test(scope({"n": 2})) is True
    with pytest.raises(StatesError) as err:
        compile_condition("{% $states.input.n %}")(scope({"n": 2}))
    assert err.value.error == "States.QueryEvaluationError"
    assert "Expected 'boolean', but was 'number'" in str(err.value.cause)
