"""Running the gateway under uvicorn, in the foreground or on a background thread.

uvicorn owns signals: on Ctrl-C or SIGTERM it stops accepting, lets in-flight requests finish,
then runs the lifespan shutdown, which stops service workers and closes the store.
"""

from __future__ import annotations

import asyncio
import ctypes
import gc
import logging
import socket
import sys
import threading
from types import FrameType

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from headwater.gateway.app import Gateway

log = logging.getLogger(__name__)


def _config(gateway: Gateway, **overrides: object) -> uvicorn.Config:
    settings = gateway.settings
    options: dict[str, object] = {
        "host": settings.host,
        "port": settings.port,
        "lifespan": "on",
        "log_level": "warning",
        "access_log": False,
        # No "server: uvicorn": AWS services do not name the software behind them; S3's own
        # "Server: AmazonS3" comes from its serializer.
        "server_header": False,
        # The gateway sends its own Date, exact to the second (``Gateway._http_date``).
        "date_header": False,
        # X-Forwarded-For / -Proto are not taken from anyone: headwater sits behind no proxy it
        # knows of, and uvicorn's middleware for them costs a coroutine on every request.
        "proxy_headers": False,
        "http": _HttpProtocol,
        "loop": "uvloop",
        "timeout_graceful_shutdown": 30,
        # Long polls last up to 20 s; keep idle connections longer than that.
        "timeout_keep_alive": 75,
    }
    options.update(overrides)
    return uvicorn.Config(gateway, **options)  # type: ignore[arg-type]


class _CoalescingTransport:
    """A connection's transport whose writes of one event-loop turn leave as one ``send``.

    uvicorn writes a response's status line and headers as soon as the app starts the
    response, then the body separately: two syscalls and two TCP segments for every small
    response, and the client wakes twice.  Writes here are gathered and sent together when the
    response is complete (``_HttpProtocol``) or else at the end of the loop turn; a large write
    goes out at once behind whatever is pending, so streamed bodies are never copied.
    Everything else is the real transport's.
    """

    _DIRECT = 64 * 1024  # writes this large are not worth a copy

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []

    def write(self, data: bytes) -> None:
        if len(data) >= self._DIRECT:
            self.flush()
            self._transport.write(data)
            return
        if not self._pending:
            self._loop.call_soon(self.flush)
        self._pending.append(data)

    def flush(self) -> None:
        """Send what is pending (also called once a response is complete)."""
        if not self._pending:
            return
        data = self._pending[0] if len(self._pending) == 1 else b"".join(self._pending)
        self._pending = []
        if not self._transport.is_closing():
            self._transport.write(data)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def abort(self) -> None:
        self._pending = []
        self._transport.abort()

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + sum(map(len, self._pending))

    def __getattr__(self, name: str) -> object:
        return getattr(self._transport, name)  # is_closing, pause_reading, get_extra_info, ...


class _HttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol on a ``_CoalescingTransport``."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._coalescing = _CoalescingTransport(transport, self.loop)
        super().connection_made(self._coalescing)  # type: ignore[arg-type]

    def on_response_complete(self) -> None:
        # The response is whole: send it now rather than at the end of the loop turn, so the
        # client has it while the app's coroutine unwinds and uvicorn re-arms its keep-alive
        # timer -- with one client waiting on each answer, that work leaves its critical path.
        self._coalescing.flush()
        super().on_response_complete()


class _Server(uvicorn.Server):
    """uvicorn with headwater's shutdown manners.

    - Before uvicorn waits for in-flight requests, the gateway drains: long polls answer now
      instead of holding shutdown for up to 20 s.
    - After a graceful shutdown uvicorn re-raises the signal that stopped it, so the process
      would end "killed by SIGTERM" (status -15) although it shut down cleanly; headwater
      exits 0 instead, which service managers read as a clean stop.
    """

    def __init__(self, gateway: Gateway, config: uvicorn.Config, *, owns_process: bool) -> None:
        super().__init__(config)
        self.gateway = gateway
        self.owns_process = owns_process

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        self._captured_signals.clear()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.owns_process:
            # Everything built so far (botocore's service models above all, some 70,000
            # objects) lives as long as the process: moved out of the collector's sight, a full
            # collection no longer stalls every request in flight for tens of milliseconds.
            # Not in a test process, whose earlier objects would never be collected again.
            gc.collect()
            gc.freeze()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self.gateway.drain()
        await super().shutdown(sockets)


def serve(gateway: Gateway) -> None:
    """Serve in the foreground until interrupted."""
    _keep_freed_memory()
    _Server(gateway, _config(gateway), owns_process=True).run()


def _keep_freed_memory() -> None:
    """Let glibc's malloc reuse freed memory instead of handing it back to the kernel.

    Large objects stream through in blocks of 1 to 4 MiB (bytes read from a file, batches
    of a request body).  By default glibc serves such sizes with a fresh ``mmap`` or gives
    the top of its heap back after a free, so each block costs a page fault per 4 KiB when it
    is touched: on a 2-core VM, ~100,000 faults per GiB and a fifth of a large GET's server
    CPU.  Fixed thresholds keep those blocks in the heap.  The price: memory freed after a
    burst of parallel transfers stays with the process (bench_s3's peak RSS ~115 -> ~200-250
    MiB after ten parallel 8 MiB part transfers); it is bounded by that peak, not by object
    sizes, since streams hold a few MiB each.  Only for the process ``serve`` owns.
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return  # not glibc
    m_trim_threshold, m_mmap_threshold = -1, -3
    mallopt(m_mmap_threshold, 32 << 20)  # glibc's largest allowed value
    mallopt(m_trim_threshold, 128 << 20)


class BackgroundServer:
    """The gateway on a daemon thread with its own event loop (for tests and notebooks)."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self._server = _Server(gateway, _config(gateway, loop="asyncio"), owns_process=False)
        self._thread = threading.Thread(target=self._run, name="headwater-server", daemon=True)

    def _run(self) -> None:
        asyncio.run(self._server.serve())

    def start(self, timeout: float = 30.0) -> None:
        self._thread.start()
        deadline = threading.Event()
        for _ in range(int(timeout / 0.01)):
            if self._server.started:
                return
            if not self._thread.is_alive():
                break
            deadline.wait(0.01)
        raise RuntimeError("headwater did not start")

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=35)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])
