"""The frames between the server and a worker process, over one Unix socket pair per worker.

Not an AWS protocol: Lambda's own runtime API is HTTP on a loopback port, which would cost a
request parse per invocation on both sides.  headwater's worker speaks this instead:

    frame = header meta body logs
    header = three little-endian uint32: len(meta), len(body), len(logs)

``meta`` is a small JSON object (request id, timeout; on the way back ok/duration/memory);
``body`` is the event or the result, raw bytes that are never re-encoded; ``logs`` is what the
function printed during that invocation.  One frame each way per invocation, and the socket is
kept for the worker's whole life, so an invocation costs two ``send`` and two ``recv`` calls.

This module is imported by the worker process before any user code, so it uses only the
standard library.
"""

from __future__ import annotations

import socket
import struct

HEADER = struct.Struct("<III")
# A frame larger than this is a protocol error, not a payload: Lambda's largest (a 6 MB
# synchronous response plus 4 MB of logs) stays far below it.
MAX_FRAME = 256 * 1024 * 1024


class ChannelClosed(Exception):
    """The other end of the socket went away."""


def encode(meta: bytes, body: bytes = b"", logs: bytes = b"") -> bytes:
    return b"".join((HEADER.pack(len(meta), len(body), len(logs)), meta, body, logs))


class FrameBuffer:
    """Incremental frame parser: feed it bytes as they arrive, take whole frames out."""

    __slots__ = ("_buf",)

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> None:
        self._buf += data

    def pending(self) -> int:
        """How many more bytes the frame being received still needs (0 if unknown)."""
        if len(self._buf) < HEADER.size:
            return HEADER.size - len(self._buf)
        m, b, lg = HEADER.unpack_from(self._buf)
        return max(0, HEADER.size + int(m) + int(b) + int(lg) - len(self._buf))

    def next(self) -> tuple[bytes, bytes, bytes] | None:
        buf = self._buf
        if len(buf) < HEADER.size:
            return None
        m, b, lg = HEADER.unpack_from(buf)
        total = HEADER.size + m + b + lg
        if total > MAX_FRAME:
            raise ChannelClosed(f"frame of {total} bytes exceeds the limit")
        if len(buf) < total:
            return None
        view = memoryview(buf)
        start = HEADER.size
        meta = bytes(view[start : start + m])
        body = bytes(view[start + m : start + m + b])
        logs = bytes(view[start + m + b : total])
        view.release()
        del buf[:total]
        return meta, body, logs


class BlockingChannel:
    """The worker's end: blocking reads and writes on its half of the socket pair."""

    __slots__ = ("_frames", "_sock")

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._frames = FrameBuffer()

    def recv(self) -> tuple[bytes, bytes, bytes]:
        while True:
            frame = self._frames.next()
            if frame is not None:
                return frame
            # Ask for the whole rest of a large frame at once instead of 64 KB at a time.
            chunk = self._sock.recv(max(65536, self._frames.pending()))
            if not chunk:
                raise ChannelClosed("the server closed the channel")
            self._frames.feed(chunk)

    def send(self, meta: bytes, body: bytes = b"", logs: bytes = b"") -> None:
        self._sock.sendall(encode(meta, body, logs))
