"""Map and Parallel: results in order, MaxConcurrency, ItemSelector and the context object,
variable scoping, failure tear-down, retries of the whole state, distributed map runs."""

from __future__ import annotations

from typing import Any

from headwater.core.clock import ManualClock
from headwater.services.stepfunctions.runner import Delayed, TaskFailure, TaskRequest

FN = "arn:aws:lambda:us-east-1:000000000000:function:work"


def types(result: Any) -> list[str]:
    return [e.type for e in result.history]


def inline_map(**extra: Any) -> dict[str, Any]:
    processor = extra.pop("processor", {"StartAt": "I", "States": {
        "I": {"Type": "Pass", "End": True}}})
    return {"StartAt": "M", "States": {"M": {
        "Type": "Map", "ItemProcessor": processor, "End": True, **extra}}}


def test_map_outputs_in_item_order_with_item_selector(run_sfn: Any) -> None:
    result = run_sfn(inline_map(ItemsPath="$.items", MaxConcurrency=1, ItemSelector={
        "index.$": "$$.Map.Item.Index", "value.$": "$$.Map.Item.Value", "tag.$": "$.tag"}),
        {"items": ["a", "b"], "tag": "t"})
    assert result.output == [{"index": 0, "value": "a", "tag": "t"},
                             {"index": 1, "value": "b", "tag": "t"}]
    assert types(result) == [
        "ExecutionStarted", "MapStateEntered", "MapStateStarted",
        "MapIterationStarted", "PassStateEntered", "PassStateExited", "MapIterationSucceeded",
        "MapIterationStarted", "PassStateEntered", "PassStateExited", "MapIterationSucceeded",
        "MapStateSucceeded", "MapStateExited", "ExecutionSucceeded"]
    started = result.history[2]
    assert started.details == {"length": 2}


def test_max_concurrency_limits_tasks_in_flight(run_sfn: Any, clock: ManualClock) -> None:
    in_flight: list[float] = []

    def slow(request: TaskRequest) -> Any:
        in_flight.append(clock.now())
        return Delayed(10, request.parameters * 2)

    start = clock.now()
    result = run_sfn(inline_map(MaxConcurrency=2, processor={"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": FN, "End": True}}}), [1, 2, 3, 4, 5], {FN: slow})
    assert result.output == [2, 4, 6, 8, 10]
    assert [t - start for t in in_flight] == [0, 0, 10, 10, 20]


def test_variables_flow_in_but_not_out(run_sfn: Any) -> None:
    result = run_sfn({"StartAt": "A", "States": {
        "A": {"Type": "Pass", "Assign": {"outer": 10}, "Next": "M"},
        "M": {"Type": "Map", "MaxConcurrency": 1, "ItemProcessor": {"StartAt": "I", "States": {
            "I": {"Type": "Pass", "Assign": {"inner": 1},
                  "Parameters": {"o.$": "$outer", "v.$": "$"}, "Next": "J"},
            "J": {"Type": "Pass", "Parameters": {"i.$": "$inner", "o.$": "$.o"},
                  "End": True}}}, "Next": "B"},
        "B": {"Type": "Pass", "Parameters": {"inner_visible.$": "States.ArrayLength($)"},
              "End": True}}}, [1, 2])
    assert result.status == "SUCCEEDED"
    result = run_sfn({"StartAt": "M", "States": {
        "M": {"Type": "Map", "ItemProcessor": {"StartAt": "I", "States": {
            "I": {"Type": "Pass", "Assign": {"inner": 1}, "End": True}}}, "Next": "B"},
        "B": {"Type": "Pass", "InputPath": "$inner", "End": True}}}, [1])
    assert result.status == "FAILED" and result.error == "States.Runtime"


def test_a_failed_iteration_aborts_the_others(run_sfn: Any) -> None:
    def work(request: TaskRequest) -> Any:
        if request.parameters == 2:
            raise TaskFailure("Bad", "item 2")
        return Delayed(100, request.parameters)

    result = run_sfn(inline_map(processor={"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": FN, "End": True}}}), [1, 2, 3], {FN: work})
    assert (result.status, result.error, result.cause) == ("FAILED", "Bad", "item 2")
    events = types(result)
    assert events.count("MapIterationFailed") == 1
    assert events.count("MapIterationAborted") == 2
    assert events[-2:] == ["MapStateFailed", "ExecutionFailed"]


def test_map_retry_reruns_every_iteration_and_catch_recovers(run_sfn: Any) -> None:
    result = run_sfn({"StartAt": "M", "States": {
        "M": {"Type": "Map", "MaxConcurrency": 1, "ItemProcessor": {"StartAt": "F", "States": {
            "F": {"Type": "Fail", "Error": "E"}}},
            "Retry": [{"ErrorEquals": ["E"], "MaxAttempts": 2, "IntervalSeconds": 1}],
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Done"}], "Next": "Done"},
        "Done": {"Type": "Pass", "End": True}}}, [1])
    assert result.output == {"Error": "E"}
    assert types(result).count("MapStateStarted") == 3
    assert "MapStateExited" in types(result)


def test_parallel_branches_see_the_same_input(run_sfn: Any) -> None:
    result = run_sfn({"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": True,
        "ResultSelector": {"sum.$": "States.MathAdd($[0], $[1].n)"}, "Branches": [
            {"StartAt": "A", "States": {"A": {"Type": "Pass", "InputPath": "$.n",
                                              "End": True}}},
            {"StartAt": "B", "States": {"B": {"Type": "Pass", "End": True}}}]}}}, {"n": 4})
    assert result.output == {"sum": 8}
    assert types(result)[1:3] == ["ParallelStateEntered", "ParallelStateStarted"]
    assert types(result)[-2] == "ParallelStateExited"


def test_parallel_failure_is_branch_error(run_sfn: Any) -> None:
    result = run_sfn({"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": True,
        "Branches": [
            {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 5, "End": True}}},
            {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "X", "Cause": "y"}}}]}}})
    assert (result.error, result.cause) == ("X", "y")
    assert "WaitStateAborted" in types(result)
    assert types(result)[-2:] == ["ParallelStateFailed", "ExecutionFailed"]


def test_distributed_map_has_map_run_events_and_tolerates_failures(run_sfn: Any) -> None:
    definition = inline_map(ToleratedFailureCount=1, processor={
        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
        "StartAt": "C", "States": {
            "C": {"Type": "Choice", "Choices": [
                {"Variable": "$", "NumericEquals": 2, "Next": "F"}], "Default": "P"},
            "P": {"Type": "Pass", "End": True},
            "F": {"Type": "Fail", "Error": "Two"}}})
    result = run_sfn(definition, [1, 2, 3])
    assert result.status == "SUCCEEDED"
    assert result.output == [1, {"Error": "Two"}, 3]
    assert types(result) == ["ExecutionStarted", "MapStateEntered", "MapStateStarted",
                             "MapRunStarted", "MapRunSucceeded", "MapStateSucceeded",
                             "MapStateExited", "ExecutionSucceeded"]
    result = run_sfn(definition, [2, 2, 3])
    assert result.error == "States.ExceedToleratedFailureThreshold"
    assert "MapRunFailed" in types(result)
