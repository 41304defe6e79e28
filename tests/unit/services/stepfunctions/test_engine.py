"""The engine: history events, the data flow, variables, retry/catch timing on a manual clock,
timeouts, and the pure step interface (inputs in, effects out)."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from headwater.core.clock import ManualClock
from headwater.core.ids import SequentialIds
from headwater.services.stepfunctions.asl import parse_definition
from headwater.services.stepfunctions.engine import Engine
from headwater.services.stepfunctions.execution import (
    ExecutionInfo,
    InvokeTask,
    StartTimer,
    Stop,
    TaskStarted,
    TaskSucceeded,
    TimerFired,
)
from headwater.services.stepfunctions.runner import Delayed, TaskFailure, TaskRequest

FN = "arn:aws:lambda:us-east-1:000000000000:function:work"
INFO = ExecutionInfo("arn:aws:states:us-east-1:0:execution:m:e", "e",
                     "arn:aws:states:us-east-1:0:stateMachine:m", "m")


def types(result: Any) -> list[str]:
    return [e.type for e in result.history]


def task(**extra: Any) -> dict[str, Any]:
    return {"Type": "Task", "Resource": FN, "End": True, **extra}


def test_pass_chain_history_ids_and_details(run_sfn: Any) -> None:
    result = run_sfn({"StartAt": "A", "States": {
        "A": {"Type": "Pass", "Result": {"x": 1}, "ResultPath": "$.r", "Next": "B"},
        "B": {"Type": "Pass", "OutputPath": "$.r", "End": True}}}, {"in": True})
    assert result.status == "SUCCEEDED" and result.output == {"x": 1}
    assert types(result) == ["ExecutionStarted", "PassStateEntered", "PassStateExited",
                             "PassStateEntered", "PassStateExited", "ExecutionSucceeded"]
    assert [(e.id, e.previous_event_id) for e in result.history] == [
        (1, 0), (2, 1), (3, 2), (4, 3), (5, 4), (6, 5)]
    wire = result.history[2].to_wire()
    assert wire["stateExitedEventDetails"] == {
        "name": "A", "output": '{"in":true,"r":{"x":1}}', "outputDetails": {"truncated": False}}


def test_parameters_result_selector_result_path_output_path(run_sfn: Any) -> None:
    calls: list[Any] = []

    def handler(request: TaskRequest) -> Any:
        calls.append(request.parameters)
        return {"body": {"n": 2}, "noise": True}

    result = run_sfn({"StartAt": "T", "States": {"T": task(
        InputPath="$.in", Parameters={"v.$": "$.v", "name.$": "$$.Execution.Name"},
        ResultSelector={"n.$": "$.body.n"}, ResultPath="$.out", OutputPath="$.out")}},
        {"in": {"v": 1}}, {FN: handler}, name="exec-7")
    assert calls == [{"v": 1, "name": "exec-7"}]
    assert result.output == {"n": 2}


def test_assign_is_visible_from_the_next_state_only(run_sfn: Any) -> None:
    result = run_sfn({"StartAt": "A", "States": {
        "A": {"Type": "Pass", "Assign": {"x": 1}, "Next": "B"},
        "B": {"Type": "Pass", "Assign": {"x": 2}, "Parameters": {"seen.$": "$x"},
              "Next": "C"},
        "C": {"Type": "Pass", "Parameters": {"seen.$": "$x"}, "End": True}}})
    assert result.output == {"seen": 2}
    assigned = [e.details.get("assignedVariables") for e in result.history
                if e.type == "PassStateExited"]
    assert assigned == [{"x": 1}, {"x": 2}, None]


def test_jsonata_output_and_assign(run_sfn: Any) -> None:
    result = run_sfn({"QueryLanguage": "JSONata", "StartAt": "A", "States": {
        "A": {"Type": "Pass", "Assign": {"total": "{% $sum($states.input.n) %}"},
              "Output": {"count": "{% $count($states.input.n) %}"}, "Next": "B"},
        "B": {"Type": "Pass", "Output": "{% $total * $states.input.count %}", "End": True}}},
        {"n": [1, 2, 3]})
    assert result.output == 18


def test_retry_backoff_on_the_manual_clock(run_sfn: Any, clock: ManualClock) -> None:
    attempts: list[float] = []

    def flaky(request: TaskRequest) -> Any:
        attempts.append(clock.now())
        if len(attempts) < 4:
            raise TaskFailure("Boom", "try again")
        return "ok"

    start = clock.now()
    result = run_sfn({"StartAt": "T", "States": {"T": task(Retry=[
        {"ErrorEquals": ["Other"], "MaxAttempts": 5},
        {"ErrorEquals": ["Boom"], "IntervalSeconds": 2, "BackoffRate": 3,
         "MaxDelaySeconds": 10, "MaxAttempts": 3}])}}, {}, {FN: flaky})
    assert result.status == "SUCCEEDED"
    assert [a - start for a in attempts] == [0, 2, 2 + 6, 2 + 6 + 10]
    assert types(result).count("LambdaFunctionScheduled") == 4
    assert types(result).count("TaskStateEntered") == 1


def test_full_jitter_never_waits_longer_than_the_backoff(run_sfn: Any,
                                                          clock: ManualClock) -> None:
    attempts: list[float] = []

    def failing(request: TaskRequest) -> Any:
        attempts.append(clock.now())
        raise TaskFailure("Boom")

    run_sfn({"StartAt": "T", "States": {"T": task(Retry=[
        {"ErrorEquals": ["States.ALL"], "IntervalSeconds": 4, "JitterStrategy": "FULL",
         "MaxAttempts": 2}])}}, {}, {FN: failing})
    gaps = [b - a for a, b in itertools.pairwise(attempts)]
    assert len(gaps) == 2 and 0 <= gaps[0] <= 4 and 0 <= gaps[1] <= 8


def test_catch_puts_the_error_at_result_path(run_sfn: Any) -> None:
    def failing(request: TaskRequest) -> Any:
        raise TaskFailure("Custom", "why")

    result = run_sfn({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": FN, "Next": "Done", "Catch": [
            {"ErrorEquals": ["Other"], "Next": "Done"},
            {"ErrorEquals": ["States.TaskFailed"], "ResultPath": "$.err", "Next": "Handled"}]},
        "Handled": {"Type": "Pass", "End": True},
        "Done": {"Type": "Succeed"}}}, {"keep": 1}, {FN: failing})
    assert result.output == {"keep": 1, "err": {"Error": "Custom", "Cause": "why"}}
    assert types(result)[2:6] == ["LambdaFunctionScheduled", "LambdaFunctionStarted",
                                  "LambdaFunctionFailed", "TaskStateExited"]


def test_runtime_errors_are_never_caught(run_sfn: Any) -> None:
    result = run_sfn({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": FN, "OutputPath": "$.missing.x", "End": True,
              "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "C"}]},
        "C": {"Type": "Succeed"}}}, {}, {FN: lambda r: {}})
    assert result.status == "FAILED" and result.error == "States.Runtime"
    assert result.cause == ("An error occurred while executing the state 'T' (entered at the "
                            "event id #2). Invalid path '$.missing.x' : Missing property in "
                            "path $['missing']")


def test_task_timeout_and_heartbeat(run_sfn: Any) -> None:
    slow = {FN: lambda r: Delayed(60, "late")}
    result = run_sfn({"StartAt": "T", "States": {"T": task(TimeoutSeconds=5)}}, {}, slow)
    assert (result.status, result.error) == ("FAILED", "States.Timeout")
    assert "LambdaFunctionTimedOut" in types(result)
    result = run_sfn({"StartAt": "T", "States": {"T": task(TimeoutSeconds=100,
                                                           HeartbeatSeconds=3)}}, {}, slow)
    assert result.error == "States.HeartbeatTimeout"


def test_data_limit_exceeded_on_a_large_result(run_sfn: Any) -> None:
    result = run_sfn({"StartAt": "T", "States": {"T": task()}}, {},
                     {FN: lambda r: "a" * (257 * 1024)})
    assert result.error == "States.DataLimitExceeded"


@pytest.mark.parametrize("wait,expected_seconds", [
    ({"Seconds": 30}, 30),
    ({"SecondsPath": "$.s"}, 45),
    ({"Timestamp": "2023-11-14T22:23:20Z"}, 600),
    ({"TimestampPath": "$.t"}, 3600),
])
def test_wait_states(run_sfn: Any, clock: ManualClock, wait: dict[str, Any],
                     expected_seconds: int) -> None:
    start = clock.now()
    result = run_sfn({"StartAt": "W", "States": {"W": {"Type": "Wait", "End": True, **wait}}},
                     {"s": 45, "t": "2023-11-14T23:13:20Z"})
    assert result.status == "SUCCEEDED"
    assert clock.now() - start == expected_seconds


def test_execution_timeout(run_sfn: Any) -> None:
    result = run_sfn({"TimeoutSeconds": 10, "StartAt": "W", "States": {
        "W": {"Type": "Wait", "Seconds": 60, "End": True}}})
    assert result.status == "TIMED_OUT"
    assert types(result)[-2:] == ["WaitStateAborted", "ExecutionTimedOut"]


def test_step_interface_is_inputs_in_effects_out() -> None:
    clock = ManualClock()
    program = parse_definition({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": FN, "Next": "W"},
        "W": {"Type": "Wait", "Seconds": 5, "End": True}}})
    engine = Engine(program, clock, SequentialIds())
    state, step = engine.start(INFO, {"a": 1})
    [invoke] = step.effects
    assert isinstance(invoke, InvokeTask) and invoke.parameters == {"a": 1}
    assert [e.type for e in step.events] == ["ExecutionStarted", "TaskStateEntered",
                                             "LambdaFunctionScheduled"]
    engine.step(state, TaskStarted(invoke.task_id))
    step = engine.step(state, TaskSucceeded(invoke.task_id, {"b": 2}))
    [timer] = step.effects
    assert isinstance(timer, StartTimer) and timer.fire_at == clock.now() + 5
    assert state.next_timer() == (timer.fire_at, timer.timer_id)
    clock.advance(5)
    engine.step(state, TimerFired(timer.timer_id))
    assert state.status == "SUCCEEDED" and state.output == {"b": 2}
    # Inputs for things that no longer exist are ignored, not errors.
    assert engine.step(state, TimerFired(timer.timer_id)).events == []


def test_stop_aborts_what_is_running() -> None:
    program = parse_definition({"StartAt": "T", "States": {"T": task()}})
    engine = Engine(program, ManualClock(), SequentialIds())
    state, _ = engine.start(INFO, {})
    step = engine.step(state, Stop("User", "stopped"))
    assert state.status == "ABORTED"
    assert [e.type for e in step.events] == ["TaskStateAborted", "ExecutionAborted"]


def test_choice_no_match_and_fail_state(run_sfn: Any) -> None:
    result = run_sfn({"StartAt": "C", "States": {"C": {"Type": "Choice", "Choices": [
        {"Variable": "$.x", "NumericEquals": 1, "Next": "F"}]},
        "F": {"Type": "Fail", "Error": "E", "Cause": "C"}}}, {"x": 2})
    assert (result.error, result.cause) == ("States.NoChoiceMatched", "No Matches!")
    result = run_sfn({"StartAt": "C", "States": {"C": {"Type": "Choice", "Choices": [
        {"Variable": "$.x", "NumericEquals": 1, "Next": "F"}]},
        "F": {"Type": "Fail", "ErrorPath": "$.e", "CausePath": "States.Format('n={}', $.x)"}}},
        {"x": 1, "e": "Mine"})
    assert (result.error, result.cause) == ("Mine", "n=1")
