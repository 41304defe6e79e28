"""Fixtures shared by the end-to-end tests: one headwater per test module, and S3 helpers."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from headwater.testing import RunningHeadwater, running_headwater


@pytest.fixture(scope="module")
def hw() -> Iterator[RunningHeadwater]:
    """A server of the module's own, on a free loopback port with a temporary data dir."""
    with running_headwater() as server:
        yield server


@pytest.fixture(scope="module")
def s3(hw: RunningHeadwater) -> Any:
    return hw.client("s3")


@pytest.fixture
def bucket(s3: Any) -> str:
    """A new, empty bucket."""
    name = f"bk-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    return name
