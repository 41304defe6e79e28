"""Response writes of one loop turn leave as one send, and leave once the response is complete;
large writes are never held or copied."""

from __future__ import annotations

import asyncio
import socket
import time
from types import SimpleNamespace
from typing import Any

from headwater.gateway.server import BackgroundServer, _CoalescingTransport, free_port


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


def test_a_complete_response_leaves_before_the_app_returns() -> None:
    """With one client waiting on each answer, what the app does after its last send must not
    hold the response back: it is written as soon as uvicorn sees it complete."""

    class App:
        settings = SimpleNamespace(host="127.0.0.1", port=free_port())

        def drain(self) -> None:
            pass

        async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
            if scope["type"] == "lifespan":
                while (await receive())["type"] != "lifespan.shutdown":
                    await send({"type": "lifespan.startup.complete"})
                await send({"type": "lifespan.shutdown.complete"})
                return
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-length", b"2")]})
            await send({"type": "http.response.body", "body": b"ok"})
            time.sleep(1.0)  # noqa: ASYNC251 - blocks the loop: only a write made already gets out

    app = App()
    server = BackgroundServer(app)  # type: ignore[arg-type]
    server.start()
    try:
        with socket.create_connection(("127.0.0.1", app.settings.port), timeout=5) as conn:
            conn.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
            started = time.monotonic()
            answer = conn.recv(4096)
            waited = time.monotonic() - started
    finally:
        server.stop()
    assert answer.startswith(b"HTTP/1.1 200") and answer.endswith(b"\r\n\r\nok")
    assert waited < 0.5
