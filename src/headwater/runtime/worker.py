"""One worker process as the server sees it: start it, exchange frames, watch it, end it.

A worker is a ``python -m headwater.runtime.host`` process (``runtime/host.py``) with:

- one end of a Unix socket pair, spoken to through an asyncio protocol that resolves one
  future per frame (``runtime/channel.py``): no thread, no pickling, no per-call process;
- fds 1 and 2 on an anonymous O_APPEND file (a memfd on Linux) that the server holds too, so
  output written just before a crash or a timeout kill can still be read afterwards;
- its own session (process group), so a kill also ends any subprocess the handler started;
- a pidfd (Linux) that tells the event loop the moment the process exits, and its exit status.

Pooling, timeouts and memory limits are decided by ``runtime/local.py``; this module only
carries them out.  Not an AWS concept; the nearest is Lambda's "execution environment".
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import signal
import socket
import subprocess
import tempfile
from collections import deque
from collections.abc import Mapping, Sequence
from pathlib import Path

from headwater.runtime.channel import ChannelClosed, FrameBuffer, encode

Frame = tuple[bytes, bytes, bytes]
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


class WorkerGone(Exception):
    """The worker's socket closed (it exited, crashed or was killed) before it answered."""


class _FrameProtocol(asyncio.Protocol):
    def __init__(self) -> None:
        self.frames = FrameBuffer()
        self.waiter: asyncio.Future[Frame] | None = None
        # Frames that arrived before anyone waited (a ready frame racing the spawn's return).
        self.early: deque[Frame] = deque()
        self.closed = False

    def data_received(self, data: bytes) -> None:
        self.frames.feed(data)
        try:
            frame = self.frames.next()
        except ChannelClosed:
            self.closed = True
            self._fail()
            return
        while frame is not None:
            waiter, self.waiter = self.waiter, None
            if waiter is None or waiter.cancelled():
                # Nobody waits yet (a ready frame racing the spawn's return), or the caller
                # was cancelled: keep it for the next expect().
                self.early.append(frame)
            elif not waiter.done():
                waiter.set_result(frame)
            # A reply that lost the race with its timeout is dropped: that worker is being
            # killed and never serves another call.
            frame = self.frames.next()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._fail()

    def _fail(self) -> None:
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(WorkerGone())


def _log_file() -> int:
    """An anonymous file for the worker's stdout and stderr, in O_APPEND mode.

    O_APPEND because the worker truncates it after each invocation while the descriptor is
    shared: without it the next write would land at the old offset and leave a hole.
    """
    if hasattr(os, "memfd_create"):
        fd = os.memfd_create("headwater-worker-log", os.MFD_CLOEXEC)
    else:
        fd, path = tempfile.mkstemp(prefix="headwater-worker-", suffix=".log")
        os.unlink(path)
        os.set_inheritable(fd, False)
    fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_APPEND)
    return fd


