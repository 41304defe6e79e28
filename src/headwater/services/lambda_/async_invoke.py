"""Asynchronous invocation (``InvocationType=Event``): a durable queue, retries, destinations.

``enqueue`` commits the event to the store before Invoke answers 202, so a restart loses
nothing: the worker loop started with the service picks up every event still in the table.
Each event runs through the executor, pacing itself (``wait=True``) instead of being
throttled.  After a function error the event is retried ``MaximumRetryAttempts`` times (2 by
default), the first retry after ``Tuning.retry_delay`` seconds and the next after twice that,
as Lambda backs off; an event older than ``MaximumEventAgeInSeconds`` is given up.  Reserved
concurrency 0 holds events in the queue until they pass that age, as Lambda does.

Outcomes go where the event invoke config says: ``OnSuccess`` / ``OnFailure`` destinations
(an SQS queue through the SQS facade, or another function invoked asynchronously) receive
Lambda's invocation record; a failed event also goes, as is, to the function's
``DeadLetterConfig`` queue with the ``RequestID``, ``ErrorCode`` and ``ErrorMessage``
attributes.  Delivery is at least once: an event that was running when the server stopped
runs again.

AWS pages: https://docs.aws.amazon.com/lambda/latest/dg/invocation-async.html,
.../invocation-async-retain-records.html (record format, DLQ attributes).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from typing import Any

import orjson

from headwater.core.clock import Clock
from headwater.core.errors import ServiceError
from headwater.core.ids import IdFactory
from headwater.runtime.executor import InvocationResult
from headwater.services.lambda_ import errors, names
from headwater.services.lambda_.eventconfig import EventConfig, EventConfigs
from headwater.services.lambda_.invoke import ASYNC_REQUEST_LIMIT, Invoker, Tuning
from headwater.services.lambda_.names import LATEST, FunctionRef
from headwater.services.lambda_.store import AsyncEvent, LambdaStore

log = logging.getLogger(__name__)

# Events run at once across all functions; each function's own limit still applies.
MAX_IN_FLIGHT = 64


class AsyncInvocations:
    def __init__(
        self,
        store: LambdaStore,
        invoker: Invoker,
        configs: EventConfigs,
        clock: Clock,
        ids: IdFactory,
        facades: dict[str, Any],
        tuning: Tuning,
    ) -> None:
        self.store = store
        self.invoker = invoker
        self.configs = configs
        self.clock = clock
        self.ids = ids
        self.facades = facades
        self.tuning = tuning
        self._running: dict[int, asyncio.Task[None]] = {}
        self._loop_task: asyncio.Task[None] | None = None
        self._wake: asyncio.Event | None = None
        self._event_loop: asyncio.AbstractEventLoop | None = None
        self._stopping = False

    # -- the queue ------------------------------------------------------------------------

    def enqueue(self, ref: FunctionRef, payload: bytes, request_id: str | None = None) -> str:
        """Accept an Event invocation (after checking the target exists); returns its id."""
        if len(payload) > ASYNC_REQUEST_LIMIT:
            raise errors.event_too_large(len(payload), ASYNC_REQUEST_LIMIT)
        self.invoker.functions.resolve_version(ref)
        request_id = request_id or self.ids.uuid()
        key = (ref.account, ref.region, ref.name)
        self.store.enqueue(key, ref.qualifier, payload, request_id, self.clock.now())
        self._poke()
        return request_id

    def _poke(self) -> None:
        """Wake the worker loop; enqueue runs on the event loop (Invoke) and on worker threads
        too (S3's lifecycle pass emits notifications from one), where an asyncio.Event must
        be set through the loop."""
        wake, loop = self._wake, self._event_loop
        if wake is None or loop is None:
            return
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            wake.set()
        else:
            with contextlib.suppress(RuntimeError):  # the loop has closed
                loop.call_soon_threadsafe(wake.set)

    # -- the worker -----------------------------------------------------------------------

    async def start(self) -> None:
        self._stopping = False
        self._wake = asyncio.Event()
        self._event_loop = asyncio.get_running_loop()
        self._loop_task = asyncio.create_task(self._loop(), name="lambda-async")

    async def stop(self) -> None:
        # The flag ends the loop even when the cancellation is lost: on Python 3.11,
        # asyncio.wait_for returns instead of raising when the wake it waits on is set (by a
        # running event that finishes as it is cancelled) in the same step as the cancel.
        self._stopping = True
        tasks = [t for t in (self._loop_task, *self._running.values()) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._loop_task = None
        self._running.clear()

    async def run_due(self) -> int:
        """Run every event that is due now, one after another; returns how many ran.

        The worker loop runs events concurrently; this is the same step for callers that
        drive the queue themselves (tests with a manual clock, a future ``headwater`` command).
        """
        due = self.store.due_events(self.clock.now(), list(self._running), MAX_IN_FLIGHT)
        for event in due:
            await self._attempt(event)
        return len(due)

    async def _loop(self) -> None:
        assert self._wake is not None
        while not self._stopping:
            self._wake.clear()
            try:
                free = MAX_IN_FLIGHT - len(self._running)
                due = (
                    self.store.due_events(self.clock.now(), list(self._running), free)
                    if free
                    else []
                )
                for event in due:
                    task = asyncio.create_task(self._attempt(event))
                    self._running[event.id] = task
                    task.add_done_callback(functools.partial(self._done, event.id))
            except Exception:
                log.exception("lambda: reading the asynchronous queue failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._sleep_for())

    def _done(self, event_id: int, _task: asyncio.Task[None]) -> None:
        self._running.pop(event_id, None)
        if self._wake is not None:
            self._wake.set()

    def _sleep_for(self) -> float:
        upcoming = self.store.next_due()
        if upcoming is None:
            return 60.0
        return min(60.0, max(self.tuning.poll_interval / 10, upcoming - self.clock.now()))

    async def _attempt(self, event: AsyncEvent) -> None:
        try:
            await self._run(event)
        except asyncio.CancelledError:
            raise
        except ServiceError as error:
            # The version or alias the event names is gone: no retry can succeed.
            log.warning("lambda: asynchronous event %s dropped: %s", event.request_id, error)
            account, region, name = event.key
            self._dead_letter(event, FunctionRef(account, region, name, event.qualifier), None)
            self.store.drop_event(event.id)
        except Exception:
            log.exception("lambda: asynchronous event %s failed to run", event.request_id)
            self.store.retry_event(
                event.id, event.attempts, self.clock.now() + self.tuning.retry_delay
            )

    async def _run(self, event: AsyncEvent) -> None:
        account, region, name = event.key
        ref = FunctionRef(account, region, name, event.qualifier)
        if self.store.function(event.key) is None:
            self.store.drop_event(event.id)  # the function was deleted meanwhile
            return
        config = self.configs.effective(ref, event.qualifier)
        now = self.clock.now()
        if now - event.enqueued > config.max_age:
            self._finish(event, ref, config, None, LATEST, "EventAgeExceeded")
            return
        target = self.invoker.target(ref)
        if self.invoker.spec(ref, target.version).concurrency == 0:
            # Throttled: Lambda keeps the event and tries again until it is too old.
            self.store.retry_event(event.id, event.attempts, now + self.tuning.poll_interval)
            return
        result = await self.invoker.run(
            target, event.payload, request_id=event.request_id, wait=True
        )
        attempts = event.attempts + 1
        executed = target.version.version
        if result.ok:
            self._finish(event, ref, config, result, executed, "Success", attempts)
        elif attempts > config.max_retries:
            self._finish(event, ref, config, result, executed, "RetriesExhausted", attempts)
        else:
            delay = self.tuning.retry_delay * (2 ** (attempts - 1))
            self.store.retry_event(event.id, attempts, self.clock.now() + delay)

    def _finish(
        self,
        event: AsyncEvent,
        ref: FunctionRef,
        config: EventConfig,
        result: InvocationResult | None,
        executed: str,
        condition: str,
        attempts: int = 0,
    ) -> None:
        success = condition == "Success"
        destination = config.on_success if success else config.on_failure
        if destination:
            record = self._record(event, ref, result, executed, condition, attempts)
            self._deliver(destination, orjson.dumps(record))
        if not success:
            self._dead_letter(event, ref, result)
        self.store.drop_event(event.id)

    def _record(
        self,
        event: AsyncEvent,
        ref: FunctionRef,
        result: InvocationResult | None,
        executed: str,
        condition: str,
        attempts: int,
    ) -> dict[str, Any]:
        record: dict[str, Any] = {
            "version": "1.0",
            "timestamp": names.iso_millis(self.clock.now()),
            "requestContext": {
                "requestId": event.request_id,
                "functionArn": names.qualified_arn(ref.arn, event.qualifier or LATEST),
                "condition": condition,
                "approximateInvokeCount": attempts,
            },
            "requestPayload": _json_or_text(event.payload),
        }
        if result is not None:
            response: dict[str, Any] = {"statusCode": 200, "executedVersion": executed}
            if result.function_error:
                response["functionError"] = result.function_error
            record["responseContext"] = response
            record["responsePayload"] = _json_or_text(result.payload)
        return record

    def _deliver(self, destination: str, body: bytes) -> None:
        try:
            if destination.startswith("arn:aws:sqs:"):
                self.facades["sqs"].send_message(destination, body.decode("utf-8"))
            else:
                target = names.parse_resource_arn(destination)
                if target is None:
                    raise ValueError(f"not a function ARN: {destination}")
                self.enqueue(target, body)
        except Exception:
            # AWS drops a record it cannot deliver (and counts it in a metric); headwater logs.
            log.exception("lambda: delivering to destination %s failed", destination)

    def _dead_letter(
        self, event: AsyncEvent, ref: FunctionRef, result: InvocationResult | None
    ) -> None:
        version = self.store.version(event.key, LATEST)
        target = version.config.dead_letter_target if version is not None else None
        if not target:
            return
        message = result.error.error_message if result is not None and result.error else ""
        attributes = {
            "RequestID": {"DataType": "String", "StringValue": event.request_id},
            "ErrorCode": {"DataType": "Number", "StringValue": "200"},
        }
        if message:
            attributes["ErrorMessage"] = {"DataType": "String", "StringValue": message[:1024]}
        try:
            self.facades["sqs"].send_message(
                target, event.payload.decode("utf-8", "replace"), attributes=attributes
            )
        except Exception:
            log.exception("lambda: sending to dead-letter queue %s failed", target)


def _json_or_text(payload: bytes) -> Any:
    try:
        return orjson.loads(payload)
    except orjson.JSONDecodeError:
        return payload.decode("utf-8", "replace")
