"""The SQS domain: queues and the life of their messages, over the store, with injected time.

Implements the behaviour described in the Amazon SQS Developer Guide
(https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/): standard and
FIFO queues, visibility timeouts, delays, retention, FIFO deduplication and message-group
ordering, dead-letter queues.  Queue administration (attributes, tags, permissions) lives in
``queues.py``, message move tasks in ``movetasks.py``; both build on the ``Sqs`` object here.

Plain synchronous Python: no HTTP, no botocore.  Every operation that changes state runs in one
store transaction, committed before it returns, and reads the time once from the injected
clock.  Callers learn of messages that became receivable through ``listeners`` (the adapter
wakes its long polls with them).
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from headwater.core.clock import Clock
from headwater.core.errors import ServiceError
from headwater.core.ids import IdFactory
from headwater.services.sqs import content, errors
from headwater.services.sqs.attributes import QueueSettings, settings_of
from headwater.services.sqs.content import Attributes
from headwater.services.sqs.names import (
    QueueRef,
    decode_receipt,
    encode_receipt,
    parse_queue_arn,
    parse_queue_url,
    queue_arn,
)
from headwater.services.sqs.store import MessageRow, QueueRow, SqsStore
from headwater.store import Store

MAX_VISIBILITY = 43_200  # 12 hours, counted from the receive
MAX_RECEIVE_BATCH = 10


@dataclass(frozen=True, slots=True)
class Queue:
    id: int
    account: str
    region: str
    name: str
    attributes: Mapping[str, str]
    tags: Mapping[str, str]
    created: float
    modified: float
    purged: float | None
    settings: QueueSettings
    arn: str

    @property
    def fifo(self) -> bool:
        return self.settings.fifo


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A message to send, as the caller gave it (validated by ``Sqs.send``)."""

    body: str
    attributes: Attributes = field(default_factory=dict)
    system_attributes: Attributes = field(default_factory=dict)
    delay: int | None = None
    group_id: str | None = None
    dedup_id: str | None = None


@dataclass(frozen=True, slots=True)
class Sent:
    message_id: str
    md5_body: str
    md5_attributes: str | None
    md5_system: str | None
    sequence: str | None


@dataclass(frozen=True, slots=True)
class Received:
    message_id: str
    receipt: str
    body: str
    md5_body: str
    attributes: Attributes
    md5_attributes: str | None  # of all the message's attributes
    system: dict[str, str]  # SenderId, SentTimestamp, ... as ReceiveMessage returns them


