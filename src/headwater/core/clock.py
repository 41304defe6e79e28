"""Injected time.

Domain and engine code never read the wall clock themselves; they receive a ``Clock``.  The
server uses ``SystemClock``; tests use ``ManualClock`` and jump it forward, so visibility
timeouts, retention, Wait states and lifecycle days are tested without sleeping.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the Unix epoch, as a float."""
        ...

    def monotonic(self) -> float:
        """A clock for measuring intervals that never goes backwards."""
        ...


class SystemClock:
    def now(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()


class ManualClock:
    """A clock that only moves when told to.  ``advance`` jumps both readings."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._now = start
        self._mono = 0.0

    def now(self) -> float:
        return self._now

    def monotonic(self) -> float:
        return self._mono

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("a ManualClock never goes backwards")
        self._now += seconds
        self._mono += seconds

    def set(self, epoch_seconds: float) -> None:
        self.advance(max(0.0, epoch_seconds - self._now))


def to_datetime(epoch_seconds: float) -> datetime:
    return datetime.fromtimestamp(epoch_seconds, tz=UTC)
