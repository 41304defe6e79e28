"""Lifecycle rules S3's schema refuses, against a running server with boto3, as S3 answered the
same requests in LocalStack's AWS-validated ``TestS3BucketLifecycle::
test_put_bucket_lifecycle_conf_exc`` (tests/aws/services/s3/test_s3.py and its snapshot in
localstack/localstack).

AWS page: https://docs.aws.amazon.com/AmazonS3/latest/API/API_LifecycleRule.html
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

pytestmark = pytest.mark.e2e

MALFORMED = {
    "Code": "MalformedXML",
    "Message": "The XML you provided was not well-formed or did not validate against our "
               "published schema",
}


def _refusal(s3: Any, bucket: str, rule: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    with pytest.raises(ClientError) as err:
        s3.put_bucket_lifecycle_configuration(Bucket=bucket,
                                              LifecycleConfiguration={"Rules": [rule]})
    response = err.value.response
    return response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]


@pytest.mark.parametrize("rule", [
    # "missing-id": neither ID nor Filter.
    {"Expiration": {"Days": 7}, "Status": "Enabled"},
    # "missing-filter": an ID, but neither Filter nor Prefix.
    {"Expiration": {"Days": 7}, "ID": "wholebucket", "Status": "Enabled"},
], ids=["missing-id", "missing-filter"])
def test_a_rule_without_filter_or_prefix_is_malformed(s3: Any, bucket: str,
                                                      rule: dict[str, Any]) -> None:
    assert _refusal(s3, bucket, rule) == (400, MALFORMED)
    with pytest.raises(ClientError) as err:
        s3.get_bucket_lifecycle_configuration(Bucket=bucket)
    assert err.value.response["Error"]["Code"] == "NoSuchLifecycleConfiguration"


def test_a_rule_without_an_id_is_given_one(s3: Any, bucket: str) -> None:
    # An ID is optional: the recorded "missing-id" refusal is its missing Filter.
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [
        {"Expiration": {"Days": 7}, "Filter": {}, "Status": "Enabled"}]})
    (rule,) = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert rule["ID"]


def test_a_rule_with_the_old_top_level_prefix_is_stored(s3: Any, bucket: str) -> None:
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [
        {"Expiration": {"Days": 7}, "ID": "old", "Prefix": "logs/", "Status": "Enabled"}]})
    (rule,) = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert rule["Prefix"] == "logs/"


def test_a_date_not_at_midnight_is_named_with_its_value(s3: Any, bucket: str) -> None:
    # "wrong-data-no-midnight": ArgumentName Date and an ArgumentValue (its text is replaced in
    # the snapshot); here the date as boto3 sent it.
    rule = {"Expiration": {"Date": datetime.datetime(2023, 1, 1, 2, 2)}, "ID": "wrong-data",
            "Filter": {}, "Status": "Enabled"}
    assert _refusal(s3, bucket, rule) == (400, {
        "Code": "InvalidArgument", "Message": "'Date' must be at midnight GMT",
        "ArgumentName": "Date", "ArgumentValue": "2023-01-01T02:02:00Z"})
