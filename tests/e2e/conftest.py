"""Fixtures shared by the end-to-end tests: one headwater per test module, S3 helpers, an
environment for running the aws CLI against it, and ``headwater serve`` subprocesses."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from served import Served

from headwater.testing import RunningHeadwater, running_headwater


@pytest.fixture(scope="module")
def hw() -> Iterator[RunningHeadwater]:
    """A server of the module's own, on a free loopback port with a temporary data dir."""
    with running_headwater() as server:
        yield server


@pytest.fixture(scope="module")
def s3(hw: RunningHeadwater) -> Any:
    return hw.client("s3")


@pytest.fixture(scope="module")
def sqs(hw: RunningHeadwater) -> Any:
    return hw.client("sqs")


@pytest.fixture(scope="module")
def lam(hw: RunningHeadwater) -> Any:
    return hw.client("lambda")


@pytest.fixture
def bucket(s3: Any) -> str:
    """A new, empty bucket."""
    name = f"bk-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    return name


@pytest.fixture(scope="module")
def env(hw: RunningHeadwater, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment for an aws CLI process: this server, and no user's AWS settings."""
    home = tmp_path_factory.mktemp("aws-home")
    base = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return {
        **base,
        **hw.environ,
        "AWS_CONFIG_FILE": str(home / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "credentials"),
        "AWS_PAGER": "",
    }


@pytest.fixture
def servers() -> Iterator[list[Served]]:
    """The ``headwater serve`` processes a test starts (``served.start``); killed after it."""
    started: list[Served] = []
    yield started
    for served in started:
        served.kill()
