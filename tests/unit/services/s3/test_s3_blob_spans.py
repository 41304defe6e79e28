"""Large blobs: staged from batches that do not line up with the at-rest blocks, read back
several blocks at a time, and every block still checked before its bytes are handed out."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator

import pytest

from headwater.services.s3.blobs import BLOCK, Blobs, CorruptBlob

DATA = os.urandom(9 * BLOCK + 4321)


async def chunks(data: bytes, size: int) -> AsyncIterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


@pytest.mark.parametrize("size", [65536 + 3, BLOCK + 1, 3 * BLOCK - 5])
def test_streamed_batches_give_the_same_blob_as_bytes(blobs: Blobs, size: int) -> None:
    streamed = asyncio.run(blobs.stage(chunks(DATA, size), ("CRC32",)))
    whole = blobs.stage_bytes(DATA, ("CRC32",))
    assert (streamed.size, streamed.md5, streamed.checksums, streamed.blocks) == \
        (whole.size, whole.md5, whole.checksums, whole.blocks)
    segment = blobs.publish(streamed)
    assert b"".join(blobs.read([segment], 0, len(DATA))) == DATA


@pytest.mark.parametrize(("start", "end"), [
    (0, len(DATA)), (1, len(DATA) - 1), (BLOCK - 1, 5 * BLOCK + 1), (4 * BLOCK, 8 * BLOCK),
    (9 * BLOCK, len(DATA)), (7, 8), (len(DATA) - 1, len(DATA)),
])
def test_ranges_read_in_spans(blobs: Blobs, start: int, end: int) -> None:
    segment = blobs.publish(blobs.stage_bytes(DATA, ()))
    assert b"".join(blobs.read([segment], start, end)) == DATA[start:end]


def test_blocks_before_a_damaged_one_in_the_same_span_are_served(blobs: Blobs) -> None:
    segment = blobs.publish(blobs.stage_bytes(DATA, ()))
    with open(blobs.path(segment.name), "r+b") as handle:
        handle.seek(2 * BLOCK + 100)
        handle.write(b"\x00\x01\x02")
    served = b""
    with pytest.raises(CorruptBlob, match="block 2"):
        for piece in blobs.read([segment], 10, len(DATA)):
            served += piece
    assert served == DATA[10 : 2 * BLOCK]  # every byte handed out was verified


def test_a_short_file_is_reported(blobs: Blobs) -> None:
    segment = blobs.publish(blobs.stage_bytes(DATA, ()))
    os.truncate(blobs.path(segment.name), 6 * BLOCK)
    with pytest.raises(CorruptBlob, match="shorter"):
        b"".join(blobs.read([segment], 0, len(DATA)))
