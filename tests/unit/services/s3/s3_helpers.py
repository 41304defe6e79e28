"""Helpers shared by the S3 domain tests."""

from __future__ import annotations

from typing import Any

from headwater.services.s3.model import S3, Bucket, Written


def put(s3: S3, bucket: Bucket, key: str, data: bytes = b"", **meta: Any) -> Written:
    staged = s3.blobs.stage_bytes(data, ("CRC64NVME",))
    return s3.put(s3.bucket(bucket.name), key, staged, etag=f'"{staged.md5.hex()}"',
                  storage_class=meta.pop("storage_class", "STANDARD"), meta=meta)


def read(s3: S3, bucket: Bucket, key: str, version_id: str | None = None) -> bytes:
    version = s3.resolve(s3.bucket(bucket.name), key, version_id)
    return b"".join(s3.read(version, 0, version.size))
