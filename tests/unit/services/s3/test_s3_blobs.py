"""Blob files: staged atomically, read back verified block by block, never outside the root.

Every test here runs twice: with large blobs through the page cache and past it (O_DIRECT),
where the filesystem under the test's temp dir allows that."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from headwater.core.ids import SequentialIds
from headwater.services.s3 import direct_io
from headwater.services.s3.blobs import _BATCH, _INLINE_WORK, BLOCK, Blobs, CorruptBlob


@pytest.fixture(params=[False, True], ids=["cached", "direct"])
def blobs(tmp_path: Path, request: pytest.FixtureRequest) -> Blobs:
    found = Blobs(tmp_path / "s3", SequentialIds(), fsync=False, inline_max=0)
    if request.param and not found.direct:
        pytest.skip("this filesystem refuses O_DIRECT")
    found.direct = request.param
    return found


def test_stage_publish_and_ranged_reads(blobs: Blobs) -> None:
    data = os.urandom(3 * BLOCK + 12345)
    staged = blobs.stage_bytes(data, ("CRC32",))
    assert staged.size == len(data) and len(staged.blocks) == 4 * 4
    segment = blobs.publish(staged)
    assert not staged.temp.exists() and blobs.path(segment.name).exists()
    for start, end in [(0, len(data)), (BLOCK - 1, BLOCK + 1), (5, 6), (2 * BLOCK, len(data))]:
        assert b"".join(blobs.read([segment], start, end)) == data[start:end]


def test_reads_span_segments(blobs: Blobs) -> None:
    parts = [os.urandom(n) for n in (BLOCK + 7, 100, 2 * BLOCK)]
    segments = [blobs.publish(blobs.stage_bytes(p, ())) for p in parts]
    whole = b"".join(parts)
    assert b"".join(blobs.read(segments, 0, len(whole))) == whole
    assert b"".join(blobs.read(segments, BLOCK, BLOCK + 200)) == whole[BLOCK : BLOCK + 200]


def test_a_damaged_block_is_never_yielded(blobs: Blobs) -> None:
    data = os.urandom(2 * BLOCK)
    segment = blobs.publish(blobs.stage_bytes(data, ()))
    with open(blobs.path(segment.name), "r+b") as handle:
        handle.seek(BLOCK + 10)
        handle.write(b"\xff\xfe")
    reader = blobs.read([segment], 0, len(data))
    assert next(reader) == data[:BLOCK]  # the first block is intact
    with pytest.raises(CorruptBlob):
        next(reader)
    assert blobs.verify(segment) is not None
    blobs.path(segment.name).unlink()
    assert "missing" in str(blobs.verify(segment))


def test_a_failed_stream_leaves_no_file(blobs: Blobs, tmp_path: Path) -> None:
    async def body() -> AsyncIterator[bytes]:
        # Past a batch: the failure comes while worker threads hash and write.
        for _ in range(_BATCH // BLOCK + 1):
            yield b"x" * BLOCK
        raise ConnectionError("client went away")

    with pytest.raises(ConnectionError):
        asyncio.run(blobs.stage(body(), ("CRC32",)))
    assert [p for p in (tmp_path / "s3").rglob("*") if p.is_file()] == []


def test_parts_left_by_an_earlier_run_are_swept_at_start(tmp_path: Path) -> None:
    first = Blobs(tmp_path / "s3", SequentialIds(), fsync=False, clean=False, inline_max=0)
    stager = first.stager(("CRC32",))
    stager.write(b"cut short")  # the process dies here: finish() never runs
    kept = first.publish(first.stage_bytes(b"kept", ("CRC32",)))
    second = Blobs(tmp_path / "s3", SequentialIds(), fsync=False, inline_max=0)
    receiving = second.stager(("CRC32",))
    receiving.write(b"arrives while the sweep runs")
    assert second.sweeper is not None
    second.sweeper.join(5)
    assert not stager.temp.exists()
    assert receiving.temp.exists()  # this run's upload is left alone
    assert second.verify(kept) is None


# Batches and the tail on worker threads; one hop for a mid-sized body; all on the loop.
@pytest.mark.parametrize("size", [5 * _BATCH // 2, _INLINE_WORK + 1000, 1000])
def test_streamed_and_buffered_stages_agree(blobs: Blobs, size: int) -> None:
    data = os.urandom(size)

    async def body() -> AsyncIterator[bytes]:
        for i in range(0, len(data), 65536):
            yield data[i : i + 65536]

    streamed = asyncio.run(blobs.stage(body(), ("CRC32", "SHA256")))
    buffered = blobs.stage_bytes(data, ("CRC32", "SHA256"))
    assert (streamed.md5, streamed.checksums, streamed.blocks) == (
        buffered.md5, buffered.checksums, buffered.blocks)


@pytest.mark.parametrize("size", [BLOCK - 1, BLOCK, BLOCK + 1, 4 * BLOCK, 4 * BLOCK + 4097])
def test_sizes_around_block_and_read_boundaries(blobs: Blobs, size: int) -> None:
    data = os.urandom(size)
    stager = blobs.stager(("CRC32",))
    for i in range(0, size, 300_001):  # pieces that straddle every block boundary
        stager.write(data[i : i + 300_001])
    segment = blobs.publish(stager.finish(True))
    assert blobs.path(segment.name).read_bytes() == data
    assert b"".join(blobs.read([segment], 0, size)) == data
    for start, end in [(size - 1, size), (BLOCK // 2, size), (0, min(size, 4 * BLOCK + 1))]:
        assert b"".join(blobs.read([segment], start, end)) == data[start:end]
    assert blobs.verify(segment) is None


def test_an_aborted_stage_leaves_no_file_and_no_buffer_behind(blobs: Blobs) -> None:
    stager = blobs.stager(())
    stager.write(os.urandom(BLOCK + 10))
    temp = stager.temp
    assert temp.exists()
    stager.abort()
    assert not temp.exists()
    assert stager._buffer is None  # back in the pool
    assert blobs.verify(blobs.publish(blobs.stage_bytes(b"after", ()))) is None


def test_a_filesystem_without_o_direct_keeps_everything_cached(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_open = os.open

    def refusing_open(path: object, flags: int, *args: object) -> int:
        if flags & direct_io.O_DIRECT:
            raise OSError(22, "Invalid argument")  # what tmpfs answers before Linux 6.6
        return real_open(path, flags, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", refusing_open)
    cached = Blobs(tmp_path / "s3", SequentialIds(), fsync=False, inline_max=0)
    assert not cached.direct
    data = os.urandom(2 * BLOCK + 3)
    segment = cached.publish(cached.stage_bytes(data, ()))
    assert b"".join(cached.read([segment], 0, len(data))) == data
    assert [p.name for p in (tmp_path / "s3" / "data").iterdir() if p.is_file()] == []


def test_blobs_of_a_block_or_more_bypass_the_page_cache_both_ways(
    blobs: Blobs, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[tuple[str, bool]] = []  # (file name, opened with O_DIRECT)
    real_open = os.open

    def recording_open(path: object, flags: int, *args: object) -> int:
        opened.append((os.path.basename(str(path)), bool(flags & direct_io.O_DIRECT)))
        return real_open(path, flags, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", recording_open)
    data = os.urandom(2 * BLOCK)
    large = blobs.publish(blobs.stage_bytes(data[: BLOCK + 10], ()))
    small = blobs.publish(blobs.stage_bytes(data[BLOCK + 10 :], ()))
    assert b"".join(blobs.read([large, small], 0, len(data))) == data
    writes = {name.split(".")[0]: direct for name, direct in opened if name.endswith(".part")}
    reads = {name: direct for name, direct in opened if not name.endswith(".part")}
    # Past the cache exactly where the filesystem allows it; a blob under a block is read
    # through the cache (its file was opened for direct writes, but its only, partial block
    # went through the cache when it was finished).
    assert (writes[large.name], reads[large.name]) == (blobs.direct, blobs.direct)
    assert (writes[small.name], reads[small.name]) == (blobs.direct, False)


def test_a_blob_released_while_it_is_read_stays_until_the_read_ends(blobs: Blobs) -> None:
    # An overwrite or delete releases the files of a version a GET is still sending; the
    # GET must keep sending it, including parts whose files it has not opened yet.
    parts = [os.urandom(BLOCK + 5) for _ in range(3)]
    segments = [blobs.publish(blobs.stage_bytes(p, ())) for p in parts]
    reader = blobs.read(segments, 0, sum(map(len, parts)))
    first = next(reader)
    for segment in segments:
        blobs.remove(segment.name)
    assert all(blobs.path(s.name).exists() for s in segments)
    assert first + b"".join(reader) == b"".join(parts)
    assert not any(blobs.path(s.name).exists() for s in segments)  # gone with the read


@pytest.mark.parametrize("started", [False, True])
def test_closing_a_read_lets_its_released_files_go(blobs: Blobs, started: bool) -> None:
    data = os.urandom(2 * BLOCK)
    segment = blobs.publish(blobs.stage_bytes(data, ()))
    twice = [segment, segment]  # one blob behind two parts
    reader, other = blobs.read(twice, 0, 4 * BLOCK), blobs.read([segment], 0, 10)
    if started:
        next(reader)
    blobs.remove(segment.name)
    reader.close()  # type: ignore[attr-defined]
    assert blobs.path(segment.name).exists()  # another read still holds it
    assert b"".join(other) == data[:10]
    assert not blobs.path(segment.name).exists()
