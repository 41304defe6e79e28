"""Request bodies read as they arrive, for operations that stream their input.

``AsgiBody`` reads the ASGI ``http.request`` messages one by one; nothing accumulates in
memory beyond a batch of about ``BATCH`` bytes.  Two things a buffered body gets checked for
are checked on the fly instead, and fail at the end of the stream (before the consumer commits
anything):

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

Throughput: a large body's SHA-256 is computed in batches of about ``BATCH`` bytes on a
worker thread, while the chunks go on to the consumer (the hash releases the GIL at that size,
so receiving, hashing and whatever the consumer does overlap); aws-chunked framing is taken
apart a batch at a time in one hop to a worker thread.  The per-batch Python work is a handful
of calls, not one per network read.  A body's last bytes are handled inline when fewer than
``_INLINE_HASH``, since a thread hop would cost more than the work.

References: https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html and
https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming-trailers.html
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, MutableMapping
from typing import Any, TypeVar

from headwater.core.errors import ServiceError
from headwater.protocol.sigv4 import is_hex_sha256

Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
_T = TypeVar("_T")

INCOMPLETE_BODY = "You did not provide the number of bytes specified by the Content-Length HTTP header."
BATCH = 1 << 22  # bytes gathered before a worker thread hashes (or unframes) them
# A body's last bytes are hashed (or unframed) on the event loop when fewer than this: a
# thread hop costs more than the work, and more would hold up the loop's other requests.
_INLINE_HASH = 256 * 1024
_MAX_LINE = 4096  # a chunk header or trailer line longer than this is not aws-chunked


class ClientDisconnected(Exception):
    """The client went away in the middle of its request body."""


def incomplete_body(expected: int | None = None, provided: int | None = None) -> ServiceError:
    """S3's IncompleteBody; with the sizes when the body's declared length is known
    (an aws-chunked body's ``x-amz-decoded-content-length``, versity/versitygw#1684)."""
    fields = {} if expected is None else {
        "NumberBytesExpected": expected, "NumberBytesProvided": provided}
    return ServiceError("IncompleteBody", INCOMPLETE_BODY, 400, fields=fields)


def aws_chunked(headers: Mapping[str, str]) -> bool:
    """Whether a request body comes in aws-chunked framing: its ``x-amz-content-sha256``
    names a streaming payload (``STREAMING-...``), or its Content-Encoding lists
    ``aws-chunked`` and it does not carry the SHA-256 of a plain body.

    - The payload type alone is enough for S3: minio-go sent
      ``STREAMING-AWS4-HMAC-SHA256-PAYLOAD`` bodies without the Content-Encoding
      (localstack/localstack#8704), and only some SDKs send it (apache/ozone#8366).
    - A body whose hash was signed is the body as sent: ``Content-Encoding: aws-chunked`` on
      such a PUT (boto3 with ``ContentEncoding="aws-chunked"``) declares a coding, not a
      framing, and S3 stores the body (ceph/s3-tests test_object_content_encoding_aws_chunked;
      rustfs/rustfs#4962).
    """
    claimed = headers.get("x-amz-content-sha256", "")
    if claimed.startswith("STREAMING-"):
        return True
    if is_hex_sha256(claimed):
        return False
    encodings = headers.get("content-encoding", "").split(",")
    return any(e.strip().lower() == "aws-chunked" for e in encodings)


async def _off_the_loop_if_large(size: int, work: Callable[..., _T], *args: Any) -> _T:
    """``work(*args)`` over ``size`` bytes: on a worker thread from ``_INLINE_HASH`` bytes up,
    else right here."""
    if size >= _INLINE_HASH:
        return await asyncio.get_running_loop().run_in_executor(None, work, *args)
    return work(*args)


def _hash_all(chunks: list[bytes], digest: Any) -> None:
    for chunk in chunks:
        digest.update(chunk)


class AsgiBody:
    """The raw request body, chunk by chunk, from the ASGI receive channel.

    The network's chunks are passed on as they come.  With a SHA-256 to check, they are
    hashed in batches of at least ``BATCH`` bytes on a worker thread meanwhile, and a
    mismatch ends the stream with an error after its last chunk.
    """

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
            # Each batch is hashed on a worker thread while the consumer already has its
            # chunks: the hash must be right only by the end of the stream.
            digest = hashlib.sha256()
            loop = asyncio.get_running_loop()
            hashing: asyncio.Future[None] | None = None  # the previous batch's
            batch: list[bytes] = []
            size = 0
            async for chunk in self._messages():
                batch.append(chunk)
                size += len(chunk)
                if size >= BATCH:
                    if hashing is not None:
                        await hashing  # one digest: batches go through it in order
                    hashing = loop.run_in_executor(None, _hash_all, batch, digest)
                    batch, size = [], 0
                yield chunk
            if hashing is not None:
                await hashing
            await _off_the_loop_if_large(size, _hash_all, batch, digest)
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
    """The decoded payload of an aws-chunked body, and its trailers.

    Decoded data comes out in batches of about ``BATCH`` bytes (the framing of a large body
    is taken apart on a worker thread, see the module docstring)."""

    def __init__(self, raw: AsyncIterator[bytes] | Any, decoded_length: int | None = None,
                 signer: ChunkSigner | None = None) -> None:
        self._raw = raw
        self._decoded_length = decoded_length
        self._framing = _Framing(signer)
        self._used = False

    @property
    def decoded(self) -> int:
        return self._framing.decoded

    @property
    def complete(self) -> bool:
        return bool(getattr(self._raw, "complete", True))

    @property
    def trailers(self) -> dict[str, str]:
        return self._framing.trailers

    def __aiter__(self) -> AsyncIterator[bytes]:
        if self._used:
            raise RuntimeError("a request body can be read only once")
        self._used = True
        return self._chunks()

    async def _chunks(self) -> AsyncIterator[bytes]:
        loop = asyncio.get_running_loop()
        batch: list[bytes] = []
        size = 0
        async for chunk in self._raw:
            batch.append(chunk)
            size += len(chunk)
            if size >= BATCH:
                data = await loop.run_in_executor(None, self._framing.decode, batch)
                batch, size = [], 0
                if data:
                    yield data
        data = await _off_the_loop_if_large(size, self._framing.decode, batch)
        if data:
            yield data
        self._framing.finish()
        if self._decoded_length is not None and self.decoded != self._decoded_length:
            raise incomplete_body(self._decoded_length, self.decoded)


# What ``_Framing`` expects next.
_HEADER, _DATA, _DATA_END, _TRAILER, _DONE = range(5)


class _Framing:
    """The aws-chunked framing as a state machine: encoded bytes in, payload bytes out.

    Synchronous and without I/O, so a worker thread can run it over a whole batch.  Data is
    sliced out of the encoded bytes through memoryviews and joined once per batch; only a
    header or trailer line cut by a batch boundary is carried over (at most ``_MAX_LINE``).
    """

    def __init__(self, signer: ChunkSigner | None) -> None:
        self._signer = signer
        self._state = _HEADER
        self._line = b""  # the start of a line the previous batch ended in
        self._remaining = 0  # data bytes left in the current chunk
        self._signature: str | None = None  # the current chunk's, when signed
        self._digest: Any = None  # SHA-256 of the current chunk's data, when signed
        self._signed_trailer = b""
        self._trailer_signature: str | None = None
        self.trailers: dict[str, str] = {}
        self.decoded = 0

    def decode(self, encoded: list[bytes]) -> bytes:
        pieces: list[memoryview] = []
        for chunk in encoded:
            self._feed(chunk if isinstance(chunk, bytes) else bytes(chunk), pieces)
        if len(pieces) == 1:
            return pieces[0].tobytes()
        return b"".join(pieces)

    def finish(self) -> None:
        """The encoded stream has ended: it must have ended where the framing allows."""
        if self._state == _TRAILER and not self._line:
            self._end_trailers()  # the blank line after the trailers may be left out
        if self._state != _DONE:
            raise incomplete_body()

    def _feed(self, data: bytes, pieces: list[memoryview]) -> None:
        view = memoryview(data)
        pos, end = 0, len(data)
        while pos < end:
            if self._state == _DATA:
                take = min(self._remaining, end - pos)
                piece = view[pos : pos + take]
                pieces.append(piece)
                if self._digest is not None:
                    self._digest.update(piece)
                self._remaining -= take
                self.decoded += take
                pos += take
                if not self._remaining:
                    self._state = _DATA_END
                continue
            if self._state == _DONE:
                return  # anything after the final blank line is ignored, as before
            limit = pos + _MAX_LINE - len(self._line)  # the line's LF must come before this
            newline = data.find(b"\n", pos, limit)
            if newline < 0:
                if end >= limit:
                    raise incomplete_body()  # no line of aws-chunked is this long
                self._line += data[pos:]
                return
            line = self._line + data[pos : newline + 1]
            self._line = b""
            pos = newline + 1
            if not line.endswith(b"\r\n"):
                raise incomplete_body()
            self._on_line(line[:-2])

    def _on_line(self, line: bytes) -> None:
        if self._state == _HEADER:
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise incomplete_body() from None
            if size < 0:
                raise incomplete_body()
            if self._signer is not None:
                self._signature = _chunk_signature(line)
                self._digest = hashlib.sha256()
            if size == 0:
                if self._signer is not None:
                    self._signer.check_chunk(EMPTY_SHA256, self._signature)
                self._state = _TRAILER
            else:
                self._remaining = size
                self._state = _DATA
        elif self._state == _DATA_END:
            if line:
                raise incomplete_body()  # the data was not followed by its CRLF
            if self._signer is not None:
                self._signer.check_chunk(self._digest.hexdigest(), self._signature)
            self._state = _HEADER
        elif not line:  # _TRAILER: a blank line ends the trailers
            self._end_trailers()
        else:
            name, sep, value = line.decode("latin-1").partition(":")
            if not sep:
                raise incomplete_body()
            name = name.strip().lower()
            if name == "x-amz-trailer-signature":
                self._trailer_signature = value.strip()
                return
            self._signed_trailer += f"{name}:{value.strip()}\n".encode("latin-1")
            self.trailers[name] = value.strip()

    def _end_trailers(self) -> None:
        if self._signer is not None and (self._signed_trailer or self._trailer_signature is not None):
            self._signer.check_trailer(self._signed_trailer, self._trailer_signature)
        self._state = _DONE
