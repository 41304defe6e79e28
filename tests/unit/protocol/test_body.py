"""Streamed request bodies: the payload hash and length checked as bytes arrive, aws-chunked
framing decoded with its trailers, truncation reported as S3's IncompleteBody."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from headwater.core.errors import ServiceError
from headwater.protocol.body import AsgiBody, AwsChunkedBody, ClientDisconnected, aws_chunked


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


# Bodies that look like aws-chunked framing: sizes in hex or not, extensions, CRLFs in and out
# of place, trailers; and mutations of a well-formed body (bytes dropped, changed, added).
_PIECE = st.sampled_from([b"0", b"5", b"b", b"ffffffff", b"-1", b"zz", b";chunk-signature=ab",
                          b"\r\n", b"\n", b"\r", b"hello", b" world", b":", b"x-amz-checksum-crc32",
                          b"DUoRhQ==", b"\x00", b"\xff"])


@st.composite
def _mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(ENCODED)
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data) - 1))
        choice = draw(st.integers(0, 2))
        if choice == 0:
            del data[at]
        elif choice == 1:
            data[at] = draw(st.integers(0, 255))
        else:
            data[at:at] = draw(st.binary(min_size=1, max_size=4))
    return bytes(data)


@settings(max_examples=300, deadline=None)
@given(encoded=st.one_of(st.lists(_PIECE, max_size=12).map(b"".join), _mutated(),
                         st.binary(max_size=60)),
       split=st.integers(1, 16), declared=st.one_of(st.none(), st.integers(0, 20)))
def test_any_aws_chunked_body_decodes_or_fails_as_a_service_error(
    encoded: bytes, split: int, declared: int | None
) -> None:
    body = AwsChunkedBody(pieces(encoded, split), decoded_length=declared)
    try:
        data = asyncio.run(collect(body))
    except ServiceError as error:
        assert 400 <= error.status < 500
        return
    if declared is not None:
        assert len(data) == declared
    assert isinstance(body.trailers, dict)


@pytest.mark.parametrize(("headers", "framed"), [
    ({"x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER"}, True),
    ({"x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
      "content-encoding": "gzip"}, True),
    ({"content-encoding": "gzip, aws-chunked"}, True),
    ({"content-encoding": "aws-chunked", "x-amz-content-sha256": "UNSIGNED-PAYLOAD"}, True),
    ({"content-encoding": "aws-chunked", "x-amz-content-sha256": "ab" * 32}, False),
    ({"content-encoding": "gzip"}, False),
    ({}, False),
])
def test_what_counts_as_aws_chunked_framing(headers: dict[str, str], framed: bool) -> None:
    assert aws_chunked(headers) is framed
