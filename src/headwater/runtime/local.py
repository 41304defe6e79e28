"""The local executor: warm, reused worker processes per function version, on this machine.

Each function version (``FunctionSpec.pool_key``) gets a pool of worker processes
(``runtime/worker.py``), each importing the handler once (``runtime/host.py``) and then serving
one invocation at a time, as a Lambda execution environment does.  A call takes the most
recently used idle worker; with none idle it starts one (a cold start, reported as
``Init Duration``) unless the function already runs as many as its concurrency allows, in which
case a synchronous caller gets a throttled result at once (the service answers 429) and a
pacing caller (``wait=True``) queues for the next free worker.  Without a reservation the
limit is per version (``concurrency_per_function``, a bound on this machine's processes); a
reserved concurrency (``FunctionSpec.concurrency``) also caps the function's invocations in
flight across all its versions and aliases together (``runtime/reservations.py``).

What the server enforces, as Lambda's platform does rather than the runtime:

- the timeout: when it passes, the worker's process group is killed with SIGKILL and the call
  reports ``Task timed out after N.NN seconds``; the next call starts a fresh worker;
- the memory size: resident memory of busy workers is sampled every ``memory_poll`` seconds
  and a worker above ``MemorySize`` is killed and reported as ``Runtime.OutOfMemory``; an
  address-space limit in the worker turns one huge allocation into MemoryError first;
- crashes: a worker that exits or dies on a signal mid-call is reported as
  ``Runtime.ExitError`` with the exit status or signal, and replaced on the next call.

Nothing a handler does reaches the server process: no user code is imported here.  Idle
workers are stopped after ``idle_timeout`` seconds.  Folder-mode functions (``watch=True``)
get fresh workers after a file under their folder changed (``runtime/code.py``).

AWS pages: https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html
(execution environment lifecycle), .../configuration-concurrency.html (reserved concurrency,
throttling), .../configuration-timeout.html, .../configuration-memory.html.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections import deque
from collections.abc import Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Self

import orjson

from headwater.core.clock import Clock, SystemClock
from headwater.core.ids import IdFactory, RandomIds
from headwater.runtime.code import FolderWatch
from headwater.runtime.environment import worker_environment
from headwater.runtime.executor import (
    THROTTLE_ACCOUNT,
    THROTTLE_RESERVED,
    FunctionError,
    FunctionSpec,
    InvocationContext,
    InvocationResult,
    billed_ms,
    end_line,
    exit_error,
    exit_reason,
    log_stream_name,
    parse_error_payload,
    platform_error_payload,
    report_line,
    start_line,
    timeout_error,
    timeout_message,
)
from headwater.runtime.reservations import Reservations
from headwater.runtime.worker import Frame, Worker, WorkerGone

log = logging.getLogger(__name__)

MIB = 1024 * 1024
# Lambda gives a function's initialization (the import of its module) up to 10 seconds.
INIT_TIMEOUT = 10.0


class ExecutorError(Exception):
    """The executor itself failed (a worker could not be started, or the executor is stopped)."""


class _TimedOut(Exception):
    pass


@dataclass(eq=False)
class _Pool:
    spec: FunctionSpec
    limit: int
    watch: FolderWatch | None = None
    idle: list[Worker] = field(default_factory=list)  # most recently used last
    live: int = 0  # workers started or starting, busy or idle
    generation: int = 0  # bumped when the code changed: older workers retire
    waiters: deque[asyncio.Future[Worker | None]] = field(default_factory=deque)


class LocalExecutor:
    """``Executor`` backed by worker processes on this machine (see the module docstring)."""

    def __init__(
        self,
        *,
        concurrency_per_function: int | None = None,
        idle_timeout: float = 600.0,
        memory_poll: float | None = 0.05,
        address_space_headroom_mb: int | None = 2048,
        watch_interval: float = 0.5,
        python: str = sys.executable,
        clock: Clock | None = None,
        ids: IdFactory | None = None,
    ) -> None:
        # Lambda's default is the account's 1,000; a local machine runs out of cores long
        # before that, and a function with reserved concurrency gets exactly what it reserved.
        self.concurrency_per_function = concurrency_per_function or max(
            4, 2 * (os.cpu_count() or 1)
        )
        self.idle_timeout = idle_timeout
        self.memory_poll = memory_poll  # None: do not enforce MemorySize
        self.address_space_headroom_mb = address_space_headroom_mb  # None: no backstop
        self.watch_interval = watch_interval
        self.python = python
        self.clock: Clock = clock or SystemClock()
        self.ids: IdFactory = ids or RandomIds()
        self._pools: dict[tuple[object, ...], _Pool] = {}
        self._reservations = Reservations()
        self._busy: set[Worker] = set()
        self._all: set[Worker] = set()
        self._monitor: asyncio.Task[None] | None = None
        self._reaper: asyncio.Task[None] | None = None
        self._closing: set[asyncio.Task[None]] = set()
        self._stopped = False

    # -- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        self._stopped = False
        if self._reaper is None and self.idle_timeout > 0:
            self._reaper = asyncio.get_running_loop().create_task(self._reap_idle())

    async def stop(self) -> None:
        self._stopped = True
        for task in (self._reaper, self._monitor):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._reaper = self._monitor = None
        for pool in self._pools.values():
            for waiter in pool.waiters:
                if not waiter.done():
                    waiter.set_exception(ExecutorError("the executor stopped"))
            pool.waiters.clear()
            pool.idle.clear()
        self._pools.clear()
        self._reservations.close(ExecutorError("the executor stopped"))
        workers = list(self._all)
        for worker in workers:
            if worker in self._busy:
                worker.kill()  # its caller reports the crash and disposes of it
        await asyncio.gather(*(w.close(grace=0.5) for w in workers if w not in self._busy))
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- the seam -------------------------------------------------------------------------------

    async def invoke(
        self,
        spec: FunctionSpec,
        payload: bytes,
        context: InvocationContext,
        *,
        timeout: float | None = None,
        wait: bool = False,
    ) -> InvocationResult:
        if self._stopped:
            raise ExecutorError("the executor is stopped")
        if spec.concurrency is None:
            return await self._invoke(spec, payload, context, timeout, wait)
        # Reserved concurrency caps the function, all versions together (runtime/reservations.py).
        if not await self._reservations.enter(spec.function_arn, spec.concurrency, wait=wait):
            return _throttled(spec, context, THROTTLE_RESERVED)
        try:
            return await self._invoke(spec, payload, context, timeout, wait)
        finally:
            self._reservations.leave(spec.function_arn)

    async def _invoke(
        self,
        spec: FunctionSpec,
        payload: bytes,
        context: InvocationContext,
        timeout: float | None,
        wait: bool,
    ) -> InvocationResult:
        pool = self._pool(spec)
        if pool.watch is not None and pool.watch.changed():
            self._retire_generation(pool)
        timeout = spec.timeout if timeout is None else timeout
        worker = self._take_idle(pool)
        if worker is None:
            if pool.live < pool.limit:
                pool.live += 1
            elif wait:
                worker = await self._wait_for_worker(pool)
            else:
                reason = THROTTLE_RESERVED if spec.concurrency is not None else THROTTLE_ACCOUNT
                return _throttled(spec, context, reason)
            if worker is None:  # a free slot: start a worker in it
                started = await self._start_worker(pool, context, timeout)
                if isinstance(started, InvocationResult):
                    return started
                worker = started
        return await self._run(pool, worker, payload, context, timeout)

    async def warm(self, spec: FunctionSpec, count: int = 1) -> None:
        pool = self._pool(spec)
        wanted = min(count, pool.limit) - pool.live
        starts = []
        for _ in range(max(0, wanted)):
            pool.live += 1
            starts.append(self._start_worker(pool, InvocationContext(""), spec.timeout))
        for started in await asyncio.gather(*starts):
            if isinstance(started, Worker):
                self._release(pool, started)

    async def discard(self, function_arn: str) -> None:
        for key, pool in list(self._pools.items()):
            if pool.spec.function_arn == function_arn:
                del self._pools[key]
                self._retire_generation(pool)
        if self._closing:
            await asyncio.gather(*list(self._closing), return_exceptions=True)

    def worker_count(self, spec: FunctionSpec | None = None) -> int:
        """Live workers (of one function version, or all): for tests and the admin page."""
        if spec is None:
            return len(self._all)
        pool = self._pools.get(spec.pool_key())
        return pool.live if pool is not None else 0

    # -- pools ----------------------------------------------------------------------------------

    def _pool(self, spec: FunctionSpec) -> _Pool:
        key = spec.pool_key()
        limit = spec.concurrency if spec.concurrency is not None else self.concurrency_per_function
        pool = self._pools.get(key)
        if pool is None:
            watch = FolderWatch(spec.code_dir, self.watch_interval) if spec.watch else None
            pool = self._pools[key] = _Pool(spec, limit, watch)
        else:
            # Reserved concurrency changes (PutFunctionConcurrency) without new workers.
            pool.limit = limit
        return pool

    def _take_idle(self, pool: _Pool) -> Worker | None:
        while pool.idle:
            worker = pool.idle.pop()
            if worker.alive and worker.generation == pool.generation:
                return worker
            self._retire(pool, worker)
        return None

    async def _wait_for_worker(self, pool: _Pool) -> Worker | None:
        waiter: asyncio.Future[Worker | None] = asyncio.get_running_loop().create_future()
        pool.waiters.append(waiter)
        try:
            return await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                handed = waiter.result()  # handed over just as we were cancelled: pass it on
                if handed is None:
                    self._slot_freed(pool)
                else:
                    self._release(pool, handed)
            else:
                with contextlib.suppress(ValueError):
                    pool.waiters.remove(waiter)
            raise

    def _release(self, pool: _Pool, worker: Worker) -> None:
        """A worker finished cleanly: hand it to a waiting caller, or keep it warm."""
        if not worker.alive or worker.generation != pool.generation or self._stopped:
            self._retire(pool, worker)
            return
        while pool.waiters:
            waiter = pool.waiters.popleft()
            if not waiter.done():
                waiter.set_result(worker)
                return
        worker.last_used = self.clock.monotonic()
        pool.idle.append(worker)

    def _retire(self, pool: _Pool, worker: Worker) -> None:
        """Stop a worker in the background and give its slot to the next caller."""
        self._all.discard(worker)
        task = asyncio.get_running_loop().create_task(worker.close())
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)
        self._slot_freed(pool)

    def _slot_freed(self, pool: _Pool) -> None:
        pool.live -= 1
        while pool.waiters and pool.live < pool.limit:
            waiter = pool.waiters.popleft()
            if not waiter.done():
                pool.live += 1
                waiter.set_result(None)

    def _retire_generation(self, pool: _Pool) -> None:
        """The code changed: idle workers stop now, busy ones when they finish."""
        pool.generation += 1
        for worker in pool.idle:
            self._retire(pool, worker)
        pool.idle.clear()

    # -- one worker -----------------------------------------------------------------------------

    async def _start_worker(
        self, pool: _Pool, context: InvocationContext, timeout: float
    ) -> Worker | InvocationResult:
        """Start a worker in a slot already counted in ``pool.live``; on failure free the slot
        and return the result the caller reports (Lambda reports init failures per call)."""
        spec = pool.spec
        loop = asyncio.get_running_loop()
        date = datetime.fromtimestamp(self.clock.now(), tz=UTC).strftime("%Y/%m/%d")
        stream = log_stream_name(date, spec.version, self.ids.uuid().replace("-", ""))
        host_args = []
        if self.address_space_headroom_mb is not None:
            host_args.append(str((spec.memory_size + self.address_space_headroom_mb) * MIB))
        started = loop.time()
        try:
            worker = await Worker.spawn(
                self.python, host_args, worker_environment(spec, stream), spec.code_dir.absolute()
            )
        except OSError as e:
            self._slot_freed(pool)
            raise ExecutorError(f"cannot start a worker for {spec.function_name}: {e}") from e
        except BaseException:  # cancelled: the slot was ours to give back
            self._slot_freed(pool)
            raise
        self._all.add(worker)
        worker.generation = pool.generation
        worker.memory_limit_mb = spec.memory_size
        ready = worker.expect()
        # Lambda gives init 10 s, then retries a slow init inside the invocation under the
        # function's timeout: a first call may take both before it is given up.
        timer = loop.call_later(INIT_TIMEOUT + timeout, self._on_timeout, worker, ready)
        try:
            meta, body, logs = await ready
        except (WorkerGone, _TimedOut):
            return await self._failed(pool, worker, context, timeout, started, cold_logs=b"")
        except asyncio.CancelledError:
            self._retire(pool, worker)  # nobody will use it: stop it and free its slot
            raise
        finally:
            timer.cancel()
        init_ms = (loop.time() - started) * 1000
        if not orjson.loads(meta).get("ok"):
            # The import failed: report it for this call and let the next call try again.
            error = parse_error_payload(body)
            self._retire(pool, worker)
            text = logs.decode("utf-8", "replace") + start_line(context.request_id, spec.version)
            text += end_line(context.request_id) + report_line(
                context.request_id,
                0.0,
                spec.memory_size,
                0,
                init_duration_ms=init_ms,
                status="error",
                error_type=error.error_type,
            )
            return InvocationResult(
                context.request_id,
                body,
                error,
                text,
                init_duration_ms=init_ms,
                memory_size_mb=spec.memory_size,
                billed_duration_ms=1,
            )
        worker.init_ms = init_ms
        worker.init_logs = logs
        return worker

    async def _run(
        self,
        pool: _Pool,
        worker: Worker,
        payload: bytes,
        context: InvocationContext,
        timeout: float,
    ) -> InvocationResult:
        spec = pool.spec
        request: dict[str, object] = {
            "id": context.request_id,
            "arn": context.invoked_function_arn or spec.function_arn,
            "timeout_ms": int(timeout * 1000),
        }
        if context.client_context:
            request["cc"] = context.client_context
        if context.cognito_identity:
            request["ci"] = context.cognito_identity
        if context.trace_id:
            request["trace"] = context.trace_id
        loop = asyncio.get_running_loop()
        started = loop.time()
        reply = worker.request(orjson.dumps(request), payload)
        timer = loop.call_later(timeout, self._on_timeout, worker, reply)
        self._busy.add(worker)
        if self._monitor is None and self.memory_poll is not None:
            self._monitor = loop.create_task(self._watch_memory())
        try:
            frame = await reply
        except (WorkerGone, _TimedOut):
            timer.cancel()
            self._busy.discard(worker)
            return await self._failed(
                pool, worker, context, timeout, started, cold_logs=worker.init_logs
            )
        except asyncio.CancelledError:
            # The caller went away; the handler keeps running (as in Lambda) and its worker
            # comes back to the pool, or is replaced, when it ends.  Cancelling the task
            # cancelled the reply future too, so wait for the reply on a new one.
            timer.cancel()
            late = worker.expect() if reply.cancelled() else reply
            remaining = max(0.0, started + timeout - loop.time())
            late_timer = loop.call_later(remaining, self._on_timeout, worker, late)
            late.add_done_callback(lambda f: self._settle_detached(pool, worker, late_timer, f))
            raise
        timer.cancel()
        self._busy.discard(worker)
        return self._finished(pool, worker, context, frame)

    def _settle_detached(
        self, pool: _Pool, worker: Worker, timer: asyncio.TimerHandle, reply: asyncio.Future[Frame]
    ) -> None:
        timer.cancel()
        self._busy.discard(worker)
        if reply.cancelled() or reply.exception() is not None:
            self._all.discard(worker)
            worker.kill()
            self._closing_task(worker.close(grace=0.1))
            self._slot_freed(pool)
        else:
            self._finished(pool, worker, InvocationContext(""), reply.result())

    def _closing_task(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    def _finished(
        self, pool: _Pool, worker: Worker, context: InvocationContext, frame: Frame
    ) -> InvocationResult:
        spec = pool.spec
        meta_bytes, body, output = frame
        meta = orjson.loads(meta_bytes)
        rid = context.request_id
        duration = float(meta["ms"])
        memory = int(meta["mem"])
        init_ms, worker.init_ms = worker.init_ms, None
        cold, worker.init_logs = worker.init_logs, b""
        error = None if meta["ok"] else parse_error_payload(body)
        logs = (
            (cold.decode("utf-8", "replace") if cold else "")
            + start_line(rid, spec.version)
            + output.decode("utf-8", "replace")
            + end_line(rid)
            + report_line(rid, duration, spec.memory_size, memory, init_duration_ms=init_ms)
        )
        if meta.get("retire"):
            self._retire(pool, worker)
        else:
            self._release(pool, worker)
        return InvocationResult(
            rid,
            body,
            error,
            logs,
            duration_ms=duration,
            billed_duration_ms=billed_ms(duration),
            init_duration_ms=init_ms,
            memory_size_mb=spec.memory_size,
            max_memory_used_mb=memory,
            content_type=meta.get("ct", "application/json"),
        )

    def _on_timeout(self, worker: Worker, reply: asyncio.Future[Frame]) -> None:
        if reply.done():
            return
        worker.timed_out = True
        worker.abandon()
        worker.kill()
        reply.set_exception(_TimedOut())

    async def _failed(
        self,
        pool: _Pool,
        worker: Worker,
        context: InvocationContext,
        timeout: float,
        started: float,
        cold_logs: bytes,
    ) -> InvocationResult:
        """The worker timed out, crashed or was killed for memory: report it as Lambda does."""
        spec = pool.spec
        rid = context.request_id
        loop = asyncio.get_running_loop()
        duration = (loop.time() - started) * 1000
        code = await worker.wait_exit(1.0)
        if code is None:  # closed its socket but lives on: it cannot be trusted with more calls
            worker.kill()
            code = await worker.wait_exit(5.0)
        output = worker.read_logs()
        self._all.discard(worker)
        worker.dispose()
        self._slot_freed(pool)
        init_ms, worker.init_ms = worker.init_ms, None
        text = cold_logs.decode("utf-8", "replace") + start_line(rid, spec.version)
        text += output.decode("utf-8", "replace")
        memory = spec.memory_size
        error: FunctionError
        if worker.timed_out:
            error = timeout_error(rid, timeout)
            stamp = datetime.fromtimestamp(self.clock.now(), tz=UTC)
            text += f"{stamp.strftime('%Y-%m-%dT%H:%M:%S.')}{stamp.microsecond // 1000:03d}Z {rid} {timeout_message(timeout)}\n"
            status = "timeout"
            duration = max(duration, timeout * 1000)
        else:
            error = exit_error(rid, _describe_exit(code), out_of_memory=worker.out_of_memory)
            text += f"{error.error_message}\n{error.error_type}\n"
            status = "error"
        text += end_line(rid) + report_line(
            rid,
            duration,
            spec.memory_size,
            memory,
            init_duration_ms=init_ms,
            status=status,
            error_type=None if worker.timed_out else error.error_type,
        )
        return InvocationResult(
            rid,
            platform_error_payload(error),
            error,
            text,
            duration_ms=duration,
            billed_duration_ms=billed_ms(duration),
            init_duration_ms=init_ms,
            memory_size_mb=spec.memory_size,
            max_memory_used_mb=memory,
            timed_out=worker.timed_out,
            worker_crashed=not worker.timed_out,
        )

    # -- background -----------------------------------------------------------------------------

    async def _watch_memory(self) -> None:
        """Sample busy workers' resident memory; kill one that outgrew its MemorySize."""
        assert self.memory_poll is not None
        try:
            while self._busy:
                await asyncio.sleep(self.memory_poll)
                for worker in list(self._busy):
                    rss = worker.rss_mb()
                    if rss is not None and rss > worker.memory_limit_mb:
                        log.info(
                            "worker %d uses %.0f MB of %d MB: killed",
                            worker.pid,
                            rss,
                            worker.memory_limit_mb,
                        )
                        worker.out_of_memory = True
                        worker.kill()
        finally:
            self._monitor = None

    async def _reap_idle(self) -> None:
        interval = max(0.05, min(30.0, self.idle_timeout / 4))
        while True:
            await asyncio.sleep(interval)
            now = self.clock.monotonic()
            for key, pool in list(self._pools.items()):
                keep = [w for w in pool.idle if now - w.last_used < self.idle_timeout]
                for worker in pool.idle:
                    if worker not in keep:
                        self._retire(pool, worker)
                pool.idle = keep
                if pool.live == 0 and not pool.waiters:
                    del self._pools[key]


def _throttled(spec: FunctionSpec, context: InvocationContext, reason: str) -> InvocationResult:
    return InvocationResult(
        context.request_id, throttled=True, throttle_reason=reason, memory_size_mb=spec.memory_size
    )


def _describe_exit(code: int | None) -> str:
    if code is None:
        return exit_reason(-1, "killed")
    if code < 0:
        try:
            name = signal.strsignal(-code) or f"signal {-code}"
        except ValueError:
            name = f"signal {-code}"
        # Go names signals in lower case ("segmentation fault", "killed"); strsignal capitalizes.
        return exit_reason(code, name[0].lower() + name[1:])
    return exit_reason(code, None)
