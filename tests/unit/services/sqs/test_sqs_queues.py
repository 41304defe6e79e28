"""Queue administration: creation rules, attributes, listing, tags, permissions, purge."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from sqs_helpers import ACCOUNT, REGION, refresh, send

from headwater.core.clock import ManualClock
from headwater.core.errors import ServiceError
from headwater.services.sqs import queues
from headwater.services.sqs.model import Queue, Sqs

MakeQueue = Callable[..., Queue]


def error_of(call: Callable[[], object]) -> ServiceError:
    with pytest.raises(ServiceError) as caught:
        call()
    return caught.value


def test_new_queue_has_aws_defaults(sqs: Sqs, make_queue: MakeQueue) -> None:
    queue = make_queue("jobs")
    got = queues.get_attributes(sqs, queue, ["All"])
    assert got == {
        "QueueArn": "arn:aws:sqs:us-east-1:000000000000:jobs",
        "ApproximateNumberOfMessages": "0",
        "ApproximateNumberOfMessagesNotVisible": "0",
        "ApproximateNumberOfMessagesDelayed": "0",
        "CreatedTimestamp": "1700000000",
        "LastModifiedTimestamp": "1700000000",
        "VisibilityTimeout": "30",
        "MaximumMessageSize": "1048576",
        "MessageRetentionPeriod": "345600",
        "DelaySeconds": "0",
        "ReceiveMessageWaitTimeSeconds": "0",
        "SqsManagedSseEnabled": "true",
    }


def test_fifo_queue_reports_its_fifo_attributes(sqs: Sqs, make_queue: MakeQueue) -> None:
    queue = make_queue("jobs.fifo")
    got = queues.get_attributes(sqs, queue, ["All"])
    assert got["FifoQueue"] == "true"
    assert got["ContentBasedDeduplication"] == "false"
    assert got["DeduplicationScope"] == "queue"
    assert got["FifoThroughputLimit"] == "perQueue"


def test_create_is_idempotent_for_same_attributes(sqs: Sqs, make_queue: MakeQueue) -> None:
    first = make_queue("jobs", VisibilityTimeout=60)
    assert make_queue("jobs", VisibilityTimeout=60).id == first.id
    assert make_queue("jobs").id == first.id  # attributes left out are not compared
    error = error_of(lambda: make_queue("jobs", VisibilityTimeout=61))
    assert error.code == "QueueNameExists"
    assert "VisibilityTimeout" in error.message


def test_fifo_needs_the_suffix_and_the_attribute(sqs: Sqs, make_queue: MakeQueue) -> None:
    assert error_of(lambda: make_queue("plain", FifoQueue=True)).code == "InvalidParameterValue"
    assert (
        error_of(lambda: queues.create_queue(sqs, ACCOUNT, REGION, "x.fifo", {}, {})).code
        == "InvalidParameterValue"
    )
    assert error_of(lambda: make_queue("std", ContentBasedDeduplication=True)).code == (
        "InvalidAttributeName"
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("VisibilityTimeout", "43201"),
        ("VisibilityTimeout", "-1"),
        ("DelaySeconds", "901"),
        ("MaximumMessageSize", "1023"),
        ("MaximumMessageSize", "1048577"),
        ("MessageRetentionPeriod", "59"),
        ("MessageRetentionPeriod", "1209601"),
        ("ReceiveMessageWaitTimeSeconds", "21"),
        ("KmsDataKeyReusePeriodSeconds", "59"),
        ("VisibilityTimeout", "ten"),
        ("SqsManagedSseEnabled", "yes"),
        ("Policy", "{not json"),
    ],
)
def test_out_of_range_attributes(make_queue: MakeQueue, name: str, value: str) -> None:
    error = error_of(lambda: make_queue("jobs", **{name: value}))
    assert error.code == "InvalidAttributeValue"
    assert error.message.startswith(f"Invalid value for the parameter {name}.")


@pytest.mark.parametrize("name", ["QueueArn", "ApproximateNumberOfMessages", "Bogus", "All"])
def test_unknown_or_read_only_attributes_cannot_be_set(make_queue: MakeQueue, name: str) -> None:
    error = error_of(lambda: make_queue("jobs", **{name: "1"}))
    assert (error.code, error.message) == ("InvalidAttributeName", f"Unknown Attribute {name}.")


def test_set_attributes_updates_and_touches_last_modified(
    sqs: Sqs, clock: ManualClock, make_queue: MakeQueue
) -> None:
    queue = make_queue("jobs")
    clock.advance(100)
    queue = queues.set_attributes(sqs, queue, {"VisibilityTimeout": "5", "DelaySeconds": "2"})
    got = queues.get_attributes(
        sqs,
        queue,
        ["VisibilityTimeout", "DelaySeconds", "LastModifiedTimestamp", "CreatedTimestamp"],
    )
    assert got == {
        "VisibilityTimeout": "5",
        "DelaySeconds": "2",
        "LastModifiedTimestamp": "1700000100",
        "CreatedTimestamp": "1700000000",
    }
    assert queue.settings.visibility_timeout == 5
    assert error_of(lambda: queues.set_attributes(sqs, queue, {"FifoQueue": "true"})).code == (
        "InvalidAttributeName"
    )


def test_get_attributes_checks_names(sqs: Sqs, make_queue: MakeQueue) -> None:
    queue = make_queue("jobs")
    assert queues.get_attributes(sqs, queue, []) == {}
    assert queues.get_attributes(sqs, queue, ["Policy"]) == {}  # known but unset
    assert (
        error_of(lambda: queues.get_attributes(sqs, queue, ["Nope"])).code == "InvalidAttributeName"
    )
    assert error_of(lambda: queues.get_attributes(sqs, queue, ["FifoQueue"])).code == (
        "InvalidAttributeName"
    )


def test_kms_key_turns_sqs_managed_encryption_off(sqs: Sqs, make_queue: MakeQueue) -> None:
    queue = make_queue("jobs", KmsMasterKeyId="alias/aws/sqs")
    got = queues.get_attributes(sqs, queue, ["All"])
    assert got["KmsMasterKeyId"] == "alias/aws/sqs"
    assert got["KmsDataKeyReusePeriodSeconds"] == "300"
    assert got["SqsManagedSseEnabled"] == "false"


def test_counts_split_visible_in_flight_and_delayed(
    sqs: Sqs, clock: ManualClock, make_queue: MakeQueue
) -> None:
    queue = make_queue("jobs")
    send(sqs, queue, "a", "b", "c")
    send(sqs, queue, "d", delay=10)
    sqs.receive(queue, 1)
    got = queues.get_attributes(sqs, queue, ["All"])
    assert got["ApproximateNumberOfMessages"] == "2"
    assert got["ApproximateNumberOfMessagesNotVisible"] == "1"
    assert got["ApproximateNumberOfMessagesDelayed"] == "1"


def test_list_queues_by_prefix_and_page(sqs: Sqs, make_queue: MakeQueue) -> None:
    for name in ("b", "a", "ab", "c"):
        make_queue(name)
    found = queues.list_queues(sqs, ACCOUNT, REGION, "a")
    assert [q.name for q in found] == ["a", "ab"]
    everything = queues.list_queues(sqs, ACCOUNT, REGION, None)
    first, token = queues.page(everything, 3, None)
    assert [q.name for q in first] == ["a", "ab", "b"] and token
    second, token2 = queues.page(everything, 3, token)
    assert [q.name for q in second] == ["c"] and token2 is None
    assert queues.page(everything, None, None)[1] is None
    assert queues.list_queues(sqs, ACCOUNT, "eu-west-1", None) == []
    assert error_of(lambda: queues.page(everything, 0, None)).code == "InvalidParameterValue"
    assert error_of(lambda: queues.page(everything, 5, "!!")).code == "InvalidParameterValue"


def test_tags(sqs: Sqs, make_queue: MakeQueue) -> None:
    queue = make_queue("jobs")
    queue = queues.tag(sqs, queue, {"team": "a", "env": "dev"})
    queue = queues.tag(sqs, queue, {"team": "b"})
    assert dict(queue.tags) == {"team": "b", "env": "dev"}
    queue = queues.untag(sqs, queue, ["env", "missing"])
    assert dict(refresh(sqs, queue).tags) == {"team": "b"}
    too_many = {f"k{i}": "v" for i in range(51)}
    assert error_of(lambda: queues.tag(sqs, queue, too_many)).code == "InvalidParameterValue"


def test_permissions_are_written_into_the_policy(sqs: Sqs, make_queue: MakeQueue) -> None:
    queue = make_queue("jobs")
    queue = queues.add_permission(sqs, queue, "Share", ["111122223333"], ["SendMessage"])
    policy = json.loads(queue.attributes["Policy"])
    assert policy["Statement"] == [
        {
            "Sid": "Share",
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
            "Action": "SQS:SendMessage",
            "Resource": queue.arn,
        }
    ]
    again = error_of(lambda: queues.add_permission(sqs, queue, "Share", ["1"], ["*"]))
    assert again.code == "InvalidParameterValue"
    owner_only = error_of(lambda: queues.add_permission(sqs, queue, "X", ["1"], ["DeleteQueue"]))
    assert owner_only.code == "InvalidParameterValue"
    queue = queues.remove_permission(sqs, queue, "Share")
    assert "Policy" not in queue.attributes
    assert error_of(lambda: queues.remove_permission(sqs, queue, "Share")).code == (
        "InvalidParameterValue"
    )


def test_purge_deletes_everything_once_a_minute(
    sqs: Sqs, clock: ManualClock, make_queue: MakeQueue
) -> None:
    queue = make_queue("jobs")
    send(sqs, queue, "a", "b")
    sqs.receive(queue, 1)
    queue = sqs.purge(queue)
    assert sqs.counts(queue) == (0, 0, 0)
    clock.advance(59)
    error = error_of(lambda: sqs.purge(refresh(sqs, queue)))
    assert error.code == "PurgeQueueInProgress"
    clock.advance(1)
    sqs.purge(refresh(sqs, queue))


def test_delete_queue_forgets_it(sqs: Sqs, make_queue: MakeQueue) -> None:
    queue = make_queue("jobs")
    send(sqs, queue, "a")
    sqs.drop_queue(queue)
    assert error_of(lambda: sqs.queue(ACCOUNT, REGION, "jobs")).code == "QueueDoesNotExist"
    assert make_queue("jobs").id != queue.id


def test_queues_survive_a_restart(clock: ManualClock, tmp_path) -> None:
    from headwater.core.ids import SequentialIds
    from headwater.store import open_store

    store = open_store(tmp_path / "db.sqlite")
    sqs = Sqs(store, clock, SequentialIds())
    queue = queues.create_queue(
        sqs,
        ACCOUNT,
        REGION,
        "keep.fifo",
        {"FifoQueue": "true", "ContentBasedDeduplication": "true"},
        {"t": "1"},
    )
    send(sqs, queue, "a", group_id="g")
    store.close()
    again = Sqs(open_store(tmp_path / "db.sqlite"), clock, SequentialIds())
    queue = again.queue(ACCOUNT, REGION, "keep.fifo")
    assert dict(queue.tags) == {"t": "1"} and queue.settings.content_dedup
    [sent] = send(again, queue, "b", group_id="g")
    assert sent.sequence == "00000000000000000002"  # the counter survived
    assert [m.body for m in again.receive(queue, 10)] == ["a", "b"]
