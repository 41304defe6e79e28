"""CreateBucket and the region the request was sent to (its SigV4 credential scope), as S3's
endpoints answer it: us-east-1 (the global endpoint) takes no LocationConstraint or another
region's, and refuses its own name; any other region takes only its own name.  The answers
are those moto's AWS-verified tests recorded (test_create_bucket_with_wrong_location_constraint,
test_bucket_create_force_us_east_1, ..._non_standard_region_should_return_error)."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from s3_answers import refused

from headwater.testing import RunningHeadwater

AWS = Path(sys.executable).parent / "aws"  # the test extra installs awscli
INCOMPATIBLE = ("The {} location constraint is incompatible for the region specific endpoint "
                "this request was sent to.")


def client(hw: RunningHeadwater, region: str) -> Any:
    # No parameter validation: boto3 would refuse some of the configurations sent here.
    return boto3.client("s3", endpoint_url=hw.endpoint, region_name=region,
                        aws_access_key_id=hw.access_key, aws_secret_access_key=hw.secret_key,
                        config=Config(retries={"max_attempts": 1}, parameter_validation=False))


def name() -> str:
    return f"rg-{uuid.uuid4().hex[:12]}"


def test_us_east_1_without_a_constraint_is_us_east_1(hw: RunningHeadwater) -> None:
    s3 = client(hw, "us-east-1")
    for config in (None, {}, {"LocationConstraint": None}):
        bucket = name()
        kwargs: dict[str, Any] = {"Bucket": bucket}
        if config is not None:
            kwargs["CreateBucketConfiguration"] = config
        s3.create_bucket(**kwargs)
        assert s3.get_bucket_location(Bucket=bucket)["LocationConstraint"] is None
        assert s3.head_bucket(Bucket=bucket)["BucketRegion"] == "us-east-1"


def test_us_east_1_refuses_its_own_name_as_constraint(hw: RunningHeadwater) -> None:
    s3 = client(hw, "us-east-1")
    bucket = name()
    with pytest.raises(ClientError) as err:
        s3.create_bucket(Bucket=bucket,
                         CreateBucketConfiguration={"LocationConstraint": "us-east-1"})
    found = err.value.response
    assert (found["Error"]["Code"], found["ResponseMetadata"]["HTTPStatusCode"],
            found["Error"]["Message"]) == (
        "InvalidLocationConstraint", 400, "The specified location-constraint is not valid")
    assert found["Error"]["LocationConstraint"] == "us-east-1"
    assert refused(lambda: s3.head_bucket(Bucket=bucket))[1] == 404


@pytest.mark.parametrize("region", ["us-east-2", "eu-central-1"])
def test_us_east_1_creates_buckets_in_other_regions(hw: RunningHeadwater, region: str) -> None:
    s3 = client(hw, "us-east-1")
    bucket = name()
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
    assert s3.get_bucket_location(Bucket=bucket)["LocationConstraint"] == region


def test_a_regional_endpoint_takes_its_own_region(hw: RunningHeadwater) -> None:
    s3 = client(hw, "eu-west-1")
    bucket = name()
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    assert s3.get_bucket_location(Bucket=bucket)["LocationConstraint"] == "eu-west-1"


@pytest.mark.parametrize("config", [None, {}, {"LocationConstraint": None}])
def test_a_regional_endpoint_refuses_no_constraint(hw: RunningHeadwater,
                                                   config: dict[str, Any] | None) -> None:
    s3 = client(hw, "us-east-2")
    bucket = name()
    kwargs: dict[str, Any] = {"Bucket": bucket}
    if config is not None:
        kwargs["CreateBucketConfiguration"] = config
    assert refused(lambda: s3.create_bucket(**kwargs)) == (
        "IllegalLocationConstraintException", 400, INCOMPATIBLE.format("unspecified"))
    assert refused(lambda: s3.head_bucket(Bucket=bucket))[1] == 404


@pytest.mark.parametrize("constraint", ["us-east-1", "us-east-2", "eu-central-1",
                                        "us-gov-east-2"])
def test_a_regional_endpoint_refuses_another_region(hw: RunningHeadwater,
                                                    constraint: str) -> None:
    s3 = client(hw, "us-west-2")
    bucket = name()
    assert refused(lambda: s3.create_bucket(
        Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": constraint})) == (
        "IllegalLocationConstraintException", 400, INCOMPATIBLE.format(constraint))


def test_re_creating_ones_own_bucket(hw: RunningHeadwater) -> None:
    east, west = client(hw, "us-east-1"), client(hw, "eu-west-1")
    # us-east-1's legacy 200 for one's own us-east-1 bucket is kept ...
    bucket = name()
    east.create_bucket(Bucket=bucket)
    east.create_bucket(Bucket=bucket)
    # ... and a repeat elsewhere is refused for its constraint before the name is looked at.
    assert refused(lambda: west.create_bucket(Bucket=bucket))[0] == (
        "IllegalLocationConstraintException")
    other = name()
    config = {"LocationConstraint": "eu-west-1"}
    west.create_bucket(Bucket=other, CreateBucketConfiguration=config)
    assert refused(lambda: west.create_bucket(Bucket=other, CreateBucketConfiguration=config)
                   )[:2] == ("BucketAlreadyOwnedByYou", 409)


def test_aws_s3_mb_names_the_region_itself(env: dict[str, str]) -> None:
    # The aws CLI sends the client's region as the LocationConstraint outside us-east-1.
    if not AWS.exists():
        pytest.skip(f"no aws executable at {AWS}")
    bucket = name()

    def aws(*args: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([str(AWS), *args, "--region", "ap-south-1", "--endpoint-url",
                               env["AWS_ENDPOINT_URL"]],
                              check=False, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return done

    aws("s3", "mb", f"s3://{bucket}")
    found = aws("s3api", "get-bucket-location", "--bucket", bucket, "--output", "text")
    assert found.stdout.strip() == "ap-south-1"
