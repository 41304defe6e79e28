"""Distributed Map through boto3: items read from headwater's S3 (JSON, JSONL, CSV,
listObjectsV2), children as real executions, ResultWriter files read back with boto3, the map
run API (DescribeMapRun, ListMapRuns, UpdateMapRun, ListExecutions of a map run) and
tolerated failures."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from headwater.testing import running_headwater

pytestmark = pytest.mark.e2e

ROLE = "arn:aws:iam::000000000000:role/sfn"


@pytest.fixture(scope="module")
def hw() -> Iterator[Any]:
    with running_headwater() as server:
        s3 = server.client("s3")
        s3.create_bucket(Bucket="items")
        s3.create_bucket(Bucket="results")
        s3.put_object(Bucket="items", Key="data/list.json",
                      Body=json.dumps([{"n": 1}, {"n": 2}, {"n": 3}]))
        s3.put_object(Bucket="items", Key="data/lines.jsonl", Body=b'{"n": 4}\n{"n": 5}\n')
        s3.put_object(Bucket="items", Key="data/table.csv", Body=b"a;b\n1;x\n2;y\n")
        yield server


def _machine(sfn: Any, name: str, map_state: dict[str, Any]) -> str:
    definition = {"StartAt": "Map", "States": {"Map": {"Type": "Map", "End": True,
                                                       **map_state}}}
    return str(sfn.create_state_machine(name=name, definition=json.dumps(definition),
                                        roleArn=ROLE)["stateMachineArn"])


def _processor(states: dict[str, Any], start: str, kind: str = "STANDARD") -> dict[str, Any]:
    return {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": kind},
            "StartAt": start, "States": states}


PASS = _processor({"P": {"Type": "Pass", "End": True}}, "P")


def _run(sfn: Any, machine: str, value: Any = None, timeout: float = 30) -> dict[str, Any]:
    arn = sfn.start_execution(stateMachineArn=machine,
                              input=json.dumps(value if value is not None else {}))["executionArn"]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        described: dict[str, Any] = sfn.describe_execution(executionArn=arn)
        if described["status"] != "RUNNING":
            return described
        time.sleep(0.05)
    raise AssertionError(f"{arn} still running")


def _map_run(sfn: Any, execution_arn: str) -> str:
    runs = sfn.list_map_runs(executionArn=execution_arn)["mapRuns"]
    assert len(runs) == 1
    return str(runs[0]["mapRunArn"])


def test_json_items_with_result_writer_files_read_back(hw: Any) -> None:
    sfn, s3 = hw.client("stepfunctions"), hw.client("s3")
    machine = _machine(sfn, "json-writer", {
        "ItemReader": {"Resource": "arn:aws:states:::s3:getObject",
                       "ReaderConfig": {"InputType": "JSON"},
                       "Parameters": {"Bucket": "items", "Key.$": "$.key"}},
        "ItemSelector": {"n.$": "$$.Map.Item.Value.n", "index.$": "$$.Map.Item.Index"},
        "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject",
                         "Parameters": {"Bucket": "results", "Prefix": "out"}},
        "Label": "Jobs", "ItemProcessor": PASS})
    done = _run(sfn, machine, {"key": "data/list.json"})
    assert done["status"] == "SUCCEEDED", done
    output = json.loads(done["output"])
    run_arn = output["MapRunArn"]
    run_id = run_arn.rsplit(":", 1)[1]
    assert run_arn.startswith("arn:aws:states:us-east-1:000000000000:mapRun:json-writer/Jobs:")
    assert output["ResultWriterDetails"] == {"Bucket": "results",
                                             "Key": f"out/{run_id}/manifest.json"}
    manifest = json.loads(s3.get_object(Bucket="results", Key=f"out/{run_id}/manifest.json")
                          ["Body"].read())
    assert manifest["DestinationBucket"] == "results"
    assert manifest["MapRunArn"] == run_arn
    assert manifest["ResultFiles"]["FAILED"] == [] and manifest["ResultFiles"]["PENDING"] == []
    [entry] = manifest["ResultFiles"]["SUCCEEDED"]
    assert entry["Key"] == f"out/{run_id}/SUCCEEDED_0.json"
    body = s3.get_object(Bucket="results", Key=entry["Key"])["Body"].read()
    assert entry["Size"] == len(body)
    results = json.loads(body)
    assert sorted(json.loads(r["Output"])["n"] for r in results) == [1, 2, 3]
    first = results[0]
    assert first["Status"] == "SUCCEEDED"
    assert first["StateMachineArn"] == \
        "arn:aws:states:us-east-1:000000000000:stateMachine:json-writer/Jobs"
    assert first["ExecutionArn"].startswith(
        "arn:aws:states:us-east-1:000000000000:execution:json-writer/Jobs:")
    assert {"Input", "InputDetails", "Name", "StartDate", "StopDate",
            "OutputDetails"} <= set(first)

    described = sfn.describe_map_run(mapRunArn=run_arn)
    assert described["status"] == "SUCCEEDED"
    assert described["executionArn"] == done["executionArn"]
    assert described["itemCounts"]["succeeded"] == 3
    assert described["itemCounts"]["total"] == 3
    assert described["executionCounts"]["succeeded"] == 3

    # The children are real executions: listed by map run, described, with a history.
    children = sfn.list_executions(mapRunArn=run_arn)["executions"]
    assert len(children) == 3
    child = sfn.describe_execution(executionArn=children[0]["executionArn"])
    assert child["mapRunArn"] == run_arn and child["status"] == "SUCCEEDED"
    described_machine = sfn.describe_state_machine_for_execution(
        executionArn=child["executionArn"])
    assert described_machine["name"] == "json-writer/Jobs"
    assert json.loads(described_machine["definition"]) == {
        "StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
    history = sfn.get_execution_history(executionArn=child["executionArn"])["events"]
    assert [e["type"] for e in history] == ["ExecutionStarted", "PassStateEntered",
                                            "PassStateExited", "ExecutionSucceeded"]
    parent = sfn.get_execution_history(executionArn=done["executionArn"])["events"]
    types = [e["type"] for e in parent]
    assert types[2:6] == ["MapStateStarted", "MapRunStarted", "MapRunSucceeded",
                          "MapStateSucceeded"]
    assert parent[3]["mapRunStartedEventDetails"]["mapRunArn"] == run_arn


def test_jsonl_csv_and_list_objects_readers(hw: Any) -> None:
    sfn = hw.client("stepfunctions")
    jsonl = _machine(sfn, "jsonl", {
        "ItemReader": {"Resource": "arn:aws:states:::s3:getObject",
                       "ReaderConfig": {"InputType": "JSONL"},
                       "Parameters": {"Bucket": "items", "Key": "data/lines.jsonl"}},
        "ItemProcessor": PASS})
    assert json.loads(_run(sfn, jsonl)["output"]) == [{"n": 4}, {"n": 5}]
    table = _machine(sfn, "csv", {
        "ItemReader": {"Resource": "arn:aws:states:::s3:getObject",
                       "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW",
                                        "CSVDelimiter": "SEMICOLON", "MaxItems": 1},
                       "Parameters": {"Bucket": "items", "Key": "data/table.csv"}},
        "ItemProcessor": PASS})
    assert json.loads(_run(sfn, table)["output"]) == [{"a": "1", "b": "x"}]
    listing = _machine(sfn, "listing", {
        "ItemReader": {"Resource": "arn:aws:states:::s3:listObjectsV2",
                       "Parameters": {"Bucket": "items", "Prefix": "data/"}},
        "ItemProcessor": PASS})
    objects = json.loads(_run(sfn, listing)["output"])
    assert [o["Key"] for o in objects] == ["data/lines.jsonl", "data/list.json",
                                           "data/table.csv"]
    assert set(objects[0]) == {"Etag", "Key", "LastModified", "Size", "StorageClass"}
    assert isinstance(objects[0]["LastModified"], int) and objects[0]["Size"] == 18


def test_item_reader_failure_names_aws_error(hw: Any) -> None:
    sfn = hw.client("stepfunctions")
    machine = _machine(sfn, "missing", {
        "ItemReader": {"Resource": "arn:aws:states:::s3:getObject",
                       "ReaderConfig": {"InputType": "JSON"},
                       "Parameters": {"Bucket": "items", "Key": "nope.json"}},
        "ItemProcessor": PASS})
    done = _run(sfn, machine)
    assert done["status"] == "FAILED"
    assert done["error"] == "States.ItemReaderFailed"
    assert "NoSuchKey" in done["cause"]


def test_tolerated_failures_batches_and_failed_result_file(hw: Any) -> None:
    sfn, s3 = hw.client("stepfunctions"), hw.client("s3")
    failing = _processor({
        "C": {"Type": "Choice", "Choices": [{"Variable": "$.Items[0]", "NumericEquals": 3,
                                             "Next": "F"}], "Default": "P"},
        "P": {"Type": "Pass", "End": True},
        "F": {"Type": "Fail", "Error": "Three", "Cause": "item three"}}, "C")
    machine = _machine(sfn, "tolerant", {
        "ItemBatcher": {"MaxItemsPerBatch": 2, "BatchInput": {"tag.$": "$.tag"}},
        "ItemsPath": "$.items", "ToleratedFailureCount": 1, "MaxConcurrency": 1,
        "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject",
                         "Parameters": {"Bucket": "results", "Prefix": "tol"}},
        "ItemProcessor": failing})
    done = _run(sfn, machine, {"items": [1, 2, 3, 4, 5], "tag": "t"})
    assert done["status"] == "SUCCEEDED", done
    run_arn = json.loads(done["output"])["MapRunArn"]
    counts = sfn.describe_map_run(mapRunArn=run_arn)
    assert counts["executionCounts"]["total"] == 3  # [1,2] [3,4] [5]
    assert counts["executionCounts"]["failed"] == 1
    assert counts["itemCounts"]["failed"] == 2 and counts["itemCounts"]["succeeded"] == 3
    run_id = run_arn.rsplit(":", 1)[1]
    manifest = json.loads(s3.get_object(Bucket="results", Key=f"tol/{run_id}/manifest.json")
                          ["Body"].read())
    [failed] = manifest["ResultFiles"]["FAILED"]
    [entry] = json.loads(s3.get_object(Bucket="results", Key=failed["Key"])["Body"].read())
    assert entry["Status"] == "FAILED" and entry["Error"] == "Three"
    assert entry["Cause"] == "item three"
    assert json.loads(entry["Input"]) == {"BatchInput": {"tag": "t"}, "Items": [3, 4]}

    strict = _machine(sfn, "strict", {"ItemsPath": "$.items", "ToleratedFailurePercentage": 10,
                                      "ItemProcessor": _processor({
                                          "F": {"Type": "Fail", "Error": "Bad"}}, "F")})
    done = _run(sfn, strict, {"items": [1, 2]})
    assert done["status"] == "FAILED"
    assert done["error"] == "States.ExceedToleratedFailureThreshold"
    assert done["cause"] == "The specified tolerance threshold for the Map Run was exceeded."
    run = sfn.describe_map_run(mapRunArn=_map_run(sfn, done["executionArn"]))
    assert run["status"] == "FAILED"
    events = [e["type"] for e in sfn.get_execution_history(
        executionArn=done["executionArn"])["events"]]
    assert "MapRunFailed" in events and events[-1] == "ExecutionFailed"


def test_update_map_run_and_express_children(hw: Any) -> None:
    sfn = hw.client("stepfunctions")
    slow = _processor({"W": {"Type": "Wait", "Seconds": 1, "End": True}}, "W")
    machine = _machine(sfn, "slow", {"ItemsPath": "$.items", "MaxConcurrency": 1,
                                     "ItemProcessor": slow})
    arn = sfn.start_execution(stateMachineArn=machine,
                              input=json.dumps({"items": [1, 2, 3, 4]}))["executionArn"]
    deadline = time.monotonic() + 10
    while not sfn.list_map_runs(executionArn=arn)["mapRuns"]:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    run_arn = _map_run(sfn, arn)
    assert sfn.describe_map_run(mapRunArn=run_arn)["executionCounts"]["running"] == 1
    sfn.update_map_run(mapRunArn=run_arn, maxConcurrency=4, toleratedFailureCount=2)
    described = sfn.describe_map_run(mapRunArn=run_arn)
    assert described["maxConcurrency"] == 4 and described["toleratedFailureCount"] == 2
    started = time.monotonic()
    done = None
    while time.monotonic() - started < 10:
        done = sfn.describe_execution(executionArn=arn)
        if done["status"] != "RUNNING":
            break
        time.sleep(0.05)
    assert done is not None and done["status"] == "SUCCEEDED"
    # Four children of one second each, the last three at once after the update.
    assert time.monotonic() - started < 3.5  # one at a time would take 4 s
    with pytest.raises(sfn.exceptions.ResourceNotFound):
        sfn.describe_map_run(mapRunArn=run_arn[:-4] + "0000")

    express = _machine(sfn, "express-children", {
        "ItemsPath": "$.items",
        "ItemProcessor": _processor({"P": {"Type": "Pass", "End": True}}, "P", "EXPRESS")})
    done = _run(sfn, express, {"items": ["a", "b"]})
    assert json.loads(done["output"]) == ["a", "b"]
    run = sfn.describe_map_run(mapRunArn=_map_run(sfn, done["executionArn"]))
    assert run["executionCounts"]["succeeded"] == 2


def test_redriving_the_parent_redrives_the_map_run(hw: Any) -> None:
    sfn, sqs = hw.client("stepfunctions"), hw.client("sqs")
    sqs.create_queue(QueueName="dm-there")
    find = {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:sqs:getQueueUrl",
            "Parameters": {"QueueName.$": "$"}, "OutputPath": "$.QueueUrl", "End": True}
    machine = _machine(sfn, "dist-redrive", {"MaxConcurrency": 1,
                                             "ItemProcessor": _processor({"F": find}, "F")})
    failed = _run(sfn, machine, ["dm-there", "dm-later", "dm-there"])
    assert failed["status"] == "FAILED"
    run_arn = _map_run(sfn, failed["executionArn"])
    before = sfn.describe_map_run(mapRunArn=run_arn)
    assert before["redriveCount"] == 0 and before["executionCounts"]["succeeded"] == 1
    sqs.create_queue(QueueName="dm-later")
    sfn.redrive_execution(executionArn=failed["executionArn"])
    deadline = time.monotonic() + 30
    while sfn.describe_execution(executionArn=failed["executionArn"])["status"] == "RUNNING":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    described = sfn.describe_execution(executionArn=failed["executionArn"])
    assert described["status"] == "SUCCEEDED"
    assert [u.rsplit("/", 1)[1] for u in json.loads(described["output"])] == [
        "dm-there", "dm-later", "dm-there"]
    assert _map_run(sfn, failed["executionArn"]) == run_arn  # the same map run goes on
    after = sfn.describe_map_run(mapRunArn=run_arn)
    assert (after["status"], after["redriveCount"]) == ("SUCCEEDED", 1)
    assert after["redriveDate"] and after["executionCounts"]["succeeded"] == 3
    # One child per item: the failed one was replaced by the one that ran on the redrive.
    listed = sfn.list_executions(mapRunArn=run_arn)["executions"]
    assert [e["status"] for e in listed] == ["SUCCEEDED"] * 3
    events = sfn.get_execution_history(executionArn=failed["executionArn"])["events"]
    redriven = [e for e in events if e["type"] == "MapRunRedriven"]
    assert [e["mapRunRedrivenEventDetails"] for e in redriven] == [
        {"mapRunArn": run_arn, "redriveCount": 1}]
