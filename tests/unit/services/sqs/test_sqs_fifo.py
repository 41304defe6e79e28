"""FIFO queues: ordering within a group, held groups, deduplication, sequence numbers."""

from __future__ import annotations

from collections.abc import Callable

from sqs_helpers import send

from headwater.core.clock import ManualClock
from headwater.core.errors import ServiceError
from headwater.services.sqs import content
from headwater.services.sqs.model import Queue, Sent, Sqs

MakeQueue = Callable[..., Queue]


def bodies(received: list) -> list[str]:
    return [m.body for m in received]


def test_group_is_held_while_one_of_its_messages_is_in_flight(
    sqs: Sqs, clock: ManualClock, make_queue: MakeQueue
) -> None:
    queue = make_queue("q.fifo", ContentBasedDeduplication=True, VisibilityTimeout=30)
    send(sqs, queue, "a1", "a2", group_id="a")
    send(sqs, queue, "b1", group_id="b")
    [first] = sqs.receive(queue, 1)
    assert first.body == "a1"
    # a2 waits behind a1; b1 is free.
    assert bodies(sqs.receive(queue, 10)) == ["b1"]
    assert sqs.receive(queue, 10) == []
    sqs.delete(queue, [first.receipt])
    assert bodies(sqs.receive(queue, 10)) == ["a2"]


def test_one_receive_may_return_several_messages_of_a_group_in_order(
    sqs: Sqs, make_queue: MakeQueue
) -> None:
    queue = make_queue("q.fifo", ContentBasedDeduplication=True)
    send(sqs, queue, "1", "2", "3", group_id="g")
    send(sqs, queue, "x", group_id="h")
    assert bodies(sqs.receive(queue, 10)) == ["1", "2", "3", "x"]


def test_a_returned_message_is_redelivered_before_later_ones(
    sqs: Sqs, clock: ManualClock, make_queue: MakeQueue
) -> None:
    queue = make_queue("q.fifo", ContentBasedDeduplication=True, VisibilityTimeout=5)
    send(sqs, queue, "1", "2", group_id="g")
    assert bodies(sqs.receive(queue, 1)) == ["1"]
    clock.advance(5)
    assert bodies(sqs.receive(queue, 1)) == ["1"]


def test_deduplication_within_five_minutes(
    sqs: Sqs, clock: ManualClock, make_queue: MakeQueue
) -> None:
    queue = make_queue("q.fifo")
    [first] = send(sqs, queue, "a", group_id="g", dedup_id="d1")
    [duplicate] = send(sqs, queue, "other body", group_id="g", dedup_id="d1")
    assert isinstance(first, Sent) and isinstance(duplicate, Sent)
    assert duplicate.message_id == first.message_id
    assert duplicate.sequence == first.sequence
    assert sqs.counts(queue) == (1, 0, 0)
    clock.advance(299)
    send(sqs, queue, "a", group_id="g", dedup_id="d1")
    assert sqs.counts(queue) == (1, 0, 0)
    clock.advance(1)
    [later] = send(sqs, queue, "a", group_id="g", dedup_id="d1")
    assert isinstance(later, Sent) and later.message_id != first.message_id
    assert sqs.counts(queue) == (2, 0, 0)


def test_deleted_messages_still_deduplicate(sqs: Sqs, make_queue: MakeQueue) -> None:
    queue = make_queue("q.fifo")
    send(sqs, queue, "a", group_id="g", dedup_id="d")
    [message] = sqs.receive(queue)
    sqs.delete(queue, [message.receipt])
    send(sqs, queue, "a", group_id="g", dedup_id="d")
    assert sqs.receive(queue) == []


def test_duplicates_inside_one_batch(sqs: Sqs, make_queue: MakeQueue) -> None:
    queue = make_queue("q.fifo", ContentBasedDeduplication=True)
    first, second = send(sqs, queue, "same", "same", group_id="g")
    assert first.message_id == second.message_id
    assert bodies(sqs.receive(queue, 10)) == ["same"]


def test_content_based_deduplication_uses_the_body_hash(sqs: Sqs, make_queue: MakeQueue) -> None:
    queue = make_queue("q.fifo", ContentBasedDeduplication=True)
    send(sqs, queue, "a", group_id="g")
    send(sqs, queue, "a", group_id="g2")  # same body, other group: still a duplicate
    send(sqs, queue, "b", group_id="g", dedup_id=content.content_dedup_id("a"))
    [message] = sqs.receive(queue, 10)
    assert message.system["MessageDeduplicationId"] == content.content_dedup_id("a")


