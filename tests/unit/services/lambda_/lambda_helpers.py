"""Shared pieces of the Lambda domain tests: packages, a scripted executor, a fake SQS."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from headwater.core.errors import ServiceError
from headwater.runtime.executor import FunctionSpec, InvocationContext, InvocationResult
from headwater.services.lambda_.names import FunctionRef

ACCOUNT = "000000000000"
REGION = "us-east-1"
ROLE = "arn:aws:iam::000000000000:role/r"


def package(source: str = "def handler(event, context):\n    return event\n") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", source)
    return buffer.getvalue()


def create_params(**overrides: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "Runtime": "python3.12",
        "Role": ROLE,
        "Handler": "app.handler",
        "Code": {"ZipFile": package()},
    }
    params.update(overrides)
    return params


@dataclass
class ScriptedExecutor:
    """An ``Executor`` whose results a test decides: ``respond(spec, payload) -> result``."""

    respond: Callable[[FunctionSpec, bytes, InvocationContext], InvocationResult] | None = None
    calls: list[tuple[FunctionSpec, bytes, InvocationContext, bool]] = field(default_factory=list)
    discarded: list[str] = field(default_factory=list)

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def warm(self, spec: FunctionSpec, count: int = 1) -> None: ...

    async def discard(self, function_arn: str) -> None:
        self.discarded.append(function_arn)

    async def invoke(
        self,
        spec: FunctionSpec,
        payload: bytes,
        context: InvocationContext,
        *,
        timeout: float | None = None,
        wait: bool = False,
    ) -> InvocationResult:
        self.calls.append((spec, payload, context, wait))
        if self.respond is not None:
            return self.respond(spec, payload, context)
        return InvocationResult(context.request_id, payload, logs=f"START {context.request_id}\n")


@dataclass
class FakeSqs:
    """The slice of the SQS facade Lambda uses, in memory."""

    queues: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    sent: list[tuple[str, str, dict[str, Any] | None]] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)

    def queue_arn(self, queue: str) -> str:
        if queue not in self.queues:
            raise ServiceError("QueueDoesNotExist", "The specified queue does not exist.")
        return queue

    def send_message(
        self, queue: str, body: str, *, attributes: Any = None, **_: Any
    ) -> dict[str, Any]:
        self.sent.append((queue, body, attributes))
        return {"MessageId": str(len(self.sent))}

    def receive_messages(
        self, queue: str, max_messages: int = 10, visibility_timeout: int | None = None
    ) -> list[dict[str, Any]]:
        waiting = self.queues.get(queue, [])
        taken, self.queues[queue] = waiting[:max_messages], waiting[max_messages:]
        return taken

    def delete_message(self, queue: str, receipt_handle: str) -> None:
        self.deleted.append(receipt_handle)


def ref(name: str = "fn", qualifier: str | None = None) -> FunctionRef:
    return FunctionRef(ACCOUNT, REGION, name, qualifier)
