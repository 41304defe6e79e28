"""Helpers shared by the SQS domain tests."""

from __future__ import annotations

from typing import Any

from headwater.services.sqs.model import Outgoing, Queue, Sqs

ACCOUNT = "000000000000"
REGION = "us-east-1"


def send(sqs: Sqs, queue: Queue, *bodies: str, **fields: Any) -> list[Any]:
    """Send bodies with the same optional fields; return the per-message results."""
    return sqs.send(queue, [Outgoing(body=b, **fields) for b in bodies], ACCOUNT)


def refresh(sqs: Sqs, queue: Queue) -> Queue:
    """The queue as the registry has it now (after attribute changes)."""
    found = sqs.queue_by_id(queue.id)
    assert found is not None
    return found
