"""Asynchronous invocation and SQS event source mappings through boto3 against a real
headwater: retries, destinations (SQS and function), the DLQ, durability across a restart,
and a mapping with partial batch failures feeding the queue's redrive policy."""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lambda_zip import zip_app

from headwater.testing import RunningHeadwater, running_headwater

pytestmark = pytest.mark.e2e

ROLE = "arn:aws:iam::000000000000:role/lambda-role"
SOURCE = """
import json, os
import boto3

def ok(event, context):
    return {"seen": event}

def fail(event, context):
    raise ValueError("nope: " + json.dumps(event))

def forward(event, context):
    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName=os.environ["OUT"])["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps(event))
    return "forwarded"

def batch(event, context):
    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName=os.environ["OUT"])["QueueUrl"]
    failures = []
    for record in event["Records"]:
        assert record["eventSource"] == "aws:sqs"
        if record["body"].startswith("bad"):
            failures.append({"itemIdentifier": record["messageId"]})
        else:
            sqs.send_message(QueueUrl=url, MessageBody=record["body"])
    return {"batchItemFailures": failures}
"""
TUNING = {"HEADWATER_LAMBDA_RETRY_DELAY": "0.2", "HEADWATER_LAMBDA_POLL_INTERVAL": "0.05"}


def package() -> bytes:
    return zip_app(SOURCE)


@pytest.fixture(scope="module")
def tuned() -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in TUNING}
    os.environ.update(TUNING)
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="module")
def hw(tuned: None) -> Iterator[RunningHeadwater]:
    with running_headwater() as server:
        yield server


def make(lam: Any, handler: str, **kwargs: Any) -> str:
    name = f"{handler}-{uuid.uuid4().hex[:8]}"
    lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE,
        Handler=f"app.{handler}",
        Code={"ZipFile": package()},
        Timeout=30,
        **kwargs,
    )
    return name


def new_queue(sqs: Any, **attributes: str) -> tuple[str, str, str]:
    name = f"q-{uuid.uuid4().hex[:10]}"
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    return name, url, arn


def wait_messages(sqs: Any, url: str, count: int, timeout: float = 15) -> list[dict[str, Any]]:
    got: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while len(got) < count and time.monotonic() < deadline:
        batch = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1, MessageAttributeNames=["All"]
        ).get("Messages", [])
        for message in batch:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        got.extend(batch)
    return got


def test_success_goes_to_the_on_success_queue(lam: Any, sqs: Any) -> None:
    _, url, arn = new_queue(sqs)
    name = make(lam, "ok")
    lam.put_function_event_invoke_config(
        FunctionName=name, DestinationConfig={"OnSuccess": {"Destination": arn}}
    )
    response = lam.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"n": 7}')
    assert response["StatusCode"] == 202
    [message] = wait_messages(sqs, url, 1)
    record = json.loads(message["Body"])
    assert record["version"] == "1.0"
    assert record["requestContext"]["condition"] == "Success"
    assert record["requestContext"]["functionArn"].endswith(f":function:{name}:$LATEST")
    assert record["requestContext"]["approximateInvokeCount"] == 1
    assert record["requestPayload"] == {"n": 7}
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST"}
    assert record["responsePayload"] == {"seen": {"n": 7}}


def test_failures_are_retried_then_sent_to_on_failure_and_dlq(lam: Any, sqs: Any) -> None:
    _, failure_url, failure_arn = new_queue(sqs)
    _, dlq_url, dlq_arn = new_queue(sqs)
    name = make(lam, "fail", DeadLetterConfig={"TargetArn": dlq_arn})
    lam.put_function_event_invoke_config(
        FunctionName=name,
        MaximumRetryAttempts=1,
        DestinationConfig={"OnFailure": {"Destination": failure_arn}},
    )
    lam.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"n": 1}')
    [message] = wait_messages(sqs, failure_url, 1)
    record = json.loads(message["Body"])
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 2
    assert record["responseContext"]["functionError"] == "Unhandled"
    assert record["responsePayload"]["errorType"] == "ValueError"
    [dead] = wait_messages(sqs, dlq_url, 1)
    assert json.loads(dead["Body"]) == {"n": 1}
    attributes = dead["MessageAttributes"]
    assert attributes["ErrorCode"]["StringValue"] == "200"
    assert attributes["RequestID"]["StringValue"] == record["requestContext"]["requestId"]
    assert attributes["ErrorMessage"]["StringValue"].startswith("nope")


def test_function_destination(lam: Any, sqs: Any) -> None:
    out_name, out_url, _ = new_queue(sqs)
    target = make(lam, "forward", Environment={"Variables": {"OUT": out_name}})
    source = make(lam, "ok")
    target_arn = lam.get_function(FunctionName=target)["Configuration"]["FunctionArn"]
    lam.put_function_event_invoke_config(
        FunctionName=source, DestinationConfig={"OnSuccess": {"Destination": target_arn}}
    )
    lam.invoke(FunctionName=source, InvocationType="Event", Payload=b'{"chain": true}')
    [message] = wait_messages(sqs, out_url, 1)
    record = json.loads(message["Body"])
    assert record["requestPayload"] == {"chain": True}
    assert record["responsePayload"] == {"seen": {"chain": True}}


