"""SQS messaging through boto3 against a real headwater: send, receive, delete, visibility,
long polling, FIFO, batches, dead-letter queues and message move tasks."""

from __future__ import annotations

import hashlib
import json
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from headwater.testing import RunningHeadwater

pytestmark = pytest.mark.e2e


@pytest.fixture
def queue(sqs: Any) -> str:
    return sqs.create_queue(QueueName=f"m-{uuid.uuid4().hex[:12]}")["QueueUrl"]


@pytest.fixture
def fifo(sqs: Any) -> str:
    return sqs.create_queue(
        QueueName=f"f-{uuid.uuid4().hex[:12]}.fifo",
        Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"},
    )["QueueUrl"]


def error(call: Callable[[], Any]) -> dict[str, Any]:
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response["Error"]


def arn_of(sqs: Any, url: str) -> str:
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]


def test_send_receive_delete(sqs: Any, queue: str) -> None:
    sent = sqs.send_message(
        QueueUrl=queue,
        MessageBody="derp",
        MessageAttributes={"timestamp": {"StringValue": "1493147359900", "DataType": "Number"}},
    )
    assert sent["MD5OfMessageBody"] == "58fd9edd83341c29f1aebba81c31e257"
    assert sent["MD5OfMessageAttributes"] == "235c5c510d26fb653d073faed50ae77c"
    [message] = sqs.receive_message(
        QueueUrl=queue, MessageAttributeNames=["All"], MessageSystemAttributeNames=["All"]
    )["Messages"]
    assert message["MessageId"] == sent["MessageId"]
    assert message["Body"] == "derp"
    assert message["MD5OfBody"] == sent["MD5OfMessageBody"]
    assert message["MD5OfMessageAttributes"] == sent["MD5OfMessageAttributes"]
    assert message["MessageAttributes"] == {
        "timestamp": {"StringValue": "1493147359900", "DataType": "Number"}
    }
    assert set(message["Attributes"]) == {
        "SenderId",
        "SentTimestamp",
        "ApproximateReceiveCount",
        "ApproximateFirstReceiveTimestamp",
    }
    assert message["Attributes"]["ApproximateReceiveCount"] == "1"
    sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
    assert "Messages" not in sqs.receive_message(QueueUrl=queue)


def test_binary_attributes_and_trace_header(sqs: Any, queue: str) -> None:
    sent = sqs.send_message(
        QueueUrl=queue,
        MessageBody="b",
        MessageAttributes={
            "blob": {"BinaryValue": b"\x00\xff", "DataType": "Binary"},
            "s": {"StringValue": "v", "DataType": "String.label"},
        },
        MessageSystemAttributes={
            "AWSTraceHeader": {"DataType": "String", "StringValue": "Root=1-a-b"}
        },
    )
    assert "MD5OfMessageSystemAttributes" in sent
    [message] = sqs.receive_message(
        QueueUrl=queue, MessageAttributeNames=["blob"], AttributeNames=["AWSTraceHeader"]
    )["Messages"]
    assert message["MessageAttributes"] == {
        "blob": {"BinaryValue": b"\x00\xff", "DataType": "Binary"}
    }
    assert message["Attributes"] == {"AWSTraceHeader": "Root=1-a-b"}
    # The digest covers the one attribute returned, not both.
    assert message["MD5OfMessageAttributes"] != sent["MD5OfMessageAttributes"]


def test_unicode_bodies_round_trip(sqs: Any, queue: str) -> None:
    body = "Héllo 😀 \t\n end"
    sqs.send_message(QueueUrl=queue, MessageBody=body)
    [message] = sqs.receive_message(QueueUrl=queue)["Messages"]
    assert message["Body"] == body
    assert message["MD5OfBody"] == hashlib.md5(body.encode()).hexdigest()


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"MessageBody": ""}, "MissingParameter"),
        ({"MessageBody": "a\x00b"}, "InvalidMessageContents"),
        ({"MessageBody": "x" * 1_048_577}, "InvalidParameterValue"),
        ({"MessageBody": "x", "DelaySeconds": 901}, "InvalidParameterValue"),
        ({"MessageBody": "x", "MessageDeduplicationId": "d"}, "InvalidParameterValue"),
        (
            {
                "MessageBody": "x",
                "MessageAttributes": {"AWS.x": {"StringValue": "1", "DataType": "String"}},
            },
            "InvalidParameterValue",
        ),
    ],
)
def test_send_errors(sqs: Any, queue: str, kwargs: dict[str, Any], code: str) -> None:
    assert error(lambda: sqs.send_message(QueueUrl=queue, **kwargs))["Code"] == code


