"""The bucket owner condition: ``x-amz-expected-bucket-owner`` (and a copy source's
``x-amz-source-expected-bucket-owner``) on any bucket or object operation.
https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-owner-condition.html"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from headwater.config import DEFAULT_ACCOUNT_ID

pytestmark = pytest.mark.e2e
OTHER = "111122223333"


def error(call: Any, **params: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as caught:
        call(**params)
    return caught.value.response  # type: ignore[no-any-return]


def test_the_owner_passes_and_another_account_is_denied(s3: Any, bucket: str) -> None:
    owner = DEFAULT_ACCOUNT_ID
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", ExpectedBucketOwner=owner)
    assert s3.get_object(Bucket=bucket, Key="k", ExpectedBucketOwner=owner)["Body"].read() == b"x"
    s3.list_objects_v2(Bucket=bucket, ExpectedBucketOwner=owner)
    for call, params in [
        (s3.put_object, {"Key": "other", "Body": b"y"}),
        (s3.get_object, {"Key": "k"}),
        (s3.delete_object, {"Key": "k"}),
        (s3.list_objects_v2, {}),
        (s3.get_bucket_tagging, {}),
    ]:
        found = error(call, Bucket=bucket, ExpectedBucketOwner=OTHER, **params)
        assert (found["Error"]["Code"], found["Error"]["Message"]) == ("AccessDenied",
                                                                       "Access Denied")
        assert found["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert error(s3.head_bucket, Bucket=bucket, ExpectedBucketOwner=OTHER)["Error"]["Code"] == "403"
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert keys == ["k"]  # nothing was written or deleted


@pytest.mark.parametrize("value", ["0000", "invalid", "0000000000020"])
def test_a_value_that_is_no_account_id_is_400(s3: Any, bucket: str, value: str) -> None:
    found = error(s3.list_objects_v2, Bucket=bucket, ExpectedBucketOwner=value)
    assert found["Error"]["Code"] == "InvalidBucketOwnerAWSAccountID"
    assert found["Error"]["Message"] == ("The value of the expected bucket owner parameter must "
                                         f"be an AWS Account ID... [{value}]")
    # Checked before the bucket is looked for.
    found = error(s3.list_objects_v2, Bucket="no-such-bucket-owner", ExpectedBucketOwner=value)
    assert found["Error"]["Code"] == "InvalidBucketOwnerAWSAccountID"


def test_a_copy_checks_its_source_bucket_owner(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="src", Body=b"x")
    found = error(s3.copy_object, Bucket=bucket, Key="dst", CopySource=f"{bucket}/src",
                  ExpectedSourceBucketOwner=OTHER)
    assert found["Error"]["Code"] == "AccessDenied"
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="dst")