def test_deduplication_per_message_group(sqs: Sqs, make_queue: MakeQueue) -> None:
    queue = make_queue(
        "q.fifo", DeduplicationScope="messageGroup", FifoThroughputLimit="perMessageGroupId"
    )
    send(sqs, queue, "a", group_id="g1", dedup_id="d")
    send(sqs, queue, "b", group_id="g2", dedup_id="d")
    send(sqs, queue, "c", group_id="g1", dedup_id="d")
    assert bodies(sqs.receive(queue, 10)) == ["a", "b"]


def test_fifo_send_rules(sqs: Sqs, make_queue: MakeQueue) -> None:
    queue = make_queue("q.fifo")
    [missing_group] = send(sqs, queue, "a", dedup_id="d")
    assert isinstance(missing_group, ServiceError)
    assert missing_group.message == "The request must contain the parameter MessageGroupId."
    [no_dedup] = send(sqs, queue, "a", group_id="g")
    assert isinstance(no_dedup, ServiceError) and "ContentBasedDeduplication" in no_dedup.message
    [delayed] = send(sqs, queue, "a", group_id="g", dedup_id="d", delay=5)
    assert isinstance(delayed, ServiceError)
    assert delayed.message.startswith("Value 5 for parameter DelaySeconds is invalid.")
    [bad_group] = send(sqs, queue, "a", group_id="has space", dedup_id="d")
    assert isinstance(bad_group, ServiceError) and bad_group.code == "InvalidParameterValue"


def test_sequence_numbers_grow(sqs: Sqs, make_queue: MakeQueue) -> None:
    queue = make_queue("q.fifo", ContentBasedDeduplication=True)
    results = send(sqs, queue, "a", "b", "c", group_id="g")
    numbers = [r.sequence for r in results]
    assert numbers == sorted(numbers) and len(set(numbers)) == 3
    assert all(len(n) == 20 for n in numbers)
    [message] = sqs.receive(queue)
    assert message.system["SequenceNumber"] == numbers[0]
    assert message.system["MessageGroupId"] == "g"


def test_queue_delay_keeps_group_order(sqs: Sqs, clock: ManualClock, make_queue: MakeQueue) -> None:
    queue = make_queue("q.fifo", ContentBasedDeduplication=True, DelaySeconds=10)
    send(sqs, queue, "1", group_id="g")
    clock.advance(5)
    send(sqs, queue, "2", group_id="g")
    assert sqs.receive(queue, 10) == []
    clock.advance(5)
    assert bodies(sqs.receive(queue, 10)) == ["1"]


def test_receive_request_attempt_id_returns_the_same_messages(
    sqs: Sqs, clock: ManualClock, make_queue: MakeQueue
) -> None:
    queue = make_queue("q.fifo", ContentBasedDeduplication=True, VisibilityTimeout=30)
    send(sqs, queue, "1", "2", group_id="g")
    first = sqs.receive(queue, 10, attempt_id="attempt-1")
    clock.advance(20)
    retry = sqs.receive(queue, 10, attempt_id="attempt-1")
    assert [(m.message_id, m.receipt) for m in retry] == [(m.message_id, m.receipt) for m in first]
    # The retry restarted the visibility timeout.
    clock.advance(20)
    assert sqs.receive(queue, 10) == []
    # Once a message changed, the attempt id no longer replays.
    sqs.delete(queue, [first[0].receipt])
    assert bodies(sqs.receive(queue, 10, attempt_id="attempt-1")) == []


def test_fifo_handles_expire_with_the_visibility_timeout(
    sqs: Sqs, clock: ManualClock, make_queue: MakeQueue
) -> None:
    queue = make_queue("q.fifo", ContentBasedDeduplication=True, VisibilityTimeout=5)
    send(sqs, queue, "a", group_id="g")
    [message] = sqs.receive(queue)
    clock.advance(5)
    [error] = sqs.delete(queue, [message.receipt])
    assert error is not None and error.message.endswith("Reason: The receipt handle has expired.")
