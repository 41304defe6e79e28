"""Object bytes on disk: written atomically while hashed, read back verified.

Layout under ``<data dir>/s3``::

    data/<ab>/<token>.<run>.part  uploads being received (never referenced; those of earlier
                           runs are swept at start)
    data/<ab>/<token>      published blobs, named by an opaque token

An upload is received next to where it will live and renamed within that directory: on ext4
a rename across directories made the next file creation in the source directory cost ~0.6 ms,
more than the rest of a small PUT together.

Small objects (up to ``INLINE_MAX`` bytes) never get a file: their bytes travel in the
``Segment`` and the store keeps them in the same transaction as the metadata (in the object's
row; a small multipart part in its blob record).  Creating,
renaming and later deleting a file costs more than everything else a 4 KiB PUT does, and an
inode per tiny object wastes the disk.  Everything else -- hashing, per-block CRC32C, the
checks on every read -- is the same for both kinds.

A key never becomes a path: blobs are named by tokens from the id factory, so no key (``..``,
runs of ``/``, 1,024 bytes of anything) can reach outside the data directory.  An object is a
sequence of blobs (one for a PUT, its parts for a completed multipart upload, so completing a
5 GiB upload copies nothing); the store says which.

Writing: ``Stager`` receives the bytes, writes them to a temp file and computes, in the same
pass, the MD5 (the ETag), the checksum the client asked for (or S3's default CRC64NVME) and a
CRC32C of every 1 MiB block.  ``publish`` fsyncs (when ``fsync`` is on) and renames the file
into ``data/``; the caller commits the metadata after that, so a crash leaves at worst an
unreferenced file, never a key pointing at missing or partial bytes.

Reading: ``read`` yields the bytes of a range a few whole blocks at a time (``_READ``), after
checking each block's CRC32C; a block that fails raises ``CorruptBlob`` before any of its bytes
are handed out (the blocks before it still are).  So a damaged file is never served as good
data, including ranged reads.  A read holds its files on disk until it is closed: a blob
released meanwhile (its object overwritten or deleted) is removed only after the last read of
it ends, so a GET that has begun sends the version it began with, as S3's do, even when the
files of a multipart object's later parts are not open yet.  Removals held back that way are
lost if the process stops first: the files stay, unreferenced (``headwater s3 scrub``).

Large blobs bypass the page cache (``O_DIRECT``, where the filesystem allows it): whole 1 MiB
blocks are written from, and read into, page-aligned buffers that are kept for reuse; only a
blob's last partial block goes through the cache.  An object store's bulk bytes would otherwise
evict the database's hot pages, and every fresh page-cache page costs the kernel a page
allocation -- on a VM whose free memory goes back to the host (virtio-balloon free page
reporting) that is a host fault per page: writing 1 GiB through the cache took 4.7 s of CPU on
the development VM, 0.26 s direct.  Blobs below a block stay on the ordinary cached path,
so small hot objects keep the page cache's help.

Streams are handled in batches of about 4 MiB, each on two worker threads at once: one feeds
the MD5, the other the checksums, the block CRCs and the file (hashlib, the CRCs and the writes
release the GIL at that size).  MD5 alone runs at ~0.6 GB/s, so neither waits for the other,
and the event loop receives the next batch meanwhile: an upload uses every core.  A body's
last bytes stay on the event loop only when they are few (``_INLINE_WORK``).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import fcntl
import hashlib
import logging
import mmap
import os
import secrets
import shutil
import threading
from collections.abc import AsyncIterable, Generator, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import google_crc32c
from awscrt import checksums as crt

from headwater.core.ids import IdFactory
from headwater.services.s3 import checksums
from headwater.services.s3.direct_io import ALIGN, O_DIRECT, AlignedBuffers, direct_io_works

log = logging.getLogger(__name__)

BLOCK = 1 << 20  # bytes covered by one at-rest CRC32C
_BATCH = 1 << 22  # bytes handed to the worker threads at a time
# Less than this is hashed and kept on the event loop: a thread hop costs more than the work.
# More would hold up the other requests the loop serves (MD5 takes ~0.4 ms for 256 KiB).
_INLINE_WORK = 256 * 1024
_READ = 4 * BLOCK  # most bytes read (and handed out) at a time; a multiple of ALIGN
_PART = ".part"  # suffix of a blob still being received
# Largest blob kept in the store rather than in a file.  Past a few tens of KiB SQLite's
# overflow pages make a row dearer to write and read than a file.
INLINE_MAX = 32 * 1024
_WRITE_BUFFERS = AlignedBuffers(BLOCK, keep=16)
_READ_BUFFERS = AlignedBuffers(_READ, keep=8)


class CorruptBlob(Exception):
    """A stored file no longer matches the checksums recorded when it was written."""

    def __init__(self, name: str, detail: str) -> None:
        super().__init__(f"blob {name}: {detail}")
        self.name = name


@dataclass(slots=True)
class Staged:
    """A fully received upload, not yet published."""

    name: str
    temp: Path | None  # None: small enough to stay in memory (``data``)
    size: int
    md5: bytes
    checksums: dict[str, str]  # algorithm -> base64 value
    blocks: bytes  # big-endian CRC32C of each BLOCK-sized block
    data: bytes | None = None


@dataclass(frozen=True, slots=True)
class Segment:
    """One published blob as part of an object, or a small object's bytes kept in its own row
    (``in_row``: no blob record; ``name`` then says which row, for messages)."""

    name: str
    size: int
    blocks: bytes = field(repr=False)
    data: bytes | None = field(default=None, repr=False)  # the bytes of an inline blob
    in_row: bool = False


class Stager:
    """Receives one upload, hashing as it goes (synchronous; see ``stage``).  The bytes stay
    in memory until they pass ``INLINE_MAX``; only then is the temp file created."""

    def __init__(
        self, name: str, directory: Path, algorithms: tuple[str, ...],
        inline_max: int = INLINE_MAX, suffix: str = _PART, direct: bool = False,
    ) -> None:
        self.name = name
        self._directory = directory
        self._suffix = suffix
        self._inline_max = inline_max
        self._fd: int | None = None
        self._held = bytearray()  # bytes not yet in the file (all of them, for a small blob)
        self._direct = direct  # whole blocks go to the file with O_DIRECT
        self._buffer: mmap.mmap | None = None  # the block being filled, in direct mode
        self._fill = 0
        self._md5 = hashlib.md5()
        self._hashers = {a: checksums.hasher(a) for a in algorithms}
        self._blocks = bytearray()
        self._block_crc = 0
        self._block_fill = 0
        self.size = 0

    def write(self, data: bytes) -> None:
        self.digest((data,))
        self.store((data,))

    def digest(self, chunks: Iterable[bytes]) -> None:
        """Feed the MD5 (the ETag).  Touches nothing ``store`` does, so the two can run on
        different threads at once.  MD5 is the slowest of the hashes, so it has its thread to
        itself: the checksums asked for go with ``store``, which keeps the two threads' work
        about even (one 512 MiB wire PUT, four interleaved runs each: 287-342 MB/s before,
        313-349 after)."""
        for data in chunks:
            self._md5.update(data)

    def store(self, chunks: Iterable[bytes]) -> None:
        """Keep the bytes: in memory while the blob is small, else in the temp file; feed the
        checksums asked for; and the CRC32C of each block."""
        for data in chunks:
            for h in self._hashers.values():
                h.update(data)
            if self._fd is None and len(self._held) + len(data) <= self._inline_max:
                self._held += data
            else:
                self._write_file(data)
            view = memoryview(data)  # slices of it at block boundaries copy nothing
            offset = 0
            while offset < len(data):
                room = BLOCK - self._block_fill
                piece = view[offset : offset + room]
                self._block_crc = crt.crc32c(piece, self._block_crc)
                self._block_fill += len(piece)
                offset += len(piece)
                if self._block_fill == BLOCK:
                    self._blocks += self._block_crc.to_bytes(4, "big")
                    self._block_crc = 0
                    self._block_fill = 0
            self.size += len(data)

    @property
    def temp(self) -> Path:
        # Built on demand: a small blob never needs it, and a Path costs ~25 us to make here.
        return self._directory / (self.name + self._suffix)

    def _write_file(self, data: bytes) -> None:
        if self._fd is None:
            # A raw descriptor: no buffering layer to build per object.
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | (O_DIRECT if self._direct else 0)
            try:
                self._fd = os.open(self.temp, flags, 0o644)
            except FileNotFoundError:  # the first file in its directory: made only now
                self._directory.mkdir(exist_ok=True)
                self._fd = os.open(self.temp, flags, 0o644)
            if self._direct:
                self._buffer = _WRITE_BUFFERS.take()
            if self._held:
                held, self._held = self._held, bytearray()
                self._put(held)
        self._put(data)

    def _put(self, data: bytes | bytearray) -> None:
        buffer = self._buffer
        if buffer is None:
            self._write_all(data)
            return
        view = memoryview(data)
        while view:
            piece = view[: BLOCK - self._fill]
            buffer[self._fill : self._fill + len(piece)] = piece
            self._fill += len(piece)
            view = view[len(piece) :]
            if self._fill == BLOCK:  # aligned, a whole block long: straight to the disk
                self._write_all(buffer)
                self._fill = 0

    def _write_all(self, data: bytes | bytearray | mmap.mmap | memoryview) -> None:
        assert self._fd is not None
        view = memoryview(data)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]

    def finish(self, fsync: bool) -> Staged:
        if self._block_fill:
            self._blocks += self._block_crc.to_bytes(4, "big")
        inline = self._fd is None
        if not inline:
            assert self._fd is not None
            if self._buffer is not None:
                if self._fill:
                    # O_DIRECT takes whole blocks only: the last partial one goes through the
                    # page cache (Linux lets F_SETFL turn O_DIRECT off on an open file).
                    flags = fcntl.fcntl(self._fd, fcntl.F_GETFL)
                    fcntl.fcntl(self._fd, fcntl.F_SETFL, flags & ~O_DIRECT)
                    self._write_all(memoryview(self._buffer)[: self._fill])
                self._release_buffer()
            if fsync:
                os.fsync(self._fd)
            os.close(self._fd)
            self._fd = -1  # closed; abort() must not close it again
        return Staged(
            self.name,
            None if inline else self.temp,
            self.size,
            self._md5.digest(),
            {a: checksums.encode(h.digest()) for a, h in self._hashers.items()},
            bytes(self._blocks),
            bytes(self._held) if inline else None,
        )

    def _release_buffer(self) -> None:
        if self._buffer is not None:
            _WRITE_BUFFERS.give(self._buffer)
            self._buffer = None

    def abort(self) -> None:
        self._release_buffer()
        if self._fd is None:
            return  # nothing reached the disk
        if self._fd >= 0:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = -1
        self.temp.unlink(missing_ok=True)


class Blobs:
    def __init__(self, root: Path, ids: IdFactory, *, fsync: bool = True, clean: bool = True,
                 inline_max: int = INLINE_MAX, direct: bool | None = None) -> None:
        """``direct``: whether large blobs bypass the page cache; None tries the filesystem
        (tmpfs, for one, refuses O_DIRECT)."""
        self.root = root
        self.ids = ids
        self.fsync = fsync
        self.inline_max = inline_max
        self._data = root / "data"
        self._data.mkdir(parents=True, exist_ok=True)
        self.direct = direct_io_works(self._data) if direct is None else direct
        # data/<ab> as Paths, made once (a Path costs ~25 us to build); each directory itself
        # is created with its first file, so small objects, which never get one, make none.
        self._dirs: dict[str, Path] = {}
        # Blob files being read, with how many reads hold each, and those of them removed
        # meanwhile, to unlink once the last read ends (see the module docstring).  Reads run
        # on worker threads and may be closed by the collector: a reentrant lock.
        self._readers: collections.Counter[str] = collections.Counter()
        self._doomed: set[str] = set()
        self._pins = threading.RLock()
        # Parts carry this run's mark, so the sweep below can tell uploads cut short by an
        # earlier stop from the ones this process receives meanwhile.
        self._suffix = f".{secrets.token_hex(4)}{_PART}"
        if clean:
            shutil.rmtree(root / "tmp", ignore_errors=True)  # where older versions staged
            # Swept on a thread: a big store has many directories to list.
            self.sweeper: threading.Thread | None = threading.Thread(
                target=self._sweep_parts, name="s3-sweep", daemon=True
            )
            self.sweeper.start()
        else:
            self.sweeper = None

    def path(self, name: str) -> Path:
        return self._data / name[:2] / name

    def stager(self, algorithms: tuple[str, ...]) -> Stager:
        name = self.ids.token(16)
        directory = self._dirs.get(name[:2])
        if directory is None:
            directory = self._dirs[name[:2]] = self._data / name[:2]
        return Stager(name, directory, algorithms, self.inline_max, self._suffix, self.direct)

    def _sweep_parts(self) -> None:
        for directory in self._data.iterdir():
            with contextlib.suppress(OSError), os.scandir(directory) as entries:
                for entry in entries:
                    name = entry.name
                    if name.endswith(_PART) and not name.endswith(self._suffix):
                        with contextlib.suppress(FileNotFoundError):
                            os.unlink(entry.path)

    # -- writing ------------------------------------------------------------------------

    def stage_bytes(self, data: bytes, algorithms: tuple[str, ...]) -> Staged:
        stager = self.stager(algorithms)
        try:
            stager.write(data)
            return stager.finish(self.fsync)
        except BaseException:
            stager.abort()
            raise

    async def stage(
        self, body: bytes | AsyncIterable[bytes] | None, algorithms: tuple[str, ...]
    ) -> Staged:
        """Receive ``body`` into a temp file; the temp file is gone if anything fails."""
        if body is None or isinstance(body, (bytes, bytearray)):
            return self.stage_bytes(bytes(body or b""), algorithms)
        loop = asyncio.get_running_loop()
        stager = self.stager(algorithms)
        # The previous batch's hashing and storing, each on a worker thread: MD5 alone runs
        # at ~0.6 GB/s, so it must not wait for the disk, nor the disk for it.
        pending: tuple[asyncio.Future[None], ...] = ()

        def on_threads(chunks: list[bytes]) -> tuple[asyncio.Future[None], ...]:
            return (loop.run_in_executor(None, stager.digest, chunks),
                    loop.run_in_executor(None, stager.store, chunks))

        batch: list[bytes] = []
        size = 0
        threaded = False
        try:
            async for chunk in body:
                batch.append(chunk)
                size += len(chunk)
                if size >= _BATCH:
                    for future in pending:
                        await future
                    pending, threaded = on_threads(batch), True
                    batch, size = [], 0
            if size >= _INLINE_WORK:  # the rest is worth the threads too
                for future in pending:
                    await future
                pending, threaded = on_threads(batch), True
                batch = []
            for future in pending:
                await future
            pending = ()
            if batch:
                stager.digest(batch)
                stager.store(batch)
            if not threaded and not self.fsync:
                return stager.finish(self.fsync)
            return await loop.run_in_executor(None, stager.finish, self.fsync)
        except BaseException:
            # The worker threads must be done with the file before it is removed; their own
            # failures, if any, are the one already propagating or beside the point.
            for future in pending:
                with contextlib.suppress(Exception):
                    await future
            stager.abort()
            raise

    def publish(self, staged: Staged) -> Segment:
        """Move a staged upload into place; the caller commits its metadata next."""
        if staged.temp is None:
            return Segment(staged.name, staged.size, staged.blocks, staged.data)
        target = self.path(staged.name)
        os.replace(staged.temp, target)
        if self.fsync:
            _fsync_dir(target.parent)
        return Segment(staged.name, staged.size, staged.blocks)

    def discard(self, staged: Staged) -> None:
        if staged.temp is not None:
            staged.temp.unlink(missing_ok=True)

    def remove(self, name: str) -> None:
        with self._pins:
            if self._readers[name]:
                self._doomed.add(name)  # unlinked when its last read ends
                return
        self._unlink(name)

    def _unlink(self, name: str) -> None:
        try:
            self.path(name).unlink()
        except FileNotFoundError:
            log.warning("s3: blob %s was already gone", name)

    # -- reading ------------------------------------------------------------------------

    def read(self, segments: list[Segment], start: int, end: int) -> Iterator[bytes]:
        """Bytes ``start`` to ``end`` (exclusive) of the object made of ``segments``, each
        block checked against its CRC32C before it is yielded.  The files stay on disk until
        the iterator is exhausted, fails or is closed."""
        names = [s.name for s in segments if s.data is None]
        if not names:
            return self._read(segments, start, end)
        with self._pins:
            self._readers.update(names)
        return _Reading(self, names, self._read(segments, start, end))

    def _release_readers(self, names: list[str]) -> None:
        gone: list[str] = []
        with self._pins:
            self._readers.subtract(names)
            for name in set(names):  # a blob may back two parts of one object
                if self._readers[name] <= 0:
                    del self._readers[name]
                    if name in self._doomed:
                        self._doomed.discard(name)
                        gone.append(name)
        for name in gone:
            self._unlink(name)

    def _read(self, segments: list[Segment], start: int, end: int) -> Generator[bytes, None, None]:
        offset = 0
        for segment in segments:
            seg_start, seg_end = offset, offset + segment.size
            offset = seg_end
            lo, hi = max(start, seg_start), min(end, seg_end)
            if lo >= hi:
                continue
            yield from self._read_segment(segment, lo - seg_start, hi - seg_start)

    def _read_segment(self, segment: Segment, start: int, end: int) -> Iterator[bytes]:
        if segment.data is not None:
            yield _checked_inline(segment)[start:end]
            return
        # Whole blocks are read (a CRC32C covers exactly one), several per read: fewer
        # system calls and thread hops for the caller, each checked through a memoryview.
        # A blob of a block or more was written past the page cache and is read the same
        # way, into a reused aligned buffer, so what it hands out is a copy.
        direct = self.direct and segment.size >= BLOCK
        try:
            fd = os.open(self.path(segment.name), os.O_RDONLY | (O_DIRECT if direct else 0))
        except FileNotFoundError:
            raise CorruptBlob(segment.name, "file is missing") from None
        buffer = _READ_BUFFERS.take() if direct else None
        try:
            position = start - start % BLOCK
            stop = min(segment.size, -(-end // BLOCK) * BLOCK)  # end of the last block needed
            while position < end:
                want = min(_READ, stop - position)
                if buffer is None:
                    data = os.pread(fd, want, position)
                    got = len(data)
                    view = memoryview(data)
                else:
                    # Whole aligned pages are asked for; at the end of the file fewer come.
                    asked = -(-want // ALIGN) * ALIGN
                    got = os.preadv(fd, [memoryview(buffer)[:asked]], position)
                    data = b""
                    view = memoryview(buffer)[:want]
                if got != want:
                    raise CorruptBlob(segment.name, f"file is shorter than {segment.size} bytes")
                good = 0  # bytes of ``data`` verified so far
                while good < want:
                    index = (position + good) // BLOCK
                    actual = crt.crc32c(view[good : good + BLOCK]).to_bytes(4, "big")
                    if actual != segment.blocks[index * 4 : index * 4 + 4]:
                        break
                    good = min(good + BLOCK, want)
                lo = max(start - position, 0)
                hi = min(end - position, good)
                if lo < hi:  # the blocks before a damaged one are still served
                    # A whole cached read goes out as it is; anything else is copied.
                    whole = buffer is None and (lo, hi) == (0, want)
                    yield data if whole else bytes(view[lo:hi])
                if good < want:
                    raise CorruptBlob(segment.name, f"block {index} fails its CRC32C")
                position += want
        finally:
            os.close(fd)
            if buffer is not None:
                _READ_BUFFERS.give(buffer)

    def verify(self, segment: Segment) -> str | None:
        """Why a stored blob is damaged, or None when every block checks out."""
        try:
            for _ in self._read_segment(segment, 0, segment.size):
                pass
        except CorruptBlob as exc:
            return str(exc)
        if segment.data is not None:
            return None
        try:
            actual = self.path(segment.name).stat().st_size
        except FileNotFoundError:
            return f"blob {segment.name}: file is missing"
        if actual != segment.size:
            return f"blob {segment.name}: file has {actual} bytes, {segment.size} expected"
        return None


class _Reading(Iterator[bytes]):
    """A read of blob files (``Blobs.read``) that holds them on disk until it ends.  A
    generator alone would not do: one never started runs no ``finally`` when closed."""

    def __init__(self, blobs: Blobs, names: list[str], chunks: Generator[bytes, None, None]) -> None:
        self._blobs: Blobs | None = blobs
        self._names = names
        self._chunks = chunks

    def __next__(self) -> bytes:
        try:
            return next(self._chunks)
        except BaseException:  # the end (StopIteration) or a failure: the files are let go
            self.close()
            raise

    def close(self) -> None:
        blobs, self._blobs = self._blobs, None
        if blobs is not None:
            self._chunks.close()
            blobs._release_readers(self._names)

    def __del__(self) -> None:  # a consumer that dropped it unclosed
        self.close()


def _checked_inline(segment: Segment) -> bytes:
    """An inline blob's bytes after the same checks a file's blocks get (it is below BLOCK)."""
    data = segment.data
    assert data is not None
    if len(data) != segment.size:
        raise CorruptBlob(segment.name, f"has {len(data)} bytes, {segment.size} expected")
    if not data and not segment.blocks:
        return data  # an empty object: no blocks to check
    if google_crc32c.value(data).to_bytes(4, "big") != segment.blocks[:4]:
        raise CorruptBlob(segment.name, "block 0 fails its CRC32C")
    return data


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
