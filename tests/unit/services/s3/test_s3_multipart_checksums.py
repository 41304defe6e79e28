"""Multipart integrity at the adapter and domain level: part numbers, the 5 GiB part limit
(refused on the declared size before the body is read, and on the staged size), the part
checksums CompleteMultipartUpload lists, and the whole-object checksum and checksum type it
may carry (https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import zlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from s3_helpers import adapter, ctx

from headwater.core.errors import ServiceError
from headwater.services.s3 import checksums, multipart
from headwater.services.s3.adapter import S3Adapter
from headwater.services.s3.model import S3, Bucket

ONE = b"a" * multipart.MIN_PART
TWO = b"the last part"


def crc32(data: bytes) -> str:
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def start(ops: S3Adapter, **create: Any) -> str:
    return str(ops.create_multipart_upload(ctx(), {"Bucket": "bucket", "Key": "k", **create})[
        "UploadId"])


def part(ops: S3Adapter, upload_id: str, number: int, body: Any,
         headers: dict[str, str] | None = None, **extra: Any) -> dict[str, Any]:
    params = {"Bucket": "bucket", "Key": "k", "UploadId": upload_id, "PartNumber": number,
              "Body": body, **extra}
    out: dict[str, Any] = asyncio.run(ops.upload_part(ctx(headers), params))
    return out


def upload(ops: S3Adapter, bodies: list[bytes], **create: Any) -> tuple[str, list[dict[str, Any]]]:
    """An upload with ``bodies`` as its parts, and the part list a client completes it with."""
    upload_id = start(ops, **create)
    listed = []
    for number, body in enumerate(bodies, start=1):
        out = part(ops, upload_id, number, body)
        listed.append({"PartNumber": number, **{k: v for k, v in out.items()
                                                 if k.startswith(("ETag", "Checksum"))}})
    return upload_id, listed


def complete(ops: S3Adapter, upload_id: str, parts: list[dict[str, Any]],
             **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = ops.complete_multipart_upload(ctx(), {
        "Bucket": "bucket", "Key": "k", "UploadId": upload_id,
        "MultipartUpload": {"Parts": parts}, **extra})
    return out


def refused(call: Any) -> ServiceError:
    with pytest.raises(ServiceError) as err:
        call()
    return err.value


def listed_parts(ops: S3Adapter, upload_id: str) -> list[int]:
    found = ops.list_parts(ctx(), {"Bucket": "bucket", "Key": "k", "UploadId": upload_id})
    return [p["PartNumber"] for p in found["Parts"]]


def exists(s3: S3, bucket: Bucket) -> bool:
    return s3.find(s3.bucket(bucket.name), "k") is not None


def blob_files(tmp_path: Path) -> list[Path]:
    return [p for p in (tmp_path / "s3").rglob("*") if p.is_file()]


# -- part numbers and sizes -----------------------------------------------------------------


@pytest.mark.parametrize("number", [0, -1, 10001])
def test_part_number_outside_1_to_10000_is_invalid_argument(s3: S3, bucket: Bucket,
                                                            number: int) -> None:
    ops = adapter(s3)
    upload_id = start(ops)
    error = refused(lambda: part(ops, upload_id, number, b"data"))
    assert (error.code, error.status) == ("InvalidArgument", 400)
    assert error.message == "Part number must be an integer between 1 and 10000, inclusive"
    assert error.fields == {"ArgumentName": "partNumber", "ArgumentValue": str(number)}
    assert listed_parts(ops, upload_id) == []


async def _unreadable() -> AsyncIterator[bytes]:
    raise AssertionError("the body was read")
    yield b""  # pragma: no cover - makes this an async generator


def test_declared_part_over_5_gib_is_refused_unread(s3: S3, bucket: Bucket) -> None:
    ops = adapter(s3)
    upload_id = start(ops)
    error = refused(lambda: part(ops, upload_id, 1, _unreadable(),
                                 ContentLength=multipart.MAX_PART + 1))
    assert (error.code, error.status) == ("EntityTooLarge", 400)
    assert error.fields == {"ProposedSize": str(multipart.MAX_PART + 1),
                            "MaxSizeAllowed": str(multipart.MAX_PART)}
    assert listed_parts(ops, upload_id) == []
    # 5 GiB itself is allowed: the body is read (and, here, found unreadable).
    with pytest.raises(AssertionError, match="the body was read"):
        part(ops, upload_id, 1, _unreadable(), ContentLength=multipart.MAX_PART)


def test_an_aws_chunked_part_is_judged_by_its_decoded_length(s3: S3, bucket: Bucket) -> None:
    # The chunk framing makes Content-Length larger than the part: 5 GiB of data is allowed.
    ops = adapter(s3)
    upload_id = start(ops)
    chunked = {"content-encoding": "aws-chunked",
               "x-amz-decoded-content-length": str(multipart.MAX_PART)}
    with pytest.raises(AssertionError, match="the body was read"):
        part(ops, upload_id, 1, _unreadable(), chunked, ContentLength=multipart.MAX_PART + 9000)
    chunked["x-amz-decoded-content-length"] = str(multipart.MAX_PART + 1)
    error = refused(lambda: part(ops, upload_id, 1, _unreadable(), chunked,
                                 ContentLength=multipart.MAX_PART + 9000))
    assert error.code == "EntityTooLarge"
    assert error.fields["ProposedSize"] == str(multipart.MAX_PART + 1)


def test_part_larger_than_declared_limit_is_discarded(s3: S3, bucket: Bucket, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    # A body that says nothing of its size is measured as it is staged.
    monkeypatch.setattr(multipart, "MAX_PART", 10)
    ops = adapter(s3)
    upload_id = start(ops)
    error = refused(lambda: part(ops, upload_id, 1, b"eleven byte"))
    assert error.code == "EntityTooLarge" and error.fields["ProposedSize"] == "11"
    assert listed_parts(ops, upload_id) == [] and blob_files(tmp_path) == []
    part(ops, upload_id, 1, b"ten bytes!")
    assert listed_parts(ops, upload_id) == [1]


def test_wrong_part_checksum_leaves_no_part_and_no_file(s3: S3, bucket: Bucket,
                                                        tmp_path: Path) -> None:
    ops = adapter(s3)
    upload_id = start(ops, ChecksumAlgorithm="CRC32")
    error = refused(lambda: part(ops, upload_id, 1, b"data", ChecksumCRC32=crc32(b"date")))
    assert (error.code, error.message) == (
        "BadDigest", "The CRC32 you specified did not match the calculated checksum.")
    assert listed_parts(ops, upload_id) == [] and blob_files(tmp_path) == []


# -- the part list of CompleteMultipartUpload ---------------------------------------------


def test_listed_part_checksum_must_be_the_parts(s3: S3, bucket: Bucket) -> None:
    ops = adapter(s3)
    upload_id, parts = upload(ops, [ONE, TWO], ChecksumAlgorithm="CRC32")
    wrong = [parts[0], {**parts[1], "ChecksumCRC32": crc32(b"something else")}]
    error = refused(lambda: complete(ops, upload_id, wrong))
    assert (error.code, error.status) == ("InvalidPart", 400)
    assert error.fields["PartNumber"] == "2"
    assert not exists(s3, bucket) and listed_parts(ops, upload_id) == [1, 2]
    complete(ops, upload_id, parts)
    assert exists(s3, bucket)


@pytest.mark.parametrize("kind", ["COMPOSITE", "FULL_OBJECT"])
def test_composite_upload_needs_each_part_checksum(s3: Any, bucket: Bucket, kind: str) -> None:
    ops = adapter(s3)
    upload_id, parts = upload(ops, [ONE, TWO], ChecksumAlgorithm="CRC32", ChecksumType=kind)
    without = [parts[0], {"PartNumber": 2, "ETag": parts[1]["ETag"]}]
    if kind == "FULL_OBJECT":  # the object's value is not made of the part values
        complete(ops, upload_id, without)
        return
    error = refused(lambda: complete(ops, upload_id, without))
    assert (error.code, error.status, error.message) == (
        "InvalidRequest", 400, ("The upload was created using a crc32 checksum. The complete "
                                "request must include the checksum for each part. It was "
                                "missing for part 2 in the request."))
    assert not exists(s3, bucket)


def test_upload_without_algorithm_needs_no_part_checksums(s3: S3, bucket: Bucket) -> None:
    ops = adapter(s3)
    upload_id, parts = upload(ops, [ONE, TWO])
    out = complete(ops, upload_id, [{"PartNumber": p["PartNumber"], "ETag": p["ETag"]}
                                    for p in parts])
    assert out["ChecksumType"] == "FULL_OBJECT" and "ChecksumCRC64NVME" in out


# -- the whole-object checksum and type of CompleteMultipartUpload ------------------------


def test_full_object_checksum_is_checked(s3: S3, bucket: Bucket) -> None:
    ops = adapter(s3)
    upload_id, parts = upload(ops, [ONE, TWO], ChecksumAlgorithm="CRC32",
                              ChecksumType="FULL_OBJECT")
    for wrong in (crc32(TWO), f"{crc32(ONE + TWO)}-2"):
        error = refused(lambda: complete(ops, upload_id, parts, ChecksumCRC32=wrong))  # noqa: B023
        assert (error.code, error.status, error.message) == (
            "BadDigest", 400, "The CRC32 you specified did not match the calculated checksum.")
        assert not exists(s3, bucket) and listed_parts(ops, upload_id) == [1, 2]
    out = complete(ops, upload_id, parts, ChecksumCRC32=crc32(ONE + TWO))
    assert out["ChecksumCRC32"] == crc32(ONE + TWO)


def test_composite_checksum_is_checked_with_its_part_count(s3: S3, bucket: Bucket) -> None:
    ops = adapter(s3)
    upload_id, parts = upload(ops, [ONE, TWO], ChecksumAlgorithm="SHA256")
    value = base64.b64encode(sha256(sha256(ONE) + sha256(TWO))).decode()
    for wrong in (value, f"{value}-1", base64.b64encode(sha256(ONE + TWO)).decode() + "-2"):
        error = refused(lambda: complete(ops, upload_id, parts, ChecksumSHA256=wrong))  # noqa: B023
        assert (error.code, error.message) == (
            "BadDigest", "The SHA256 you specified did not match the calculated checksum.")
    assert not exists(s3, bucket)
    assert complete(ops, upload_id, parts, ChecksumSHA256=f"{value}-2")["ChecksumSHA256"] == \
        f"{value}-2"


def test_default_upload_takes_its_crc64nvme(s3: S3, bucket: Bucket) -> None:
    ops = adapter(s3)
    upload_id, parts = upload(ops, [ONE, TWO])
    whole = checksums.compute("CRC64NVME", ONE + TWO)
    error = refused(lambda: complete(ops, upload_id, parts, ChecksumCRC32=crc32(ONE + TWO)))
    assert (error.code, error.message) == (
        "BadDigest", "The CRC32 you specified did not match the calculated checksum.")
    out = complete(ops, upload_id, parts, ChecksumCRC64NVME=whole, ChecksumType="FULL_OBJECT")
    assert out["ChecksumCRC64NVME"] == whole


def test_unreadable_whole_checksum_is_invalid_request(s3: S3, bucket: Bucket) -> None:
    ops = adapter(s3)
    upload_id, parts = upload(ops, [TWO], ChecksumAlgorithm="CRC32")
    for value in ("not base64", "AAAA-1", "AAAAAA==-x"):
        error = refused(lambda: complete(ops, upload_id, parts, ChecksumCRC32=value))  # noqa: B023
        assert (error.code, error.message) == (
            "InvalidRequest", "Value for x-amz-checksum-crc32 header is invalid.")
    error = refused(lambda: complete(ops, upload_id, parts, ChecksumCRC32=crc32(TWO),
                                     ChecksumSHA1="AAAAAAAAAAAAAAAAAAAAAAAAAAA="))
    assert error.code == "InvalidRequest" and "Multiple checksum Types" in error.message


@pytest.mark.parametrize(("create", "sent", "named"), [
    ({"ChecksumAlgorithm": "CRC32"}, "FULL_OBJECT", "COMPOSITE"),
    ({"ChecksumAlgorithm": "CRC32", "ChecksumType": "FULL_OBJECT"}, "COMPOSITE", "FULL_OBJECT"),
    ({"ChecksumAlgorithm": "CRC64NVME"}, "COMPOSITE", "FULL_OBJECT"),
    ({}, "COMPOSITE", "FULL_OBJECT"),
])
def test_checksum_type_must_be_the_uploads(s3: S3, bucket: Bucket, create: dict[str, str],
                                           sent: str, named: str) -> None:
    ops = adapter(s3)
    upload_id, parts = upload(ops, [TWO], **create)
    error = refused(lambda: complete(ops, upload_id, parts, ChecksumType=sent))
    assert (error.code, error.status, error.message) == (
        "InvalidRequest", 400, (f"The upload was created using the {named} checksum mode. "
                                "The complete request must use the same checksum mode."))
    assert complete(ops, upload_id, parts, ChecksumType=named)["ChecksumType"] == named
