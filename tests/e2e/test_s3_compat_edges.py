"""Edges where a ceph/s3-tests run found headwater answering unlike AWS, with boto3: listings
asked for zero entries, lifecycle rule IDs (assigned when missing, too long, repeated), and
DeleteBucket with multipart uploads in progress."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

pytestmark = pytest.mark.e2e


def _error(err: pytest.ExceptionInfo[ClientError]) -> tuple[int, str, str]:
    response = err.value.response
    return (response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Code"],
            response["Error"]["Message"])


# -- max-keys=0 (and max-uploads / max-parts) --------------------------------------------------


def _fill(s3: Any, bucket: str) -> None:
    for key in ("a", "b", "dir/c", "dir/d"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")


def test_list_objects_v2_with_max_keys_zero_is_an_empty_complete_page(s3: Any,
                                                                       bucket: str) -> None:
    _fill(s3, bucket)
    for extra in ({}, {"Delimiter": "/"}):
        page = s3.list_objects_v2(Bucket=bucket, MaxKeys=0, **extra)
        assert page["IsTruncated"] is False
        assert page["KeyCount"] == 0 and page["MaxKeys"] == 0
        assert "Contents" not in page and "CommonPrefixes" not in page
        assert "NextContinuationToken" not in page
    # One key a page still pages: the fix is for zero only.
    page = s3.list_objects_v2(Bucket=bucket, MaxKeys=1)
    assert page["IsTruncated"] is True and [o["Key"] for o in page["Contents"]] == ["a"]
    assert page["NextContinuationToken"]


def test_list_objects_v1_with_max_keys_zero_is_an_empty_complete_page(s3: Any,
                                                                      bucket: str) -> None:
    _fill(s3, bucket)
    for extra in ({}, {"Delimiter": "/"}):
        page = s3.list_objects(Bucket=bucket, MaxKeys=0, **extra)
        assert page["IsTruncated"] is False and page["MaxKeys"] == 0
        assert "Contents" not in page and "CommonPrefixes" not in page
        assert "NextMarker" not in page
    # A paginator asked for pages of zero stops after the one empty page.
    pages = list(s3.get_paginator("list_objects").paginate(
        Bucket=bucket, PaginationConfig={"PageSize": 0}))
    assert len(pages) == 1 and "Contents" not in pages[0]


def test_list_object_versions_with_max_keys_zero_is_an_empty_complete_page(
        s3: Any, bucket: str) -> None:
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    _fill(s3, bucket)
    s3.delete_object(Bucket=bucket, Key="a")  # a delete marker too
    for extra in ({}, {"Delimiter": "/"}):
        page = s3.list_object_versions(Bucket=bucket, MaxKeys=0, **extra)
        assert page["IsTruncated"] is False and page["MaxKeys"] == 0
        assert not {"Versions", "DeleteMarkers", "CommonPrefixes"} & page.keys()
        assert "NextKeyMarker" not in page and "NextVersionIdMarker" not in page
    assert s3.list_object_versions(Bucket=bucket, MaxKeys=1)["IsTruncated"] is True


def test_list_multipart_uploads_with_max_uploads_zero_is_an_empty_complete_page(
        s3: Any, bucket: str) -> None:
    for key in ("a", "dir/b"):
        s3.create_multipart_upload(Bucket=bucket, Key=key)
    for extra in ({}, {"Delimiter": "/"}):
        page = s3.list_multipart_uploads(Bucket=bucket, MaxUploads=0, **extra)
        assert page["IsTruncated"] is False and page["MaxUploads"] == 0
        assert "Uploads" not in page and "CommonPrefixes" not in page
        assert page["NextKeyMarker"] == "" and page["NextUploadIdMarker"] == ""
    assert s3.list_multipart_uploads(Bucket=bucket, MaxUploads=1)["IsTruncated"] is True


def test_list_parts_with_max_parts_zero_is_an_empty_complete_page(s3: Any, bucket: str) -> None:
    upload = s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
    for number in (1, 2):
        s3.upload_part(Bucket=bucket, Key="k", UploadId=upload, PartNumber=number, Body=b"p")
    page = s3.list_parts(Bucket=bucket, Key="k", UploadId=upload, MaxParts=0)
    assert page["IsTruncated"] is False and page["MaxParts"] == 0
    assert "Parts" not in page and "NextPartNumberMarker" not in page
    page = s3.list_parts(Bucket=bucket, Key="k", UploadId=upload, MaxParts=1)
    assert page["IsTruncated"] is True and page["NextPartNumberMarker"] == 1


# -- lifecycle rule IDs ---------------------------------------------------------------------


def test_a_lifecycle_rule_without_an_id_gets_one_that_stays(s3: Any, bucket: str) -> None:
    rules = [{"Expiration": {"Days": 31}, "Filter": {"Prefix": "one/"}, "Status": "Enabled"},
             {"Expiration": {"Days": 120}, "Filter": {"Prefix": "two/"}, "Status": "Enabled"},
             {"ID": "mine", "Expiration": {"Days": 7}, "Filter": {"Prefix": "three/"},
              "Status": "Enabled"}]
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": rules})
    got = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert [r["Filter"]["Prefix"] for r in got] == ["one/", "two/", "three/"]
    assigned = [r["ID"] for r in got[:2]]
    assert all(re.fullmatch(r"[A-Za-z0-9]{48}", rule_id) for rule_id in assigned)
    assert assigned[0] != assigned[1]
    assert got[2]["ID"] == "mine"
    # Given once, at PUT: every later read shows the same IDs.
    again = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert [r["ID"] for r in again] == [*assigned, "mine"]


def _rule(rule_id: str, prefix: str = "logs/") -> dict[str, Any]:
    return {"ID": rule_id, "Expiration": {"Days": 2}, "Filter": {"Prefix": prefix},
            "Status": "Enabled"}


def test_a_lifecycle_rule_id_longer_than_255_characters_is_refused(s3: Any,
                                                                   bucket: str) -> None:
    with pytest.raises(ClientError) as err:
        s3.put_bucket_lifecycle_configuration(
            Bucket=bucket, LifecycleConfiguration={"Rules": [_rule("a" * 256)]})
    assert _error(err) == (400, "InvalidArgument",
                           "ID length should not exceed allowed limit of 255")
    with pytest.raises(ClientError):
        s3.get_bucket_lifecycle_configuration(Bucket=bucket)  # nothing was stored
    s3.put_bucket_lifecycle_configuration(
        Bucket=bucket, LifecycleConfiguration={"Rules": [_rule("a" * 255)]})
    got = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert got[0]["ID"] == "a" * 255


def test_two_lifecycle_rules_with_one_id_are_refused(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as err:
        s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={
            "Rules": [_rule("rule1", "one/"), _rule("rule1", "two/")]})
    assert _error(err) == (400, "InvalidArgument",
                           "Rule ID must be unique. Found same ID for more than one rule")


# -- DeleteBucket with uploads in progress ----------------------------------------------------


def test_delete_bucket_with_only_uploads_in_progress_deletes_them_too(s3: Any) -> None:
    name = f"bk-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    with_part = s3.create_multipart_upload(Bucket=name, Key="big")["UploadId"]
    s3.upload_part(Bucket=name, Key="big", UploadId=with_part, PartNumber=1, Body=b"x" * 1024)
    s3.create_multipart_upload(Bucket=name, Key="empty")
    s3.delete_bucket(Bucket=name)
    with pytest.raises(ClientError) as err:
        s3.head_bucket(Bucket=name)
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    # A bucket made again under the name starts with no uploads, and the old one is gone.
    s3.create_bucket(Bucket=name)
    assert "Uploads" not in s3.list_multipart_uploads(Bucket=name)
    with pytest.raises(ClientError) as err:
        s3.list_parts(Bucket=name, Key="big", UploadId=with_part)
    assert err.value.response["Error"]["Code"] == "NoSuchUpload"
    s3.delete_bucket(Bucket=name)


def test_delete_bucket_with_an_object_is_still_refused_and_keeps_its_uploads(
        s3: Any, bucket: str) -> None:
    upload = s3.create_multipart_upload(Bucket=bucket, Key="big")["UploadId"]
    s3.upload_part(Bucket=bucket, Key="big", UploadId=upload, PartNumber=1, Body=b"part")
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    with pytest.raises(ClientError) as err:
        s3.delete_bucket(Bucket=bucket)
    assert _error(err)[:2] == (409, "BucketNotEmpty")
    assert [u["UploadId"] for u in s3.list_multipart_uploads(Bucket=bucket)["Uploads"]] == [upload]
    s3.delete_object(Bucket=bucket, Key="k")
    s3.delete_bucket(Bucket=bucket)  # now only the upload is left


def test_an_empty_continuation_token_is_refused_an_empty_marker_is_none(s3: Any,
                                                                       bucket: str) -> None:
    # As recorded from S3 in LocalStack's AWS-validated
    # test_list_objects_v2_continuation_start_after (ceph/s3-tests expects the token echoed).
    for key in ("bar", "baz", "foo"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    with pytest.raises(ClientError) as err:
        s3.list_objects_v2(Bucket=bucket, ContinuationToken="")
    assert _error(err) == (400, "InvalidArgument", "The continuation token provided is incorrect")
    assert err.value.response["Error"]["ArgumentName"] == "continuation-token"
    with pytest.raises(ClientError) as err:
        s3.list_objects_v2(Bucket=bucket, ContinuationToken="not base64!")
    assert _error(err)[:2] == (400, "InvalidArgument")
    v1 = s3.list_objects(Bucket=bucket, Marker="")
    assert v1["Marker"] == "" and [o["Key"] for o in v1["Contents"]] == ["bar", "baz", "foo"]
