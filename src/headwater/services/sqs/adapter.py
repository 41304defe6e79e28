"""SQS on the wire: one method per operation, wire dicts in and out, domain calls between.

The gateway has already parsed the request into the operation's input shape (model member
names) and checked it against the model; each method maps that dict onto the domain
(``model``, ``queues``, ``movetasks``) and maps the result back onto the output shape.  Only
ReceiveMessage is async: it long-polls, parked on ``Wakeups`` until a message may be there.

Operations are those of https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

from headwater.core.errors import ServiceError
from headwater.protocol.context import RequestContext
from headwater.services.sqs import content, errors, movetasks, queues
from headwater.services.sqs.attributes import MAX_MESSAGE_SIZE
from headwater.services.sqs.model import (
    MAX_RECEIVE_BATCH,
    MAX_VISIBILITY,
    Outgoing,
    Queue,
    Received,
    Sent,
    Sqs,
)
from headwater.services.sqs.names import is_batch_entry_id, queue_url
from headwater.services.sqs.wakeups import Wakeups

Params = dict[str, Any]
Result = dict[str, Any]
MAX_BATCH = 10
MAX_WAIT = 20


class SqsAdapter:
    def __init__(
        self, sqs: Sqs, wakeups: Wakeups, on_task_started: Callable[[], None] | None = None
    ) -> None:
        self.sqs = sqs
        self.wakeups = wakeups
        self._on_task_started = on_task_started or (lambda: None)

    # -- helpers ------------------------------------------------------------------------

    def _queue(self, ctx: RequestContext, params: Params) -> Queue:
        return self.sqs.queue_by_url(params["QueueUrl"], ctx.region)

    @staticmethod
    def _url(ctx: RequestContext, queue: Queue) -> str:
        return queue_url(ctx.endpoint, queue.account, queue.name)

    # -- queues -------------------------------------------------------------------------

    def create_queue(self, ctx: RequestContext, params: Params) -> Result:
        queue = queues.create_queue(
            self.sqs,
            ctx.account_id,
            ctx.region,
            params["QueueName"],
            params.get("Attributes"),
            params.get("tags"),
        )
        return {"QueueUrl": self._url(ctx, queue)}

    def get_queue_url(self, ctx: RequestContext, params: Params) -> Result:
        account = params.get("QueueOwnerAWSAccountId") or ctx.account_id
        queue = self.sqs.queue(account, ctx.region, params["QueueName"])
        return {"QueueUrl": self._url(ctx, queue)}

    def delete_queue(self, ctx: RequestContext, params: Params) -> Result:
        self.sqs.drop_queue(self._queue(ctx, params))
        return {}

    def list_queues(self, ctx: RequestContext, params: Params) -> Result:
        found = queues.list_queues(
            self.sqs, ctx.account_id, ctx.region, params.get("QueueNamePrefix")
        )
        chosen, token = queues.page(found, params.get("MaxResults"), params.get("NextToken"))
        result: Result = {}
        if chosen:
            result["QueueUrls"] = [self._url(ctx, q) for q in chosen]
        if token:
            result["NextToken"] = token
        return result

    def list_dead_letter_source_queues(self, ctx: RequestContext, params: Params) -> Result:
        queue = self._queue(ctx, params)
        found = queues.dead_letter_sources(self.sqs, queue)
        chosen, token = queues.page(found, params.get("MaxResults"), params.get("NextToken"))
        result: Result = {"queueUrls": [self._url(ctx, q) for q in chosen]}
        if token:
            result["NextToken"] = token
        return result

    def get_queue_attributes(self, ctx: RequestContext, params: Params) -> Result:
        queue = self._queue(ctx, params)
        names = params.get("AttributeNames") or []
        found = queues.get_attributes(self.sqs, queue, names)
        return {"Attributes": found} if found else {}

    def set_queue_attributes(self, ctx: RequestContext, params: Params) -> Result:
        queues.set_attributes(self.sqs, self._queue(ctx, params), params.get("Attributes") or {})
        return {}

    def purge_queue(self, ctx: RequestContext, params: Params) -> Result:
        self.sqs.purge(self._queue(ctx, params))
        return {}

    def tag_queue(self, ctx: RequestContext, params: Params) -> Result:
        queues.tag(self.sqs, self._queue(ctx, params), params.get("Tags") or {})
        return {}

    def untag_queue(self, ctx: RequestContext, params: Params) -> Result:
        queues.untag(self.sqs, self._queue(ctx, params), params.get("TagKeys") or [])
        return {}

    def list_queue_tags(self, ctx: RequestContext, params: Params) -> Result:
        tags = dict(self._queue(ctx, params).tags)
        return {"Tags": tags} if tags else {}

    def add_permission(self, ctx: RequestContext, params: Params) -> Result:
        queues.add_permission(
            self.sqs,
            self._queue(ctx, params),
            params["Label"],
            params.get("AWSAccountIds") or [],
            params.get("Actions") or [],
        )
        return {}

    def remove_permission(self, ctx: RequestContext, params: Params) -> Result:
        queues.remove_permission(self.sqs, self._queue(ctx, params), params["Label"])
        return {}

    # -- sending ------------------------------------------------------------------------

    def send_message(self, ctx: RequestContext, params: Params) -> Result:
        queue = self._queue(ctx, params)
        [result] = self.sqs.send(queue, [_outgoing(params)], ctx.account_id)
        if isinstance(result, ServiceError):
            raise result
        return _sent(result)

    def send_message_batch(self, ctx: RequestContext, params: Params) -> Result:
        queue = self._queue(ctx, params)
        entries: list[Params] = params.get("Entries") or []
        _check_batch(entries, "SendMessageBatchRequestEntry")
        prepared: list[Outgoing | ServiceError] = []
        size = 0
        for entry in entries:
            try:
                message = _outgoing(entry)
                size += content.message_size(message.body or "", message.attributes)
                prepared.append(message)
            except ServiceError as error:
                prepared.append(error)
        if size > MAX_MESSAGE_SIZE:
            raise errors.batch_too_long(MAX_MESSAGE_SIZE, size)
        valid = [p for p in prepared if isinstance(p, Outgoing)]
        sent = iter(self.sqs.send(queue, valid, ctx.account_id))
        outcomes = [p if isinstance(p, ServiceError) else next(sent) for p in prepared]
        successful: list[Result] = []
        failed: list[Result] = []
        for entry, outcome in zip(entries, outcomes):
            if isinstance(outcome, ServiceError):
                failed.append(_failure(entry["Id"], outcome))
            else:
                successful.append({"Id": entry["Id"], **_sent(outcome)})
        return {"Successful": successful, "Failed": failed}

    # -- receiving ----------------------------------------------------------------------

    async def receive_message(self, ctx: RequestContext, params: Params) -> Result:
        queue = self._queue(ctx, params)
        max_messages = _bounded(
            params,
            "MaxNumberOfMessages",
            1,
            MAX_RECEIVE_BATCH,
            "Must be between 1 and 10, if provided.",
        )
        wait = _bounded(
            params, "WaitTimeSeconds", 0, MAX_WAIT, f"Must be >= 0 and <= {MAX_WAIT}, if provided."
        )
        visibility = _bounded(
            params,
            "VisibilityTimeout",
            0,
            MAX_VISIBILITY,
            f"Must be >= 0 and <= {MAX_VISIBILITY}, if provided.",
        )
        attempt_id = params.get("ReceiveRequestAttemptId")
        if attempt_id is not None and queue.fifo:
            content.check_token("ReceiveRequestAttemptId", attempt_id)
        if wait is None:
            wait = queue.settings.wait
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        while True:
            received = self.sqs.receive(queue, max_messages or 1, visibility, attempt_id)
            remaining = deadline - loop.time()
            if received or remaining <= 0:
                break
            # Sleep until a send wakes us, or until the next delayed or in-flight message
            # turns visible, whichever is first.
            next_visible = self.sqs.next_visible_in(queue)
            await self.wakeups.wait(
                queue.id, remaining if next_visible is None else min(remaining, next_visible)
            )
            if self.wakeups.closed:
                break  # the server is shutting down: answer with what there is (nothing)
            current = self.sqs.queue_by_id(queue.id)
            if current is None:
                raise errors.queue_does_not_exist()
            queue = current
        if not received:
            return {}
        system_names = set(params.get("AttributeNames") or ())
        system_names.update(params.get("MessageSystemAttributeNames") or ())
        attribute_names = params.get("MessageAttributeNames") or []
        return {"Messages": [_message(m, system_names, attribute_names) for m in received]}

    # -- deleting and changing visibility ------------------------------------------------

    def delete_message(self, ctx: RequestContext, params: Params) -> Result:
        queue = self._queue(ctx, params)
        return _single(self.sqs.delete(queue, [params["ReceiptHandle"]]))

    def delete_message_batch(self, ctx: RequestContext, params: Params) -> Result:
        queue = self._queue(ctx, params)
        entries: list[Params] = params.get("Entries") or []
        _check_batch(entries, "DeleteMessageBatchRequestEntry")
        outcomes = self.sqs.delete(queue, [e["ReceiptHandle"] for e in entries])
        return _batch_result(entries, outcomes)

    def change_message_visibility(self, ctx: RequestContext, params: Params) -> Result:
        queue = self._queue(ctx, params)
        change = (params["ReceiptHandle"], params["VisibilityTimeout"])
        return _single(self.sqs.change_visibility(queue, [change]))

    def change_message_visibility_batch(self, ctx: RequestContext, params: Params) -> Result:
        queue = self._queue(ctx, params)
        entries: list[Params] = params.get("Entries") or []
        _check_batch(entries, "ChangeMessageVisibilityBatchRequestEntry")
        changes = [(e["ReceiptHandle"], e.get("VisibilityTimeout", 0)) for e in entries]
        return _batch_result(entries, self.sqs.change_visibility(queue, changes))

    # -- message move tasks --------------------------------------------------------------

    def start_message_move_task(self, ctx: RequestContext, params: Params) -> Result:
        task = movetasks.start(
            self.sqs,
            params["SourceArn"],
            params.get("DestinationArn"),
            params.get("MaxNumberOfMessagesPerSecond"),
        )
        self._on_task_started()
        return {"TaskHandle": task.handle}

    def cancel_message_move_task(self, ctx: RequestContext, params: Params) -> Result:
        task = movetasks.cancel(self.sqs, params["TaskHandle"])
        return {"ApproximateNumberOfMessagesMoved": task.moved}

    def list_message_move_tasks(self, ctx: RequestContext, params: Params) -> Result:
        tasks = movetasks.list_tasks(self.sqs, params["SourceArn"], params.get("MaxResults"))
        return {"Results": [_task(t) for t in tasks]}


# -- wire <-> domain ------------------------------------------------------------------------


def _outgoing(params: Params) -> Outgoing:
    return Outgoing(
        body=params.get("MessageBody") or "",
        attributes=content.parse_attributes(params.get("MessageAttributes")),
        system_attributes=content.parse_system_attributes(params.get("MessageSystemAttributes")),
        delay=params.get("DelaySeconds"),
        group_id=params.get("MessageGroupId"),
        dedup_id=params.get("MessageDeduplicationId"),
    )


def _sent(sent: Sent) -> Result:
    result: Result = {"MessageId": sent.message_id, "MD5OfMessageBody": sent.md5_body}
    if sent.md5_attributes is not None:
        result["MD5OfMessageAttributes"] = sent.md5_attributes
    if sent.md5_system is not None:
        result["MD5OfMessageSystemAttributes"] = sent.md5_system
    if sent.sequence is not None:
        result["SequenceNumber"] = sent.sequence
    return result


def _message(message: Received, system_names: set[str], attribute_names: Sequence[str]) -> Result:
    result: Result = {
        "MessageId": message.message_id,
        "ReceiptHandle": message.receipt,
        "MD5OfBody": message.md5_body,
        "Body": message.body,
    }
    if system_names:
        if "All" in system_names:
            system = dict(message.system)
        else:
            system = {k: v for k, v in message.system.items() if k in system_names}
        if system:
            result["Attributes"] = system
    selected = content.select_attributes(message.attributes, attribute_names)
    if selected:
        result["MessageAttributes"] = content.to_wire(selected)
        # The digest covers exactly the attributes returned, so clients can verify it.
        result["MD5OfMessageAttributes"] = (
            message.md5_attributes
            if len(selected) == len(message.attributes)
            else content.md5_of_attributes(selected)
        )
    return result


def _task(task: movetasks.MoveTask) -> Result:
    result: Result = {
        "Status": task.status,
        "SourceArn": task.source_arn,
        "ApproximateNumberOfMessagesMoved": task.moved,
        "ApproximateNumberOfMessagesToMove": task.to_move,
        "StartedTimestamp": int(task.started * 1000),
    }
    if task.status == "RUNNING":
        result["TaskHandle"] = task.handle
    if task.destination_arn is not None:
        result["DestinationArn"] = task.destination_arn
    if task.rate is not None:
        result["MaxNumberOfMessagesPerSecond"] = task.rate
    if task.failure is not None:
        result["FailureReason"] = task.failure
    return result


def _check_batch(entries: list[Params], entry_shape: str) -> None:
    """The whole-request checks every batch operation makes before looking at entries."""
    if not entries:
        raise errors.empty_batch(entry_shape)
    if len(entries) > MAX_BATCH:
        raise errors.too_many_entries(len(entries))
    seen: set[str] = set()
    for entry in entries:
        entry_id = entry.get("Id") or ""
        if not is_batch_entry_id(entry_id):
            raise errors.invalid_batch_entry_id()
        if entry_id in seen:
            raise errors.ids_not_distinct(entry_id)
        seen.add(entry_id)


def _single(outcomes: list[ServiceError | None]) -> Result:
    """The answer to a one-entry call of a batch-shaped domain method: raise its failure."""
    [error] = outcomes
    if error is not None:
        raise error
    return {}


def _batch_result(entries: list[Params], outcomes: list[ServiceError | None]) -> Result:
    successful: list[Result] = []
    failed: list[Result] = []
    for entry, outcome in zip(entries, outcomes):
        if outcome is None:
            successful.append({"Id": entry["Id"]})
        else:
            failed.append(_failure(entry["Id"], outcome))
    return {"Successful": successful, "Failed": failed}


def _failure(entry_id: str, error: ServiceError) -> Result:
    return {
        "Id": entry_id,
        "SenderFault": error.sender_fault,
        "Code": errors.query_code(error),
        "Message": error.message,
    }


def _bounded(params: Params, name: str, low: int, high: int, reason: str) -> int | None:
    value = params.get(name)
    if value is not None and not low <= value <= high:
        raise errors.invalid_value(name, value, reason)
    return value
