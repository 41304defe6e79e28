"""History events in GetExecutionHistory's wire shape."""

from __future__ import annotations

from datetime import UTC, datetime

from headwater.services.stepfunctions.history import History, details_key


def test_details_keys_follow_the_model() -> None:
    assert details_key("PassStateEntered") == "stateEnteredEventDetails"
    assert details_key("MapStateExited") == "stateExitedEventDetails"
    assert details_key("TaskScheduled") == "taskScheduledEventDetails"
    assert details_key("MapIterationStarted") == "mapIterationStartedEventDetails"
    assert details_key("LambdaFunctionTimedOut") == "lambdaFunctionTimedOutEventDetails"


def test_payloads_are_json_strings_on_the_wire() -> None:
    history = History()
    first = history.add("ExecutionStarted", 0, 0.0, {"input": {"a": 1}, "roleArn": "r"})
    history.add("TaskScheduled", first, 1.5, {"resourceType": "lambda", "resource": "invoke",
                                              "parameters": {"b": [1]}})
    started, scheduled = (e.to_wire() for e in history.events)
    assert started == {
        "timestamp": datetime(1970, 1, 1, tzinfo=UTC), "type": "ExecutionStarted",
        "id": 1, "previousEventId": 0,
        "executionStartedEventDetails": {"input": '{"a":1}', "inputDetails": {"truncated": False},
                                         "roleArn": "r"}}
    assert scheduled["taskScheduledEventDetails"]["parameters"] == '{"b":[1]}'
    without = history.events[0].to_wire(include_data=False)
    assert "input" not in without["executionStartedEventDetails"]


def test_unrecorded_history_still_counts_ids() -> None:
    history = History(record=False)
    assert history.add("ExecutionStarted", 0, 0.0) == 1
    assert history.add("PassStateEntered", 1, 0.0) == 2
    assert history.events == []
