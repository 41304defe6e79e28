"""STANDARD executions survive ``kill -9``: a restarted ``headwater serve`` on the same data
directory resumes them from their history.  A Wait keeps its original deadline; an activity
task that was handed out before the crash is handed out again (at-least-once)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from served import Served, start

pytestmark = pytest.mark.e2e

ROLE = "arn:aws:iam::000000000000:role/sfn"
WAIT_SECONDS = 4


def wait_status(sfn: Any, arn: str, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        described: dict[str, Any] = sfn.describe_execution(executionArn=arn)
        if described["status"] != "RUNNING":
            return described
        time.sleep(0.05)
    raise AssertionError(f"{arn} still running after {timeout} s")


def test_waiting_execution_resumes_after_kill_9(servers: list[Served], tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = start(servers, data)
    sfn = first.client("stepfunctions", read_timeout=70)
    definition = {"StartAt": "Before", "States": {
        "Before": {"Type": "Pass", "Result": {"step": 1}, "Next": "Sleep"},
        "Sleep": {"Type": "Wait", "Seconds": WAIT_SECONDS, "Next": "After"},
        "After": {"Type": "Pass", "Parameters": {"done.$": "$.step"}, "End": True}}}
    machine = sfn.create_state_machine(name="sleeper", definition=json.dumps(definition),
                                       roleArn=ROLE)["stateMachineArn"]
    arn = sfn.start_execution(stateMachineArn=machine, name="nap")["executionArn"]
    types = [e["type"] for e in sfn.get_execution_history(executionArn=arn)["events"]]
    assert types[-1] == "WaitStateEntered"
    first.kill()

    restarted_at = time.time()
    second = start(servers, data)
    sfn = second.client("stepfunctions", read_timeout=70)
    described = wait_status(sfn, arn, timeout=WAIT_SECONDS + 10)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == {"done": 1}
    # The Wait kept its deadline: the execution ended WAIT_SECONDS after it started, not
    # WAIT_SECONDS after the restart.
    took = (described["stopDate"] - described["startDate"]).total_seconds()
    assert WAIT_SECONDS <= took < WAIT_SECONDS + 1.5
    assert described["stopDate"].timestamp() < restarted_at + WAIT_SECONDS
    types = [e["type"] for e in sfn.get_execution_history(executionArn=arn)["events"]]
    assert types == ["ExecutionStarted", "PassStateEntered", "PassStateExited",
                     "WaitStateEntered", "WaitStateExited", "PassStateEntered",
                     "PassStateExited", "ExecutionSucceeded"]


def test_task_in_flight_runs_again_after_kill_9(servers: list[Served], tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = start(servers, data)
    sfn = first.client("stepfunctions", read_timeout=70)
    activity = sfn.create_activity(name="crashy")["activityArn"]
    definition = {"StartAt": "Work", "States": {
        "Work": {"Type": "Task", "Resource": activity, "End": True}}}
    machine = sfn.create_state_machine(name="worker", definition=json.dumps(definition),
                                       roleArn=ROLE)["stateMachineArn"]
    arn = sfn.start_execution(stateMachineArn=machine, input='{"job": 42}')["executionArn"]
    task = sfn.get_activity_task(activityArn=activity, workerName="before-crash")
    assert json.loads(task["input"]) == {"job": 42}
    first.kill()  # the worker got the task; nobody reported back

    second = start(servers, data)
    sfn = second.client("stepfunctions", read_timeout=70)
    again = sfn.get_activity_task(activityArn=activity, workerName="after-crash")
    assert json.loads(again["input"]) == {"job": 42}
    sfn.send_task_success(taskToken=again["taskToken"], output='{"result": "ok"}')
    described = wait_status(sfn, arn, timeout=10)
    assert json.loads(described["output"]) == {"result": "ok"}
    types = [e["type"] for e in sfn.get_execution_history(executionArn=arn)["events"]]
    assert types.count("ActivityScheduled") == 1
    assert types[-1] == "ExecutionSucceeded"