def test_largest_message_is_accepted(sqs: Any, queue: str) -> None:
    sqs.send_message(QueueUrl=queue, MessageBody="x" * 1_048_576)
    [message] = sqs.receive_message(QueueUrl=queue)["Messages"]
    assert len(message["Body"]) == 1_048_576


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"MaxNumberOfMessages": 11}, "MaxNumberOfMessages"),
        ({"MaxNumberOfMessages": 0}, "MaxNumberOfMessages"),
        ({"WaitTimeSeconds": 21}, "WaitTimeSeconds"),
        ({"VisibilityTimeout": 43201}, "VisibilityTimeout"),
    ],
)
def test_receive_errors(sqs: Any, queue: str, kwargs: dict[str, Any], fragment: str) -> None:
    got = error(lambda: sqs.receive_message(QueueUrl=queue, **kwargs))
    assert got["Code"] == "InvalidParameterValue"
    assert fragment in got["Message"]


def test_visibility_timeout_and_change(sqs: Any, queue: str) -> None:
    sqs.send_message(QueueUrl=queue, MessageBody="a")
    [message] = sqs.receive_message(QueueUrl=queue, VisibilityTimeout=30)["Messages"]
    assert "Messages" not in sqs.receive_message(QueueUrl=queue)
    sqs.change_message_visibility(
        QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
    )
    [again] = sqs.receive_message(QueueUrl=queue, AttributeNames=["ApproximateReceiveCount"])[
        "Messages"
    ]
    assert again["Attributes"]["ApproximateReceiveCount"] == "2"
    stale = error(
        lambda: sqs.change_message_visibility(
            QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=10
        )
    )
    assert stale["Code"] == "InvalidParameterValue"
    invalid = error(lambda: sqs.delete_message(QueueUrl=queue, ReceiptHandle="not-a-handle"))
    assert invalid["Code"] == "ReceiptHandleIsInvalid"
    assert (
        invalid["Message"]
        == 'The input receipt handle "not-a-handle" is not a valid receipt handle.'
    )


def test_message_not_in_flight(sqs: Any, queue: str) -> None:
    sqs.send_message(QueueUrl=queue, MessageBody="a")
    [message] = sqs.receive_message(QueueUrl=queue, VisibilityTimeout=0)["Messages"]
    got = error(
        lambda: sqs.change_message_visibility(
            QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=5
        )
    )
    assert got["Code"] == "AWS.SimpleQueueService.MessageNotInflight"


def test_long_poll_wakes_when_a_message_arrives(sqs: Any, hw: RunningHeadwater, queue: str) -> None:
    other = hw.client("sqs")
    result: dict[str, Any] = {}

    def poll() -> None:
        started = time.monotonic()
        result["response"] = other.receive_message(QueueUrl=queue, WaitTimeSeconds=20)
        result["elapsed"] = time.monotonic() - started

    thread = threading.Thread(target=poll)
    thread.start()
    time.sleep(0.3)
    sqs.send_message(QueueUrl=queue, MessageBody="wake up")
    thread.join(timeout=25)
    assert result["response"]["Messages"][0]["Body"] == "wake up"
    assert result["elapsed"] < 10  # far sooner than the 20 s wait


def test_long_poll_wakes_when_a_delayed_message_becomes_visible(sqs: Any, queue: str) -> None:
    sqs.send_message(QueueUrl=queue, MessageBody="later", DelaySeconds=1)
    started = time.monotonic()
    response = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=10)
    assert response["Messages"][0]["Body"] == "later"
    assert 0.5 < time.monotonic() - started < 8


def test_long_poll_times_out_empty(sqs: Any, queue: str) -> None:
    started = time.monotonic()
    assert "Messages" not in sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1)
    assert time.monotonic() - started >= 0.9


def test_queue_default_wait_applies(sqs: Any, queue: str) -> None:
    sqs.set_queue_attributes(QueueUrl=queue, Attributes={"ReceiveMessageWaitTimeSeconds": "1"})
    started = time.monotonic()
    sqs.receive_message(QueueUrl=queue)
    assert time.monotonic() - started >= 0.9


