"""s3fs (the fsspec filesystem data tools use) against headwater's S3."""

from __future__ import annotations

import os
import uuid
from typing import Any

import pytest

from headwater.testing import RunningHeadwater

s3fs = pytest.importorskip("s3fs")
pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def fs(hw: RunningHeadwater) -> Any:
    return s3fs.S3FileSystem(
        key=hw.access_key, secret=hw.secret_key, use_listings_cache=False,
        client_kwargs={"endpoint_url": hw.endpoint, "region_name": hw.region},
    )


def make_bucket(s3: Any) -> str:
    # Not fs.mkdir: given a region_name, s3fs sends it as the LocationConstraint, and S3 (so
    # headwater) refuses "us-east-1" there with InvalidLocationConstraint.
    bucket = f"fs-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=bucket)
    return bucket


def test_files_directories_and_ranges(fs: Any, s3: Any) -> None:
    bucket = make_bucket(s3)
    with fs.open(f"{bucket}/data/a.txt", "wb") as handle:
        handle.write(b"alpha\n")
    fs.pipe(f"{bucket}/data/sub/b.bin", b"beta" * 1000)
    assert fs.cat(f"{bucket}/data/a.txt") == b"alpha\n"
    assert sorted(fs.ls(f"{bucket}/data", detail=False)) == [
        f"{bucket}/data/a.txt", f"{bucket}/data/sub"]
    assert fs.isdir(f"{bucket}/data/sub") and fs.isfile(f"{bucket}/data/a.txt")
    assert fs.size(f"{bucket}/data/sub/b.bin") == 4000
    with fs.open(f"{bucket}/data/sub/b.bin", "rb") as handle:
        handle.seek(1000)
        assert handle.read(8) == b"betabeta"
    assert sorted(fs.find(bucket)) == [f"{bucket}/data/a.txt", f"{bucket}/data/sub/b.bin"]
    fs.rm(f"{bucket}/data", recursive=True)
    assert fs.find(bucket) == []


def test_large_write_goes_multipart(fs: Any, s3: Any) -> None:
    bucket = make_bucket(s3)
    data = os.urandom(12 * 1024 * 1024)
    with fs.open(f"{bucket}/big", "wb", block_size=5 * 1024 * 1024) as handle:
        handle.write(data)
    assert "-" in fs.info(f"{bucket}/big")["ETag"]  # a multipart upload's ETag
    assert fs.cat(f"{bucket}/big") == data
