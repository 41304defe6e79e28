"""JSONata expressions: $states, variables, AWS's added functions, errors, null vs undefined."""

from __future__ import annotations

from typing import Any

import pytest

from headwater.services.stepfunctions.asl.errors import StatesError
from headwater.services.stepfunctions.asl.jsonata_ import (
    UNDEFINED,
    Expression,
    JsonataSyntaxError,
    is_expression,
)


class Runtime:
    def now(self) -> float:
        return 1_700_000_000.5

    def uuid(self) -> str:
        return "u-1"

    def random_float(self, seed: int | None) -> float:
        return 0.25


def ev(text: str, **bindings: Any) -> Any:
    return Expression(text).evaluate(bindings, Runtime())


def test_templates_need_the_braces_at_both_ends() -> None:
    assert is_expression("{% 1 %}")
    assert not is_expression(" {% 1 %} ")
    assert not is_expression("{% 1")


@pytest.mark.parametrize("text,expected", [
    ("$states.input.a + $x", 3),
    ("$sum($states.input.list)", 6),
    ("$partition([1,2,3], 2)", [[1, 2], [3]]),
    ("$range(0, 10, 5)", [0, 5, 10]),
    ("$parse('{\"a\": null}')", {"a": None}),
    ("$parse('-0')", 0),
    ("$hash('abc', 'MD5')", "900150983cd24fb0d6963f7d28e17f72"),
    ("$uuid()", "u-1"),
    ("$random()", 0.25),
    ("$now()", "2023-11-14T22:13:20.500Z"),
    ("$millis()", 1_700_000_000_500),
    ("$states.input.missing", UNDEFINED),
    ("null", None),
    ("$nothing", None),
    ("3.0", 3),
])
def test_evaluation(text: str, expected: Any) -> None:
    states = {"input": {"a": 1, "list": [1, 2, 3]}}
    assert ev(text, states=states, x=2, nothing=None) == expected


def test_failures_are_query_evaluation_errors() -> None:
    for text in ("$undefinedFunction(1)", "'a' + 1", "1/0"):
        with pytest.raises(StatesError) as err:
            ev(text)
        assert err.value.error == "States.QueryEvaluationError"
        assert err.value.evaluation


def test_syntax_errors_are_caught_at_compile_time() -> None:
    with pytest.raises(JsonataSyntaxError):
        Expression("[1, 2,")
    with pytest.raises(JsonataSyntaxError):
        Expression("(" * 500 + "1" + ")" * 500)
