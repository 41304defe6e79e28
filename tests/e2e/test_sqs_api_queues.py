"""SQS queue administration through boto3 against a real headwater on loopback.

CreateQueue, GetQueueUrl, ListQueues, GetQueueAttributes, SetQueueAttributes, DeleteQueue,
PurgeQueue, tags, permissions and ListDeadLetterSourceQueues, with the error codes boto3 users
see (the legacy query codes SQS sends in ``x-amzn-query-error``).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from headwater.testing import RunningHeadwater

pytestmark = pytest.mark.e2e


@pytest.fixture
def name() -> str:
    return f"q-{uuid.uuid4().hex[:12]}"


def error(call: Callable[[], Any]) -> dict[str, Any]:
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response


def test_create_get_url_and_delete(sqs: Any, hw: RunningHeadwater, name: str) -> None:
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    assert url == f"{hw.endpoint}/000000000000/{name}"
    assert sqs.get_queue_url(QueueName=name)["QueueUrl"] == url
    assert (
        sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId="000000000000")["QueueUrl"] == url
    )
    sqs.delete_queue(QueueUrl=url)
    response = error(lambda: sqs.get_queue_url(QueueName=name))
    assert response["Error"]["Code"] == "AWS.SimpleQueueService.NonExistentQueue"
    assert response["Error"]["QueryErrorCode"] == "QueueDoesNotExist"
    assert response["Error"]["Message"] == "The specified queue does not exist."
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_queue_urls_of_other_hosts_resolve_by_account_and_name(sqs: Any, name: str) -> None:
    sqs.create_queue(QueueName=name)
    for url in (
        f"https://sqs.us-east-1.amazonaws.com/000000000000/{name}",
        f"https://queue.amazonaws.com/000000000000/{name}",
        f"http://localhost:4566/000000000000/{name}",
    ):
        assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
            "Attributes"
        ] == {"QueueArn": f"arn:aws:sqs:us-east-1:000000000000:{name}"}
    assert (
        error(lambda: sqs.get_queue_attributes(QueueUrl=name))["Error"]["Code"] == "InvalidAddress"
    )


def test_other_accounts_queues_do_not_exist(sqs: Any, name: str) -> None:
    sqs.create_queue(QueueName=name)
    response = error(
        lambda: sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId="111122223333")
    )
    assert response["Error"]["Code"] == "AWS.SimpleQueueService.NonExistentQueue"


def test_create_is_idempotent_only_for_equal_attributes(sqs: Any, name: str) -> None:
    url = sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "45"})["QueueUrl"]
    assert (
        sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "45"})["QueueUrl"] == url
    )
    response = error(
        lambda: sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "46"})
    )
    assert response["Error"]["Code"] == "QueueAlreadyExists"
    assert response["Error"]["QueryErrorCode"] == "QueueNameExists"


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"QueueName": "bad name"}, "InvalidParameterValue"),
        ({"QueueName": "x" * 81}, "InvalidParameterValue"),
        ({"QueueName": "nofifo", "Attributes": {"FifoQueue": "true"}}, "InvalidParameterValue"),
        (
            {"QueueName": "ok", "Attributes": {"VisibilityTimeout": "99999"}},
            "InvalidAttributeValue",
        ),
        ({"QueueName": "ok", "Attributes": {"QueueArn": "x"}}, "InvalidAttributeName"),
        ({"QueueName": "ok", "Attributes": {"Bogus": "x"}}, "InvalidAttributeName"),
    ],
)
def test_create_queue_errors(sqs: Any, kwargs: dict[str, Any], code: str) -> None:
    assert error(lambda: sqs.create_queue(**kwargs))["Error"]["Code"] == code


def test_attributes(sqs: Any, name: str) -> None:
    url = sqs.create_queue(QueueName=name, tags={"team": "core"})["QueueUrl"]
    everything = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert everything["VisibilityTimeout"] == "30"
    assert everything["MaximumMessageSize"] == "1048576"
    assert everything["SqsManagedSseEnabled"] == "true"
    assert everything["QueueArn"].endswith(f":{name}")
    assert "FifoQueue" not in everything
    sqs.set_queue_attributes(
        QueueUrl=url,
        Attributes={"DelaySeconds": "3", "ReceiveMessageWaitTimeSeconds": "2", "Policy": "{}"},
    )
    got = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["DelaySeconds", "ReceiveMessageWaitTimeSeconds", "Policy"]
    )["Attributes"]
    assert got == {"DelaySeconds": "3", "ReceiveMessageWaitTimeSeconds": "2", "Policy": "{}"}
    assert "Attributes" not in sqs.get_queue_attributes(QueueUrl=url)
    bad = error(lambda: sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Nope"]))
    assert bad["Error"]["Code"] == "InvalidAttributeName"
    bad = error(lambda: sqs.set_queue_attributes(QueueUrl=url, Attributes={"DelaySeconds": "901"}))
    assert bad["Error"]["Code"] == "InvalidAttributeValue"


def test_fifo_attributes(sqs: Any, name: str) -> None:
    url = sqs.create_queue(
        QueueName=f"{name}.fifo",
        Attributes={
            "FifoQueue": "true",
            "DeduplicationScope": "messageGroup",
            "FifoThroughputLimit": "perMessageGroupId",
        },
    )["QueueUrl"]
    got = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert got["FifoQueue"] == "true"
    assert got["ContentBasedDeduplication"] == "false"
    assert got["DeduplicationScope"] == "messageGroup"
    assert got["FifoThroughputLimit"] == "perMessageGroupId"


def test_list_queues_with_prefix_and_pages(sqs: Any, hw: RunningHeadwater) -> None:
    prefix = f"list-{uuid.uuid4().hex[:6]}-"
    urls = [sqs.create_queue(QueueName=f"{prefix}{i}")["QueueUrl"] for i in range(5)]
    assert sqs.list_queues(QueueNamePrefix=prefix)["QueueUrls"] == urls
    first = sqs.list_queues(QueueNamePrefix=prefix, MaxResults=2)
    assert first["QueueUrls"] == urls[:2]
    second = sqs.list_queues(QueueNamePrefix=prefix, MaxResults=2, NextToken=first["NextToken"])
    assert second["QueueUrls"] == urls[2:4]
    pages = sqs.get_paginator("list_queues").paginate(
        QueueNamePrefix=prefix, PaginationConfig={"PageSize": 2}
    )
    assert [u for page in pages for u in page["QueueUrls"]] == urls
    assert "QueueUrls" not in sqs.list_queues(QueueNamePrefix="no-such-prefix-")
    response = error(lambda: sqs.list_queues(MaxResults=1001))
    assert response["Error"]["Code"] == "InvalidParameterValue"


def test_tags(sqs: Any, name: str) -> None:
    url = sqs.create_queue(QueueName=name, tags={"a": "1"})["QueueUrl"]
    sqs.tag_queue(QueueUrl=url, Tags={"b": "2", "a": "3"})
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"a": "3", "b": "2"}
    sqs.untag_queue(QueueUrl=url, TagKeys=["a", "b"])
    assert "Tags" not in sqs.list_queue_tags(QueueUrl=url)


def test_permissions(sqs: Any, name: str) -> None:
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    sqs.add_permission(
        QueueUrl=url,
        Label="share",
        AWSAccountIds=["111122223333"],
        Actions=["SendMessage", "ReceiveMessage"],
    )
    policy = json.loads(
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])["Attributes"]["Policy"]
    )
    [statement] = policy["Statement"]
    assert statement["Sid"] == "share"
    assert statement["Action"] == ["SQS:SendMessage", "SQS:ReceiveMessage"]
    again = error(
        lambda: sqs.add_permission(QueueUrl=url, Label="share", AWSAccountIds=["1"], Actions=["*"])
    )
    assert again["Error"]["Code"] == "InvalidParameterValue"
    sqs.remove_permission(QueueUrl=url, Label="share")
    assert "Attributes" not in sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])
    gone = error(lambda: sqs.remove_permission(QueueUrl=url, Label="share"))
    assert gone["Error"]["Code"] == "InvalidParameterValue"


def test_purge(sqs: Any, name: str) -> None:
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="a")
    sqs.purge_queue(QueueUrl=url)
    counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    assert counts["Attributes"]["ApproximateNumberOfMessages"] == "0"
    response = error(lambda: sqs.purge_queue(QueueUrl=url))
    assert response["Error"]["Code"] == "AWS.SimpleQueueService.PurgeQueueInProgress"


def test_dead_letter_source_queues(sqs: Any, name: str) -> None:
    dlq = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    policy = json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": "3"})
    source = sqs.create_queue(QueueName=f"{name}-src", Attributes={"RedrivePolicy": policy})[
        "QueueUrl"
    ]
    stored = sqs.get_queue_attributes(QueueUrl=source, AttributeNames=["RedrivePolicy"])[
        "Attributes"
    ]
    assert json.loads(stored["RedrivePolicy"]) == {"deadLetterTargetArn": arn, "maxReceiveCount": 3}
    assert sqs.list_dead_letter_source_queues(QueueUrl=dlq)["queueUrls"] == [source]
    assert sqs.list_dead_letter_source_queues(QueueUrl=source)["queueUrls"] == []
    missing = json.dumps({"deadLetterTargetArn": arn + "-nope", "maxReceiveCount": 3})
    response = error(
        lambda: sqs.create_queue(QueueName=f"{name}-x", Attributes={"RedrivePolicy": missing})
    )
    assert response["Error"]["Code"] == "InvalidParameterValue"


@pytest.mark.parametrize(
    "operation",
    [
        ("delete_queue", {}),
        ("purge_queue", {}),
        ("get_queue_attributes", {"AttributeNames": ["All"]}),
        ("set_queue_attributes", {"Attributes": {"DelaySeconds": "1"}}),
        ("send_message", {"MessageBody": "x"}),
        ("receive_message", {}),
        ("delete_message", {"ReceiptHandle": "x"}),
        ("change_message_visibility", {"ReceiptHandle": "x", "VisibilityTimeout": 1}),
        ("list_queue_tags", {}),
        ("tag_queue", {"Tags": {"a": "b"}}),
        ("untag_queue", {"TagKeys": ["a"]}),
        ("list_dead_letter_source_queues", {}),
        ("add_permission", {"Label": "l", "AWSAccountIds": ["1"], "Actions": ["*"]}),
        ("remove_permission", {"Label": "l"}),
    ],
)
def test_operations_on_a_missing_queue(
    sqs: Any, hw: RunningHeadwater, operation: tuple[str, dict]
) -> None:
    method, kwargs = operation
    url = f"{hw.endpoint}/000000000000/never-created"
    response = error(lambda: getattr(sqs, method)(QueueUrl=url, **kwargs))
    assert response["Error"]["Code"] == "AWS.SimpleQueueService.NonExistentQueue"