class Sqs:
    def __init__(self, store: Store, clock: Clock, ids: IdFactory) -> None:
        self.db = SqsStore(store)
        self.clock = clock
        self.ids = ids
        # Called with a queue id after a commit that may have made messages receivable.
        self.listeners: list[Callable[[int], None]] = []
        self._lock = threading.RLock()
        self._queues: dict[tuple[str, str, str], Queue] = {}
        self._by_id: dict[int, Queue] = {}
        self._sequence: dict[int, int] = {}
        with self.db.transaction():
            for row in self.db.load_queues():
                self._remember(self._queue_of(row))
                self._sequence[row[0]] = row[8]

    # -- the queue registry -------------------------------------------------------------
    #
    # Queues are few and read on every request, so they are kept in memory; the store stays
    # the source of truth and every change is written there before the cache is updated.

    @staticmethod
    def _queue_of(row: QueueRow) -> Queue:
        queue_id, account, region, name, attrs, tags, created, modified, _, purged = row
        attributes: dict[str, str] = orjson.loads(attrs)
        return Queue(
            queue_id,
            account,
            region,
            name,
            attributes,
            orjson.loads(tags),
            created,
            modified,
            purged,
            settings_of(attributes),
            queue_arn(region, account, name),
        )

    def _remember(self, queue: Queue) -> Queue:
        with self._lock:
            self._queues[(queue.account, queue.region, queue.name)] = queue
            self._by_id[queue.id] = queue
        return queue

    def _forget(self, queue: Queue) -> None:
        with self._lock:
            self._queues.pop((queue.account, queue.region, queue.name), None)
            self._by_id.pop(queue.id, None)
            self._sequence.pop(queue.id, None)

    def find(self, account: str, region: str, name: str) -> Queue | None:
        return self._queues.get((account, region, name))

    def queue(self, account: str, region: str, name: str) -> Queue:
        found = self._queues.get((account, region, name))
        if found is None:
            raise errors.queue_does_not_exist()
        return found

    def queue_by_ref(self, ref: QueueRef, default_region: str) -> Queue:
        return self.queue(ref.account, ref.region or default_region, ref.name)

    def queue_by_url(self, url: str, default_region: str) -> Queue:
        return self.queue_by_ref(parse_queue_url(url), default_region)

    def queue_by_arn(self, arn: str) -> Queue | None:
        ref = parse_queue_arn(arn)
        if ref is None or ref.region is None:
            return None
        return self.find(ref.account, ref.region, ref.name)

    def queue_by_id(self, queue_id: int) -> Queue | None:
        return self._by_id.get(queue_id)

    def all_queues(self) -> list[Queue]:
        return list(self._by_id.values())

    def store_queue(
        self, account: str, region: str, name: str, attrs: dict[str, str], tags: dict[str, str]
    ) -> Queue:
        now = self.clock.now()
        with self.db.transaction():
            queue_id = self.db.insert_queue(account, region, name, _json(attrs), _json(tags), now)
        self._sequence[queue_id] = 0
        return self._remember(
            Queue(
                queue_id,
                account,
                region,
                name,
                attrs,
                tags,
                now,
                now,
                None,
                settings_of(attrs),
                queue_arn(region, account, name),
            )
        )

    def update_queue(
        self,
        queue: Queue,
        *,
        attributes: dict[str, str] | None = None,
        tags: dict[str, str] | None = None,
        purged: float | None = None,
    ) -> Queue:
        """Write the changed parts of ``queue`` and cache the result."""
        now = self.clock.now()
        changed = queue
        with self.db.transaction():
            if attributes is not None:
                self.db.update_attributes(queue.id, _json(attributes), now)
                changed = _replace(changed, attributes=attributes, modified=now)
            if tags is not None:
                self.db.update_tags(queue.id, _json(tags))
                changed = _replace(changed, tags=tags)
            if purged is not None:
                self.db.set_purged(queue.id, purged)
                changed = _replace(changed, purged=purged)
        return self._remember(changed)

    def drop_queue(self, queue: Queue) -> None:
        with self.db.transaction():
            self.db.delete_queue(queue.id)
        self._forget(queue)
        self.notify(queue.id)  # long polls on it end rather than wait for nothing

    def notify(self, queue_id: int) -> None:
        for listener in self.listeners:
            listener(queue_id)

    # -- sending ------------------------------------------------------------------------

    def send(
        self, queue: Queue, messages: Iterable[Outgoing], sender_id: str
    ) -> list[Sent | ServiceError]:
        """Store messages; one result per message, in order (a batch fails entry by entry)."""
        now = self.clock.now()
        settings = queue.settings
        results: list[Sent | ServiceError] = []
        rows: list[tuple[object, ...]] = []
        remembered: list[tuple[object, ...]] = []
        seen: dict[tuple[str, str], Sent] = {}  # dedup ids met earlier in this batch
        with self.db.transaction():
            sequence = self._sequence.get(queue.id, 0)
            for message in messages:
                try:
                    group, dedup, delay = self._check(settings, message)
                except ServiceError as error:
                    results.append(error)
                    continue
                md5_body = content.md5_of_body(message.body)
                md5_attributes = content.md5_of_attributes(message.attributes)
                md5_system = content.md5_of_attributes(message.system_attributes)
                if settings.fifo:
                    assert dedup is not None and group is not None
                    scope = (group if settings.dedup_per_group else "", dedup)
                    earlier = seen.get(scope)
                    if earlier is None:
                        found = self.db.find_dedup(queue.id, scope[0], dedup, now)
                        if found is not None:
                            earlier = Sent(found[0], md5_body, None, None, found[1])
                    if earlier is not None:
                        # Accepted but not delivered again: the first message's id comes back.
                        results.append(
                            Sent(
                                earlier.message_id,
                                md5_body,
                                md5_attributes,
                                md5_system,
                                earlier.sequence,
                            )
                        )
                        continue
                    sequence += 1
                    number = f"{sequence:020d}"
                else:
                    number = None
                message_id = self.ids.uuid()
                rows.append(
                    (
                        queue.id,
                        message_id,
                        message.body,
                        md5_body,
                        content.encode_attributes(message.attributes),
                        md5_attributes,
                        content.encode_attributes(message.system_attributes),
                        md5_system,
                        group,
                        dedup,
                        number,
                        sender_id,
                        now,
                        now + delay,
                    )
                )
                sent = Sent(message_id, md5_body, md5_attributes, md5_system, number)
                if settings.fifo:
                    seen[scope] = sent
                    remembered.append(
                        (queue.id, scope[0], dedup, now + content.DEDUP_WINDOW, message_id, number)
                    )
                results.append(sent)
            if rows:
                self.db.insert_messages(rows)
            if remembered:
                self.db.remember_dedup(remembered)
                self.db.set_sequence(queue.id, sequence)
                self._sequence[queue.id] = sequence
        if rows:
            self.notify(queue.id)
        return results

    @staticmethod
    def _check(settings: QueueSettings, message: Outgoing) -> tuple[str | None, str | None, int]:
        """Validate one message; return its group id, deduplication id and delay."""
        content.check_body(message.body)
        size = content.message_size(message.body, message.attributes)
        if size > settings.max_message_size:
            raise errors.message_too_long(settings.max_message_size)
        delay = message.delay
        if delay is not None and not 0 <= delay <= 900:
            raise errors.invalid_value(
                "DelaySeconds", delay, "DelaySeconds must be >= 0 and <= 900."
            )
        group, dedup = message.group_id, message.dedup_id
        if group is not None:
            content.check_token("MessageGroupId", group)
        if not settings.fifo:
            # Standard queues take a MessageGroupId (fair queues) but no deduplication id.
            if dedup is not None:
                raise errors.not_for_this_queue_type("MessageDeduplicationId", dedup)
            return group, None, settings.delay if delay is None else delay
        if group is None:
            raise errors.missing_parameter("MessageGroupId")
        if delay:
            # FIFO queues delay only queue-wide.
            raise errors.not_for_this_queue_type("DelaySeconds", delay)
        if dedup is not None:
            content.check_token("MessageDeduplicationId", dedup)
        elif settings.content_dedup:
            dedup = content.content_dedup_id(message.body)
        else:
            raise errors.fifo_needs_deduplication()
        return group, dedup, settings.delay

    # -- receiving ----------------------------------------------------------------------

    def receive(
        self,
        queue: Queue,
        max_messages: int = 1,
        visibility_timeout: int | None = None,
        attempt_id: str | None = None,
    ) -> list[Received]:
        """Hand out up to ``max_messages`` visible messages and hide them for the timeout.

        A message received more than its queue's maxReceiveCount times goes to the
        dead-letter queue instead.  On a FIFO queue, a repeated ``attempt_id`` within five
        minutes returns the same messages and receipt handles while none of them changed.
        """
        now = self.clock.now()
        settings = queue.settings
        timeout = settings.visibility_timeout if visibility_timeout is None else visibility_timeout
        hidden_until = now + timeout
        cutoff = now - settings.retention
        if not settings.fifo:
            attempt_id = None  # ReceiveRequestAttemptId applies to FIFO queues only
        dead_letter = self._dead_letter_target(queue)
        out: list[Received] = []
        dead_lettered = False
        with self.db.transaction():
            if attempt_id is not None:
                again = self._retry_attempt(queue, attempt_id, now, hidden_until)
                if again is not None:
                    return again
            taken: set[int] = set()
            # One random token per receive; each message's nonce adds its position to it.
            token = self.ids.token(8)
            while len(out) < max_messages:
                want = max_messages - len(out)
                select = self.db.ready_fifo if settings.fifo else self.db.ready
                rows = [r for r in select(queue.id, now, cutoff, want) if r[0] not in taken]
                updates: list[tuple[object, ...]] = []
                moved = 0
                for row in rows:
                    taken.add(row[0])
                    if dead_letter is not None and row[12] >= dead_letter[1]:
                        target = dead_letter[0]
                        # AWS quirk: a standard message keeps its original enqueue time in the
                        # DLQ (so its retention keeps counting); a FIFO one starts afresh.
                        self.db.move(
                            row[0],
                            target.id,
                            now,
                            dlq_source=queue.arn,
                            reset_count=False,
                            sent=now if target.fifo else None,
                        )
                        moved += 1
                        continue
                    nonce = f"{token}.{len(out)}"
                    updates.append((hidden_until, now, nonce, attempt_id, row[0]))
                    out.append(self._received(row, queue.id, nonce, row[12] + 1, row[13] or now))
                if updates:
                    self.db.mark_received(updates)
                dead_lettered = dead_lettered or moved > 0
                if not moved or len(rows) < want:
                    break  # nothing more to take, or nothing was dead-lettered to make room
            if attempt_id is not None:
                self.db.remember_attempt(queue.id, attempt_id, now + content.DEDUP_WINDOW, len(out))
        if dead_lettered and dead_letter is not None:
            self.notify(dead_letter[0].id)
        if timeout == 0 and out:
            self.notify(queue.id)
        return out

    def _dead_letter_target(self, queue: Queue) -> tuple[Queue, int] | None:
        redrive = queue.settings.redrive
        if redrive is None:
            return None
        target = self.queue_by_arn(redrive.target_arn)
        # With its dead-letter queue gone, a source queue keeps redelivering (our choice).
        return (target, redrive.max_receive_count) if target is not None else None

    def _retry_attempt(
        self, queue: Queue, attempt_id: str, now: float, hidden_until: float
    ) -> list[Received] | None:
        size = self.db.attempt_size(queue.id, attempt_id, now)
        if not size:
            return None
        rows = self.db.attempt_messages(queue.id, attempt_id)
        if len(rows) != size:
            return None  # some were deleted since: receive afresh
        self.db.set_visible_at([row[0] for row in rows], hidden_until)
        return [self._received(row, queue.id, row[15], row[12], row[13] or now) for row in rows]

    @staticmethod
    def _received(
        row: MessageRow, queue_id: int, nonce: str, receive_count: int, first_receive: float
    ) -> Received:
        (
            row_id,
            message_id,
            body,
            md5_body,
            attrs,
            md5_attrs,
            system_attrs,
            group,
            dedup,
            sequence,
            sender,
            sent,
            _,
            _,
            dlq_source,
            _,
            _,
        ) = row
        system = {
            "SenderId": sender,
            "SentTimestamp": str(int(sent * 1000)),
            "ApproximateReceiveCount": str(receive_count),
            "ApproximateFirstReceiveTimestamp": str(int(first_receive * 1000)),
        }
        if group is not None:
            system["MessageGroupId"] = group
        if dedup is not None:
            system["MessageDeduplicationId"] = dedup
        if sequence is not None:
            system["SequenceNumber"] = sequence
        if system_attrs:
            trace = content.decode_attributes(system_attrs).get(content.TRACE_HEADER)
            if trace is not None and trace.string is not None:
                system[content.TRACE_HEADER] = trace.string
        if dlq_source is not None:
            system["DeadLetterQueueSourceArn"] = dlq_source
        return Received(
            message_id,
            encode_receipt(queue_id, row_id, nonce),
            body,
            md5_body,
            content.decode_attributes(attrs),
            md5_attrs,
            system,
        )

    def next_visible_in(self, queue: Queue) -> float | None:
        """Seconds until the next hidden message of ``queue`` becomes visible, if any."""
        now = self.clock.now()
        with self.db.transaction():
            at = self.db.next_visible_at(queue.id, now)
        return None if at is None else max(0.0, at - now)

    # -- deleting and changing visibility ------------------------------------------------

    def delete(self, queue: Queue, handles: Iterable[str]) -> list[ServiceError | None]:
        """Delete received messages; one result per handle (None for success).

        A well-formed handle of a message already gone succeeds, as on AWS; on a standard
        queue, so does one from an earlier receive, which deletes nothing.
        """
        now = self.clock.now()
        results: list[ServiceError | None] = []
        deletes: list[tuple[int, int, str]] = []
        with self.db.transaction():
            for handle in handles:
                receipt = decode_receipt(handle)
                if receipt is None or receipt.queue_id != queue.id:
                    results.append(errors.receipt_handle_invalid(handle))
                    continue
                if queue.fifo:
                    found = self.db.lookup(receipt.row)
                    if found is not None and (found[1] != receipt.nonce or found[2] <= now):
                        # FIFO: once the visibility timeout ends, the handle is dead.
                        results.append(errors.receipt_handle_expired(handle))
                        continue
                deletes.append((receipt.row, queue.id, receipt.nonce))
                results.append(None)
            if deletes:
                self.db.delete_received(deletes)
        return results

    def change_visibility(
        self, queue: Queue, changes: Iterable[tuple[str, int]]
    ) -> list[ServiceError | None]:
        """Set new visibility timeouts, counted from now; one result per (handle, timeout)."""
        now = self.clock.now()
        results: list[ServiceError | None] = []
        woke = False
        with self.db.transaction():
            for handle, timeout in changes:
                try:
                    self._change_one(queue, handle, timeout, now)
                except ServiceError as error:
                    results.append(error)
                    continue
                woke = woke or timeout == 0
                results.append(None)
        if woke:
            self.notify(queue.id)
        return results

    def _change_one(self, queue: Queue, handle: str, timeout: int, now: float) -> None:
        if not 0 <= timeout <= MAX_VISIBILITY:
            raise errors.invalid_value(
                "VisibilityTimeout",
                timeout,
                f"Must be between 0 and {MAX_VISIBILITY}, if provided.",
            )
        receipt = decode_receipt(handle)
        if receipt is None or receipt.queue_id != queue.id:
            raise errors.receipt_handle_invalid(handle)
        found = self.db.lookup(receipt.row)
        if found is None or found[0] != queue.id or found[1] != receipt.nonce:
            raise errors.not_available_for_visibility_change(handle)
        _, _, visible_at, last_receive = found
        if visible_at <= now:
            raise errors.message_not_inflight()
        if last_receive is not None and now + timeout - last_receive > MAX_VISIBILITY:
            raise errors.invalid_value(
                "VisibilityTimeout",
                timeout,
                f"Total VisibilityTimeout for the message is beyond the limit [{MAX_VISIBILITY} "
                "seconds]",
            )
        self.db.change_visibility(receipt.row, now + timeout)

    # -- counting and housekeeping -------------------------------------------------------

    def counts(self, queue: Queue) -> tuple[int, int, int]:
        """(ApproximateNumberOfMessages, ...NotVisible, ...Delayed), exact here."""
        now = self.clock.now()
        with self.db.transaction():
            return self.db.counts(queue.id, now, now - queue.settings.retention)

    def purge(self, queue: Queue, min_interval: float = 60.0) -> Queue:
        now = self.clock.now()
        if queue.purged is not None and now - queue.purged < min_interval:
            raise errors.purge_in_progress(queue.name)
        return self.update_queue(queue, purged=now)

    def expire(self) -> int:
        """Delete messages past their queue's retention period; forget old dedup ids."""
        now = self.clock.now()
        removed = 0
        with self.db.transaction():
            for queue in self.all_queues():
                removed += self.db.expire(queue.id, now - queue.settings.retention)
            self.db.forget_expired(now)
        return removed


def _json(value: object) -> str:
    return orjson.dumps(value).decode()


def _replace(queue: Queue, **changes: Any) -> Queue:
    if "attributes" in changes:
        changes["settings"] = settings_of(changes["attributes"])
    return dataclasses.replace(queue, **changes)
