"""Amazon SQS: standard and FIFO queues, dead-letter queues and message move tasks.

``create(env)`` builds the service for the gateway: the domain (``model.Sqs``), the wire
adapter, the background workers and the facade other services call in-process.

Layout:
    names.py       queue names, URLs, ARNs, receipt handles
    attributes.py  queue attributes, defaults and redrive policies
    content.py     message bodies and attributes, their limits and MD5 digests
    model.py       the domain: queue registry, send / receive / delete / visibility
    queues.py      queue administration: create, attributes, list, tags, permissions
    movetasks.py   DLQ redrive (message move tasks)
    store.py       tables and statements
    wakeups.py     waking long polls
    adapter.py     one method per SQS operation
    workers.py     retention and move-task loops
    errors.py      every error SQS answers with

See docs/sqs.md for what is implemented and where headwater differs from AWS.

API reference: https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/Welcome.html
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from headwater.core.errors import ServiceError
from headwater.core.policy import service_allowed
from headwater.services import ServiceEnv, ServiceHandle
from headwater.services.sqs import content, errors
from headwater.services.sqs.adapter import SqsAdapter
from headwater.services.sqs.model import Outgoing, Queue, Sqs
from headwater.services.sqs.names import queue_url
from headwater.services.sqs.wakeups import Wakeups
from headwater.services.sqs.workers import SqsWorkers

__all__ = ["SqsFacade", "create"]

WireAttributes = Mapping[str, Mapping[str, Any]]


class SqsFacade:
    """What other services (S3 notifications, EventBridge targets, Lambda event sources) and
    the CLI use, in-process.  Queues are named by ARN or URL; results use the wire's names."""

    def __init__(self, sqs: Sqs, env: ServiceEnv) -> None:
        self._sqs = sqs
        self._env = env

    def queue(self, queue: str) -> Queue:
        """The queue an ARN or URL names; ``QueueDoesNotExist`` if there is none."""
        if queue.startswith("arn:"):
            found = self._sqs.queue_by_arn(queue)
            if found is None:
                raise errors.queue_does_not_exist()
            return found
        return self._sqs.queue_by_url(queue, self._env.settings.region)

    def service_may_send(
        self, queue: str, service: str, *, source_arn: str, source_account: str
    ) -> bool:
        """Whether the queue exists and its ``Policy`` lets the AWS service principal
        ``service`` (``s3.amazonaws.com``) send to it on behalf of ``source_arn``, as AWS
        checks before S3 may deliver notifications to a queue.  No policy: no."""
        try:
            found = self.queue(queue)
        except ServiceError:
            return False
        text = found.attributes.get("Policy")
        if not text:
            return False
        try:
            document = orjson.loads(text)
        except orjson.JSONDecodeError:
            return False
        if not isinstance(document, dict):
            return False
        return service_allowed(
            document.get("Statement"), service=service, action="sqs:SendMessage",
            resource=found.arn,
            context={"aws:SourceArn": source_arn, "aws:SourceAccount": source_account})

    def queue_arn(self, queue: str) -> str:
        return self.queue(queue).arn

    def queue_url(self, queue: str, endpoint: str | None = None) -> str:
        found = self.queue(queue)
        return queue_url(endpoint or self._env.settings.endpoint, found.account, found.name)

    def send_message(
        self,
        queue: str,
        body: str,
        *,
        attributes: WireAttributes | None = None,
        system_attributes: WireAttributes | None = None,
        group_id: str | None = None,
        dedup_id: str | None = None,
        delay_seconds: int | None = None,
        sender_id: str | None = None,
    ) -> dict[str, Any]:
        """Send one message, as SendMessage does; returns SendMessage's result members."""
        target = self.queue(queue)
        message = Outgoing(
            body=body,
            attributes=content.parse_attributes(attributes),
            system_attributes=content.parse_system_attributes(system_attributes),
            delay=delay_seconds,
            group_id=group_id,
            dedup_id=dedup_id,
        )
        [result] = self._sqs.send(target, [message], sender_id or target.account)
        if isinstance(result, ServiceError):
            raise result
        out: dict[str, Any] = {"MessageId": result.message_id, "MD5OfMessageBody": result.md5_body}
        if result.md5_attributes:
            out["MD5OfMessageAttributes"] = result.md5_attributes
        if result.sequence:
            out["SequenceNumber"] = result.sequence
        return out

    def receive_messages(
        self, queue: str, max_messages: int = 10, visibility_timeout: int | None = None
    ) -> list[dict[str, Any]]:
        """Receive without waiting; each message as ReceiveMessage returns it with every
        system and message attribute."""
        target = self.queue(queue)
        received = self._sqs.receive(target, max_messages, visibility_timeout)
        return [
            {
                "MessageId": m.message_id,
                "ReceiptHandle": m.receipt,
                "MD5OfBody": m.md5_body,
                "Body": m.body,
                "Attributes": dict(m.system),
                "MessageAttributes": content.to_wire(m.attributes),
                **({"MD5OfMessageAttributes": m.md5_attributes} if m.md5_attributes else {}),
            }
            for m in received
        ]

    def delete_message(self, queue: str, receipt_handle: str) -> None:
        [error] = self._sqs.delete(self.queue(queue), [receipt_handle])
        if error is not None:
            raise error


def create(env: ServiceEnv) -> ServiceHandle:
    sqs = Sqs(env.store, env.clock, env.ids)
    wakeups = Wakeups()
    sqs.listeners.append(wakeups.notify)
    workers = SqsWorkers(sqs)
    return ServiceHandle(
        name="sqs",
        adapter=SqsAdapter(sqs, wakeups, on_task_started=workers.poke),
        facade=SqsFacade(sqs, env),
        query_error_codes=errors.QUERY_ERROR_CODES,
        validation_error=errors.from_violations,
        start=workers.start,
        stop=workers.stop,
        drain=wakeups.close,
    )
