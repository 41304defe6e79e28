"""The gateway's request pipeline without a socket: detect, parse, validate, dispatch,
serialize, with a stand-in adapter behind a real service model (SQS, json protocol)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import orjson
import pytest

from headwater.config import Settings
from headwater.core.errors import ServiceError
from headwater.core.ids import SequentialIds
from headwater.gateway.app import Gateway
from headwater.protocol.context import RequestContext
from headwater.protocol.http import HttpRequest, HttpResponse
from headwater.services import ServiceHandle
from headwater.store import open_store


class Adapter:
    """Implements two SQS operations; every other one is missing on purpose."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, dict[str, Any]]] = []

    def list_queues(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self.seen.append((ctx.operation, params))
        if params.get("QueueNamePrefix") == "boom":
            raise RuntimeError("a bug")
        if params.get("QueueNamePrefix") == "gone":
            raise ServiceError("QueueDoesNotExist", "The specified queue does not exist.")
        return {"QueueUrls": ["http://localhost:4566/000000000000/jobs"]}

    async def get_queue_url(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        await asyncio.sleep(0)  # adapters may be coroutines
        return {"QueueUrl": f"http://localhost:4566/000000000000/{params['QueueName']}"}


@pytest.fixture
def adapter() -> Adapter:
    return Adapter()


@pytest.fixture
def gateway(adapter: Adapter, tmp_path: Path) -> Gateway:
    settings = Settings(data_dir=tmp_path, verify_signatures=False)
    gateway = Gateway(settings, open_store(None), ids=SequentialIds())
    gateway.add_service(ServiceHandle(name="sqs", adapter=adapter))
    return gateway


def call(gateway: Gateway, operation: str, params: dict[str, Any]) -> HttpResponse:
    request = HttpRequest(
        method="POST",
        path="/",
        query_string="",
        headers={
            "x-amz-target": f"AmazonSQS.{operation}",
            "content-type": "application/x-amz-json-1.0",
        },
        body=orjson.dumps(params),
        host="localhost:4566",
    )
    return asyncio.run(gateway.handle(request))


def document(response: HttpResponse) -> Any:
    assert isinstance(response.body, bytes)
    return orjson.loads(response.body)


def test_an_operation_reaches_its_adapter_method_and_its_result_is_serialized(
    gateway: Gateway, adapter: Adapter
) -> None:
    response = call(gateway, "ListQueues", {"QueueNamePrefix": "jo"})
    assert response.status == 200
    assert document(response) == {"QueueUrls": ["http://localhost:4566/000000000000/jobs"]}
    assert adapter.seen == [("ListQueues", {"QueueNamePrefix": "jo"})]
    assert response.header("x-amzn-RequestId")


def test_coroutine_adapters_are_awaited(gateway: Gateway) -> None:
    response = call(gateway, "GetQueueUrl", {"QueueName": "jobs"})
    assert document(response) == {"QueueUrl": "http://localhost:4566/000000000000/jobs"}


def test_a_missing_adapter_method_is_501_naming_the_operation(gateway: Gateway) -> None:
    response = call(gateway, "PurgeQueue", {"QueueUrl": "http://localhost:4566/0/jobs"})
    assert response.status == 501
    assert "PurgeQueue" in document(response)["message"]


def test_a_model_violation_never_reaches_the_adapter(gateway: Gateway, adapter: Adapter) -> None:
    response = call(gateway, "GetQueueUrl", {})  # QueueName is required
    assert 400 <= response.status < 500
    assert adapter.seen == []


def test_service_errors_are_rendered_and_bugs_become_internal_failures(
    gateway: Gateway,
) -> None:
    modeled = call(gateway, "ListQueues", {"QueueNamePrefix": "gone"})
    assert modeled.status == 400
    assert document(modeled)["__type"].endswith("QueueDoesNotExist")
    bug = call(gateway, "ListQueues", {"QueueNamePrefix": "boom"})
    assert bug.status == 500
    assert document(bug)["__type"].endswith("InternalFailure")
    assert "a bug" not in document(bug)["message"]  # the bug stays in the log


class BrokenS3:
    """An S3 adapter with a bug in GetObject."""

    def get_object(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        raise RuntimeError("a bug")


def test_an_s3_bug_is_s3s_internal_error(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, verify_signatures=False)
    gateway = Gateway(settings, open_store(None), ids=SequentialIds())
    gateway.add_service(ServiceHandle(name="s3", adapter=BrokenS3()))
    request = HttpRequest("GET", "/bucket/key", "", {"host": "localhost:4566"}, host="localhost:4566")
    response = asyncio.run(gateway.handle(request))
    assert response.status == 500
    assert isinstance(response.body, bytes)
    error = ElementTree.fromstring(response.body)
    assert error.findtext("Code") == "InternalError"
    assert error.findtext("Message") == "We encountered an internal error. Please try again."
    assert "a bug" not in response.body.decode()


@pytest.mark.parametrize("size", [10, 100_000], ids=["small", "large"])
def test_a_request_whose_client_leaves_during_its_body_is_never_acted_on(
    gateway: Gateway, adapter: Adapter, size: int
) -> None:
    body = orjson.dumps({"QueueNamePrefix": "x" * size})
    messages = [
        {"type": "http.request", "body": body[: len(body) // 2], "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[Any] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    async def send(message: Any) -> None:
        sent.append(message)

    scope = {
        "type": "http", "method": "POST", "path": "/", "raw_path": b"/", "query_string": b"",
        "headers": [(b"x-amz-target", b"AmazonSQS.ListQueues"),
                    (b"content-type", b"application/x-amz-json-1.0"),
                    (b"content-length", str(len(body)).encode())],
    }
    asyncio.run(gateway(scope, receive, send))
    assert adapter.seen == [] and sent == []
