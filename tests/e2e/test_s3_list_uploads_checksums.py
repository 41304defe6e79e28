"""Two members S3 sends that headwater left out: each upload's ChecksumAlgorithm and
ChecksumType in ListMultipartUploads (botocore's MultipartUpload shape; moto's
test_multipart_response_contains_checksum_attributes), and HeadBucket's
``Content-Type: application/xml`` (moto's AWS-verified test_header_content_type)."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.mark.parametrize(("algorithm", "kind"), [("SHA256", "COMPOSITE"), ("CRC32", "FULL_OBJECT"),
                                                 ("CRC64NVME", "FULL_OBJECT")])
def test_uploads_list_their_checksum(s3: Any, bucket: str, algorithm: str, kind: str) -> None:
    extra = {"ChecksumType": kind} if algorithm == "CRC32" else {}
    s3.create_multipart_upload(Bucket=bucket, Key="with", ChecksumAlgorithm=algorithm, **extra)
    (upload,) = s3.list_multipart_uploads(Bucket=bucket)["Uploads"]
    assert (upload["ChecksumAlgorithm"], upload["ChecksumType"]) == (algorithm, kind)


def test_head_bucket_says_xml(s3: Any, bucket: str) -> None:
    headers = s3.head_bucket(Bucket=bucket)["ResponseMetadata"]["HTTPHeaders"]
    assert headers["content-type"] == "application/xml"
    # Not every bodyless answer: PutObject's carries none, as on S3.
    put = s3.put_object(Bucket=bucket, Key="k", Body=b"x")["ResponseMetadata"]["HTTPHeaders"]
    assert "content-type" not in put
