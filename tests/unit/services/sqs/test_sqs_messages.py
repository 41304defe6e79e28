"""The life of a message on a standard queue: send, receive, hide, delay, expire, delete."""

from __future__ import annotations

from collections.abc import Callable

from sqs_helpers import ACCOUNT, refresh, send

from headwater.core.clock import ManualClock
from headwater.core.errors import ServiceError
from headwater.services.sqs import content, queues
from headwater.services.sqs.model import Outgoing, Queue, Sent, Sqs

MakeQueue = Callable[..., Queue]


def bodies(received: list) -> list[str]:
    return [m.body for m in received]


def test_send_returns_id_and_digests(sqs: Sqs, make_queue: MakeQueue) -> None:
    queue = make_queue()
    attributes = content.parse_attributes(
        {"timestamp": {"DataType": "Number", "StringValue": "1493147359900"}}
    )
    [sent] = sqs.send(queue, [Outgoing("derp", attributes=attributes)], ACCOUNT)
    assert isinstance(sent, Sent)
    assert sent.message_id == "00000000-0000-4000-8000-000000000001"
    assert sent.md5_body == "58fd9edd83341c29f1aebba81c31e257"
    assert sent.md5_attributes == "235c5c510d26fb653d073faed50ae77c"
    assert sent.md5_system is None and sent.sequence is None


def test_received_message_carries_system_attributes(
    sqs: Sqs, clock: ManualClock, make_queue: MakeQueue
) -> None:
    queue = make_queue()
    trace = content.parse_system_attributes(
        {"AWSTraceHeader": {"DataType": "String", "StringValue": "Root=1-abc"}}
    )
    [sent] = sqs.send(queue, [Outgoing("hi", system_attributes=trace)], ACCOUNT)
    assert sent.md5_system == content.md5_of_attributes(trace)
    clock.advance(1.5)
    [message] = sqs.receive(queue)
    assert message.system == {
        "SenderId": ACCOUNT,
        "SentTimestamp": "1700000000000",
        "ApproximateReceiveCount": "1",
        "ApproximateFirstReceiveTimestamp": "1700000001500",
        "AWSTraceHeader": "Root=1-abc",
    }


def test_received_message_is_hidden_until_its_visibility_timeout_ends(
    sqs: Sqs, clock: ManualClock, make_queue: MakeQueue
) -> None:
    queue = make_queue(VisibilityTimeout=30)
    send(sqs, queue, "a")
    [first] = sqs.receive(queue)
    assert sqs.receive(queue) == []
    clock.advance(29.9)
    assert sqs.receive(queue) == []
    clock.advance(0.1)
    [again] = sqs.receive(queue)
    assert again.message_id == first.message_id
    assert again.receipt != first.receipt
    assert again.system["ApproximateReceiveCount"] == "2"
    assert (
        again.system["ApproximateFirstReceiveTimestamp"]
        == first.system["ApproximateFirstReceiveTimestamp"]
    )


def test_receive_visibility_timeout_overrides_the_queue_one(
    sqs: Sqs, clock: ManualClock, make_queue: MakeQueue
) -> None:
    queue = make_queue(VisibilityTimeout=30)
    send(sqs, queue, "a")
    sqs.receive(queue, visibility_timeout=5)
    clock.advance(5)
    assert bodies(sqs.receive(queue)) == ["a"]


def test_receive_takes_at_most_the_asked_number_oldest_first(
    sqs: Sqs, make_queue: MakeQueue
) -> None:
    queue = make_queue()
    send(sqs, queue, *[str(i) for i in range(15)])
    assert bodies(sqs.receive(queue, 10)) == [str(i) for i in range(10)]
    assert bodies(sqs.receive(queue, 10)) == [str(i) for i in range(10, 15)]


def test_delays_per_queue_and_per_message(
    sqs: Sqs, clock: ManualClock, make_queue: MakeQueue
) -> None:
    queue = make_queue(DelaySeconds=10)
    send(sqs, queue, "queue-delay")
    send(sqs, queue, "own-delay", delay=2)
    send(sqs, queue, "no-delay", delay=0)
    assert bodies(sqs.receive(queue, 10)) == ["no-delay"]
    assert sqs.counts(queue) == (0, 1, 2)
    clock.advance(2)
    assert bodies(sqs.receive(queue, 10)) == ["own-delay"]
    clock.advance(8)
    assert bodies(sqs.receive(queue, 10)) == ["queue-delay"]


