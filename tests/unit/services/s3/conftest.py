"""Fixtures for the S3 domain tests: an in-memory store, a manual clock, sequential ids and
the blob files in a temporary directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from headwater.core.clock import ManualClock
from headwater.core.ids import SequentialIds
from headwater.services.s3.blobs import Blobs
from headwater.services.s3.model import S3, Bucket
from headwater.services.s3.store import S3Store
from headwater.store import open_store


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def blobs(tmp_path: Path) -> Blobs:
    # Every blob in a file, as these tests look at the files; test_s3_inline.py covers the
    # small blobs the store keeps.
    return Blobs(tmp_path / "s3", SequentialIds(), fsync=False, inline_max=0)


@pytest.fixture
def s3(clock: ManualClock, blobs: Blobs) -> S3:
    return S3(S3Store(open_store(None)), blobs, clock, SequentialIds())


@pytest.fixture
def bucket(s3: S3) -> Bucket:
    return s3.create_bucket("bucket", "000000000000", "us-east-1", {})
