"""The integrity headers of S3's XML documents (DeleteObjects and the configuration PUTs):
Content-MD5 and ``x-amz-checksum-*`` are checked against the document, and DeleteObjects must
carry one of them, as S3 asks."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import pytest
from test_s3_part_queries import send
from test_s3_streaming import crc32

from headwater.testing import RunningHeadwater

pytestmark = pytest.mark.e2e

DELETE = (b'<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
          b"<Object><Key>k</Key></Object></Delete>")
TAGGING = (b'<Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><TagSet>'
           b"<Tag><Key>a</Key><Value>b</Value></Tag></TagSet></Tagging>")


def md5(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


@pytest.mark.parametrize(("headers", "status", "text"), [
    ({"Content-MD5": md5(DELETE)}, 200, b"<Deleted>"),
    ({"x-amz-checksum-crc32": crc32(DELETE)}, 200, b"<Deleted>"),
    ({"Content-MD5": md5(b"other")}, 400,
     (b"<Code>BadDigest</Code><Message>The Content-MD5 you specified did not match what we "
     b"received.</Message>")),
    ({"x-amz-checksum-crc32": crc32(b"other")}, 400,
     (b"<Code>BadDigest</Code><Message>The CRC32 you specified did not match the calculated "
     b"checksum.</Message>")),
    ({"Content-MD5": "not-md5"}, 400, b"<Code>InvalidDigest</Code>"),
    ({}, 400, (b"<Code>InvalidRequest</Code><Message>Missing required header for this request: "
              b"Content-MD5</Message>")),
], ids=["md5", "crc32", "wrong-md5", "wrong-crc32", "garbled-md5", "neither"])
def test_delete_objects_digests(hw: RunningHeadwater, s3: Any, bucket: str,
                                headers: dict[str, str], status: int, text: bytes) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    got, _, body = send(hw, "POST", f"/{bucket}?delete", DELETE, headers)
    assert got == status and text in body, body
    if status != 200:
        assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"x"


def test_a_configuration_document_is_checked_when_it_carries_a_digest(
        hw: RunningHeadwater, s3: Any, bucket: str) -> None:
    status, _, body = send(hw, "PUT", f"/{bucket}?tagging", TAGGING, {"Content-MD5": md5(b"x")})
    assert status == 400 and b"<Code>BadDigest</Code>" in body
    status, _, body = send(hw, "PUT", f"/{bucket}?tagging", TAGGING, {})
    assert status == 204, body  # only DeleteObjects must carry one
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == [{"Key": "a", "Value": "b"}]
