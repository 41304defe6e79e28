"""What an S3 call that S3 refuses answered, for tests that compare it with S3's answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError


def refused(call: Callable[[], Any]) -> tuple[str, int, str]:
    """(code, status, message) of the error ``call`` raises."""
    with pytest.raises(ClientError) as err:
        call()
    found = err.value.response
    return (found["Error"]["Code"], found["ResponseMetadata"]["HTTPStatusCode"],
            found["Error"]["Message"])