def test_sqs_mapping_with_partial_batch_failures(lam: Any, sqs: Any) -> None:
    out_name, out_url, _ = new_queue(sqs)
    _, dlq_url, dlq_arn = new_queue(sqs)
    _, url, arn = new_queue(
        sqs,
        # Long enough for a cold start under load (a batch redelivered while it runs would be
        # received twice), short enough for the failed ones to reach the DLQ quickly.
        VisibilityTimeout="3",
        RedrivePolicy=json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "1"}),
    )
    name = make(lam, "batch", Environment={"Variables": {"OUT": out_name}})
    bodies = ["good-1", "bad-1", "good-2", "bad-2", "good-3"]
    for body in bodies:
        sqs.send_message(QueueUrl=url, MessageBody=body)
    mapping = lam.create_event_source_mapping(
        EventSourceArn=arn,
        FunctionName=name,
        BatchSize=10,
        FunctionResponseTypes=["ReportBatchItemFailures"],
        ScalingConfig={"MaximumConcurrency": 2},
    )
    assert mapping["State"] == "Creating"
    assert lam.get_event_source_mapping(UUID=mapping["UUID"])["State"] == "Enabled"
    processed = wait_messages(sqs, out_url, 3)
    assert sorted(m["Body"] for m in processed) == ["good-1", "good-2", "good-3"]
    dead = wait_messages(sqs, dlq_url, 2, timeout=20)
    assert sorted(m["Body"] for m in dead) == ["bad-1", "bad-2"]
    listed = lam.list_event_source_mappings(FunctionName=name)["EventSourceMappings"]
    assert [m["UUID"] for m in listed] == [mapping["UUID"]]
    assert lam.delete_event_source_mapping(UUID=mapping["UUID"])["State"] == "Deleting"
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_event_source_mapping(UUID=mapping["UUID"])


def test_mapping_rejects_filters_and_unknown_queues(lam: Any, sqs: Any) -> None:
    _, _, arn = new_queue(sqs)
    name = make(lam, "ok")
    with pytest.raises(lam.exceptions.InvalidParameterValueException) as caught:
        lam.create_event_source_mapping(
            EventSourceArn=arn,
            FunctionName=name,
            FilterCriteria={"Filters": [{"Pattern": '{"body": ["x"]}'}]},
        )
    assert "FilterCriteria" in str(caught.value)
    with pytest.raises(lam.exceptions.InvalidParameterValueException):
        lam.create_event_source_mapping(
            EventSourceArn="arn:aws:sqs:us-east-1:000000000000:no-such-queue", FunctionName=name
        )


def test_disabled_mapping_leaves_messages(lam: Any, sqs: Any) -> None:
    _, url, arn = new_queue(sqs)
    name = make(lam, "ok")
    mapping = lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=name, Enabled=False)
    assert lam.get_event_source_mapping(UUID=mapping["UUID"])["State"] == "Disabled"
    sqs.send_message(QueueUrl=url, MessageBody="stay")
    time.sleep(0.5)
    attributes = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    assert attributes["ApproximateNumberOfMessages"] == "1"
    updated = lam.update_event_source_mapping(UUID=mapping["UUID"], Enabled=True)
    assert updated["State"] == "Enabling"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        attributes = sqs.get_queue_attributes(
            QueueUrl=url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        if attributes == {
            "ApproximateNumberOfMessages": "0",
            "ApproximateNumberOfMessagesNotVisible": "0",
        }:
            break
        time.sleep(0.1)
    assert attributes["ApproximateNumberOfMessages"] == "0"
    assert attributes["ApproximateNumberOfMessagesNotVisible"] == "0"


def test_queued_events_survive_a_restart(tuned: None, tmp_path: Path) -> None:
    data = tmp_path / "data"
    with running_headwater(data_dir=data) as first:
        lam, sqs = first.client("lambda"), first.client("sqs")
        out_name, _, out_arn = new_queue(sqs)
        name = make(lam, "ok")
        lam.put_function_event_invoke_config(
            FunctionName=name, DestinationConfig={"OnSuccess": {"Destination": out_arn}}
        )
        # Reserved concurrency 0 holds events in the queue, as Lambda does when throttled.
        lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
        lam.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"kept": 1}')
    with running_headwater(data_dir=data) as second:
        lam, sqs = second.client("lambda"), second.client("sqs")
        lam.delete_function_concurrency(FunctionName=name)
        url = sqs.get_queue_url(QueueName=out_name)["QueueUrl"]
        [message] = wait_messages(sqs, url, 1)
        assert json.loads(message["Body"])["requestPayload"] == {"kept": 1}


def test_mappings_resume_after_a_restart(tuned: None, tmp_path: Path) -> None:
    data = tmp_path / "data"
    with running_headwater(data_dir=data) as first:
        lam, sqs = first.client("lambda"), first.client("sqs")
        out_name, _, _ = new_queue(sqs)
        _, url, arn = new_queue(sqs)
        name = make(lam, "batch", Environment={"Variables": {"OUT": out_name}})
        lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=name, BatchSize=5)
    with running_headwater(data_dir=data) as second:
        sqs = second.client("sqs")
        sqs.send_message(
            QueueUrl=sqs.get_queue_url(QueueName=url.rsplit("/", 1)[1])["QueueUrl"],
            MessageBody="after-restart",
        )
        out_url = sqs.get_queue_url(QueueName=out_name)["QueueUrl"]
        [message] = wait_messages(sqs, out_url, 1)
        assert message["Body"] == "after-restart"
