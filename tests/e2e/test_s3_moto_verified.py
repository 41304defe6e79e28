"""Object answers that an out-of-tree run of moto's AWS-verified S3 tests found different from
S3: part reads as ranges, delete-marker headers, conditional deletes, copies onto themselves
and their website redirects, GetObjectAttributes' header, archived copy sources."""

from __future__ import annotations

import os
from typing import Any

import pytest
from botocore.exceptions import ClientError

MiB = 1024 * 1024


def refused(call: Any) -> tuple[str, int, dict[str, Any]]:
    with pytest.raises(ClientError) as err:
        call()
    found = err.value.response
    return (found["Error"]["Code"], found["ResponseMetadata"]["HTTPStatusCode"], found)


def status(answer: dict[str, Any]) -> int:
    return int(answer["ResponseMetadata"]["HTTPStatusCode"])


# -- a part or a range is a partial answer ---------------------------------------------------


def test_part_one_of_an_object_uploaded_whole_is_a_range(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"0123456789")
    for read in (s3.get_object, s3.head_object):
        answer = read(Bucket=bucket, Key="k", PartNumber=1)
        assert status(answer) == 206
        assert answer["ContentRange"] == "bytes 0-9/10" and answer["ContentLength"] == 10
        assert "PartsCount" not in answer  # not a multipart object
    # Its one part is all of it, so its checksum is the object's.
    whole = s3.head_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED")["ChecksumCRC32"]
    part = s3.head_object(Bucket=bucket, Key="k", PartNumber=1, ChecksumMode="ENABLED")
    assert part["ChecksumCRC32"] == whole
    # An empty object has no range to speak of.
    s3.put_object(Bucket=bucket, Key="empty", Body=b"")
    assert status(s3.head_object(Bucket=bucket, Key="empty", PartNumber=1)) == 200


def test_a_ranged_head_is_partial_too(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"0123456789")
    answer = s3.head_object(Bucket=bucket, Key="k", Range="bytes=2-4", ChecksumMode="ENABLED")
    assert status(answer) == 206 and answer["ContentRange"] == "bytes 2-4/10"
    assert "ChecksumCRC32" not in answer  # never a whole-object checksum on a range
    assert status(s3.head_object(Bucket=bucket, Key="k")) == 200


def test_parts_count_comes_only_with_a_part_number(s3: Any, bucket: str) -> None:
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    done = []
    for number, data in enumerate([os.urandom(5 * MiB), b"tail"], start=1):
        etag = s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload, PartNumber=number,
                              Body=data)["ETag"]
        done.append({"PartNumber": number, "ETag": etag})
    s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload,
                                 MultipartUpload={"Parts": done})
    assert "PartsCount" not in s3.head_object(Bucket=bucket, Key="mp")
    second = s3.head_object(Bucket=bucket, Key="mp", PartNumber=2)
    assert second["PartsCount"] == 2 and status(second) == 206
    assert second["ContentRange"] == f"bytes {5 * MiB}-{5 * MiB + 3}/{5 * MiB + 4}"


# -- delete markers --------------------------------------------------------------------------


def test_reads_of_a_delete_marker_name_it(s3: Any, bucket: str) -> None:
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    marker = s3.delete_object(Bucket=bucket, Key="k")["VersionId"]
    _, code_status, found = refused(lambda: s3.head_object(Bucket=bucket, Key="k",
                                                           VersionId=marker))
    headers = found["ResponseMetadata"]["HTTPHeaders"]
    assert code_status == 405 and headers["allow"] == "DELETE"
    assert headers["x-amz-delete-marker"] == "true"
    _, code_status, found = refused(lambda: s3.head_object(Bucket=bucket, Key="k"))
    headers = found["ResponseMetadata"]["HTTPHeaders"]
    assert code_status == 404 and headers["x-amz-delete-marker"] == "true"
    assert headers["x-amz-version-id"] == marker


# -- conditional deletes ---------------------------------------------------------------------


