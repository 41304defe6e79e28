"""pytest fixtures for testing code against headwater.

- ``headwater_server``: one running headwater per test session (a ``RunningHeadwater``).
- ``headwater_clients``: ``headwater_clients("sqs")`` returns a boto3 client bound to it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from headwater.testing.server import RunningHeadwater, running_headwater


@pytest.fixture(scope="session")
def headwater_server() -> Iterator[RunningHeadwater]:
    with running_headwater() as hw:
        yield hw


@pytest.fixture
def headwater_clients(headwater_server: RunningHeadwater) -> Callable[..., Any]:
    return headwater_server.client
