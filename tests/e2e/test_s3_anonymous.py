"""Requests without any credentials: S3 says a bucket does not exist before it says no.

S3's answers, as aws/aws-sdk-java#1256 lists them and ``curl`` of a missing bucket shows
(minio/minio#11293): anonymous and missing bucket -> 404 NoSuchBucket naming the bucket;
anonymous and existing bucket -> 403 AccessDenied; a bad key or signature -> 403 whether or
not the bucket exists.
"""

from __future__ import annotations

import uuid
from typing import Any
from xml.etree import ElementTree

import boto3
import pytest
import urllib3
from botocore.exceptions import ClientError

from headwater.testing import RunningHeadwater


def _anonymous(hw: RunningHeadwater, method: str, path: str) -> tuple[int, ElementTree.Element | None]:
    answer = urllib3.PoolManager().request(method, hw.endpoint + path, retries=False)
    root = ElementTree.fromstring(answer.data) if answer.data else None
    return answer.status, root


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/{b}/some/key"), ("GET", "/{b}"), ("GET", "/{b}?list-type=2"),
    ("PUT", "/{b}/some/key"), ("DELETE", "/{b}/some/key"), ("GET", "/{b}?versioning"),
])
def test_an_anonymous_request_for_a_missing_bucket_is_told_it_does_not_exist(
    hw: RunningHeadwater, method: str, path: str
) -> None:
    name = f"missing-{uuid.uuid4().hex[:10]}"
    status, root = _anonymous(hw, method, path.format(b=name))
    assert status == 404 and root is not None
    assert root.findtext("Code") == "NoSuchBucket"
    assert root.findtext("Message") == "The specified bucket does not exist"
    assert root.findtext("BucketName") == name


def test_an_anonymous_head_of_a_missing_bucket_is_a_404(hw: RunningHeadwater) -> None:
    status, _ = _anonymous(hw, "HEAD", f"/missing-{uuid.uuid4().hex[:10]}")
    assert status == 404


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/{b}/some/key"), ("GET", "/{b}"), ("PUT", "/{b}/some/key"),
])
def test_an_anonymous_request_for_an_existing_bucket_is_denied(
    hw: RunningHeadwater, bucket: str, method: str, path: str
) -> None:
    status, root = _anonymous(hw, method, path.format(b=bucket))
    assert status == 403 and root is not None and root.findtext("Code") == "AccessDenied"


def test_anonymous_create_bucket_and_list_buckets_are_denied(hw: RunningHeadwater) -> None:
    name = f"new-{uuid.uuid4().hex[:10]}"
    status, root = _anonymous(hw, "PUT", f"/{name}")
    assert status == 403 and root is not None and root.findtext("Code") == "AccessDenied"
    status, root = _anonymous(hw, "GET", "/")
    assert status == 403 and root is not None and root.findtext("Code") == "AccessDenied"


@pytest.mark.parametrize(("credentials", "code"), [
    ({"aws_access_key_id": "AKIDNOTCONFIGURED", "aws_secret_access_key": "test"},
     "InvalidAccessKeyId"),
    ({"aws_access_key_id": "test", "aws_secret_access_key": "wrong"}, "SignatureDoesNotMatch"),
])
def test_bad_credentials_for_a_missing_bucket_are_still_refused_as_such(
    hw: RunningHeadwater, credentials: dict[str, str], code: str
) -> None:
    client: Any = boto3.client("s3", endpoint_url=hw.endpoint, region_name="us-east-1",
                               **credentials)
    with pytest.raises(ClientError) as err:
        client.get_object(Bucket=f"missing-{uuid.uuid4().hex[:10]}", Key="k")
    assert err.value.response["Error"]["Code"] == code
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