def test_batches(sqs: Any, queue: str) -> None:
    sent = sqs.send_message_batch(
        QueueUrl=queue,
        Entries=[
            {"Id": "ok-1", "MessageBody": "one"},
            {"Id": "bad", "MessageBody": "\x00"},
            {"Id": "ok-2", "MessageBody": "two", "DelaySeconds": 0},
        ],
    )
    assert [e["Id"] for e in sent["Successful"]] == ["ok-1", "ok-2"]
    [failed] = sent["Failed"]
    assert (
        failed["Id"] == "bad"
        and failed["Code"] == "InvalidMessageContents"
        and failed["SenderFault"]
    )
    messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    assert sorted(m["Body"] for m in messages) == ["one", "two"]
    changed = sqs.change_message_visibility_batch(
        QueueUrl=queue,
        Entries=[
            {"Id": "a", "ReceiptHandle": messages[0]["ReceiptHandle"], "VisibilityTimeout": 60},
            {"Id": "b", "ReceiptHandle": "junk", "VisibilityTimeout": 60},
        ],
    )
    assert [e["Id"] for e in changed["Successful"]] == ["a"]
    assert changed["Failed"][0]["Code"] == "ReceiptHandleIsInvalid"
    deleted = sqs.delete_message_batch(
        QueueUrl=queue,
        Entries=[
            {"Id": f"d{i}", "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)
        ]
        + [{"Id": "junk", "ReceiptHandle": "junk"}],
    )
    assert sorted(e["Id"] for e in deleted["Successful"]) == ["d0", "d1"]
    assert deleted["Failed"][0]["Id"] == "junk"


@pytest.mark.parametrize(
    ("entries", "code"),
    [
        ([], "AWS.SimpleQueueService.EmptyBatchRequest"),
        (
            [{"Id": str(i), "MessageBody": "x"} for i in range(11)],
            "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
        ),
        (
            [{"Id": "a", "MessageBody": "x"}, {"Id": "a", "MessageBody": "y"}],
            "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
        ),
        ([{"Id": "no spaces", "MessageBody": "x"}], "AWS.SimpleQueueService.InvalidBatchEntryId"),
        (
            [{"Id": "a", "MessageBody": "x" * 600_000}, {"Id": "b", "MessageBody": "x" * 600_000}],
            "AWS.SimpleQueueService.BatchRequestTooLong",
        ),
    ],
)
def test_batch_request_errors(
    sqs: Any, queue: str, entries: list[dict[str, Any]], code: str
) -> None:
    assert error(lambda: sqs.send_message_batch(QueueUrl=queue, Entries=entries))["Code"] == code


def test_batch_errors_for_delete_and_change_visibility(sqs: Any, queue: str) -> None:
    assert error(lambda: sqs.delete_message_batch(QueueUrl=queue, Entries=[]))["Code"] == (
        "AWS.SimpleQueueService.EmptyBatchRequest"
    )
    twice = [{"Id": "x", "ReceiptHandle": "h"}] * 2
    assert error(lambda: sqs.change_message_visibility_batch(QueueUrl=queue, Entries=twice))[
        "Code"
    ] == ("AWS.SimpleQueueService.BatchEntryIdsNotDistinct")


def test_fifo_ordering_dedup_and_sequence(sqs: Any, fifo: str) -> None:
    results = [
        sqs.send_message(QueueUrl=fifo, MessageBody=body, MessageGroupId="g")
        for body in ("1", "2", "1")
    ]
    assert results[2]["MessageId"] == results[0]["MessageId"]  # content-based duplicate
    assert int(results[1]["SequenceNumber"]) > int(results[0]["SequenceNumber"])
    messages = sqs.receive_message(
        QueueUrl=fifo, MaxNumberOfMessages=10, MessageSystemAttributeNames=["All"]
    )["Messages"]
    assert [m["Body"] for m in messages] == ["1", "2"]
    assert messages[0]["Attributes"]["MessageGroupId"] == "g"
    assert messages[0]["Attributes"]["MessageDeduplicationId"] == hashlib.sha256(b"1").hexdigest()
    assert messages[0]["Attributes"]["SequenceNumber"] == results[0]["SequenceNumber"]
    assert "Messages" not in sqs.receive_message(QueueUrl=fifo)  # group held


def test_fifo_errors(sqs: Any) -> None:
    url = sqs.create_queue(
        QueueName=f"e-{uuid.uuid4().hex[:8]}.fifo", Attributes={"FifoQueue": "true"}
    )["QueueUrl"]
    missing = error(lambda: sqs.send_message(QueueUrl=url, MessageBody="x"))
    assert missing["Code"] == "MissingParameter"
    no_dedup = error(lambda: sqs.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="g"))
    assert no_dedup["Code"] == "InvalidParameterValue"
    delayed = error(
        lambda: sqs.send_message(
            QueueUrl=url,
            MessageBody="x",
            MessageGroupId="g",
            MessageDeduplicationId="d",
            DelaySeconds=3,
        )
    )
    assert delayed["Code"] == "InvalidParameterValue"


def test_fifo_receive_request_attempt_id(sqs: Any, fifo: str) -> None:
    sqs.send_message(QueueUrl=fifo, MessageBody="a", MessageGroupId="g")
    first = sqs.receive_message(QueueUrl=fifo, ReceiveRequestAttemptId="try-1")["Messages"]
    retry = sqs.receive_message(QueueUrl=fifo, ReceiveRequestAttemptId="try-1")["Messages"]
    assert retry[0]["ReceiptHandle"] == first[0]["ReceiptHandle"]


