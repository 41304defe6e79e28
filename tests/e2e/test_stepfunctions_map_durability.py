"""A distributed map survives ``kill -9``: the restarted server resumes the map run from its
ledger, a child that was running resumes from its own history, the children that had finished
are not run again and the ones that never started start."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from served import Served, start
from test_stepfunctions_durability import ROLE, wait_status

pytestmark = pytest.mark.e2e

CHILD_SECONDS = 2


def test_map_run_resumes_after_kill_9(servers: list[Served], tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = start(servers, data)
    sfn = first.client("stepfunctions", read_timeout=70)
    definition = {"StartAt": "Map", "States": {"Map": {
        "Type": "Map", "End": True, "ItemsPath": "$.items", "MaxConcurrency": 1,
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED",
                                              "ExecutionType": "STANDARD"},
                          "StartAt": "Sleep", "States": {
                              "Sleep": {"Type": "Wait", "Seconds": CHILD_SECONDS,
                                        "End": True}}}}}}
    machine = sfn.create_state_machine(name="mapper", definition=json.dumps(definition),
                                       roleArn=ROLE)["stateMachineArn"]
    arn = sfn.start_execution(stateMachineArn=machine,
                              input=json.dumps({"items": [1, 2, 3]}))["executionArn"]
    [run] = sfn.list_map_runs(executionArn=arn)["mapRuns"]
    deadline = time.monotonic() + 10
    while sfn.describe_map_run(mapRunArn=run["mapRunArn"])["executionCounts"]["succeeded"] < 1:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    before = {e["executionArn"] for e in
              sfn.list_executions(mapRunArn=run["mapRunArn"])["executions"]}
    assert len(before) == 2  # the first finished, the second waits
    first.kill()

    second = start(servers, data)
    sfn = second.client("stepfunctions", read_timeout=70)
    described = wait_status(sfn, arn, timeout=3 * CHILD_SECONDS + 10)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == [1, 2, 3]
    children = sfn.list_executions(mapRunArn=run["mapRunArn"])["executions"]
    assert len(children) == 3 and before <= {c["executionArn"] for c in children}
    assert all(c["status"] == "SUCCEEDED" for c in children)
    counts = sfn.describe_map_run(mapRunArn=run["mapRunArn"])
    assert counts["status"] == "SUCCEEDED" and counts["executionCounts"]["succeeded"] == 3
    types = [e["type"] for e in sfn.get_execution_history(executionArn=arn)["events"]]
    assert types.count("MapRunStarted") == 1 and types[-1] == "ExecutionSucceeded"
