"""The asynchronous queue on a manual clock: retries and their delays, event age,
destinations, the DLQ, throttled events."""

from __future__ import annotations

import asyncio

import orjson
import pytest
from lambda_helpers import FakeSqs, ScriptedExecutor, create_params, ref

from headwater.core.clock import ManualClock
from headwater.core.errors import ServiceError
from headwater.runtime.executor import FunctionError, InvocationResult
from headwater.services.lambda_.async_invoke import AsyncInvocations
from headwater.services.lambda_.eventconfig import EventConfigs
from headwater.services.lambda_.functions import Functions

SUCCESS_Q = "arn:aws:sqs:us-east-1:000000000000:success"
FAILURE_Q = "arn:aws:sqs:us-east-1:000000000000:failure"
DLQ = "arn:aws:sqs:us-east-1:000000000000:dlq"


def failing(spec, payload, ctx):  # type: ignore[no-untyped-def]
    return InvocationResult(
        ctx.request_id, b'{"errorMessage":"bad","errorType":"E"}', FunctionError("E", "bad")
    )


def step(queue: AsyncInvocations) -> int:
    return asyncio.run(queue.run_due())


@pytest.fixture
def configured(functions: Functions, clock: ManualClock) -> EventConfigs:
    functions.create(ref(), create_params(DeadLetterConfig={"TargetArn": DLQ}))
    configs = EventConfigs(functions, clock)
    configs.put(
        ref(),
        {
            "DestinationConfig": {
                "OnSuccess": {"Destination": SUCCESS_Q},
                "OnFailure": {"Destination": FAILURE_Q},
            }
        },
        merge=False,
    )
    return configs


@pytest.mark.usefixtures("configured")
def test_success_record(queue: AsyncInvocations, sqs: FakeSqs, clock: ManualClock) -> None:
    request_id = queue.enqueue(ref(), b'{"n": 1}')
    assert step(queue) == 1
    [(target, body, _)] = sqs.sent
    record = orjson.loads(body)
    assert target == SUCCESS_Q
    assert record["requestContext"] == {
        "requestId": request_id,
        "functionArn": "arn:aws:lambda:us-east-1:000000000000:function:fn:$LATEST",
        "condition": "Success",
        "approximateInvokeCount": 1,
    }
    assert record["timestamp"] == "2023-11-14T22:13:20.000Z"
    assert record["responsePayload"] == {"n": 1}
    assert step(queue) == 0  # done: gone from the queue


@pytest.mark.usefixtures("configured")
def test_two_retries_with_backoff_then_failure_and_dlq(
    queue: AsyncInvocations, sqs: FakeSqs, executor: ScriptedExecutor, clock: ManualClock
) -> None:
    executor.respond = failing
    queue.enqueue(ref(), b'{"n": 2}')
    assert step(queue) == 1
    clock.advance(59)
    assert step(queue) == 0  # the first retry waits a minute
    clock.advance(1)
    assert step(queue) == 1
    clock.advance(119)
    assert step(queue) == 0  # the second waits two
    clock.advance(1)
    assert step(queue) == 1
    assert len(executor.calls) == 3
    assert all(call[3] for call in executor.calls)  # the queue waits for workers, never throttles
    assert len({call[2].request_id for call in executor.calls}) == 1  # retries keep the request id
    [(failure_target, body, _), (dlq_target, dlq_body, attributes)] = sqs.sent
    record = orjson.loads(body)
    assert failure_target == FAILURE_Q
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 3
    assert record["responseContext"]["functionError"] == "Unhandled"
    assert (dlq_target, dlq_body) == (DLQ, '{"n": 2}')
    assert attributes["ErrorMessage"]["StringValue"] == "bad"
    assert attributes["ErrorCode"] == {"DataType": "Number", "StringValue": "200"}


def test_retry_count_and_event_age_follow_the_config(
    functions: Functions,
    queue: AsyncInvocations,
    sqs: FakeSqs,
    executor: ScriptedExecutor,
    clock: ManualClock,
) -> None:
    functions.create(ref(), create_params())
    configs = EventConfigs(functions, clock)
    configs.put(
        ref(),
        {
            "MaximumRetryAttempts": 2,
            "MaximumEventAgeInSeconds": 90,
            "DestinationConfig": {"OnFailure": {"Destination": FAILURE_Q}},
        },
        merge=False,
    )
    executor.respond = failing
    queue.enqueue(ref(), b"{}")
    step(queue)
    clock.advance(60)
    step(queue)
    clock.advance(120)  # 180 s old: past the 90 s limit before the last retry
    step(queue)
    assert len(executor.calls) == 2
    record = orjson.loads(sqs.sent[0][1])
    assert record["requestContext"]["condition"] == "EventAgeExceeded"
    assert "responseContext" not in record


def test_reserved_concurrency_zero_holds_events(
    functions: Functions, queue: AsyncInvocations, executor: ScriptedExecutor, clock: ManualClock
) -> None:
    functions.create(ref(), create_params())
    functions.put_concurrency(ref(), 0)
    queue.enqueue(ref(), b"{}")
    step(queue)
    assert executor.calls == []
    functions.delete_concurrency(ref())
    clock.advance(1)
    step(queue)
    assert len(executor.calls) == 1


def test_enqueue_checks_size_and_target(functions: Functions, queue: AsyncInvocations) -> None:
    with pytest.raises(ServiceError) as caught:
        queue.enqueue(ref(), b"{}")
    assert caught.value.code == "ResourceNotFoundException"
    functions.create(ref(), create_params())
    with pytest.raises(ServiceError) as caught:
        queue.enqueue(ref(), b"1" * 262_145)
    assert caught.value.message == (
        "262145 byte payload is too large for the Event invocation type (limit 262144 bytes)"
    )


def test_events_of_a_deleted_function_are_dropped(
    functions: Functions, queue: AsyncInvocations, executor: ScriptedExecutor
) -> None:
    functions.create(ref(), create_params())
    queue.enqueue(ref(), b"{}")
    functions.delete(ref())
    step(queue)
    assert executor.calls == []


def test_events_for_a_deleted_version_go_to_the_dlq(
    functions: Functions, queue: AsyncInvocations, sqs: FakeSqs, executor: ScriptedExecutor
) -> None:
    functions.create(ref(), create_params(DeadLetterConfig={"TargetArn": DLQ}))
    functions.publish(ref(), {})
    queue.enqueue(ref(qualifier="1"), b'{"v": 1}')
    functions.delete(ref(qualifier="1"))
    assert step(queue) == 1
    assert executor.calls == []
    assert [(target, body) for target, body, _ in sqs.sent] == [(DLQ, '{"v": 1}')]
    assert step(queue) == 0
