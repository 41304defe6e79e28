"""Large streamed bodies, handled in batches on worker threads: the bytes come out whole and in
order whatever the network's chunking, and every check (payload hash, aws-chunked framing,
chunk signatures, trailers, lengths) still holds across batch boundaries."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
from collections.abc import AsyncIterator
from typing import Any

import pytest

from headwater.core.errors import ServiceError
from headwater.protocol.body import (
    _INLINE_HASH,
    BATCH,
    EMPTY_SHA256,
    AsgiBody,
    AwsChunkedBody,
    ChunkSigner,
)

DATA = os.urandom(3 * BATCH + 12345)


def receiver(data: bytes, size: int) -> Any:
    pieces = [data[i : i + size] for i in range(0, len(data), size)]

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": pieces.pop(0), "more_body": bool(pieces)}

    return receive


async def pieces(data: bytes, size: int) -> AsyncIterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


async def collect(stream: Any) -> list[bytes]:
    return [chunk async for chunk in stream]


def encode(data: bytes, chunk: int, trailer: bytes = b"") -> bytes:
    out = [b"%x\r\n" % len(data[i : i + chunk]) + data[i : i + chunk] + b"\r\n"
           for i in range(0, len(data), chunk)]
    return b"".join(out) + b"0\r\n" + trailer + b"\r\n"


@pytest.mark.parametrize("size", [65536, 262144 + 7, 3 * BATCH])
def test_hashed_body_comes_out_whole_as_the_network_chunked_it(size: int) -> None:
    # Hashed in batches on the side: the chunks themselves are passed on as they came.
    body = AsgiBody(receiver(DATA, size), length=len(DATA),
                    expected_sha256=hashlib.sha256(DATA).hexdigest())
    out = asyncio.run(collect(body))
    assert b"".join(out) == DATA
    assert all(len(chunk) == size for chunk in out[:-1])


@pytest.mark.parametrize("tail", [100, _INLINE_HASH + 1])
def test_the_last_partial_batch_is_hashed_too(tail: int) -> None:
    # Fewer than _INLINE_HASH bytes are hashed on the loop, more on a worker thread.
    data = DATA[: BATCH + tail]
    ok = AsgiBody(receiver(data, 65536), expected_sha256=hashlib.sha256(data).hexdigest())
    assert b"".join(asyncio.run(collect(ok))) == data
    bad = AsgiBody(receiver(data, 65536), expected_sha256=hashlib.sha256(data[:-1]).hexdigest())
    with pytest.raises(ServiceError):
        asyncio.run(collect(bad))


def test_hash_mismatch_of_a_large_body_is_reported() -> None:
    body = AsgiBody(receiver(DATA, 100_000), expected_sha256=hashlib.sha256(b"other").hexdigest())
    with pytest.raises(ServiceError) as err:
        asyncio.run(collect(body))
    assert err.value.code == "XAmzContentSHA256Mismatch"


@pytest.mark.parametrize(("chunk", "size"), [(65536, 100_003), (1 << 20, 262144), (8000, 1)])
def test_aws_chunked_large_body_decodes_across_batches(chunk: int, size: int) -> None:
    data = DATA if size > 1 else DATA[:50_000]  # one byte at a time: keep it short
    encoded = encode(data, chunk, b"x-amz-checksum-crc32:AAAAAA==\r\n")
    body = AwsChunkedBody(pieces(encoded, size), decoded_length=len(data))
    assert b"".join(asyncio.run(collect(body))) == data
    assert body.trailers == {"x-amz-checksum-crc32": "AAAAAA=="}
    assert body.decoded == len(data)


def test_a_header_line_cut_by_a_batch_boundary_is_rejoined() -> None:
    encoded = encode(DATA[:BATCH + 10], BATCH - 2)
    # The second chunk's header starts 2 bytes before the first batch ends.
    cut = encoded.index(b"\r\n", BATCH) + 1
    async def two() -> AsyncIterator[bytes]:
        yield encoded[:cut]
        yield encoded[cut:]
    assert b"".join(asyncio.run(collect(AwsChunkedBody(two())))) == DATA[:BATCH + 10]


@pytest.mark.parametrize("damage", [None, "data", "trailer", "truncate"])
def test_large_signed_chunks(damage: str | None) -> None:
    key, date, scope, seed = b"k" * 32, "20260101T000000Z", "20260101/us-east-1/s3/aws4_request", "0" * 64

    def sign(kind: str, digest: str, previous: str) -> str:
        text = f"{kind}\n{date}\n{scope}\n{previous}\n{digest}"
        return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()

    out, previous = [], seed
    for i in range(0, len(DATA), 1 << 20):
        piece = DATA[i : i + (1 << 20)]
        previous = sign("AWS4-HMAC-SHA256-PAYLOAD",
                        f"{EMPTY_SHA256}\n{hashlib.sha256(piece).hexdigest()}", previous)
        out.append(b"%x;chunk-signature=%s\r\n" % (len(piece), previous.encode()) + piece + b"\r\n")
    previous = sign("AWS4-HMAC-SHA256-PAYLOAD", f"{EMPTY_SHA256}\n{EMPTY_SHA256}", previous)
    out.append(b"0;chunk-signature=%s\r\n" % previous.encode())
    trailer = b"x-amz-checksum-crc32:AAAAAA==\n"
    trailer_sig = sign("AWS4-HMAC-SHA256-TRAILER", hashlib.sha256(trailer).hexdigest(), previous)
    out.append(b"x-amz-checksum-crc32:AAAAAA==\r\nx-amz-trailer-signature:%s\r\n\r\n"
               % trailer_sig.encode())
    encoded = bytearray(b"".join(out))
    if damage == "data":
        encoded[2 * BATCH] ^= 1
    elif damage == "trailer":
        encoded[encoded.index(b"AAAAAA==")] = ord("B")
    elif damage == "truncate":
        del encoded[-len(out[-1]) - 10 :]

    class Denied(Exception):
        pass

    def denied() -> Exception:
        return Denied()

    signer = ChunkSigner(key, date, scope, seed, on_mismatch=denied)
    body = AwsChunkedBody(pieces(bytes(encoded), 250_000), len(DATA), signer)
    if damage is None:
        assert b"".join(asyncio.run(collect(body))) == DATA
    elif damage == "truncate":
        with pytest.raises(ServiceError, match="Content-Length"):
            asyncio.run(collect(body))
    else:
        with pytest.raises(Denied):
            asyncio.run(collect(body))


@pytest.mark.parametrize("size", [100, 1 << 20])
def test_a_body_that_is_not_aws_chunked_is_refused_early(size: int) -> None:
    # No chunk header is kilobytes long: a body without framing fails at its first batch.
    body = AwsChunkedBody(pieces(DATA.replace(b"\n", b" "), size))
    with pytest.raises(ServiceError) as err:
        asyncio.run(collect(body))
    assert err.value.code == "IncompleteBody"
