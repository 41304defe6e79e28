"""Amazon SQS: standard and FIFO queues (facade and service registration)."""

from __future__ import annotations

from headwater.services import ServiceEnv, ServiceHandle
from headwater.services.sqs.adapter import SqsAdapter


def create(env: ServiceEnv) -> ServiceHandle:
    adapter = SqsAdapter(env)
    return ServiceHandle(name="sqs", adapter=adapter, facade=adapter)
