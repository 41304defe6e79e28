"""Lifecycle rules against a running server, with boto3: a rule that moves objects down S3's
storage-class waterfall too soon is refused with S3's recorded answer, and one that steps down
the whole waterfall in order is stored and read back as sent."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

pytestmark = pytest.mark.e2e


def test_a_transition_too_soon_after_glacier_is_refused(s3: Any, bucket: str) -> None:
    # S3's answer as a Terraform apply recorded it, for DEEP_ARCHIVE 60 days after GLACIER:
    # the filter is named twice, the second time inside quotes of its own.
    with pytest.raises(ClientError) as err:
        s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [
            {"ID": "archive", "Status": "Enabled", "Filter": {"Prefix": "logs/"},
             "Transitions": [{"Days": 30, "StorageClass": "GLACIER"},
                             {"Days": 90, "StorageClass": "DEEP_ARCHIVE"}]}]})
    response = err.value.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert response["Error"]["Code"] == "InvalidArgument"
    assert response["Error"]["Message"] == (
        "'Days' in the 'Transition' action for StorageClass 'DEEP_ARCHIVE' for filter "
        "'(prefix=logs/)' must be 90 days more than 'filter '(prefix=logs/)'' in the "
        "'Transition' action for StorageClass 'GLACIER'")
    with pytest.raises(ClientError) as err:
        s3.get_bucket_lifecycle_configuration(Bucket=bucket)
    assert err.value.response["Error"]["Code"] == "NoSuchLifecycleConfiguration"


def test_a_rule_down_the_whole_waterfall_is_stored(s3: Any, bucket: str) -> None:
    steps = [(30, "STANDARD_IA"), (60, "INTELLIGENT_TIERING"), (90, "ONEZONE_IA"),
             (120, "GLACIER"), (210, "DEEP_ARCHIVE")]
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [
        {"ID": "waterfall", "Status": "Enabled", "Filter": {"Prefix": "logs/"},
         "Transitions": [{"Days": days, "StorageClass": target} for days, target in steps],
         "Expiration": {"Days": 365}}]})
    (rule,) = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert [(t["Days"], t["StorageClass"]) for t in rule["Transitions"]] == steps
    assert rule["Expiration"] == {"Days": 365}
