"""Small blobs kept in the store: no file, same checks, same lifecycle as file blobs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from headwater.core.clock import ManualClock
from headwater.core.ids import SequentialIds
from headwater.services.s3.blobs import INLINE_MAX, Blobs, CorruptBlob
from headwater.services.s3.model import S3, Bucket
from headwater.services.s3.store import S3Store
from headwater.store import open_store


@pytest.fixture
def s3(tmp_path: Path) -> S3:
    blobs = Blobs(tmp_path / "s3", SequentialIds(), fsync=False)
    return S3(S3Store(open_store(tmp_path / "db.sqlite")), blobs, ManualClock(), SequentialIds())


@pytest.fixture
def bucket(s3: S3) -> Bucket:
    return s3.create_bucket("bucket", "000000000000", "us-east-1", {})


def files(s3: S3) -> list[Path]:
    return [p for p in s3.blobs.root.rglob("*") if p.is_file()]


def put(s3: S3, bucket: Bucket, key: str, data: bytes) -> None:
    staged = s3.blobs.stage_bytes(data, ("CRC32",))
    s3.put(bucket, key, staged, etag=f'"{staged.md5.hex()}"', storage_class="STANDARD", meta={})


def read(s3: S3, bucket: Bucket, key: str, start: int = 0, end: int | None = None) -> bytes:
    version = s3.resolve(bucket, key)
    return b"".join(s3.read(version, start, version.size if end is None else end))


@pytest.mark.parametrize("size", [0, 1, 4096, INLINE_MAX])
def test_small_objects_get_no_file(s3: S3, bucket: Bucket, size: int) -> None:
    data = os.urandom(size)
    put(s3, bucket, "k", data)
    assert files(s3) == []
    assert read(s3, bucket, "k") == data
    assert read(s3, bucket, "k", size // 3, size // 2) == data[size // 3 : size // 2]


def test_one_byte_past_the_limit_is_a_file(s3: S3, bucket: Bucket) -> None:
    data = os.urandom(INLINE_MAX + 1)
    put(s3, bucket, "k", data)
    assert len(files(s3)) == 1 and read(s3, bucket, "k") == data


def test_a_stream_moves_to_a_file_when_it_outgrows_the_limit(s3: S3) -> None:
    stager = s3.blobs.stager(("CRC32",))
    stager.write(b"a" * (INLINE_MAX - 10))
    assert not stager.temp.exists()
    stager.write(b"b" * 20)
    staged = stager.finish(False)
    assert staged.data is None and staged.temp is not None
    assert staged.temp.read_bytes() == b"a" * (INLINE_MAX - 10) + b"b" * 20


def test_inline_bytes_survive_a_reopen(tmp_path: Path, s3: S3, bucket: Bucket) -> None:
    put(s3, bucket, "k", b"kept in the database")
    reopened = S3(S3Store(open_store(tmp_path / "db.sqlite")),
                  Blobs(tmp_path / "s3", SequentialIds(), fsync=False, clean=False),
                  ManualClock(), SequentialIds())
    assert read(reopened, reopened.bucket("bucket"), "k") == b"kept in the database"


def test_corrupt_inline_bytes_are_never_served(s3: S3, bucket: Bucket) -> None:
    put(s3, bucket, "k", b"precious bytes")
    s3.store.db.execute("UPDATE s3_blobs SET data = ?", (b"precious bytez",))
    with pytest.raises(CorruptBlob):
        read(s3, bucket, "k")
    with pytest.raises(CorruptBlob):
        read(s3, bucket, "k", 0, 3)  # an intact range of a damaged blob is refused too
    assert len(s3.scrub()) == 1


def test_copies_share_and_deletes_release_inline_blobs(s3: S3, bucket: Bucket) -> None:
    put(s3, bucket, "src", b"shared")
    source = s3.resolve(bucket, "src")
    s3.put(bucket, "copy", s3.segments(source), etag=source.etag, storage_class="STANDARD",
           meta={})
    s3.delete(bucket, "src")
    assert read(s3, bucket, "copy") == b"shared"
    s3.delete(bucket, "copy")
    assert s3.store.all_blobs() == [] and s3.scrub() == []


def test_the_current_version_comes_with_its_blob(s3: S3, bucket: Bucket) -> None:
    put(s3, bucket, "k", b"one query")
    version = s3.resolve(bucket, "k")
    assert version.loaded is not None and version.loaded[0].data == b"one query"
    assert read(s3, bucket, "k") == b"one query"
    s3.put(bucket, "two", [*version.loaded, *version.loaded], etag='"x-2"',
           storage_class="STANDARD", meta={})
    two = s3.resolve(bucket, "two")
    assert two.loaded is None  # several blobs: fetched by name when read
    assert read(s3, bucket, "two") == b"one queryone query"
