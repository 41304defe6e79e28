"""What S3 answers to writes, where the modern ceph/s3-tests found headwater differing:
version ids from a versioning-Suspended bucket, tag headers and limits, Content-Encoding."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError
from test_s3_compat_edges import _error


@pytest.fixture
def suspended(s3: Any) -> str:
    name = f"susp-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=name)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Suspended"})
    return name


def test_puts_to_a_suspended_bucket_name_no_version_but_copies_and_reads_say_null(
    s3: Any, suspended: str
) -> None:
    put = s3.put_object(Bucket=suspended, Key="k", Body=b"one")
    assert "VersionId" not in put
    # A copy, though, names the null version (LocalStack's AWS-validated in-place copy tests),
    # and not its null-version source.
    copied = s3.copy_object(Bucket=suspended, Key="copy", CopySource={"Bucket": suspended, "Key": "k"})
    assert copied["VersionId"] == "null"
    assert "CopySourceVersionId" not in copied
    upload = s3.create_multipart_upload(Bucket=suspended, Key="mp")["UploadId"]
    etag = s3.upload_part(Bucket=suspended, Key="mp", UploadId=upload, PartNumber=1,
                          Body=b"part")["ETag"]
    done = s3.complete_multipart_upload(Bucket=suspended, Key="mp", UploadId=upload,
                                        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})
    assert "VersionId" not in done
    assert s3.head_object(Bucket=suspended, Key="k")["VersionId"] == "null"
    assert s3.get_object(Bucket=suspended, Key="mp")["VersionId"] == "null"


def test_writes_to_a_versioned_bucket_name_their_version(s3: Any) -> None:
    name = f"vers-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=name)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    version = s3.put_object(Bucket=name, Key="k", Body=b"one")["VersionId"]
    assert version and version != "null"
    assert s3.head_object(Bucket=name, Key="k")["VersionId"] == version


def test_a_tag_without_a_value_is_an_empty_one(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="t", Body=b"x", Tagging="foo=bar&bar")
    tags = s3.get_object_tagging(Bucket=bucket, Key="t")["TagSet"]
    assert {t["Key"]: t["Value"] for t in tags} == {"foo": "bar", "bar": ""}


@pytest.mark.parametrize(("tagging", "code", "message"), [
    ("k" * 129 + "=v", "InvalidTag", "The TagKey you have provided is invalid"),
    ("k=" + "v" * 257, "InvalidTag", "The TagValue you have provided is invalid"),
    ("&".join(f"k{i}=v" for i in range(11)), "BadRequest", "Object tags cannot be greater than 10"),
])
def test_tag_limits_answer_as_s3_does(s3: Any, bucket: str, tagging: str, code: str,
                                      message: str) -> None:
    with pytest.raises(ClientError) as err:
        s3.put_object(Bucket=bucket, Key="t", Body=b"x", Tagging=tagging)
    assert _error(err) == (400, code, message)
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="t")


def test_put_object_tagging_over_ten_tags_is_a_bad_request(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="t", Body=b"x")
    tag_set = [{"Key": f"k{i}", "Value": "v"} for i in range(11)]
    with pytest.raises(ClientError) as err:
        s3.put_object_tagging(Bucket=bucket, Key="t", Tagging={"TagSet": tag_set})
    assert _error(err) == (400, "BadRequest", "Object tags cannot be greater than 10")


@pytest.mark.parametrize(("sent", "stored"), [
    ("deflate, gzip", "deflate, gzip"),
    ("gzip", "gzip"),
    ("deflate,  br", "deflate,  br"),
])
def test_content_encoding_is_kept_as_sent(s3: Any, bucket: str, sent: str,
                                                           stored: str) -> None:
    s3.put_object(Bucket=bucket, Key="e", Body=b"x", ContentEncoding=sent)
    assert s3.head_object(Bucket=bucket, Key="e")["ContentEncoding"] == stored


def test_if_none_match_with_an_etag_on_a_write_is_not_implemented(s3: Any, bucket: str) -> None:
    etag = s3.put_object(Bucket=bucket, Key="c", Body=b"one")["ETag"]
    with pytest.raises(ClientError) as err:
        s3.put_object(Bucket=bucket, Key="c", Body=b"two", IfNoneMatch=etag)
    assert _error(err) == (501, "NotImplemented",
                           "A header you provided implies functionality that is not implemented")
    assert s3.get_object(Bucket=bucket, Key="c")["Body"].read() == b"one"
    upload = s3.create_multipart_upload(Bucket=bucket, Key="c")["UploadId"]
    part = s3.upload_part(Bucket=bucket, Key="c", UploadId=upload, PartNumber=1, Body=b"p")
    with pytest.raises(ClientError) as err:
        s3.complete_multipart_upload(
            Bucket=bucket, Key="c", UploadId=upload, IfNoneMatch=etag,
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    assert _error(err)[:2] == (501, "NotImplemented")
