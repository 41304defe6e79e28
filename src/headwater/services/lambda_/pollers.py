"""SQS pollers: the workers behind enabled event source mappings.

For every enabled mapping, ``MaximumConcurrency`` pollers (5 when unset: a local machine
has few cores) each loop: gather a batch from the queue through the SQS facade (up to
``BatchSize`` messages, waiting up to ``MaximumBatchingWindowInSeconds`` for it to fill),
invoke the function synchronously with Lambda's SQS event, and delete what succeeded.  A
function error deletes nothing; with ``ReportBatchItemFailures`` only the listed messages
stay.  Messages that stay become visible again when the queue's visibility timeout ends, so
the queue's own redrive policy moves them to its dead-letter queue after ``maxReceiveCount``
receives, exactly as with Lambda.

The set of running pollers follows the store: ``poke`` (after any mapping write) or the
periodic look reconciles it, so a restart resumes every mapping.

AWS pages: https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html (event format,
batching), .../services-sqs-errorhandling.html (partial batch responses).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
from typing import Any

import orjson

from headwater.core.errors import ServiceError
from headwater.services.lambda_.invoke import Invoker, Tuning
from headwater.services.lambda_.names import parse_function
from headwater.services.lambda_.store import LambdaStore

log = logging.getLogger(__name__)

DEFAULT_POLLERS = 5
RECORD_ATTRIBUTES = (
    "ApproximateReceiveCount",
    "SentTimestamp",
    "SenderId",
    "ApproximateFirstReceiveTimestamp",
    "SequenceNumber",
    "MessageGroupId",
    "MessageDeduplicationId",
    "AWSTraceHeader",
)


class Pollers:
    def __init__(
        self, store: LambdaStore, invoker: Invoker, facades: dict[str, Any], tuning: Tuning
    ) -> None:
        self.store = store
        self.invoker = invoker
        self.facades = facades
        self.tuning = tuning
        # uuid -> (LastModified of the doc the pollers run, their tasks)
        self._running: dict[str, tuple[float, list[asyncio.Task[None]]]] = {}
        self._task: asyncio.Task[None] | None = None
        self._wake: asyncio.Event | None = None

    async def start(self) -> None:
        self._wake = asyncio.Event()
        self._task = asyncio.create_task(self._watch(), name="lambda-pollers")

    async def stop(self) -> None:
        tasks = [t for _, ts in self._running.values() for t in ts]
        if self._task is not None:
            tasks.append(self._task)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._running.clear()
        self._task = None

    def poke(self) -> None:
        if self._wake is not None:
            self._wake.set()

    async def _watch(self) -> None:
        assert self._wake is not None
        while True:
            self._wake.clear()
            try:
                self._reconcile()
            except Exception:
                log.exception("lambda: reading event source mappings failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), max(1.0, self.tuning.poll_interval * 10))

    def _reconcile(self) -> None:
        wanted = {}
        for uuid, account, region, doc in self.store.mappings():
            if doc.get("State") == "Enabled":
                wanted[uuid] = (account, region, doc)
        for uuid, (stamp, tasks) in list(self._running.items()):
            if uuid not in wanted or wanted[uuid][2]["LastModified"] != stamp:
                for task in tasks:
                    task.cancel()
                del self._running[uuid]
        for uuid, (account, region, doc) in wanted.items():
            if uuid in self._running:
                continue
            count = (doc.get("ScalingConfig") or {}).get("MaximumConcurrency") or DEFAULT_POLLERS
            tasks = [
                asyncio.create_task(self._poll(account, region, doc), name=f"lambda-esm-{uuid}")
                for _ in range(count)
            ]
            self._running[uuid] = (doc["LastModified"], tasks)

    async def _poll(self, account: str, region: str, doc: dict[str, Any]) -> None:
        while True:
            try:
                handled = await self._once(account, region, doc)
            except asyncio.CancelledError:
                raise
            except ServiceError as error:
                # The queue went away (or another SQS refusal): AWS keeps the mapping and
                # reports the problem in StateTransitionReason; headwater logs and waits.
                log.warning("lambda: event source mapping %s: %s", doc["UUID"], error)
                handled = False
                await asyncio.sleep(max(1.0, self.tuning.poll_interval))
            except Exception:
                log.exception("lambda: event source mapping %s failed", doc["UUID"])
                handled = False
            if not handled:
                await asyncio.sleep(self.tuning.poll_interval)

    async def _once(self, account: str, region: str, doc: dict[str, Any]) -> bool:
        """Gather and deliver one batch; False when there was nothing to do."""
        ref = parse_function(doc["FunctionArn"], account, region)
        try:
            target = self.invoker.target(ref)
        except ServiceError:
            return False  # the function is gone; the mapping waits (AWS disables it)
        if self.invoker.spec(ref, target.version).concurrency == 0:
            return False  # throttled: leave the messages in the queue
        batch = await self._collect(doc)
        if not batch:
            return False
        source = doc["EventSourceArn"]
        event = {"Records": [_record(m, source, region) for m in batch]}
        result = await self.invoker.run(target, orjson.dumps(event), wait=True)
        if not result.ok:
            return True  # every message returns to the queue after its visibility timeout
        failed = _failures(doc, result.payload, {m["MessageId"] for m in batch})
        sqs = self.facades["sqs"]
        for message in batch:
            if failed is not None and message["MessageId"] not in failed:
                with contextlib.suppress(ServiceError):  # already gone: nothing to delete
                    sqs.delete_message(source, message["ReceiptHandle"])
        return True

    async def _collect(self, doc: dict[str, Any]) -> list[dict[str, Any]]:
        sqs = self.facades["sqs"]
        size = int(doc["BatchSize"])
        window = float(doc.get("MaximumBatchingWindowInSeconds") or 0)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + window
        batch: list[dict[str, Any]] = []
        while len(batch) < size:
            got = sqs.receive_messages(doc["EventSourceArn"], min(10, size - len(batch)))
            batch.extend(got)
            if not window:
                if not got:
                    break
                continue
            if loop.time() >= deadline:
                break
            if not got:
                await asyncio.sleep(
                    min(self.tuning.poll_interval, max(0.0, deadline - loop.time()))
                )
        return batch


def _failures(doc: dict[str, Any], payload: bytes, ids: set[str]) -> set[str] | None:
    """The message ids that failed in a successful invocation; None means all of them."""
    if "ReportBatchItemFailures" not in doc.get("FunctionResponseTypes", []):
        return set()
    try:
        response = orjson.loads(payload) if payload else None
    except orjson.JSONDecodeError:
        return None
    if not isinstance(response, dict):
        return set()  # null or another value: Lambda treats it as complete success
    items = response.get("batchItemFailures")
    if not items:
        return set()
    failed = set()
    for item in items if isinstance(items, list) else [None]:
        identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not identifier or identifier not in ids:
            return None  # AWS quirk: one malformed entry fails the whole batch
        failed.add(identifier)
    return failed


def _record(message: dict[str, Any], source: str, region: str) -> dict[str, Any]:
    system = message.get("Attributes") or {}
    record: dict[str, Any] = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": {k: system[k] for k in RECORD_ATTRIBUTES if k in system},
        "messageAttributes": {
            name: _attribute(value)
            for name, value in (message.get("MessageAttributes") or {}).items()
        },
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": source,
        "awsRegion": region,
    }
    if message.get("MD5OfMessageAttributes"):
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    return record


def _attribute(value: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "stringListValues": [],
        "binaryListValues": [],
        "dataType": value.get("DataType", "String"),
    }
    if "StringValue" in value:
        out["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        raw = value["BinaryValue"]
        out["binaryValue"] = base64.b64encode(raw).decode() if isinstance(raw, bytes) else raw
    return out
