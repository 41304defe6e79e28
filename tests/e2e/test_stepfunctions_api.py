"""The Step Functions API through boto3 against a real headwater server: every operation
headwater serves, its errors, and the task integrations (SQS, task tokens, activities,
states:startExecution, aws-sdk:*, mocked responses)."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from headwater.testing import RunningHeadwater

pytestmark = pytest.mark.e2e

ROLE = "arn:aws:iam::000000000000:role/sfn"
COUNTER = {
    "StartAt": "Init",
    "States": {
        "Init": {"Type": "Pass", "Result": {"i": 0}, "Next": "Loop"},
        "Loop": {"Type": "Choice", "Default": "Done",
                 "Choices": [{"Variable": "$.i", "NumericLessThan": 3, "Next": "Inc"}]},
        "Inc": {"Type": "Pass", "Parameters": {"i.$": "States.MathAdd($.i, 1)"}, "Next": "Loop"},
        "Done": {"Type": "Succeed"},
    },
}
WAIT = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 60, "End": True}}}


@pytest.fixture(scope="module")
def sfn(hw: RunningHeadwater) -> Any:
    # StartSyncExecution carries botocore's "sync-" host prefix, which a loopback IP cannot take.
    return hw.client("stepfunctions", config=Config(inject_host_prefix=False,
                                                    retries={"max_attempts": 1}))


def machine(sfn: Any, name: str, definition: dict[str, Any] = COUNTER, **kwargs: Any) -> str:
    return str(sfn.create_state_machine(name=name, definition=json.dumps(definition),
                                        roleArn=ROLE, **kwargs)["stateMachineArn"])


def finished(sfn: Any, arn: str, timeout: float = 10.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        described: dict[str, Any] = sfn.describe_execution(executionArn=arn)
        if described["status"] != "RUNNING" or time.monotonic() > deadline:
            return described
        time.sleep(0.02)


def code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


# -- state machines ---------------------------------------------------------------------


def test_state_machine_lifecycle(sfn: Any) -> None:
    arn = machine(sfn, "lifecycle", tags=[{"key": "team", "value": "a"}])
    described = sfn.describe_state_machine(stateMachineArn=arn)
    assert described["name"] == "lifecycle" and described["type"] == "STANDARD"
    assert json.loads(described["definition"]) == COUNTER
    assert described["loggingConfiguration"] == {"level": "OFF", "includeExecutionData": False}
    # Creating the same machine again is idempotent; a different definition is a conflict.
    assert machine(sfn, "lifecycle", tags=[{"key": "team", "value": "a"}]) == arn
    with pytest.raises(ClientError) as exc:
        machine(sfn, "lifecycle", WAIT)
    assert code(exc) == "StateMachineAlreadyExists"
    logging_config = {"level": "ALL", "includeExecutionData": True,
                      "destinations": [{"cloudWatchLogsLogGroup": {
                          "logGroupArn": "arn:aws:logs:us-east-1:000000000000:log-group:g:*"}}]}
    updated = sfn.update_state_machine(stateMachineArn=arn, definition=json.dumps(WAIT),
                                       loggingConfiguration=logging_config)
    assert updated["revisionId"] != described["revisionId"]
    again = sfn.describe_state_machine(stateMachineArn=arn)
    assert json.loads(again["definition"]) == WAIT
    assert again["loggingConfiguration"]["level"] == "ALL"
    names = [m["name"] for m in sfn.list_state_machines()["stateMachines"]]
    assert "lifecycle" in names
    assert sfn.list_tags_for_resource(resourceArn=arn)["tags"] == [{"key": "team", "value": "a"}]
    sfn.tag_resource(resourceArn=arn, tags=[{"key": "env", "value": "dev"}])
    sfn.untag_resource(resourceArn=arn, tagKeys=["team"])
    assert sfn.list_tags_for_resource(resourceArn=arn)["tags"] == [{"key": "env", "value": "dev"}]
    sfn.delete_state_machine(stateMachineArn=arn)
    with pytest.raises(ClientError) as exc:
        sfn.describe_state_machine(stateMachineArn=arn)
    assert code(exc) == "StateMachineDoesNotExist"
    assert exc.value.response["Error"]["Message"] == f"State Machine Does Not Exist: '{arn}'"


def test_invalid_definitions_and_validation(sfn: Any) -> None:
    bad = {"StartAt": "Nowhere", "States": {"A": {"Type": "Pass", "End": True}}}
    with pytest.raises(ClientError) as exc:
        machine(sfn, "bad", bad)
    assert code(exc) == "InvalidDefinition"
    assert exc.value.response["Error"]["Message"].startswith("Invalid State Machine Definition: ")
    report = sfn.validate_state_machine_definition(definition=json.dumps(bad))
    assert report["result"] == "FAIL" and report["diagnostics"]
    assert sfn.validate_state_machine_definition(definition=json.dumps(COUNTER))["result"] == "OK"
    with pytest.raises(ClientError) as exc:
        machine(sfn, "bad name")
    assert code(exc) == "InvalidName"


def test_arn_errors(sfn: Any) -> None:
    with pytest.raises(ClientError) as exc:
        sfn.describe_state_machine(stateMachineArn="not-an-arn")
    assert code(exc) == "InvalidArn"
    arn = machine(sfn, "arns")
    with pytest.raises(ClientError) as exc:
        sfn.describe_execution(executionArn=arn)
    assert code(exc) == "InvalidArn"
    assert "Resource type not valid in this context: stateMachine" in str(exc.value)
    with pytest.raises(ClientError) as exc:
        sfn.start_execution(stateMachineArn=arn + "-missing")
    assert code(exc) == "StateMachineDoesNotExist"


def test_a_tag_without_a_key_is_refused_not_a_crash(sfn: Any) -> None:
    # The model leaves a tag's key optional, so botocore sends such a list.
    arn = machine(sfn, "keyless-tags")
    for call in (lambda: sfn.tag_resource(resourceArn=arn, tags=[{"value": "v"}]),
                 lambda: sfn.create_activity(name="keyless", tags=[{"key": "k"}, {}]),
                 lambda: machine(sfn, "keyless-tags-2", tags=[{"value": "v"}])):
        with pytest.raises(ClientError) as exc:
            call()
        assert code(exc) == "ValidationException"
        assert "Member must not be null" in exc.value.response["Error"]["Message"]
    assert sfn.list_tags_for_resource(resourceArn=arn)["tags"] == []


# -- executions -------------------------------------------------------------------------


def test_execution_describe_list_history(sfn: Any) -> None:
    arn = machine(sfn, "counter")
    started = sfn.start_execution(stateMachineArn=arn, name="first", input='{"x": 1}')
    described = finished(sfn, started["executionArn"])
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == {"i": 3}
    assert json.loads(described["input"]) == {"x": 1}
    # Same name and input while running would be idempotent; once finished it is taken.
    with pytest.raises(ClientError) as exc:
        sfn.start_execution(stateMachineArn=arn, name="first", input='{"x": 2}')
    assert code(exc) == "ExecutionAlreadyExists"
    sfn.start_execution(stateMachineArn=arn, name="second")
    listed = sfn.list_executions(stateMachineArn=arn, maxResults=1)
    assert len(listed["executions"]) == 1 and listed["nextToken"]
    rest = sfn.list_executions(stateMachineArn=arn, nextToken=listed["nextToken"])
    assert {e["name"] for e in listed["executions"] + rest["executions"]} == {"first", "second"}
    assert sfn.list_executions(stateMachineArn=arn, statusFilter="FAILED")["executions"] == []

    history = sfn.get_execution_history(executionArn=started["executionArn"])["events"]
    types = [e["type"] for e in history]
    assert types[0] == "ExecutionStarted" and types[-1] == "ExecutionSucceeded"
    assert len(types) == 2 + 2 * 9  # Init, 4 x Loop, 3 x Inc, Done: entered + exited each
    page = sfn.get_execution_history(executionArn=started["executionArn"], maxResults=5)
    assert [e["id"] for e in page["events"]] == [1, 2, 3, 4, 5]
    page2 = sfn.get_execution_history(executionArn=started["executionArn"], maxResults=5,
                                      nextToken=page["nextToken"])
    assert page2["events"][0]["id"] == 6
    backwards = sfn.get_execution_history(executionArn=started["executionArn"], maxResults=3,
                                          reverseOrder=True)
    assert backwards["events"][0]["type"] == "ExecutionSucceeded"
    lean = sfn.get_execution_history(executionArn=started["executionArn"],
                                     includeExecutionData=False)["events"]
    assert "input" not in lean[0]["executionStartedEventDetails"]

    for_execution = sfn.describe_state_machine_for_execution(
        executionArn=started["executionArn"])
    assert json.loads(for_execution["definition"]) == COUNTER


def test_stop_execution(sfn: Any) -> None:
    arn = machine(sfn, "waiter", WAIT)
    started = sfn.start_execution(stateMachineArn=arn)
    sfn.stop_execution(executionArn=started["executionArn"], error="Halt", cause="by test")
    described = sfn.describe_execution(executionArn=started["executionArn"])
    assert described["status"] == "ABORTED"
    assert described["error"] == "Halt" and described["cause"] == "by test"
    types = [e["type"] for e in
             sfn.get_execution_history(executionArn=started["executionArn"])["events"]]
    assert types[-1] == "ExecutionAborted"


def test_express_start_sync(sfn: Any) -> None:
    arn = machine(sfn, "express", type="EXPRESS")
    reply = sfn.start_sync_execution(stateMachineArn=arn, input="{}")
    assert reply["status"] == "SUCCEEDED" and json.loads(reply["output"]) == {"i": 3}
    assert reply["billingDetails"]["billedDurationInMilliseconds"] >= 100
    assert ":express:express:" in reply["executionArn"]
    failing = machine(sfn, "express-fail", {"StartAt": "F", "States": {
        "F": {"Type": "Fail", "Error": "Boom", "Cause": "why"}}}, type="EXPRESS")
    reply = sfn.start_sync_execution(stateMachineArn=failing)
    assert (reply["status"], reply["error"], reply["cause"]) == ("FAILED", "Boom", "why")
    standard = machine(sfn, "not-express")
    with pytest.raises(ClientError) as exc:
        sfn.start_sync_execution(stateMachineArn=standard)
    assert code(exc) == "StateMachineTypeNotSupported"
    assert sfn.start_execution(stateMachineArn=arn)["executionArn"]


def test_versions_and_aliases(sfn: Any) -> None:
    created = sfn.create_state_machine(name="versioned", definition=json.dumps(COUNTER),
                                       roleArn=ROLE, publish=True, versionDescription="v1")
    v1 = created["stateMachineVersionArn"]
    assert v1.endswith(":versioned:1")
    arn = created["stateMachineArn"]
    sfn.update_state_machine(stateMachineArn=arn, definition=json.dumps(
        {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": "two", "End": True}}}))
    v2 = sfn.publish_state_machine_version(stateMachineArn=arn)["stateMachineVersionArn"]
    assert v2.endswith(":2")
    versions = sfn.list_state_machine_versions(stateMachineArn=arn)["stateMachineVersions"]
    assert [v["stateMachineVersionArn"] for v in versions] == [v2, v1]
    assert sfn.describe_state_machine(stateMachineArn=v1)["description"] == "v1"
    alias = sfn.create_state_machine_alias(
        name="live", routingConfiguration=[{"stateMachineVersionArn": v1, "weight": 100}])
    alias_arn = alias["stateMachineAliasArn"]
    assert sfn.describe_state_machine_alias(stateMachineAliasArn=alias_arn)["name"] == "live"
    run = sfn.start_execution(stateMachineArn=alias_arn)
    described = finished(sfn, run["executionArn"])
    assert json.loads(described["output"]) == {"i": 3}
    assert described["stateMachineAliasArn"] == alias_arn
    assert described["stateMachineVersionArn"] == v1
    sfn.update_state_machine_alias(
        stateMachineAliasArn=alias_arn,
        routingConfiguration=[{"stateMachineVersionArn": v2, "weight": 100}])
    run = sfn.start_execution(stateMachineArn=alias_arn)
    assert json.loads(finished(sfn, run["executionArn"])["output"]) == "two"
    run = sfn.start_execution(stateMachineArn=v1)
    assert json.loads(finished(sfn, run["executionArn"])["output"]) == {"i": 3}
    aliases = sfn.list_state_machine_aliases(stateMachineArn=arn)["stateMachineAliases"]
    assert [a["stateMachineAliasArn"] for a in aliases] == [alias_arn]
    with pytest.raises(ClientError) as exc:
        sfn.delete_state_machine_version(stateMachineVersionArn=v2)
    assert code(exc) == "ConflictException"
    sfn.delete_state_machine_alias(stateMachineAliasArn=alias_arn)
    sfn.delete_state_machine_version(stateMachineVersionArn=v2)
    with pytest.raises(ClientError) as exc:
        sfn.create_state_machine_alias(
            name="weights", routingConfiguration=[{"stateMachineVersionArn": v1, "weight": 50}])
    assert code(exc) == "ValidationException"


# -- activities and task tokens -----------------------------------------------------------


def test_activity_worker(sfn: Any) -> None:
    activity = sfn.create_activity(name="work")["activityArn"]
    assert sfn.describe_activity(activityArn=activity)["name"] == "work"
    assert activity in [a["activityArn"] for a in sfn.list_activities()["activities"]]
    arn = machine(sfn, "uses-activity", {"StartAt": "A", "States": {
        "A": {"Type": "Task", "Resource": activity, "HeartbeatSeconds": 30, "End": True}}})
    run = sfn.start_execution(stateMachineArn=arn, input='{"job": 7}')["executionArn"]
    task = sfn.get_activity_task(activityArn=activity, workerName="w1")
    assert json.loads(task["input"]) == {"job": 7}
    sfn.send_task_heartbeat(taskToken=task["taskToken"])
    sfn.send_task_success(taskToken=task["taskToken"], output='{"done": true}')
    described = finished(sfn, run)
    assert json.loads(described["output"]) == {"done": True}
    types = [e["type"] for e in sfn.get_execution_history(executionArn=run)["events"]]
    assert types[:5] == ["ExecutionStarted", "TaskStateEntered", "ActivityScheduled",
                         "ActivityStarted", "ActivitySucceeded"]
    with pytest.raises(ClientError) as exc:
        sfn.send_task_success(taskToken=task["taskToken"], output="{}")
    assert code(exc) == "TaskTimedOut"
    # A failing worker: the error and cause are the task's.
    run = sfn.start_execution(stateMachineArn=arn)["executionArn"]
    task = sfn.get_activity_task(activityArn=activity)
    sfn.send_task_failure(taskToken=task["taskToken"], error="Oops", cause="bad input")
    described = finished(sfn, run)
    assert (described["status"], described["error"]) == ("FAILED", "Oops")
    sfn.delete_activity(activityArn=activity)
    with pytest.raises(ClientError) as exc:
        sfn.describe_activity(activityArn=activity)
    assert code(exc) == "ActivityDoesNotExist"


def test_get_activity_task_long_polls(sfn: Any) -> None:
    activity = sfn.create_activity(name="slow")["activityArn"]
    arn = machine(sfn, "slow-activity", {"StartAt": "A", "States": {
        "A": {"Type": "Task", "Resource": activity, "End": True}}})
    got: dict[str, Any] = {}

    def poll() -> None:
        got.update(sfn.get_activity_task(activityArn=activity))

    poller = threading.Thread(target=poll)
    poller.start()
    time.sleep(0.3)
    sfn.start_execution(stateMachineArn=arn, input='{"late": 1}')
    poller.join(timeout=10)
    assert json.loads(got["input"]) == {"late": 1}
    sfn.send_task_success(taskToken=got["taskToken"], output="{}")


def test_sqs_send_message_wait_for_task_token(hw: RunningHeadwater, sfn: Any) -> None:
    sqs = hw.client("sqs")
    url = sqs.create_queue(QueueName="sfn-callbacks")["QueueUrl"]
    arn = machine(sfn, "callback", {"StartAt": "Ask", "States": {"Ask": {
        "Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        "Parameters": {"QueueUrl": url, "MessageBody": {"token.$": "$$.Task.Token",
                                                        "n.$": "$.n"}},
        "End": True}}})
    run = sfn.start_execution(stateMachineArn=arn, input='{"n": 5}')["executionArn"]
    messages = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=5)["Messages"]
    body = json.loads(messages[0]["Body"])
    assert body["n"] == 5
    assert sfn.describe_execution(executionArn=run)["status"] == "RUNNING"
    sfn.send_task_success(taskToken=body["token"], output='{"approved": true}')
    assert json.loads(finished(sfn, run)["output"]) == {"approved": True}


def test_sqs_send_message_and_aws_sdk_errors(hw: RunningHeadwater, sfn: Any) -> None:
    sqs = hw.client("sqs")
    url = sqs.create_queue(QueueName="sfn-plain")["QueueUrl"]
    arn = machine(sfn, "sender", {"StartAt": "Send", "States": {
        "Send": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage",
                 "Parameters": {"QueueUrl": url, "MessageBody": "hello"}, "Next": "Missing"},
        "Missing": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:sqs:getQueueUrl",
                    "Parameters": {"QueueName": "no-such-queue"}, "End": True}}})
    run = sfn.start_execution(stateMachineArn=arn)["executionArn"]
    described = finished(sfn, run)
    assert described["status"] == "FAILED"
    assert described["error"] == "Sqs.QueueDoesNotExistException"
    assert "(Service: Sqs, Status Code: 400" in described["cause"]
    assert sqs.receive_message(QueueUrl=url)["Messages"][0]["Body"] == "hello"


def test_unsupported_integration_names_the_service(sfn: Any) -> None:
    arn = machine(sfn, "dynamo", {"StartAt": "Put", "States": {"Put": {
        "Type": "Task", "Resource": "arn:aws:states:::dynamodb:putItem",
        "Parameters": {"TableName": "t", "Item": {}}, "End": True}}})
    described = finished(sfn, sfn.start_execution(stateMachineArn=arn)["executionArn"])
    assert described["error"] == "Headwater.UnsupportedIntegration"
    assert "dynamodb" in described["cause"]


def test_start_execution_sync_integration(sfn: Any) -> None:
    child = machine(sfn, "child")
    parent = machine(sfn, "parent", {"StartAt": "Run", "States": {"Run": {
        "Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync:2",
        "Parameters": {"StateMachineArn": child, "Input": {"from": "parent"}},
        "OutputPath": "$.Output", "End": True}}})
    described = finished(sfn, sfn.start_execution(stateMachineArn=parent)["executionArn"])
    assert described["status"] == "SUCCEEDED", described
    assert json.loads(described["output"]) == {"i": 3}


def test_mocked_test_case(hw: RunningHeadwater, sfn: Any) -> None:
    arn = machine(sfn, "mocked", {"StartAt": "Call", "States": {"Call": {
        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "nowhere"},
        "Retry": [{"ErrorEquals": ["Flaky"], "IntervalSeconds": 1, "MaxAttempts": 2}],
        "End": True}}})
    hw.gateway.env.facades["stepfunctions"].set_mock_config({
        "StateMachines": {"mocked": {"TestCases": {"Happy": {"Call": "FlakyThenOk"}}}},
        "MockedResponses": {"FlakyThenOk": {
            "0": {"Throw": {"Error": "Flaky", "Cause": "first try"}},
            "1": {"Return": {"StatusCode": 200, "Payload": {"ok": True}}}}},
    })
    run = sfn.start_execution(stateMachineArn=f"{arn}#Happy")["executionArn"]
    described = finished(sfn, run)
    assert json.loads(described["output"]) == {"StatusCode": 200, "Payload": {"ok": True}}
    types = [e["type"] for e in sfn.get_execution_history(executionArn=run)["events"]]
    assert types.count("TaskFailed") == 1 and types.count("TaskSucceeded") == 1
    with pytest.raises(ClientError) as exc:
        sfn.start_execution(stateMachineArn=f"{arn}#Nope")
    assert code(exc) == "InvalidArn"


def test_redrive_execution(hw: RunningHeadwater, sfn: Any) -> None:
    sqs = hw.client("sqs")
    arn = machine(sfn, "redriven", {"StartAt": "Find", "States": {"Find": {
        "Type": "Task", "Resource": "arn:aws:states:::aws-sdk:sqs:getQueueUrl",
        "Parameters": {"QueueName": "created-later"}, "End": True}}})
    run = sfn.start_execution(stateMachineArn=arn)["executionArn"]
    failed = finished(sfn, run)
    assert (failed["status"], failed["redriveStatus"]) == ("FAILED", "REDRIVABLE")
    sqs.create_queue(QueueName="created-later")
    assert sfn.redrive_execution(executionArn=run)["redriveDate"]
    described = finished(sfn, run)
    assert described["status"] == "SUCCEEDED" and described["redriveCount"] == 1
    assert json.loads(described["output"])["QueueUrl"].endswith("/created-later")
    assert described["redriveStatus"] == "NOT_REDRIVABLE"
    types = [e["type"] for e in sfn.get_execution_history(executionArn=run)["events"]]
    assert "ExecutionRedriven" in types and types[-1] == "ExecutionSucceeded"
    with pytest.raises(ClientError) as exc:
        sfn.redrive_execution(executionArn=run)
    assert code(exc) == "ExecutionNotRedrivable"
    listed = sfn.list_executions(stateMachineArn=arn, redriveFilter="REDRIVEN")["executions"]
    assert [e["executionArn"] for e in listed] == [run]


def test_redrive_reruns_only_the_failed_map_iterations_and_parallel_branches(
        hw: RunningHeadwater, sfn: Any) -> None:
    sqs = hw.client("sqs")
    sqs.create_queue(QueueName="there-first")
    find = {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:sqs:getQueueUrl",
            "Parameters": {"QueueName.$": "$"}, "OutputPath": "$.QueueUrl", "End": True}
    arn = machine(sfn, "redriven-fanout", {"StartAt": "Each", "States": {
        "Each": {"Type": "Map", "Next": "Both", "ItemsPath": "$.map", "ResultPath": "$.found",
                 "MaxConcurrency": 1,
                 "ItemProcessor": {"StartAt": "Find", "States": {"Find": find}}},
        "Both": {"Type": "Parallel", "End": True, "Branches": [
            {"StartAt": "First", "States": {"First": {**find, "InputPath": "$.par[0]"}}},
            {"StartAt": "Second", "States": {"Second": {**find, "InputPath": "$.par[1]"}}}]}}})
    names = {"map": ["there-first", "map-later", "there-first"],
             "par": ["there-first", "parallel-later"]}
    run = sfn.start_execution(stateMachineArn=arn, input=json.dumps(names))["executionArn"]
    assert finished(sfn, run)["status"] == "FAILED"  # the Map: "map-later" is missing

    def since_last_redrive() -> list[dict[str, Any]]:
        events = sfn.get_execution_history(executionArn=run)["events"]
        last = max(i for i, e in enumerate(events) if e["type"] == "ExecutionRedriven")
        return list(events[last:])

    sqs.create_queue(QueueName="map-later")
    sfn.redrive_execution(executionArn=run)
    assert finished(sfn, run)["status"] == "FAILED"  # now the Parallel's second branch
    events = since_last_redrive()
    assert [e["mapIterationStartedEventDetails"]["index"] for e in events
            if e["type"] == "MapIterationStarted"] == [1, 2]  # 0 kept; 2 never ran
    assert [e["type"] for e in events if e["type"].startswith("Map")][:3] == [
        "MapStateEntered", "MapStateStarted", "MapIterationStarted"]

    sqs.create_queue(QueueName="parallel-later")
    sfn.redrive_execution(executionArn=run)
    described = finished(sfn, run)
    assert (described["status"], described["redriveCount"]) == ("SUCCEEDED", 2)
    assert described["redriveStatus"] == "NOT_REDRIVABLE" and described["redriveDate"]
    urls = json.loads(described["output"])
    assert [u.rsplit("/", 1)[1] for u in urls] == ["there-first", "parallel-later"]
    events = since_last_redrive()
    assert events[0]["executionRedrivenEventDetails"]["redriveCount"] == 2
    # Only the second branch ran again: one task, the "Second" state.
    entered = [e["stateEnteredEventDetails"]["name"] for e in events
               if e["type"] == "TaskStateEntered"]
    assert entered == ["Second"]


def test_start_execution_sync_with_an_express_child(sfn: Any) -> None:
    child = machine(sfn, "express-child", type="EXPRESS")
    parent = machine(sfn, "express-parent", {"StartAt": "Run", "States": {"Run": {
        "Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync",
        "Parameters": {"StateMachineArn": child}, "End": True}}})
    described = finished(sfn, sfn.start_execution(stateMachineArn=parent)["executionArn"])
    assert described["status"] == "SUCCEEDED", described
    assert json.loads(json.loads(described["output"])["Output"]) == {"i": 3}


def test_test_state(hw: RunningHeadwater, sfn: Any) -> None:
    pass_state = {"Type": "Pass", "Parameters": {"doubled.$": "States.MathAdd($.n, $.n)"},
                  "ResultPath": "$.out", "Next": "Later"}
    reply = sfn.test_state(definition=json.dumps(pass_state), roleArn=ROLE, input='{"n": 4}',
                           inspectionLevel="DEBUG")
    assert reply["status"] == "SUCCEEDED" and reply["nextState"] == "Later"
    assert json.loads(reply["output"]) == {"n": 4, "out": {"doubled": 8}}
    assert json.loads(reply["inspectionData"]["input"]) == {"n": 4}

    choice = {"StartAt": "Pick", "States": {
        "Pick": {"Type": "Choice", "Default": "Small",
                 "Choices": [{"Variable": "$.n", "NumericGreaterThan": 10, "Next": "Big"}]},
        "Big": {"Type": "Succeed"}, "Small": {"Type": "Succeed"}}}
    reply = sfn.test_state(definition=json.dumps(choice), stateName="Pick", roleArn=ROLE,
                           input='{"n": 40}')
    assert (reply["status"], reply["nextState"]) == ("SUCCEEDED", "Big")

    task = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "f", "Payload.$": "$"},
            "Retry": [{"ErrorEquals": ["Lambda.TooManyRequestsException"]}],
            "Catch": [{"ErrorEquals": ["Boom"], "Next": "Handle"}], "End": True}
    mocked = sfn.test_state(definition=json.dumps(task), roleArn=ROLE,
                            mock={"result": '{"Payload": {"ok": 1}}'},
                            inspectionLevel="DEBUG")
    assert mocked["status"] == "SUCCEEDED"
    assert json.loads(mocked["inspectionData"]["result"]) == {"Payload": {"ok": 1}}
    staged = {**task, "InputPath": "$.order", "ResultSelector": {"ok.$": "$.Payload.ok"},
              "ResultPath": "$.r", "Assign": {"seen.$": "$.ok"}}
    traced = sfn.test_state(definition=json.dumps(staged), roleArn=ROLE,
                            input='{"order": {"id": 1}}', variables='{"who": "ann"}',
                            mock={"result": '{"Payload": {"ok": 1}}'},
                            inspectionLevel="TRACE", revealSecrets=True)
    data = {key: json.loads(value) for key, value in traced["inspectionData"].items()}
    assert data == {"input": {"order": {"id": 1}}, "afterInputPath": {"id": 1},
                    "afterParameters": {"FunctionName": "f", "Payload": {"id": 1}},
                    "result": {"Payload": {"ok": 1}}, "afterResultSelector": {"ok": 1},
                    "afterResultPath": {"order": {"id": 1}, "r": {"ok": 1}},
                    "variables": {"who": "ann", "seen": 1}}
    caught = sfn.test_state(definition=json.dumps(task), roleArn=ROLE,
                            mock={"errorOutput": {"error": "Boom", "cause": "bad"}})
    assert (caught["status"], caught["nextState"]) == ("CAUGHT_ERROR", "Handle")
    retriable = sfn.test_state(definition=json.dumps(task), roleArn=ROLE, mock={
        "errorOutput": {"error": "Lambda.TooManyRequestsException", "cause": "slow down"}})
    assert (retriable["status"], retriable["error"]) == ("RETRIABLE",
                                                        "Lambda.TooManyRequestsException")
    failed = sfn.test_state(definition=json.dumps({"Type": "Fail", "Error": "E", "Cause": "C"}),
                            roleArn=ROLE)
    assert (failed["status"], failed["error"], failed["cause"]) == ("FAILED", "E", "C")
