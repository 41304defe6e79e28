"""Streamed request bodies: the payload hash and length checked as bytes arrive, aws-chunked
framing decoded with its trailers, truncation reported as S3's IncompleteBody."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

from headwater.core.errors import ServiceError
from headwater.protocol.body import AsgiBody, AwsChunkedBody, ClientDisconnected


def receiver(chunks: list[bytes], disconnect: bool = False) -> Any:
    messages = [{"type": "http.request", "body": c, "more_body": i < len(chunks) - 1}
                for i, c in enumerate(chunks)]
    if disconnect:
        messages[-1]["more_body"] = True
        messages.append({"type": "http.disconnect"})

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    return receive


async def collect(stream: Any) -> bytes:
    return b"".join([chunk async for chunk in stream])


def test_plain_body_with_matching_hash() -> None:
    data = [b"abc", b"def"]
    body = AsgiBody(receiver(data), length=6, expected_sha256=hashlib.sha256(b"abcdef").hexdigest())
    assert asyncio.run(collect(body)) == b"abcdef" and body.complete


def test_hash_mismatch_fails_at_the_end() -> None:
    seen = []

    def mismatch(client: str, actual: str) -> Exception:
        seen.append((client, actual))
        return ServiceError("XAmzContentSHA256Mismatch", "", 400)

    body = AsgiBody(receiver([b"abc"]), expected_sha256="0" * 64, on_sha256_mismatch=mismatch)
    with pytest.raises(ServiceError) as err:
        asyncio.run(collect(body))
    assert err.value.code == "XAmzContentSHA256Mismatch"
    assert seen == [("0" * 64, hashlib.sha256(b"abc").hexdigest())]


def test_short_body_and_disconnect() -> None:
    with pytest.raises(ServiceError) as err:
        asyncio.run(collect(AsgiBody(receiver([b"abc"]), length=10)))
    assert err.value.code == "IncompleteBody"
    with pytest.raises(ClientDisconnected):
        asyncio.run(collect(AsgiBody(receiver([b"abc"], disconnect=True))))


async def pieces(data: bytes, size: int) -> AsyncIterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


ENCODED = (b"5;chunk-signature=aaaa\r\nhello\r\n6\r\n world\r\n0\r\n"
           b"x-amz-checksum-crc32:DUoRhQ==\r\n\r\n")


@pytest.mark.parametrize("size", [1, 3, 7, 1000])
def test_aws_chunked_decodes_across_any_split(size: int) -> None:
    body = AwsChunkedBody(pieces(ENCODED, size), decoded_length=11)
    assert asyncio.run(collect(body)) == b"hello world"
    assert body.trailers == {"x-amz-checksum-crc32": "DUoRhQ=="}


def test_aws_chunked_without_trailers() -> None:
    body = AwsChunkedBody(pieces(b"3\r\nabc\r\n0\r\n\r\n", 4))
    assert asyncio.run(collect(body)) == b"abc" and body.trailers == {}


@pytest.mark.parametrize("encoded", [
    b"5\r\nhel",                      # cut inside a chunk
    b"5\r\nhello\r\n",                # no final chunk
    b"zz\r\nhello\r\n0\r\n\r\n",      # not a size
    b"5\r\nhelloXX0\r\n\r\n",         # data not followed by CRLF
])
def test_aws_chunked_malformed_is_incomplete_body(encoded: bytes) -> None:
    with pytest.raises(ServiceError) as err:
        asyncio.run(collect(AwsChunkedBody(pieces(encoded, 3))))
    assert err.value.code == "IncompleteBody"


def test_decoded_length_must_match() -> None:
    with pytest.raises(ServiceError):
        asyncio.run(collect(AwsChunkedBody(pieces(ENCODED, 5), decoded_length=12)))
