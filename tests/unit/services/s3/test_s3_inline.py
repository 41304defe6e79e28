"""Small objects kept in the store: no file, same checks, same lifecycle as file blobs.

A small object's bytes live in its own row; small blobs written before that (and small
multipart parts) live in blob records, and stay readable.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from headwater.core.clock import ManualClock
from headwater.core.ids import SequentialIds
from headwater.services.s3.blobs import INLINE_MAX, Blobs, CorruptBlob, Segment
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
    assert files(s3) == [] and list(s3.store.each_blob()) == []  # the bytes are in the row
    assert read(s3, bucket, "k") == data
    assert read(s3, bucket, "k", size // 3, size // 2) == data[size // 3 : size // 2]


def test_one_byte_past_the_limit_is_a_file(s3: S3, bucket: Bucket) -> None:
    data = os.urandom(INLINE_MAX + 1)
    put(s3, bucket, "k", data)
    assert len(files(s3)) == 1 and read(s3, bucket, "k") == data


def test_small_objects_make_no_directories(s3: S3, bucket: Bucket) -> None:
    # Blob directories come with their first file; before, each small PUT whose token began
    # with a new pair of characters made an empty one (up to 256, each a slow mkdir).
    for index in range(50):
        put(s3, bucket, f"k{index}", b"x" * 10)
    assert [p for p in (s3.blobs.root / "data").iterdir()] == []
    put(s3, bucket, "big", b"y" * (INLINE_MAX + 1))
    assert len([p for p in (s3.blobs.root / "data").iterdir()]) == 1
    assert read(s3, bucket, "big") == b"y" * (INLINE_MAX + 1)


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
    s3.store.db.execute("UPDATE s3_objects SET data = ?", (b"precious bytez",))
    with pytest.raises(CorruptBlob):
        read(s3, bucket, "k")
    with pytest.raises(CorruptBlob):
        read(s3, bucket, "k", 0, 3)  # an intact range of damaged bytes is refused too
    version = s3.find(bucket, "k")
    assert version is not None
    with pytest.raises(CorruptBlob):  # read by version id: the row's bytes fetched apart
        b"".join(s3.read(version, 0, version.size))
    (problem,) = s3.scrub()
    assert problem.startswith("bucket/k (version null): blob row-")
    assert "fails its CRC32C" in problem


def test_a_copy_of_a_small_object_has_its_own_bytes(s3: S3, bucket: Bucket) -> None:
    put(s3, bucket, "src", b"copied")
    source = s3.resolve(bucket, "src")
    s3.put(bucket, "copy", s3.segments(source), etag=source.etag, storage_class="STANDARD",
           meta={})
    s3.delete(bucket, "src")
    assert read(s3, bucket, "copy") == b"copied"
    s3.delete(bucket, "copy")
    assert list(s3.store.each_blob()) == [] and s3.scrub() == []
    assert s3.store.db.query_one("SELECT count(*) FROM s3_objects")[0] == 0


def test_small_blobs_written_before_are_served_shared_and_released(s3: S3, bucket: Bucket) -> None:
    # Before small objects kept their bytes in their rows, each had a blob record with them.
    staged = s3.blobs.stage_bytes(b"an older object", ("CRC32",))
    with s3.store.transaction():
        s3.store.add_blob(Segment("older", staged.size, staged.blocks, staged.data))
        s3.store.insert_object(bucket.id, "old", "null", delete_marker=False, size=staged.size,
                               etag=f'"{staged.md5.hex()}"', last_modified=0.0,
                               storage_class="STANDARD", meta="{}", segments="older")
    assert read(s3, bucket, "old") == b"an older object"
    source = s3.resolve(bucket, "old")
    s3.put(bucket, "copy", s3.segments(source), etag=source.etag, storage_class="STANDARD",
           meta={})
    assert s3.store.db.query_one("SELECT refs FROM s3_blobs WHERE name='older'")[0] == 2
    s3.delete(bucket, "old")
    assert read(s3, bucket, "copy") == b"an older object"
    s3.store.db.execute("UPDATE s3_blobs SET data = ?", (b"an older objecT",))
    assert [p.split(":")[0] for p in s3.scrub()] == ["blob older"]
    s3.delete(bucket, "copy")
    assert list(s3.store.each_blob()) == []


def test_the_current_version_comes_with_its_bytes(s3: S3, bucket: Bucket) -> None:
    put(s3, bucket, "k", b"one query")
    version = s3.resolve(bucket, "k")
    assert version.loaded is not None and version.loaded[0].data == b"one query"
    assert read(s3, bucket, "k") == b"one query"
    big = os.urandom(INLINE_MAX + 1)
    put(s3, bucket, "big", big)
    (blob,) = s3.segments(s3.resolve(bucket, "big"))
    s3.put(bucket, "two", [blob, blob], etag='"x-2"', storage_class="STANDARD", meta={})
    two = s3.resolve(bucket, "two")
    assert two.loaded is None  # several blobs: fetched by name when read
    assert read(s3, bucket, "two") == big + big
