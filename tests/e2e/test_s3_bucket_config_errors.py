"""S3's recorded answers to bucket requests it refuses: an empty versioning document, deleting a
versioned bucket that still holds versions, an unknown x-amz-object-ownership at creation.
Source: localstack's AWS-validated test_s3_api.py snapshots (test_bucket_versioning_crud,
test_delete_versioned_bucket_with_objects, test_delete_bucket_with_objects,
test_bucket_ownership_controls_exc)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

NOT_EMPTY = "The bucket you tried to delete is not empty"
VERSIONS_LEFT = NOT_EMPTY + ". You must delete all versions in the bucket."


def refused(call: Callable[[], Any]) -> tuple[tuple[str, int, str], dict[str, str]]:
    """The (code, status, message) of a refused call and the error's other elements."""
    with pytest.raises(ClientError) as err:
        call()
    error = dict(err.value.response["Error"])
    status = err.value.response["ResponseMetadata"]["HTTPStatusCode"]
    return (error.pop("Code"), status, error.pop("Message")), error


def test_an_empty_versioning_document_must_name_the_versioning(s3: Any, bucket: str) -> None:
    assert refused(lambda: s3.put_bucket_versioning(
        Bucket=bucket, VersioningConfiguration={}))[0] == (
        "IllegalVersioningConfigurationException", 400,
        "The Versioning element must be specified")
    assert refused(lambda: s3.put_bucket_versioning(
        Bucket=bucket, VersioningConfiguration={"Status": "Disabled"}))[0][:2] == (
        "MalformedXML", 400)
    assert "Status" not in s3.get_bucket_versioning(Bucket=bucket)


def test_a_never_versioned_bucket_keeps_the_plain_message(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert refused(lambda: s3.delete_bucket(Bucket=bucket)) == (
        ("BucketNotEmpty", 409, NOT_EMPTY), {"BucketName": bucket})


def test_a_versioned_bucket_asks_for_all_versions_to_go(s3: Any, bucket: str) -> None:
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    put = s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    marker = s3.delete_object(Bucket=bucket, Key="k")
    expected = (("BucketNotEmpty", 409, VERSIONS_LEFT), {"BucketName": bucket})
    assert refused(lambda: s3.delete_bucket(Bucket=bucket)) == expected
    s3.delete_object(Bucket=bucket, Key="k", VersionId=put["VersionId"])
    # Only the delete marker is left: still not empty.
    assert refused(lambda: s3.delete_bucket(Bucket=bucket)) == expected
    s3.delete_object(Bucket=bucket, Key="k", VersionId=marker["VersionId"])
    s3.delete_bucket(Bucket=bucket)
    assert bucket not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_a_suspended_bucket_asks_for_all_versions_to_go(s3: Any, bucket: str) -> None:
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    assert refused(lambda: s3.delete_bucket(Bucket=bucket))[0] == (
        "BucketNotEmpty", 409, VERSIONS_LEFT)


def test_an_empty_versioned_bucket_is_deleted(s3: Any, bucket: str) -> None:
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.delete_bucket(Bucket=bucket)
    assert refused(lambda: s3.head_bucket(Bucket=bucket))[0][:2] == ("404", 404)


@pytest.mark.parametrize("ownership", ["RandomValue", ""])
def test_an_unknown_ownership_at_creation_is_named_in_the_message(s3: Any,
                                                                  ownership: str) -> None:
    name = f"own-{uuid.uuid4().hex[:12]}"
    assert refused(lambda: s3.create_bucket(Bucket=name, ObjectOwnership=ownership)) == (
        ("InvalidArgument", 400, f"Invalid x-amz-object-ownership header: {ownership}"),
        {"ArgumentName": "x-amz-object-ownership"})
    assert name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