def test_next_visible_in_tells_a_long_poll_when_to_look_again(
    sqs: Sqs, clock: ManualClock, make_queue: MakeQueue
) -> None:
    queue = make_queue()
    assert sqs.next_visible_in(queue) is None
    send(sqs, queue, "later", delay=7)
    assert sqs.next_visible_in(queue) == 7
    clock.advance(3)
    assert sqs.next_visible_in(queue) == 4


def test_delay_out_of_range(sqs: Sqs, make_queue: MakeQueue) -> None:
    [error] = send(sqs, make_queue(), "x", delay=901)
    assert isinstance(error, ServiceError) and error.code == "InvalidParameterValue"


def test_messages_expire_after_the_retention_period(
    sqs: Sqs, clock: ManualClock, make_queue: MakeQueue
) -> None:
    queue = make_queue(MessageRetentionPeriod=60)
    send(sqs, queue, "old")
    clock.advance(30)
    send(sqs, queue, "young")
    clock.advance(30)
    # Expired messages are neither counted nor received, even before the sweep.
    assert sqs.counts(queue) == (1, 0, 0)
    assert sqs.expire() == 1
    assert bodies(sqs.receive(queue, 10)) == ["young"]


def test_shortening_retention_applies_to_stored_messages(
    sqs: Sqs, clock: ManualClock, make_queue: MakeQueue
) -> None:
    queue = make_queue()
    send(sqs, queue, "a")
    clock.advance(120)
    queue = queues.set_attributes(sqs, queue, {"MessageRetentionPeriod": "60"})
    assert sqs.receive(queue) == []


def test_message_size_limit_follows_the_queue(sqs: Sqs, make_queue: MakeQueue) -> None:
    queue = make_queue(MaximumMessageSize=1024)
    ok, too_big = send(sqs, queue, "x" * 1024, "x" * 1025)
    assert isinstance(ok, Sent)
    assert isinstance(too_big, ServiceError)
    assert too_big.message == (
        "One or more parameters are invalid. Reason: Message must be shorter than 1024 bytes."
    )


def test_default_limit_is_one_mebibyte(sqs: Sqs, make_queue: MakeQueue) -> None:
    queue = make_queue()
    ok, too_big = send(sqs, queue, "x" * 1_048_576, "x" * 1_048_577)
    assert isinstance(ok, Sent) and isinstance(too_big, ServiceError)


def test_standard_queue_refuses_deduplication_ids_but_takes_group_ids(
    sqs: Sqs, make_queue: MakeQueue
) -> None:
    queue = make_queue()
    [error] = send(sqs, queue, "x", dedup_id="d")
    assert isinstance(error, ServiceError) and error.code == "InvalidParameterValue"
    [sent] = send(sqs, queue, "x", group_id="tenant-1")  # fair queues
    assert isinstance(sent, Sent)
    [message] = sqs.receive(queue)
    assert message.system["MessageGroupId"] == "tenant-1"


def test_batch_fails_entry_by_entry(sqs: Sqs, make_queue: MakeQueue) -> None:
    queue = make_queue()
    results = sqs.send(queue, [Outgoing("ok"), Outgoing("\x00"), Outgoing("fine")], ACCOUNT)
    assert [type(r).__name__ for r in results] == ["Sent", "ServiceError", "Sent"]
    assert bodies(sqs.receive(queue, 10)) == ["ok", "fine"]


def test_delete_with_the_latest_receipt(
    sqs: Sqs, clock: ManualClock, make_queue: MakeQueue
) -> None:
    queue = make_queue(VisibilityTimeout=1)
    send(sqs, queue, "a")
    [first] = sqs.receive(queue)
    clock.advance(1)
    [second] = sqs.receive(queue)
    # An old handle "succeeds" but deletes nothing, as AWS documents.
    assert sqs.delete(queue, [first.receipt]) == [None]
    assert sqs.counts(queue) == (0, 1, 0)
    assert sqs.delete(queue, [second.receipt]) == [None]
    assert sqs.counts(queue) == (0, 0, 0)
    assert sqs.delete(queue, [second.receipt]) == [None]  # deleting twice is fine


