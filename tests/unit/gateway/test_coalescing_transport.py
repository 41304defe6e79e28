"""Response writes of one loop turn leave as one send; large writes are never held or copied."""

from __future__ import annotations

import asyncio
from typing import Any

from headwater.gateway.server import _CoalescingTransport


class FakeTransport:
    def __init__(self) -> None:
        self.sent: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        assert not self.closed
        self.sent.append(data)

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def get_write_buffer_size(self) -> int:
        return 0

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return ("127.0.0.1", 1234) if name == "peername" else default


def test_writes_of_one_turn_are_one_send() -> None:
    async def scenario() -> list[bytes]:
        real = FakeTransport()
        transport = _CoalescingTransport(real, asyncio.get_running_loop())  # type: ignore[arg-type]
        transport.write(b"HTTP/1.1 200 OK\r\n\r\n")
        transport.write(b"body")
        assert real.sent == [] and transport.get_write_buffer_size() == 23
        await asyncio.sleep(0)
        transport.write(b"next")
        await asyncio.sleep(0)
        return real.sent

    assert asyncio.run(scenario()) == [b"HTTP/1.1 200 OK\r\n\r\nbody", b"next"]


def test_a_large_write_goes_at_once_behind_what_is_pending() -> None:
    async def scenario() -> list[bytes]:
        real = FakeTransport()
        transport = _CoalescingTransport(real, asyncio.get_running_loop())  # type: ignore[arg-type]
        transport.write(b"headers")
        big = b"x" * (1 << 20)
        transport.write(big)
        assert real.sent[1] is big  # not copied
        await asyncio.sleep(0)
        return real.sent

    assert asyncio.run(scenario())[0] == b"headers"


def test_close_sends_what_is_pending_first_and_the_rest_delegates() -> None:
    async def scenario() -> FakeTransport:
        real = FakeTransport()
        transport = _CoalescingTransport(real, asyncio.get_running_loop())  # type: ignore[arg-type]
        transport.write(b"last words")
        transport.close()
        assert transport.get_extra_info("peername") == ("127.0.0.1", 1234)
        assert transport.is_closing()
        await asyncio.sleep(0)  # the scheduled flush finds nothing left to send
        return real

    real = asyncio.run(scenario())
    assert real.sent == [b"last words"] and real.closed
