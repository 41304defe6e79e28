"""The clocks: the system one, and the manual one tests move by hand."""

import pytest

from headwater.core.clock import ManualClock, SystemClock


def test_manual_clock_only_moves_when_told():
    clock = ManualClock(start=100.0)
    assert clock.now() == 100.0
    clock.advance(2.5)
    assert clock.now() == 102.5
    assert clock.monotonic() == 2.5
    with pytest.raises(ValueError):
        clock.advance(-1)


def test_system_clock_is_epoch_seconds():
    assert SystemClock().now() > 1_600_000_000
