"""Helpers shared by the S3 domain tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from headwater.config import Settings
from headwater.core.clock import ManualClock
from headwater.core.ids import SequentialIds
from headwater.protocol.context import RequestContext
from headwater.protocol.http import HttpRequest
from headwater.services.s3.adapter import S3Adapter
from headwater.services.s3.blobs import Blobs
from headwater.services.s3.model import S3, Bucket, Written
from headwater.services.s3.notifications import Notifier
from headwater.services.s3.store import S3Store
from headwater.store import open_store


def new_s3(directory: Path) -> S3:
    """A fresh S3 with one empty bucket, "bucket": an in-memory store, a manual clock,
    sequential ids, blobs under ``directory`` (for hypothesis tests, which cannot take
    pytest's function-scoped fixtures)."""
    s3 = S3(S3Store(open_store(None)), Blobs(directory, SequentialIds(), fsync=False),
            ManualClock(), SequentialIds())
    s3.create_bucket("bucket", "000000000000", "us-east-1", {})
    return s3


def put(s3: S3, bucket: Bucket, key: str, data: bytes = b"", **meta: Any) -> Written:
    staged = s3.blobs.stage_bytes(data, ("CRC64NVME",))
    return s3.put(s3.bucket(bucket.name), key, staged, etag=f'"{staged.md5.hex()}"',
                  storage_class=meta.pop("storage_class", "STANDARD"), meta=meta)


def read(s3: S3, bucket: Bucket, key: str, version_id: str | None = None) -> bytes:
    version = s3.resolve(s3.bucket(bucket.name), key, version_id)
    return b"".join(s3.read(version, 0, version.size))


def adapter(s3: S3) -> S3Adapter:
    """The wire-level operations over ``s3``, with no notification destinations."""
    return S3Adapter(s3, Settings(), Notifier({}, "us-east-1", "000000000000"))


def ctx(headers: dict[str, str] | None = None) -> RequestContext:
    """A request context for calling adapter operations directly (``headers``: the request's,
    lower-case)."""
    return RequestContext(request_id="req-1", service="s3", operation="", region="us-east-1",
                          account_id="000000000000", access_key="test", endpoint="",
                          request=HttpRequest("GET", "/bucket", "", headers or {}))
