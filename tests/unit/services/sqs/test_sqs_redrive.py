"""Dead-letter queues and message move tasks (DLQ redrive)."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from sqs_helpers import refresh, send

from headwater.core.clock import ManualClock
from headwater.core.errors import ServiceError
from headwater.services.sqs import movetasks, queues
from headwater.services.sqs.model import Queue, Sqs

MakeQueue = Callable[..., Queue]


def redrive(dlq: Queue, count: int) -> str:
    return json.dumps({"deadLetterTargetArn": dlq.arn, "maxReceiveCount": count})


def error_of(call: Callable[[], object]) -> ServiceError:
    with pytest.raises(ServiceError) as caught:
        call()
    return caught.value


def receive_and_abandon(sqs: Sqs, clock: ManualClock, queue: Queue, times: int) -> None:
    for _ in range(times):
        assert len(sqs.receive(queue, 10, visibility_timeout=1)) > 0
        clock.advance(1)


def test_message_moves_to_the_dlq_after_max_receive_count(
    sqs: Sqs, clock: ManualClock, make_queue: MakeQueue
) -> None:
    dlq = make_queue("dead")
    source = make_queue("work", RedrivePolicy=redrive(dlq, 2))
    send(sqs, source, "poison")
    receive_and_abandon(sqs, clock, source, 2)
    woken: list[int] = []
    sqs.listeners.append(woken.append)
    assert sqs.receive(source, 10) == []  # the third receive moves it instead
    assert dlq.id in woken
    [message] = sqs.receive(dlq, 10)
    assert message.body == "poison"
    assert message.system["DeadLetterQueueSourceArn"] == source.arn
    # "received across all queues": the count carries over.
    assert message.system["ApproximateReceiveCount"] == "3"
    assert message.system["SentTimestamp"] == "1700000000000"


def test_a_receive_fills_up_after_dead_lettering(
    sqs: Sqs, clock: ManualClock, make_queue: MakeQueue
) -> None:
    dlq = make_queue("dead")
    source = make_queue("work", RedrivePolicy=redrive(dlq, 1))
    send(sqs, source, "poison")
    receive_and_abandon(sqs, clock, source, 1)
    send(sqs, source, "fresh")
    assert [m.body for m in sqs.receive(source, 1)] == ["fresh"]


def test_standard_dlq_keeps_the_original_enqueue_time(
    sqs: Sqs, clock: ManualClock, make_queue: MakeQueue
) -> None:
    dlq = make_queue("dead", MessageRetentionPeriod=100)
    source = make_queue("work", RedrivePolicy=redrive(dlq, 1))
    send(sqs, source, "a")
    receive_and_abandon(sqs, clock, source, 1)
    sqs.receive(source)  # moves it
    clock.advance(98)
    assert sqs.counts(dlq) == (1, 0, 0)
    clock.advance(1)
    assert sqs.counts(dlq) == (0, 0, 0)  # expired: 100 s after the original send


def test_fifo_source_needs_a_fifo_dlq_and_keeps_order(
    sqs: Sqs, clock: ManualClock, make_queue: MakeQueue
) -> None:
    standard = make_queue("dead")
    error = error_of(lambda: make_queue("work.fifo", RedrivePolicy=redrive(standard, 1)))
    assert error.code == "InvalidParameterValue"
    dlq = make_queue("dead.fifo")
    source = make_queue("work.fifo", ContentBasedDeduplication=True, RedrivePolicy=redrive(dlq, 1))
    send(sqs, source, "1", "2", group_id="g")
    receive_and_abandon(sqs, clock, source, 1)
    assert sqs.receive(source, 10) == []
    moved = sqs.receive(dlq, 10)
    assert [m.body for m in moved] == ["1", "2"]
    assert all(m.system["MessageGroupId"] == "g" for m in moved)


def test_redrive_policy_validation(sqs: Sqs, make_queue: MakeQueue) -> None:
    dlq = make_queue("dead")
    missing = json.dumps(
        {"deadLetterTargetArn": "arn:aws:sqs:us-east-1:000000000000:nope", "maxReceiveCount": 1}
    )
    for policy in (
        missing,
        "not json",
        json.dumps({"maxReceiveCount": 1}),
        redrive(dlq, 0),
        redrive(dlq, 1001),
    ):
        error = error_of(lambda p=policy: make_queue("work", RedrivePolicy=p))  # type: ignore[misc]
        assert error.code == "InvalidParameterValue", policy
    work = make_queue(
        "work", RedrivePolicy=json.dumps({"deadLetterTargetArn": dlq.arn, "maxReceiveCount": "5"})
    )
    assert work.attributes["RedrivePolicy"] == (
        '{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:dead","maxReceiveCount":5}'
    )
    work = queues.set_attributes(sqs, work, {"RedrivePolicy": ""})
    assert "RedrivePolicy" not in work.attributes and work.settings.redrive is None


def test_redrive_allow_policy(sqs: Sqs, make_queue: MakeQueue) -> None:
    deny = make_queue("deny", RedriveAllowPolicy=json.dumps({"redrivePermission": "denyAll"}))
    assert error_of(lambda: make_queue("a", RedrivePolicy=redrive(deny, 1))).code == (
        "InvalidParameterValue"
    )
    arn = "arn:aws:sqs:us-east-1:000000000000:ok"
    only = make_queue(
        "only",
        RedriveAllowPolicy=json.dumps({"redrivePermission": "byQueue", "sourceQueueArns": [arn]}),
    )
    make_queue("ok", RedrivePolicy=redrive(only, 1))
    assert error_of(lambda: make_queue("other", RedrivePolicy=redrive(only, 1))).code == (
        "InvalidParameterValue"
    )
    bad = json.dumps({"redrivePermission": "byQueue"})
    assert error_of(lambda: make_queue("x", RedriveAllowPolicy=bad)).code == "InvalidParameterValue"


def test_dead_letter_sources(sqs: Sqs, make_queue: MakeQueue) -> None:
    dlq = make_queue("dead")
    make_queue("b", RedrivePolicy=redrive(dlq, 1))
    make_queue("a", RedrivePolicy=redrive(dlq, 3))
    make_queue("c")
    assert [q.name for q in queues.dead_letter_sources(sqs, dlq)] == ["a", "b"]


# -- message move tasks ---------------------------------------------------------------------


@pytest.fixture
def dead_lettered(sqs: Sqs, clock: ManualClock, make_queue: MakeQueue) -> tuple[Queue, Queue]:
    """A DLQ holding 5 messages that came from ``work``."""
    dlq = make_queue("dead")
    source = make_queue("work", RedrivePolicy=redrive(dlq, 1))
    send(sqs, source, *[f"m{i}" for i in range(5)])
    receive_and_abandon(sqs, clock, source, 1)
    assert sqs.receive(source, 10) == []
    assert sqs.counts(dlq)[0] == 5
    return source, dlq


def test_move_task_redrives_to_the_original_source(
    sqs: Sqs, dead_lettered: tuple[Queue, Queue]
) -> None:
    source, dlq = dead_lettered
    task = movetasks.start(sqs, dlq.arn)
    assert task.status == "RUNNING" and task.to_move == 5
    assert movetasks.step(sqs) is False
    [listed] = movetasks.list_tasks(sqs, dlq.arn)
    assert (listed.status, listed.moved, listed.to_move) == ("COMPLETED", 5, 5)
    assert listed.destination_arn is None
    received = sqs.receive(source, 10)
    assert sorted(m.body for m in received) == [f"m{i}" for i in range(5)]
    assert all(m.system["ApproximateReceiveCount"] == "1" for m in received)
    assert all("DeadLetterQueueSourceArn" not in m.system for m in received)


def test_move_task_to_a_destination_at_a_rate(
    sqs: Sqs, clock: ManualClock, make_queue: MakeQueue, dead_lettered: tuple[Queue, Queue]
) -> None:
    _, dlq = dead_lettered
    target = make_queue("elsewhere")
    task = movetasks.start(sqs, dlq.arn, target.arn, rate=2)
    assert movetasks.step(sqs) is True  # no time has passed: nothing may move yet
    assert sqs.counts(target)[0] == 0
    clock.advance(1)
    movetasks.step(sqs)
    assert sqs.counts(target)[0] == 2
    [running] = movetasks.list_tasks(sqs, dlq.arn)
    assert running.status == "RUNNING" and running.moved == 2 and running.rate == 2
    assert running.handle == task.handle
    clock.advance(10)
    assert movetasks.step(sqs) is False
    assert sqs.counts(target)[0] == 5


def test_cancel_stops_a_running_task(
    sqs: Sqs, clock: ManualClock, dead_lettered: tuple[Queue, Queue]
) -> None:
    _, dlq = dead_lettered
    task = movetasks.start(sqs, dlq.arn, rate=1)
    clock.advance(2)
    movetasks.step(sqs)
    cancelled = movetasks.cancel(sqs, task.handle)
    assert (cancelled.status, cancelled.moved) == ("CANCELLED", 2)
    clock.advance(100)
    movetasks.step(sqs)
    assert sqs.counts(dlq)[0] == 3
    assert error_of(lambda: movetasks.cancel(sqs, task.handle)).code == "ResourceNotFoundException"


def test_move_task_errors(
    sqs: Sqs, make_queue: MakeQueue, dead_lettered: tuple[Queue, Queue]
) -> None:
    source, dlq = dead_lettered
    nowhere = "arn:aws:sqs:us-east-1:000000000000:nowhere"
    assert error_of(lambda: movetasks.start(sqs, nowhere)).message == (
        "The resource that you specified for the SourceArn parameter doesn't exist."
    )
    assert error_of(lambda: movetasks.start(sqs, source.arn)).message == (
        "Source queue must be configured as a Dead Letter Queue."
    )
    assert (
        error_of(lambda: movetasks.start(sqs, dlq.arn, nowhere)).code == "ResourceNotFoundException"
    )
    assert error_of(lambda: movetasks.start(sqs, dlq.arn, rate=501)).code == "InvalidParameterValue"
    movetasks.start(sqs, dlq.arn, rate=1)
    assert "already a task running" in error_of(lambda: movetasks.start(sqs, dlq.arn)).message
    assert error_of(lambda: movetasks.cancel(sqs, "garbage")).message == (
        "Value for parameter TaskHandle is invalid."
    )
    assert error_of(lambda: movetasks.list_tasks(sqs, dlq.arn, 11)).code == "InvalidParameterValue"
    assert error_of(lambda: movetasks.list_tasks(sqs, nowhere)).code == "ResourceNotFoundException"


def test_move_task_fails_when_the_original_source_is_gone(
    sqs: Sqs, dead_lettered: tuple[Queue, Queue]
) -> None:
    source, dlq = dead_lettered
    sqs.drop_queue(source)
    # Still a DLQ?  Not any more: no queue names it.
    assert error_of(lambda: movetasks.start(sqs, dlq.arn)).code == "InvalidParameterValue"


def test_list_shows_the_most_recent_tasks_first(
    sqs: Sqs, clock: ManualClock, dead_lettered: tuple[Queue, Queue]
) -> None:
    _, dlq = dead_lettered
    first = movetasks.start(sqs, dlq.arn, rate=1)
    movetasks.cancel(sqs, first.handle)
    clock.advance(1)
    second = movetasks.start(sqs, dlq.arn, rate=1)
    assert [t.task_id for t in movetasks.list_tasks(sqs, dlq.arn, 10)] == [
        second.task_id,
        first.task_id,
    ]
    assert [t.task_id for t in movetasks.list_tasks(sqs, dlq.arn)] == [second.task_id]


def test_move_tasks_survive_a_restart(clock: ManualClock, tmp_path) -> None:
    from headwater.core.ids import SequentialIds
    from headwater.store import open_store

    sqs = Sqs(open_store(tmp_path / "db"), clock, SequentialIds())
    dlq = queues.create_queue(sqs, "000000000000", "us-east-1", "dead", {}, {})
    source = queues.create_queue(
        sqs, "000000000000", "us-east-1", "work", {"RedrivePolicy": redrive(dlq, 1)}, {}
    )
    send(sqs, source, "a", "b")
    receive_and_abandon(sqs, clock, source, 1)
    sqs.receive(source, 10)
    movetasks.start(sqs, dlq.arn, rate=1)
    clock.advance(1)
    movetasks.step(sqs)
    again = Sqs(open_store(tmp_path / "db"), clock, SequentialIds())
    clock.advance(5)
    assert movetasks.step(again) is False
    assert again.counts(refresh(again, source))[0] == 2
