"""Long-poll wake-ups: a waiting receive resumes on notify, or at its timeout."""

from __future__ import annotations

import asyncio
import threading
import time

from headwater.services.sqs.wakeups import Wakeups


def test_notify_wakes_only_that_queue() -> None:
    async def scenario() -> tuple[float, int]:
        wakeups = Wakeups()
        start = time.monotonic()
        waiter = asyncio.create_task(wakeups.wait(1, 5.0))
        other = asyncio.create_task(wakeups.wait(2, 5.0))
        await asyncio.sleep(0.01)
        wakeups.notify(1)
        await waiter
        elapsed = time.monotonic() - start
        still = wakeups.waiting(2)
        other.cancel()
        return elapsed, still

    elapsed, still = asyncio.run(scenario())
    assert elapsed < 1.0
    assert still == 1


def test_wait_returns_at_the_timeout() -> None:
    async def scenario() -> float:
        wakeups = Wakeups()
        start = time.monotonic()
        await wakeups.wait(1, 0.05)
        assert wakeups.waiting(1) == 0
        return time.monotonic() - start

    assert 0.04 < asyncio.run(scenario()) < 1.0


def test_notify_from_another_thread_hops_onto_the_loop() -> None:
    async def scenario() -> float:
        wakeups = Wakeups()
        start = time.monotonic()
        waiter = asyncio.create_task(wakeups.wait(7, 5.0))
        await asyncio.sleep(0.01)
        threading.Thread(target=wakeups.notify, args=(7,)).start()
        await waiter
        return time.monotonic() - start

    assert asyncio.run(scenario()) < 1.0


def test_notify_without_waiters_is_a_no_op() -> None:
    Wakeups().notify(3)