def test_delete_refuses_garbage_and_other_queues_handles(sqs: Sqs, make_queue: MakeQueue) -> None:
    queue, other = make_queue("a"), make_queue("b")
    send(sqs, other, "x")
    [message] = sqs.receive(other)
    [error] = sqs.delete(queue, [message.receipt])
    assert isinstance(error, ServiceError) and error.code == "ReceiptHandleIsInvalid"
    [error] = sqs.delete(queue, ["garbage"])
    assert error is not None and error.message == (
        'The input receipt handle "garbage" is not a valid receipt handle.'
    )


def test_change_visibility(sqs: Sqs, clock: ManualClock, make_queue: MakeQueue) -> None:
    queue = make_queue(VisibilityTimeout=30)
    send(sqs, queue, "a")
    [message] = sqs.receive(queue)
    clock.advance(10)
    assert sqs.change_visibility(queue, [(message.receipt, 5)]) == [None]
    clock.advance(4.9)
    assert sqs.receive(queue) == []
    clock.advance(0.1)
    assert bodies(sqs.receive(queue)) == ["a"]


def test_change_visibility_to_zero_makes_it_visible_and_wakes(
    sqs: Sqs, make_queue: MakeQueue
) -> None:
    queue = make_queue()
    woken: list[int] = []
    sqs.listeners.append(woken.append)
    send(sqs, queue, "a")
    [message] = sqs.receive(queue)
    woken.clear()
    sqs.change_visibility(queue, [(message.receipt, 0)])
    assert woken == [queue.id]
    assert bodies(sqs.receive(queue)) == ["a"]


def test_change_visibility_errors(sqs: Sqs, clock: ManualClock, make_queue: MakeQueue) -> None:
    queue = make_queue(VisibilityTimeout=10)
    send(sqs, queue, "a")
    [message] = sqs.receive(queue)
    [error] = sqs.change_visibility(queue, [(message.receipt, 43_201)])
    assert error is not None and error.code == "InvalidParameterValue"
    [error] = sqs.change_visibility(queue, [("garbage", 1)])
    assert error is not None and error.code == "ReceiptHandleIsInvalid"
    clock.advance(10)
    [error] = sqs.change_visibility(queue, [(message.receipt, 1)])
    assert error is not None and error.code == "MessageNotInflight"
    [again] = sqs.receive(queue)
    [error] = sqs.change_visibility(queue, [(message.receipt, 1)])  # superseded handle
    assert error is not None and "not available for visibility timeout change" in error.message
    sqs.delete(queue, [again.receipt])
    [error] = sqs.change_visibility(queue, [(again.receipt, 1)])
    assert error is not None and error.code == "InvalidParameterValue"


def test_visibility_is_capped_at_twelve_hours_from_the_receive(
    sqs: Sqs, clock: ManualClock, make_queue: MakeQueue
) -> None:
    queue = make_queue(VisibilityTimeout=43_200)
    send(sqs, queue, "a")
    [message] = sqs.receive(queue)
    clock.advance(100)
    [error] = sqs.change_visibility(queue, [(message.receipt, 43_200)])
    assert error is not None and "Total VisibilityTimeout" in error.message
    assert sqs.change_visibility(queue, [(message.receipt, 43_100)]) == [None]


def test_receive_with_zero_visibility_leaves_messages_visible(
    sqs: Sqs, make_queue: MakeQueue
) -> None:
    queue = make_queue()
    send(sqs, queue, "a")
    assert bodies(sqs.receive(queue, 10, visibility_timeout=0)) == ["a"]
    assert bodies(sqs.receive(queue, 10, visibility_timeout=0)) == ["a"]


def test_sends_wake_listeners_after_commit(sqs: Sqs, make_queue: MakeQueue) -> None:
    queue = make_queue()
    seen: list[tuple[int, int]] = []
    sqs.listeners.append(lambda qid: seen.append((qid, sqs.counts(refresh(sqs, queue))[0])))
    send(sqs, queue, "a")
    assert seen == [(queue.id, 1)]  # the message is already there when they look
