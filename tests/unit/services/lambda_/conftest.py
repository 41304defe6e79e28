"""Fixtures for the Lambda domain tests: an in-memory store, a manual clock, sequential ids,
code folders under tmp_path, a scripted executor and a fake SQS facade."""

from __future__ import annotations

from pathlib import Path

import pytest
from lambda_helpers import FakeSqs, ScriptedExecutor

from headwater.core.clock import ManualClock
from headwater.core.ids import SequentialIds
from headwater.services.lambda_.aliases import Aliases
from headwater.services.lambda_.async_invoke import AsyncInvocations
from headwater.services.lambda_.eventconfig import EventConfigs
from headwater.services.lambda_.functions import Functions
from headwater.services.lambda_.invoke import Invoker, Tuning
from headwater.services.lambda_.store import LambdaStore
from headwater.store import open_store


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def ids() -> SequentialIds:
    return SequentialIds()


@pytest.fixture
def functions(clock: ManualClock, ids: SequentialIds, tmp_path: Path) -> Functions:
    return Functions(LambdaStore(open_store(None)), clock, ids, tmp_path / "code")


@pytest.fixture
def draws() -> list[float]:
    """What the alias router draws next (0.5 when the list is empty)."""
    return []


@pytest.fixture
def aliases(functions: Functions, ids: SequentialIds, draws: list[float]) -> Aliases:
    return Aliases(functions, ids, lambda: draws.pop(0) if draws else 0.5)


@pytest.fixture
def executor() -> ScriptedExecutor:
    return ScriptedExecutor()


@pytest.fixture
def invoker(
    functions: Functions,
    aliases: Aliases,
    executor: ScriptedExecutor,
    clock: ManualClock,
    ids: SequentialIds,
) -> Invoker:
    return Invoker(
        functions, aliases, executor, clock, ids, lambda: "http://127.0.0.1:4566", ("test", "test")
    )


@pytest.fixture
def sqs() -> FakeSqs:
    return FakeSqs()


@pytest.fixture
def queue(
    functions: Functions, invoker: Invoker, clock: ManualClock, ids: SequentialIds, sqs: FakeSqs
) -> AsyncInvocations:
    return AsyncInvocations(
        functions.store,
        invoker,
        EventConfigs(functions, clock),
        clock,
        ids,
        {"sqs": sqs},
        Tuning(retry_delay=60.0, poll_interval=0.01),
    )