def test_delete_with_if_match(s3: Any, bucket: str) -> None:
    etag = s3.put_object(Bucket=bucket, Key="k", Body=b"test")["ETag"]
    code, code_status, found = refused(lambda: s3.delete_object(Bucket=bucket, Key="k",
                                                                IfMatch='"nope"'))
    assert (code, code_status) == ("PreconditionFailed", 412)
    assert found["Error"]["Message"] == "At least one of the pre-conditions you specified did not hold"
    assert found["Error"]["Condition"] == "If-Match"
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"test"
    s3.delete_object(Bucket=bucket, Key="k", IfMatch=etag)
    assert refused(lambda: s3.head_object(Bucket=bucket, Key="k"))[1] == 404
    assert refused(lambda: s3.delete_object(Bucket=bucket, Key="gone", IfMatch=etag))[:2] == (
        "NoSuchKey", 404)


def test_delete_objects_with_etags(s3: Any, bucket: str) -> None:
    kept = s3.put_object(Bucket=bucket, Key="kept", Body=b"a")["ETag"]
    goes = s3.put_object(Bucket=bucket, Key="goes", Body=b"b")["ETag"]
    answer = s3.delete_objects(Bucket=bucket, Delete={"Objects": [
        {"Key": "kept", "ETag": goes}, {"Key": "goes", "ETag": goes}]})
    assert [d["Key"] for d in answer["Deleted"]] == ["goes"]
    assert [(e["Key"], e["Code"]) for e in answer["Errors"]] == [("kept", "PreconditionFailed")]
    assert s3.head_object(Bucket=bucket, Key="kept")["ETag"] == kept


# -- copies ----------------------------------------------------------------------------------


def test_a_copy_onto_itself_may_name_a_version(s3: Any, bucket: str) -> None:
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    first = s3.put_object(Bucket=bucket, Key="k", Body=b"one")["VersionId"]
    s3.put_object(Bucket=bucket, Key="k", Body=b"two")
    assert refused(lambda: s3.copy_object(
        Bucket=bucket, Key="k", CopySource={"Bucket": bucket, "Key": "k"}))[:2] == (
        "InvalidRequest", 400)
    # Naming a version brings it back as the current one.
    s3.copy_object(Bucket=bucket, Key="k", CopySource={"Bucket": bucket, "Key": "k",
                                                       "VersionId": first})
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"one"


def test_a_copy_takes_the_requests_website_redirect_not_the_sources(s3: Any,
                                                                   bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="src", Body=b"x", WebsiteRedirectLocation="/old")
    s3.copy_object(Bucket=bucket, Key="plain", CopySource={"Bucket": bucket, "Key": "src"})
    assert "WebsiteRedirectLocation" not in s3.head_object(Bucket=bucket, Key="plain")
    s3.copy_object(Bucket=bucket, Key="moved", CopySource={"Bucket": bucket, "Key": "src"},
                   WebsiteRedirectLocation="/new")
    moved = s3.head_object(Bucket=bucket, Key="moved")
    assert moved["WebsiteRedirectLocation"] == "/new"


# -- GetObjectAttributes ---------------------------------------------------------------------


def test_object_attributes_must_be_named(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    code, code_status, found = refused(lambda: s3.get_object_attributes(
        Bucket=bucket, Key="k", ObjectAttributes=[]))
    assert (code, code_status) == ("InvalidRequest", 400)
    assert found["Error"]["Message"] == ("The x-amz-object-attributes header specifying the "
                                         "attributes to be retrieved is either missing or empty")
    code, code_status, found = refused(lambda: s3.get_object_attributes(
        Bucket=bucket, Key="k", ObjectAttributes=["ETag", "Colour"]))
    assert (code, code_status) == ("InvalidArgument", 400)
    assert found["Error"]["Message"] == "Invalid attribute name specified."
    assert s3.get_object_attributes(Bucket=bucket, Key="k", ObjectAttributes=["ObjectSize"])[
        "ObjectSize"] == 1
