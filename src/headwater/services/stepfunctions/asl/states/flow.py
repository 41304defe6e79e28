"""The states that only move data and control: Pass, Succeed, Fail and Wait.

Implements https://docs.aws.amazon.com/step-functions/latest/dg/state-pass.html,
state-succeed.html, state-fail.html and state-wait.html (both query languages).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from headwater.services.stepfunctions.asl import errors, timestamps
from headwater.services.stepfunctions.asl.errors import StatesError
from headwater.services.stepfunctions.asl.jsonpath import JsonPath, PathNotFound
from headwater.services.stepfunctions.asl.payload import Const, EvalScope, Expr, Node
from headwater.services.stepfunctions.asl.states.base import (
    State,
    evaluate_expression_field,
)
from headwater.services.stepfunctions.asl.values import to_json, type_name

IO_JSONPATH = frozenset({"InputPath", "OutputPath"})
RESULT_JSONPATH = frozenset({"Parameters", "ResultPath", "ResultSelector"})


@dataclass(eq=False)
class Pass(State):
    TYPE: ClassVar[str] = "Pass"
    result: Any = None
    has_result: bool = False

    def run(self, scope: EvalScope, raw: Any) -> tuple[Any, dict[str, Any] | None]:
        if self.trivial_io and not self.has_result:
            return raw, None
        if self.jsonata:
            # AWS quirk: a JSONata Pass state's output defaults to its input, not a result.
            return self.finish(scope, raw, raw, default_output=raw)
        effective = self.effective_input(scope, raw)
        result = self.result if self.has_result else effective
        return self.finish(scope, raw, result)


@dataclass(eq=False)
class Succeed(State):
    TYPE: ClassVar[str] = "Succeed"

    def run(self, scope: EvalScope, raw: Any) -> tuple[Any, dict[str, Any] | None]:
        if self.jsonata:
            return self.finish(scope, raw, raw, default_output=raw)
        value = self.apply_input_path(scope, raw)
        return self.apply_output_path(scope, value), None


@dataclass(eq=False)
class Fail(State):
    TYPE: ClassVar[str] = "Fail"
    error: Any = None  # str, or a Node (JSONata expression), or None
    cause: Any = None
    error_path: Node | None = None  # a path or an intrinsic call
    cause_path: Node | None = None

    def error_and_cause(self, scope: EvalScope, raw: Any) -> tuple[str | None, str | None]:
        scope.input = raw
        error = self._field(scope, self.error, self.error_path, "Error", raw)
        cause = self._field(scope, self.cause, self.cause_path, "Cause", raw)
        return error, cause

    def _field(self, scope: EvalScope, value: Any, path: Node | None, name: str,
               raw: Any) -> str | None:
        if path is not None:
            found = path.evaluate(scope)
            if not isinstance(found, str):
                raise StatesError(
                    errors.RUNTIME,
                    f"The value for the field '{name}Path' must reference a string value, but "
                    f"was {to_json(found)}",
                )
            return found
        if isinstance(value, Node):
            found = evaluate_expression_field(scope, value, name)
            if not isinstance(found, str):
                expression = value.expression if isinstance(value, Expr) else None
                text = expression.text if expression else to_json(found)
                raise StatesError(
                    errors.QUERY_EVALUATION_ERROR,
                    f"The JSONata expression '{text}' specified for the field '{name}' returned "
                    f"an unexpected result type. Expected 'string', but was "
                    f"'{type_name(found)}' for value: {to_json(found)}",
                    evaluation=True,
                )
            return found
        return value  # type: ignore[no-any-return]


@dataclass(eq=False)
class Wait(State):
    TYPE: ClassVar[str] = "Wait"
    seconds: Any = None  # int, or a Node (JSONata)
    timestamp: Any = None  # str, or a Node (JSONata)
    seconds_path: JsonPath | None = None
    timestamp_path: JsonPath | None = None

    def deadline(self, scope: EvalScope, raw: Any, now: float) -> float:
        """The epoch second this Wait ends at."""
        scope.input = raw
        if self.seconds_path is not None:
            return now + self._seconds_from_path(scope, raw)
        if self.timestamp_path is not None:
            value = self._lookup(scope, self.timestamp_path, "TimestampPath", raw)
            epoch = timestamps.to_epoch(value)
            if epoch is None:
                raise StatesError(
                    errors.RUNTIME,
                    f"The TimestampPath parameter does not reference a valid ISO-8601 extended "
                    f"offset date-time format string: {self.timestamp_path.text} == "
                    f"{value if isinstance(value, str) else to_json(value)}",
                )
            return epoch
        if isinstance(self.seconds, Node):
            value = evaluate_expression_field(scope, self.seconds, "Seconds")
            if not _whole(value) or value < 0:
                raise _expected(self.seconds, "Seconds", "integer", value)
            return now + int(value)
        if isinstance(self.timestamp, Node):
            value = evaluate_expression_field(scope, self.timestamp, "Timestamp")
            epoch = timestamps.to_epoch(value)
            if epoch is None:
                raise StatesError(
                    errors.QUERY_EVALUATION_ERROR,
                    "The Timestamp field cannot be parsed as an ISO-8601 extended offset "
                    f"date-time format string: {value if isinstance(value, str) else to_json(value)}",
                    evaluation=True,
                )
            return epoch
        if self.timestamp is not None:
            return timestamps.to_epoch(self.timestamp) or now
        return now + int(self.seconds or 0)

    def _lookup(self, scope: EvalScope, path: JsonPath, name: str, raw: Any) -> Any:
        try:
            return scope.resolve(path)
        except PathNotFound:
            raise StatesError(
                errors.RUNTIME,
                f"The {name} parameter does not reference an input value: {path.text}",
            ) from None

    def _seconds_from_path(self, scope: EvalScope, raw: Any) -> int:
        assert self.seconds_path is not None
        value = self._lookup(scope, self.seconds_path, "SecondsPath", raw)
        if not _whole(value):
            raise StatesError(
                errors.RUNTIME,
                f"The SecondsPath parameter cannot be parsed as a long value: "
                f"{self.seconds_path.text} == {to_json(value)}",
            )
        if value < 0:
            raise StatesError(
                errors.RUNTIME,
                f"The SecondsPath parameter references a negative value: "
                f"{self.seconds_path.text} == {to_json(value)}",
            )
        return int(value)

    def run(self, scope: EvalScope, raw: Any) -> tuple[Any, dict[str, Any] | None]:
        """The output once the wait is over."""
        if self.jsonata:
            return self.finish(scope, raw, raw, default_output=raw)
        value = self.apply_input_path(scope, raw)
        assigned = None
        if self.assign is not None:
            scope.input = value
            assigned = self.assign.evaluate(scope)
        return self.apply_output_path(scope, value), assigned


def _whole(value: Any) -> bool:
    # AWS quirk: 1.5 and even 1.0 "cannot be parsed as a long value"; only JSON integers do.
    return type(value) is int


def _expected(node: Any, field: str, want: str, got: Any) -> StatesError:
    from headwater.services.stepfunctions.asl.jsonata_ import expected_type_error

    if isinstance(node, Expr):
        return expected_type_error(node.expression, field, want, got)
    return StatesError(errors.QUERY_EVALUATION_ERROR, f"The field '{field}' must be a {want}",
                       evaluation=True)


__all__ = ["Const", "Fail", "Pass", "Succeed", "Wait"]
