"""The timer scheduler: one heap, one asyncio task, woken early by an earlier deadline."""

from __future__ import annotations

import asyncio
import time

from headwater.core.clock import ManualClock, SystemClock
from headwater.services.stepfunctions.workers import Scheduler


def test_run_due_fires_in_deadline_order_on_a_manual_clock() -> None:
    clock = ManualClock(100.0)
    fired: list[object] = []
    scheduler = Scheduler(clock, fired.extend)
    for deadline, key in ((105.0, "c"), (101.0, "a"), (103.0, "b")):
        scheduler.add(deadline, key)
    assert scheduler.run_due() == 0
    clock.advance(3)
    assert scheduler.run_due() == 2 and fired == ["a", "b"]
    clock.advance(10)
    scheduler.run_due()
    assert fired == ["a", "b", "c"] and len(scheduler) == 0


def test_the_loop_wakes_for_an_earlier_deadline() -> None:
    async def scenario() -> list[tuple[object, float]]:
        fired: list[tuple[object, float]] = []
        scheduler = Scheduler(SystemClock(), lambda keys: fired.extend(
            (key, time.time()) for key in keys))
        await scheduler.start()
        try:
            now = time.time()
            scheduler.add(now + 0.5, "late")
            await asyncio.sleep(0.05)  # the loop now sleeps until "late"
            scheduler.add(now + 0.1, "early")
            await asyncio.sleep(0.7)
        finally:
            await scheduler.stop()
        return fired

    began = time.time()
    fired = asyncio.run(scenario())
    assert [key for key, _ in fired] == ["early", "late"]
    assert fired[0][1] - began < 0.4  # not held back until the later deadline


def test_a_failing_callback_does_not_stop_the_scheduler() -> None:
    clock = ManualClock(0.0)
    calls: list[list[object]] = []

    def fire(keys: list[object]) -> None:
        calls.append(keys)
        raise RuntimeError("boom")

    scheduler = Scheduler(clock, fire)
    scheduler.add(1.0, "x")
    scheduler.add(2.0, "y")
    clock.advance(1)
    scheduler.run_due()
    clock.advance(1)
    scheduler.run_due()
    assert calls == [["x"], ["y"]]