class Worker:
    """A started worker process.  Attributes below the first block belong to the pool."""

    def __init__(
        self,
        proc: subprocess.Popen[bytes],
        transport: asyncio.Transport,
        protocol: _FrameProtocol,
        log_fd: int,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        self.proc = proc
        self.pid = proc.pid
        self.transport = transport
        self.protocol = protocol
        self.log_fd = log_fd
        self.loop = loop
        self.exited: asyncio.Future[int] = loop.create_future()
        self._watch_exit()
        # Pool bookkeeping (runtime/local.py).
        self.generation = 0
        self.last_used = 0.0
        self.init_ms: float | None = None  # reported with the first invocation only
        self.init_logs = b""
        self.timed_out = False
        self.out_of_memory = False
        self.memory_limit_mb = 0

    @classmethod
    async def spawn(
        cls, python: str, host_args: Sequence[str], env: Mapping[str, str], cwd: Path
    ) -> Worker:
        """Start ``python -m headwater.runtime.host FD *host_args`` in ``cwd``."""
        loop = asyncio.get_running_loop()
        parent, child = socket.socketpair()
        log_fd = _log_file()
        try:
            # fork+exec takes a few ms on the loop thread; asyncio's own subprocess support
            # does the same, and it only happens on a cold start.
            proc = subprocess.Popen(  # noqa: ASYNC220
                [python, "-m", "headwater.runtime.host", str(child.fileno()), *host_args],
                cwd=cwd,
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=log_fd,
                stderr=log_fd,
                pass_fds=(child.fileno(),),
                start_new_session=True,
            )
        except BaseException:
            parent.close()
            os.close(log_fd)
            raise
        finally:
            child.close()
        try:
            transport, protocol = await loop.create_unix_connection(_FrameProtocol, sock=parent)
        except BaseException:
            proc.kill()
            proc.wait()
            parent.close()
            os.close(log_fd)
            raise
        return cls(proc, transport, protocol, log_fd, loop)

    # -- talking ------------------------------------------------------------------------------

    def expect(self) -> asyncio.Future[Frame]:
        """A future for the next frame the worker sends (its ready frame, or a reply)."""
        fut: asyncio.Future[Frame] = self.loop.create_future()
        if self.protocol.early:
            fut.set_result(self.protocol.early.popleft())
        elif self.protocol.closed:
            fut.set_exception(WorkerGone())
        else:
            self.protocol.waiter = fut
        return fut

    def request(self, meta: bytes, body: bytes) -> asyncio.Future[Frame]:
        fut = self.expect()
        if not fut.done():
            self.transport.write(encode(meta, body))
        return fut

    def abandon(self) -> None:
        """Stop waiting for a reply (after a timeout); a late one is dropped."""
        self.protocol.waiter = None

    @property
    def alive(self) -> bool:
        return not self.protocol.closed and not self.exited.done()

    # -- watching -----------------------------------------------------------------------------

    def _watch_exit(self) -> None:
        pidfd_open = getattr(os, "pidfd_open", None)
        if pidfd_open is not None:
            try:
                pidfd = pidfd_open(self.pid)
            except OSError:
                pidfd = -1
            if pidfd >= 0:
                self.loop.add_reader(pidfd, self._on_pidfd, pidfd)
                return
        self.loop.create_task(self._poll_exit())

    def _on_pidfd(self, pidfd: int) -> None:
        self.loop.remove_reader(pidfd)
        os.close(pidfd)
        self._set_exited(self.proc.wait())

    async def _poll_exit(self) -> None:
        while (code := self.proc.poll()) is None:
            await asyncio.sleep(0.02)
        self._set_exited(code)

    def _set_exited(self, code: int) -> None:
        if not self.exited.done():
            self.exited.set_result(code)

    def rss_mb(self) -> float | None:
        """Resident memory now, from /proc (None where there is no /proc)."""
        try:
            with open(f"/proc/{self.pid}/statm", "rb") as f:
                return int(f.read().split()[1]) * _PAGE / (1024 * 1024)
        except (OSError, IndexError, ValueError):
            return None

    def read_logs(self) -> bytes:
        """Whatever the worker wrote since its last reply (used after it died or was killed)."""
        try:
            size = os.fstat(self.log_fd).st_size
            data = os.pread(self.log_fd, size, 0) if size else b""
            os.ftruncate(self.log_fd, 0)
        except OSError:
            return b""
        return data

    # -- ending -------------------------------------------------------------------------------

    def kill(self) -> None:
        """SIGKILL the worker's whole process group: Lambda gives a timed-out handler no grace."""
        if self.exited.done():
            return  # reaped: the pid may already belong to someone else
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            self.proc.kill()

    async def wait_exit(self, grace: float) -> int | None:
        try:
            return await asyncio.wait_for(asyncio.shield(self.exited), grace)
        except TimeoutError:
            return None

    async def close(self, grace: float = 1.0) -> None:
        """Ask the worker to stop (it exits when its socket closes), then make sure it has."""
        self.transport.close()
        if await self.wait_exit(grace) is None:
            self.kill()
            await self.wait_exit(5.0)
        self.dispose()

    def dispose(self) -> None:
        """Release the server-side descriptors; call once the worker has exited."""
        self.transport.close()
        if self.log_fd >= 0:
            os.close(self.log_fd)
            self.log_fd = -1
