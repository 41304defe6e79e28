"""Step Functions Local's mock configuration: response ranges, throws, and ``sfn run
--mock-config --test-case``."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from headwater.services.stepfunctions import local
from headwater.services.stepfunctions.mocks import MockConfig, returned
from headwater.services.stepfunctions.runner import TaskFailure

CONFIG = {
    "StateMachines": {"orders": {"TestCases": {
        "Retries": {"Charge": "FailTwiceThenOk"},
        "Happy": {"Charge": "Ok"}}}},
    "MockedResponses": {
        "FailTwiceThenOk": {"0-1": {"Throw": {"Error": "Busy", "Cause": "try later"}},
                            "2": {"Return": {"charged": True}}},
        "Ok": {"0": {"Return": {"charged": 1}}}},
}
MACHINE = {"StartAt": "Charge", "States": {"Charge": {
    "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
    "Parameters": {"FunctionName": "charge"},
    "Retry": [{"ErrorEquals": ["Busy"], "IntervalSeconds": 1, "MaxAttempts": 3}],
    "End": True}}}


def test_ranges_throws_and_the_last_response_repeating() -> None:
    config = MockConfig(CONFIG)
    for attempt in (0, 1):
        with pytest.raises(TaskFailure) as failure:
            config.response("orders", "Retries", "Charge", attempt)
        assert (failure.value.error, failure.value.cause) == ("Busy", "try later")
    assert returned(config.response("orders", "Retries", "Charge", 2)) == {"charged": True}
    assert returned(config.response("orders", "Happy", "Charge", 5)) == {"charged": 1}
    assert config.response("orders", "Happy", "Other", 0) is None  # not mocked: real call
    assert config.has_case("orders", "Happy") and not config.has_case("orders", "Sad")


def test_a_test_case_naming_an_unknown_response_is_refused() -> None:
    with pytest.raises(ValueError):
        MockConfig({"StateMachines": {"m": {"TestCases": {"T": {"S": "Missing"}}}},
                    "MockedResponses": {}})


def test_sfn_run_with_a_mock_config(tmp_path: Path) -> None:
    definition = tmp_path / "orders.json"
    definition.write_text(json.dumps(MACHINE))
    mocks = tmp_path / "mocks.json"
    mocks.write_text(json.dumps(CONFIG))
    out, err = io.StringIO(), io.StringIO()
    code = local.run(definition, {}, "STANDARD", True, False, [], out, err, mocks, "Retries")
    assert code == 0, err.getvalue()
    lines = out.getvalue().splitlines()
    types = [json.loads(line)["type"] for line in lines if line.startswith('{"timestamp"')]
    assert types.count("TaskFailed") == 2 and types.count("TaskSucceeded") == 1
    assert json.loads("".join(lines[len(types):])) == {"charged": True}
    assert local.run(definition, {}, "STANDARD", False, False, [], out, err, mocks, "Nope") == 2
