"""STANDARD executions survive ``kill -9``: a restarted ``headwater serve`` on the same data
directory resumes them from their history.  A Wait keeps its original deadline; an activity
task that was handed out before the crash is handed out again (at-least-once)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from headwater.gateway.server import free_port

pytestmark = pytest.mark.e2e

ROLE = "arn:aws:iam::000000000000:role/sfn"
WAIT_SECONDS = 4


class Served:
    """One ``python -m headwater serve`` process on a loopback port."""

    def __init__(self, data_dir: Path) -> None:
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.log = data_dir.parent / f"serve-{self.port}.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("HEADWATER_", "AWS_"))}
        with open(self.log, "wb") as out:  # a file, not a pipe nobody drains
            self.process = subprocess.Popen(
                [sys.executable, "-m", "headwater", "serve", "--port", str(self.port),
                 "--data-dir", str(data_dir), "--log-level", "warning"],
                stdout=out, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()
            try:
                with urllib.request.urlopen(f"{self.endpoint}/_headwater/health", timeout=1):
                    return
            except OSError:
                time.sleep(0.05)
        raise AssertionError(f"headwater did not start: {self.log.read_text()}")

    def sfn(self) -> Any:
        return boto3.client("stepfunctions", endpoint_url=self.endpoint, region_name="us-east-1",
                            aws_access_key_id="test", aws_secret_access_key="test",
                            config=Config(retries={"max_attempts": 1}, read_timeout=70))

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)


@pytest.fixture
def servers() -> Iterator[list[Served]]:
    started: list[Served] = []
    yield started
    for served in started:
        served.kill()


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
    first = Served(data)
    servers.append(first)
    sfn = first.sfn()
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
    second = Served(data)
    servers.append(second)
    sfn = second.sfn()
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
    first = Served(data)
    servers.append(first)
    sfn = first.sfn()
    activity = sfn.create_activity(name="crashy")["activityArn"]
    definition = {"StartAt": "Work", "States": {
        "Work": {"Type": "Task", "Resource": activity, "End": True}}}
    machine = sfn.create_state_machine(name="worker", definition=json.dumps(definition),
                                       roleArn=ROLE)["stateMachineArn"]
    arn = sfn.start_execution(stateMachineArn=machine, input='{"job": 42}')["executionArn"]
    task = sfn.get_activity_task(activityArn=activity, workerName="before-crash")
    assert json.loads(task["input"]) == {"job": 42}
    first.kill()  # the worker got the task; nobody reported back

    second = Served(data)
    servers.append(second)
    sfn = second.sfn()
    again = sfn.get_activity_task(activityArn=activity, workerName="after-crash")
    assert json.loads(again["input"]) == {"job": 42}
    sfn.send_task_success(taskToken=again["taskToken"], output='{"result": "ok"}')
    described = wait_status(sfn, arn, timeout=10)
    assert json.loads(described["output"]) == {"result": "ok"}
    types = [e["type"] for e in sfn.get_execution_history(executionArn=arn)["events"]]
    assert types.count("ActivityScheduled") == 1
    assert types[-1] == "ExecutionSucceeded"
