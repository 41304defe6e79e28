"""Fixtures for the SQS domain tests: an in-memory store, a manual clock, sequential ids."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqs_helpers import ACCOUNT, REGION

from headwater.core.clock import ManualClock
from headwater.core.ids import SequentialIds
from headwater.services.sqs import queues
from headwater.services.sqs.model import Queue, Sqs
from headwater.store import open_store


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def sqs(clock: ManualClock) -> Sqs:
    return Sqs(open_store(None), clock, SequentialIds())


@pytest.fixture
def make_queue(sqs: Sqs) -> Callable[..., Queue]:
    def make(name: str = "jobs", **attributes: Any) -> Queue:
        attrs = {
            k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in attributes.items()
        }
        if name.endswith(".fifo"):
            attrs.setdefault("FifoQueue", "true")
        return queues.create_queue(sqs, ACCOUNT, REGION, name, attrs, {})

    return make
