"""Request bodies read as they arrive, for operations that stream their input.

``AsgiBody`` reads the ASGI ``http.request`` messages one by one; nothing accumulates in
memory beyond the chunk in hand.  Two things a buffered body gets checked for are checked on
the fly instead, and fail at the end of the stream (before the consumer commits anything):

- the SHA-256 the client announced in ``x-amz-content-sha256`` (the signature covered the
  announcement, so the bytes must match it: ``XAmzContentSHA256Mismatch`` for S3);
- the ``Content-Length`` it declared (a client that hangs up early sent an incomplete body).

``AwsChunkedBody`` decodes S3's ``Content-Encoding: aws-chunked`` framing on top of it::

    <hex size>[;chunk-signature=<sig>]\\r\\n<data>\\r\\n ... 0[;chunk-signature=..]\\r\\n
    [<trailer name>:<value>\\r\\n ...]\\r\\n

and exposes the trailing headers (``x-amz-checksum-crc32`` and friends) once it is exhausted.
With a ``ChunkSigner`` (``STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]``), each chunk's
signature is checked when the chunk ends, chained from the seed signature of the
Authorization header, and so is the trailer's ``x-amz-trailer-signature``.

References: https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html and
https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming-trailers.html
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from typing import Any

from headwater.core.errors import ServiceError

Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]

INCOMPLETE_BODY = "You did not provide the number of bytes specified by the Content-Length HTTP header."
_MAX_LINE = 4096
_HASH_BATCH = 256 * 1024  # a chunk header or trailer line longer than this is not aws-chunked


class ClientDisconnected(Exception):
    """The client went away in the middle of its request body."""


def incomplete_body() -> ServiceError:
    return ServiceError("IncompleteBody", INCOMPLETE_BODY, 400)


class AsgiBody:
    """The raw request body, chunk by chunk, from the ASGI receive channel."""

    def __init__(
        self,
        receive: Receive,
        *,
        length: int | None = None,
        expected_sha256: str | None = None,
        on_sha256_mismatch: Callable[[str, str], Exception] | None = None,
    ) -> None:
        self._receive = receive
        self._length = length
        self._expected = expected_sha256.lower() if expected_sha256 else None
        self._on_mismatch = on_sha256_mismatch
        self._used = False
        self.received = 0
        self.complete = False  # the client's last body message has been read

    @property
    def trailers(self) -> dict[str, str]:
        return {}

    def __aiter__(self) -> AsyncIterator[bytes]:
        if self._used:
            raise RuntimeError("a request body can be read only once")
        self._used = True
        return self._chunks()

    async def _chunks(self) -> AsyncIterator[bytes]:
        if self._expected is None:
            async for chunk in self._messages():
                yield chunk
        else:
            # Hash in batches on a worker thread (hashlib releases the GIL): SHA-256 of a large
            # upload would otherwise hold the event loop at a few hundred MB/s.
            digest = hashlib.sha256()
            loop = asyncio.get_running_loop()
            batch: list[bytes] = []
            size = 0
            async for chunk in self._messages():
                batch.append(chunk)
                size += len(chunk)
                if size >= _HASH_BATCH:
                    joined = b"".join(batch)
                    await loop.run_in_executor(None, digest.update, joined)
                    batch, size = [], 0
                    yield joined
            if batch:
                joined = b"".join(batch)
                digest.update(joined)
                yield joined
            actual = digest.hexdigest()
            if self._length is not None and self.received < self._length:
                raise incomplete_body()
            if actual != self._expected:
                if self._on_mismatch is not None:
                    raise self._on_mismatch(self._expected, actual)
                raise ServiceError("XAmzContentSHA256Mismatch", "", 400)
            return
        if self._length is not None and self.received < self._length:
            raise incomplete_body()

    async def _messages(self) -> AsyncIterator[bytes]:
        more = True
        while more:
            message = await self._receive()
            if message["type"] == "http.disconnect":
                raise ClientDisconnected()
            chunk = message.get("body", b"")
            more = message.get("more_body", False)
            self.complete = not more
            if chunk:
                self.received += len(chunk)
                yield chunk


EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


class ChunkSigner:
    """The signature chain of a signed aws-chunked body (SigV4 streaming)."""

    def __init__(self, key: bytes, amz_date: str, scope: str, seed: str,
                 on_mismatch: Callable[[], Exception]) -> None:
        self._key = key
        self._prefix = f"{amz_date}\n{scope}\n"
        self.previous = seed
        self._on_mismatch = on_mismatch

    def _sign(self, kind: str, digest: str) -> str:
        text = f"{kind}\n{self._prefix}{self.previous}\n{digest}"
        return hmac.new(self._key, text.encode("utf-8"), hashlib.sha256).hexdigest()

    def check_chunk(self, data_sha256: str, given: str | None) -> None:
        expected = self._sign("AWS4-HMAC-SHA256-PAYLOAD", f"{EMPTY_SHA256}\n{data_sha256}")
        if given is None or not hmac.compare_digest(expected, given):
            raise self._on_mismatch()
        self.previous = expected

    def check_trailer(self, trailer: bytes, given: str | None) -> None:
        expected = self._sign("AWS4-HMAC-SHA256-TRAILER", hashlib.sha256(trailer).hexdigest())
        if given is None or not hmac.compare_digest(expected, given):
            raise self._on_mismatch()


def _chunk_signature(header: bytes) -> str | None:
    for part in header.split(b";")[1:]:
        name, _, value = part.partition(b"=")
        if name.strip() == b"chunk-signature":
            return value.strip().decode("latin-1")
    return None


class AwsChunkedBody:
    """The decoded payload of an aws-chunked body, and its trailers."""

    def __init__(self, raw: AsyncIterator[bytes] | Any, decoded_length: int | None = None,
                 signer: ChunkSigner | None = None) -> None:
        self._raw = raw
        self._decoded_length = decoded_length
        self._signer = signer
        self._trailers: dict[str, str] = {}
        self._used = False
        self.decoded = 0

    @property
    def complete(self) -> bool:
        return bool(getattr(self._raw, "complete", True))

    @property
    def trailers(self) -> dict[str, str]:
        return self._trailers

    def __aiter__(self) -> AsyncIterator[bytes]:
        if self._used:
            raise RuntimeError("a request body can be read only once")
        self._used = True
        return self._chunks()

    async def _chunks(self) -> AsyncIterator[bytes]:
        reader = _Reader(self._raw.__aiter__())
        while True:
            header = await reader.line()
            size_text = header.split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                raise incomplete_body() from None
            if size < 0:
                raise incomplete_body()
            signer = self._signer
            digest = hashlib.sha256() if signer is not None else None
            if size == 0:
                if signer is not None:
                    signer.check_chunk(EMPTY_SHA256, _chunk_signature(header))
                break
            remaining = size
            while remaining:
                piece = await reader.take(remaining)
                remaining -= len(piece)
                self.decoded += len(piece)
                if digest is not None:
                    digest.update(piece)
                yield piece
            if await reader.line() != b"":
                raise incomplete_body()  # the data was not followed by its CRLF
            if signer is not None and digest is not None:
                signer.check_chunk(digest.hexdigest(), _chunk_signature(header))
        signed_trailer = b""
        trailer_signature: str | None = None
        while True:
            line = await reader.line(eof_ok=True)
            if not line:
                break
            name, sep, value = line.decode("latin-1").partition(":")
            if not sep:
                raise incomplete_body()
            name = name.strip().lower()
            if name == "x-amz-trailer-signature":
                trailer_signature = value.strip()
                continue
            signed_trailer += f"{name}:{value.strip()}\n".encode("latin-1")
            self._trailers[name] = value.strip()
        if self._signer is not None and (signed_trailer or trailer_signature is not None):
            self._signer.check_trailer(signed_trailer, trailer_signature)
        if self._decoded_length is not None and self.decoded != self._decoded_length:
            raise incomplete_body()


class _Reader:
    """Lines and counted reads over an async iterator of byte chunks."""

    def __init__(self, source: AsyncIterator[bytes]) -> None:
        self._source = source
        self._buffer = bytearray()
        self._eof = False

    async def _fill(self) -> bool:
        if self._eof:
            return False
        try:
            chunk = await self._source.__anext__()
        except StopAsyncIteration:
            self._eof = True
            return False
        self._buffer += chunk
        return True

    async def line(self, eof_ok: bool = False) -> bytes:
        while True:
            end = self._buffer.find(b"\r\n")
            if end >= 0:
                found = bytes(self._buffer[:end])
                del self._buffer[: end + 2]
                return found
            if len(self._buffer) > _MAX_LINE:
                raise incomplete_body()
            if not await self._fill():
                if eof_ok and not self._buffer:
                    return b""
                raise incomplete_body()

    async def take(self, most: int) -> bytes:
        """Up to ``most`` bytes (at least one)."""
        if not self._buffer and not await self._fill():
            raise incomplete_body()
        if len(self._buffer) <= most:
            found = bytes(self._buffer)
            self._buffer.clear()
            return found
        found = bytes(self._buffer[:most])
        del self._buffer[:most]
        return found