def test_dead_letter_queue_and_redrive_back(sqs: Any, queue: str) -> None:
    dlq = sqs.create_queue(QueueName=f"dlq-{uuid.uuid4().hex[:10]}")["QueueUrl"]
    policy = json.dumps({"deadLetterTargetArn": arn_of(sqs, dlq), "maxReceiveCount": 1})
    sqs.set_queue_attributes(QueueUrl=queue, Attributes={"RedrivePolicy": policy})
    sqs.send_message(QueueUrl=queue, MessageBody="poison")
    assert sqs.receive_message(QueueUrl=queue, VisibilityTimeout=0)["Messages"]
    assert "Messages" not in sqs.receive_message(QueueUrl=queue)
    [dead] = sqs.receive_message(
        QueueUrl=dlq, VisibilityTimeout=0, MessageSystemAttributeNames=["DeadLetterQueueSourceArn"]
    )["Messages"]
    assert dead["Attributes"] == {"DeadLetterQueueSourceArn": arn_of(sqs, queue)}

    handle = sqs.start_message_move_task(SourceArn=arn_of(sqs, dlq))["TaskHandle"]
    deadline = time.monotonic() + 10
    while True:
        [task] = sqs.list_message_move_tasks(SourceArn=arn_of(sqs, dlq))["Results"]
        if task["Status"] != "RUNNING" or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert task["Status"] == "COMPLETED"
    assert task["ApproximateNumberOfMessagesMoved"] == 1
    assert task["ApproximateNumberOfMessagesToMove"] == 1
    assert "TaskHandle" not in task and "DestinationArn" not in task
    [back] = sqs.receive_message(QueueUrl=queue)["Messages"]
    assert back["Body"] == "poison"
    stale = error(lambda: sqs.cancel_message_move_task(TaskHandle=handle))
    assert stale["Code"] == "ResourceNotFoundException"


def test_move_task_to_a_destination_and_cancel(sqs: Any, queue: str) -> None:
    dlq = sqs.create_queue(QueueName=f"dlq-{uuid.uuid4().hex[:10]}")["QueueUrl"]
    target = sqs.create_queue(QueueName=f"to-{uuid.uuid4().hex[:10]}")["QueueUrl"]
    policy = json.dumps({"deadLetterTargetArn": arn_of(sqs, dlq), "maxReceiveCount": 1})
    sqs.set_queue_attributes(QueueUrl=queue, Attributes={"RedrivePolicy": policy})
    sqs.send_message_batch(
        QueueUrl=queue, Entries=[{"Id": str(i), "MessageBody": str(i)} for i in range(10)]
    )
    while sqs.receive_message(QueueUrl=queue, VisibilityTimeout=0, MaxNumberOfMessages=10).get(
        "Messages"
    ):
        pass
    handle = sqs.start_message_move_task(
        SourceArn=arn_of(sqs, dlq),
        DestinationArn=arn_of(sqs, target),
        MaxNumberOfMessagesPerSecond=1,
    )["TaskHandle"]
    [running] = sqs.list_message_move_tasks(SourceArn=arn_of(sqs, dlq), MaxResults=10)["Results"]
    assert running["Status"] == "RUNNING" and running["TaskHandle"] == handle
    assert running["DestinationArn"] == arn_of(sqs, target)
    assert running["MaxNumberOfMessagesPerSecond"] == 1
    busy = error(lambda: sqs.start_message_move_task(SourceArn=arn_of(sqs, dlq)))
    assert busy["Code"] == "InvalidParameterValue"
    moved = sqs.cancel_message_move_task(TaskHandle=handle)["ApproximateNumberOfMessagesMoved"]
    assert moved < 10
    [cancelled] = sqs.list_message_move_tasks(SourceArn=arn_of(sqs, dlq))["Results"]
    assert cancelled["Status"] == "CANCELLED"


def test_move_task_errors(sqs: Any, queue: str) -> None:
    nowhere = "arn:aws:sqs:us-east-1:000000000000:nowhere"
    assert (
        error(lambda: sqs.start_message_move_task(SourceArn=nowhere))["Code"]
        == "ResourceNotFoundException"
    )
    not_dlq = error(lambda: sqs.start_message_move_task(SourceArn=arn_of(sqs, queue)))
    assert not_dlq["Message"] == "Source queue must be configured as a Dead Letter Queue."
    assert (
        error(lambda: sqs.list_message_move_tasks(SourceArn=nowhere))["Code"]
        == "ResourceNotFoundException"
    )
    assert (
        error(lambda: sqs.cancel_message_move_task(TaskHandle="x"))["Code"]
        == "InvalidParameterValue"
    )
