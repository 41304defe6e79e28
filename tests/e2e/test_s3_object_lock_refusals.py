"""Object Lock is not served: writes that ask for it are refused the way S3 refuses them on a
bucket without it, and a bucket cannot be made with it (501) -- nothing pretends to lock."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

pytestmark = pytest.mark.e2e

UNTIL = datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)
LOCKS: list[dict[str, Any]] = [
    {"ObjectLockMode": "GOVERNANCE", "ObjectLockRetainUntilDate": UNTIL},
    {"ObjectLockLegalHoldStatus": "ON"},
]


def refused(call: Any, code: str, message: str) -> None:
    with pytest.raises(ClientError) as caught:
        call()
    error = caught.value.response["Error"]
    assert (error["Code"], error["Message"]) == (code, message)


@pytest.mark.parametrize("lock", LOCKS, ids=["retention", "legal-hold"])
def test_lock_requests_on_a_bucket_without_object_lock(s3: Any, bucket: str,
                                                       lock: dict[str, Any]) -> None:
    missing = "Bucket is missing ObjectLockConfiguration"
    refused(lambda: s3.put_object(Bucket=bucket, Key="k", Body=b"x", **lock),
            "InvalidRequest", missing)
    s3.put_object(Bucket=bucket, Key="src", Body=b"x")
    refused(lambda: s3.copy_object(Bucket=bucket, Key="k", CopySource=f"{bucket}/src", **lock),
            "InvalidRequest", missing)
    refused(lambda: s3.create_multipart_upload(Bucket=bucket, Key="k", **lock),
            "InvalidRequest", missing)
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert keys == ["src"]
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def test_a_lock_request_without_a_digest_is_refused_for_that_first(
        s3: Any, bucket: str) -> None:
    # boto3 always sends a checksum now; take it off to send what curl would.
    def strip(request: Any, **_: Any) -> None:
        for name in list(request.headers.keys()):
            if name.lower().startswith(("x-amz-checksum-", "x-amz-sdk-checksum", "content-md5")):
                del request.headers[name]

    s3.meta.events.register_first("before-sign.s3.PutObject", strip)
    try:
        refused(lambda: s3.put_object(Bucket=bucket, Key="k", Body=b"x",
                                      ObjectLockLegalHoldStatus="ON"),
                "InvalidRequest", "Content-MD5 OR x-amz-checksum- HTTP header is required for "
                "Put Object requests with Object Lock parameters")
    finally:
        s3.meta.events.unregister("before-sign.s3.PutObject", strip)


def test_a_bucket_with_object_lock_is_not_made(s3: Any) -> None:
    with pytest.raises(ClientError) as caught:
        s3.create_bucket(Bucket="locked-bucket-501", ObjectLockEnabledForBucket=True)
    assert caught.value.response["Error"]["Code"] == "NotImplemented"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501
    refused(lambda: s3.head_bucket(Bucket="locked-bucket-501"), "404", "Not Found")
    s3.create_bucket(Bucket="unlocked-bucket-ok", ObjectLockEnabledForBucket=False)
    s3.delete_bucket(Bucket="unlocked-bucket-ok")


def test_an_append_is_not_served(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"hello")
    with pytest.raises(ClientError) as caught:
        s3.put_object(Bucket=bucket, Key="k", Body=b"more", WriteOffsetBytes=5)
    assert caught.value.response["Error"]["Code"] == "NotImplemented"
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"hello"


def test_questions_about_locks_get_the_answers_of_a_bucket_without_object_lock(
        s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    with pytest.raises(ClientError) as caught:
        s3.get_object_lock_configuration(Bucket=bucket)
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    refused(lambda: s3.get_object_lock_configuration(Bucket=bucket),
            "ObjectLockConfigurationNotFoundError",
            "Object Lock configuration does not exist for this bucket")
    missing = "Bucket is missing Object Lock Configuration"
    for call in (
        lambda: s3.get_object_retention(Bucket=bucket, Key="k"),
        lambda: s3.get_object_legal_hold(Bucket=bucket, Key="k"),
        lambda: s3.put_object_retention(Bucket=bucket, Key="k", Retention={
            "Mode": "GOVERNANCE", "RetainUntilDate": UNTIL}),
        lambda: s3.put_object_legal_hold(Bucket=bucket, Key="k", LegalHold={"Status": "ON"}),
    ):
        refused(call, "InvalidRequest", missing)
    refused(lambda: s3.get_object_retention(Bucket="no-such-bucket-here", Key="k"),
            "NoSuchBucket", "The specified bucket does not exist")


def test_object_lock_is_turned_on_only_over_enabled_versioning_and_not_here(
        s3: Any, bucket: str) -> None:
    config = {"ObjectLockEnabled": "Enabled",
              "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 1}}}
    with pytest.raises(ClientError) as caught:
        s3.put_object_lock_configuration(Bucket=bucket, ObjectLockConfiguration=config)
    error = caught.value.response
    assert (error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"]) == (
        "InvalidBucketState", 409)
    assert error["Error"]["Message"] == (
        "Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration")
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    with pytest.raises(ClientError) as caught:
        s3.put_object_lock_configuration(Bucket=bucket, ObjectLockConfiguration=config)
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501
    refused(lambda: s3.get_object_lock_configuration(Bucket=bucket),
            "ObjectLockConfigurationNotFoundError",
            "Object Lock configuration does not exist for this bucket")
