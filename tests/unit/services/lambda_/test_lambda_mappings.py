"""Event source mappings: configuration checks, and one poller step against a fake queue."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest
from lambda_helpers import ACCOUNT, REGION, FakeSqs, ScriptedExecutor, create_params, ref

from headwater.core.clock import ManualClock
from headwater.core.errors import ServiceError
from headwater.core.ids import SequentialIds
from headwater.runtime.executor import FunctionError, InvocationResult
from headwater.services.lambda_.functions import Functions
from headwater.services.lambda_.invoke import Invoker, Tuning
from headwater.services.lambda_.mappings import Mappings
from headwater.services.lambda_.pollers import Pollers, _failures

QUEUE = "arn:aws:sqs:us-east-1:000000000000:jobs"
FIFO = "arn:aws:sqs:us-east-1:000000000000:jobs.fifo"


@pytest.fixture
def mappings(
    functions: Functions, clock: ManualClock, ids: SequentialIds, sqs: FakeSqs
) -> Mappings:
    functions.create(ref(), create_params())
    sqs.queues[QUEUE] = []
    sqs.queues[FIFO] = []
    return Mappings(functions, clock, ids, {"sqs": sqs})


def create(mappings: Mappings, **params: Any) -> dict[str, Any]:
    return mappings.create(
        ACCOUNT, REGION, {"FunctionName": "fn", "EventSourceArn": QUEUE, **params}
    )


def test_create_reports_creating_and_stores_enabled(mappings: Mappings) -> None:
    created = create(mappings)
    assert created["State"] == "Creating"
    assert (created["BatchSize"], created["MaximumBatchingWindowInSeconds"]) == (10, 0)
    assert created["FunctionArn"] == "arn:aws:lambda:us-east-1:000000000000:function:fn"
    assert mappings.get(created["UUID"])["State"] == "Enabled"
    with pytest.raises(ServiceError) as caught:
        create(mappings)
    assert caught.value.code == "ResourceConflictException"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"FilterCriteria": {"Filters": [{"Pattern": "{}"}]}}, "FilterCriteria"),
        ({"BatchSize": 100}, "greater than 0 if maximum batch size is greater than 10"),
        ({"BatchSize": 10_001, "MaximumBatchingWindowInSeconds": 1}, "between 1 and 10000"),
        ({"EventSourceArn": FIFO, "BatchSize": 11}, "between 1 and 10"),
        ({"EventSourceArn": "arn:aws:kinesis:us-east-1:000000000000:stream/s"}, "other than SQS"),
        ({"EventSourceArn": "arn:aws:sqs:us-east-1:000000000000:missing"}, "NonExistentQueue"),
        ({"StartingPosition": "LATEST"}, "StartingPosition"),
        ({"ScalingConfig": {"MaximumConcurrency": 1}}, "MaximumConcurrency"),
    ],
)
def test_invalid_mappings(mappings: Mappings, params: dict[str, Any], message: str) -> None:
    with pytest.raises(ServiceError) as caught:
        create(mappings, **params)
    assert caught.value.code == "InvalidParameterValueException"
    assert message in caught.value.message


def test_update_and_delete(mappings: Mappings) -> None:
    created = create(mappings)
    updated = mappings.update(ACCOUNT, REGION, created["UUID"], {"Enabled": False, "BatchSize": 5})
    assert updated["State"] == "Disabling"
    assert mappings.get(created["UUID"])["State"] == "Disabled"
    assert mappings.get(created["UUID"])["BatchSize"] == 5
    assert mappings.delete(created["UUID"])["State"] == "Deleting"
    with pytest.raises(ServiceError) as caught:
        mappings.get(created["UUID"])
    assert caught.value.status == 404


def message(n: int, body: str) -> dict[str, Any]:
    return {
        "MessageId": f"m{n}",
        "ReceiptHandle": f"r{n}",
        "Body": body,
        "MD5OfBody": "md5",
        "Attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1", "Other": "x"},
        "MessageAttributes": {"k": {"DataType": "String", "StringValue": "v"}},
    }


def poll_once(
    mappings: Mappings, functions: Functions, invoker: Invoker, sqs: FakeSqs, **params: Any
) -> bool:
    doc = mappings.get(create(mappings, **params)["UUID"])
    pollers = Pollers(functions.store, invoker, {"sqs": sqs}, Tuning(poll_interval=0.01))
    return asyncio.run(pollers._once(ACCOUNT, REGION, doc))


def test_a_batch_in_lambdas_sqs_event_format(
    mappings: Mappings,
    functions: Functions,
    invoker: Invoker,
    executor: ScriptedExecutor,
    sqs: FakeSqs,
) -> None:
    sqs.queues[QUEUE] = [message(1, "a"), message(2, "b")]
    assert poll_once(mappings, functions, invoker, sqs)
    [(_, payload, _, wait)] = executor.calls
    assert wait
    first = orjson.loads(payload)["Records"][0]
    assert first == {
        "messageId": "m1",
        "receiptHandle": "r1",
        "body": "a",
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1"},
        "messageAttributes": {
            "k": {
                "stringValue": "v",
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": "String",
            }
        },
        "md5OfBody": "md5",
        "eventSource": "aws:sqs",
        "eventSourceARN": QUEUE,
        "awsRegion": "us-east-1",
    }
    assert sqs.deleted == ["r1", "r2"]


def test_partial_batch_failures_keep_only_the_failed(
    mappings: Mappings,
    functions: Functions,
    invoker: Invoker,
    executor: ScriptedExecutor,
    sqs: FakeSqs,
) -> None:
    sqs.queues[QUEUE] = [message(1, "a"), message(2, "b"), message(3, "c")]
    executor.respond = lambda spec, payload, ctx: InvocationResult(
        ctx.request_id, b'{"batchItemFailures": [{"itemIdentifier": "m2"}]}'
    )
    poll_once(mappings, functions, invoker, sqs, FunctionResponseTypes=["ReportBatchItemFailures"])
    assert sqs.deleted == ["r1", "r3"]


def test_a_function_error_deletes_nothing(
    mappings: Mappings,
    functions: Functions,
    invoker: Invoker,
    executor: ScriptedExecutor,
    sqs: FakeSqs,
) -> None:
    sqs.queues[QUEUE] = [message(1, "a")]
    executor.respond = lambda spec, payload, ctx: InvocationResult(
        ctx.request_id, b"{}", FunctionError("E", "x")
    )
    poll_once(mappings, functions, invoker, sqs)
    assert sqs.deleted == []


def test_an_empty_queue_is_nothing_to_do(
    mappings: Mappings,
    functions: Functions,
    invoker: Invoker,
    executor: ScriptedExecutor,
    sqs: FakeSqs,
) -> None:
    assert not poll_once(mappings, functions, invoker, sqs)
    assert executor.calls == []


@pytest.mark.parametrize(
    ("payload", "failed"),
    [
        (b"null", set()),
        (b"{}", set()),
        (b'{"batchItemFailures": []}', set()),
        (b'{"batchItemFailures": [{"itemIdentifier": "a"}]}', {"a"}),
        (b'{"batchItemFailures": [{"itemIdentifier": "zzz"}]}', None),
        (b'{"batchItemFailures": [{"itemIdentifier": ""}]}', None),
        (b'{"batchItemFailures": [{}]}', None),
    ],
)
def test_reading_batch_item_failures(payload: bytes, failed: set[str] | None) -> None:
    doc = {"FunctionResponseTypes": ["ReportBatchItemFailures"]}
    assert _failures(doc, payload, {"a", "b"}) == failed


def test_without_report_batch_item_failures_the_response_is_ignored() -> None:
    assert _failures({"FunctionResponseTypes": []}, b'{"batchItemFailures": [{}]}', {"a"}) == set()


def test_a_missing_function_or_source(mappings: Mappings) -> None:
    with pytest.raises(ServiceError) as caught:
        mappings.create(ACCOUNT, REGION, {"FunctionName": "nope", "EventSourceArn": QUEUE})
    assert (caught.value.code, caught.value.message) == (
        "InvalidParameterValueException",
        "Function does not exist",
    )
    with pytest.raises(ServiceError) as caught:
        mappings.create(ACCOUNT, REGION, {"FunctionName": "fn"})
    assert caught.value.message == "Unrecognized event source."
    with pytest.raises(ServiceError) as caught:
        mappings.get("missing")
    assert caught.value.message == "The resource you requested does not exist."
