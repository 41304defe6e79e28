"""Storage classes against a running server, with boto3: the classes readable at once, the
archived ones that need a restore, the requests RestoreObject and PutObject refuse, the
x-amz-restore header of a finished restore, and the transition targets a lifecycle
configuration may name.  Restores run at a thousandth of AWS's time (an Expedited restore takes
0.3 s); a lifecycle day is a real day, so expiry dates fall on midnight UTC as on AWS."""

from __future__ import annotations

import math
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from headwater.testing import RunningHeadwater, running_headwater

pytestmark = pytest.mark.e2e

NOT_RESTORABLE = "Restore is not allowed for the object's current storage class"


@pytest.fixture(scope="module")
def hw() -> Iterator[RunningHeadwater]:
    with running_headwater(archive_time_scale=0.001) as server:
        yield server


def _error(err: pytest.ExceptionInfo[ClientError]) -> tuple[int, str, str]:
    response = err.value.response
    return (response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Code"],
            response["Error"]["Message"])


@pytest.mark.parametrize("storage_class", [
    "GLACIER_IR", "INTELLIGENT_TIERING", "ONEZONE_IA", "STANDARD_IA", "REDUCED_REDUNDANCY"])
def test_instant_classes_read_without_a_restore(s3: Any, bucket: str, storage_class: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"warm enough", StorageClass=storage_class)
    got = s3.get_object(Bucket=bucket, Key="k")
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert got["Body"].read() == b"warm enough"
    assert got["StorageClass"] == storage_class
    head = s3.head_object(Bucket=bucket, Key="k")
    assert head["StorageClass"] == storage_class and "Restore" not in head
    assert s3.list_objects_v2(Bucket=bucket)["Contents"][0]["StorageClass"] == storage_class


@pytest.mark.parametrize("storage_class", [
    "STANDARD", "GLACIER_IR", "INTELLIGENT_TIERING", "ONEZONE_IA", "STANDARD_IA"])
def test_a_restore_of_an_object_that_is_not_archived_is_refused(
    s3: Any, bucket: str, storage_class: str
) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", StorageClass=storage_class)
    with pytest.raises(ClientError) as err:
        s3.restore_object(Bucket=bucket, Key="k", RestoreRequest={"Days": 1})
    assert _error(err) == (403, "InvalidObjectState", NOT_RESTORABLE)
    assert "Restore" not in s3.head_object(Bucket=bucket, Key="k")


def test_deep_archive_is_read_only_after_a_restore(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="deep", Body=b"abyss", StorageClass="DEEP_ARCHIVE")
    with pytest.raises(ClientError) as err:
        s3.get_object(Bucket=bucket, Key="deep")
    assert _error(err) == (403, "InvalidObjectState",
                           "The operation is not valid for the object's storage class")
    assert err.value.response["Error"]["StorageClass"] == "DEEP_ARCHIVE"
    head = s3.head_object(Bucket=bucket, Key="deep")  # HEAD works and names the class
    assert head["StorageClass"] == "DEEP_ARCHIVE" and "Restore" not in head
    s3.restore_object(Bucket=bucket, Key="deep", RestoreRequest={"Days": 1})  # 12 h -> 43 s
    assert s3.head_object(Bucket=bucket, Key="deep")["Restore"] == 'ongoing-request="true"'
    with pytest.raises(ClientError) as err:
        s3.get_object(Bucket=bucket, Key="deep")
    assert _error(err)[1] == "InvalidObjectState"


def test_an_unknown_storage_class_is_refused(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as err:
        s3.put_object(Bucket=bucket, Key="k", Body=b"x", StorageClass="FROZEN")
    assert _error(err) == (400, "InvalidStorageClass", "The storage class you specified is not valid")
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)


def _next_midnight(moment: float) -> datetime:
    return datetime.fromtimestamp(math.ceil(moment / 86400) * 86400, tz=UTC)


def test_a_finished_restore_shows_its_expiry_date(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="cold", Body=b"frozen", StorageClass="GLACIER")
    before = time.time()
    started = s3.restore_object(Bucket=bucket, Key="cold", RestoreRequest={
        "Days": 2, "GlacierJobParameters": {"Tier": "Expedited"}})
    assert started["ResponseMetadata"]["HTTPStatusCode"] == 202
    deadline = time.monotonic() + 10
    while 'ongoing-request="true"' in s3.head_object(Bucket=bucket, Key="cold")["Restore"]:
        assert time.monotonic() < deadline, "the restore did not finish"
        time.sleep(0.05)
    after = time.time()
    header = s3.head_object(Bucket=bucket, Key="cold")["Restore"]
    found = re.fullmatch(
        r'ongoing-request="false", expiry-date="([A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} '
        r'00:00:00 GMT)"', header)
    assert found, header
    # The first midnight UTC after the restore finished (somewhere in [before, after]) + 2 days.
    expiry = parsedate_to_datetime(found.group(1))
    assert expiry in {_next_midnight(before + 2 * 86400), _next_midnight(after + 2 * 86400)}
    assert s3.get_object(Bucket=bucket, Key="cold")["Body"].read() == b"frozen"


@pytest.mark.parametrize("request_", [{}, {"Days": 0}, {"GlacierJobParameters": {"Tier": "Bulk"}}])
def test_a_restore_without_days_is_malformed(s3: Any, bucket: str, request_: dict[str, Any]) -> None:
    s3.put_object(Bucket=bucket, Key="cold", Body=b"x", StorageClass="GLACIER")
    with pytest.raises(ClientError) as err:
        s3.restore_object(Bucket=bucket, Key="cold", RestoreRequest=request_)
    assert _error(err)[:2] == (400, "MalformedXML")
    assert "Restore" not in s3.head_object(Bucket=bucket, Key="cold")


@pytest.mark.parametrize("action", ["Transitions", "NoncurrentVersionTransitions"])
@pytest.mark.parametrize("target", ["STANDARD", "FROZEN"])
def test_a_lifecycle_transition_to_no_transition_class_is_malformed(
    s3: Any, bucket: str, action: str, target: str
) -> None:
    days = "Days" if action == "Transitions" else "NoncurrentDays"
    with pytest.raises(ClientError) as err:
        s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [
            {"ID": "r", "Status": "Enabled", "Filter": {"Prefix": ""},
             action: [{days: 30, "StorageClass": target}]}]})
    assert _error(err)[:2] == (400, "MalformedXML")
    with pytest.raises(ClientError) as err:
        s3.get_bucket_lifecycle_configuration(Bucket=bucket)
    assert _error(err)[1] == "NoSuchLifecycleConfiguration"


def test_a_date_based_rule_is_stored_and_read_back(s3: Any, bucket: str) -> None:
    date = datetime(2030, 1, 1, tzinfo=UTC)
    expires = datetime(2031, 1, 1, tzinfo=UTC)  # S3 wants the expiration after the transition
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [
        {"ID": "later", "Status": "Enabled", "Filter": {"Prefix": "tmp/"},
         "Transitions": [{"Date": date, "StorageClass": "GLACIER"}],
         "Expiration": {"Date": expires}}]})
    (rule,) = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert rule["Expiration"]["Date"] == expires and rule["Transitions"][0]["Date"] == date


def test_a_lifecycle_date_off_midnight_utc_is_refused(s3: Any, bucket: str) -> None:
    # "The time is always midnight UTC": S3 refuses any other time of day.
    with pytest.raises(ClientError) as err:
        s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [
            {"ID": "noon", "Status": "Enabled", "Filter": {"Prefix": "tmp/"},
             "Expiration": {"Date": datetime(2030, 1, 1, 12, tzinfo=UTC)}}]})
    assert _error(err) == (400, "InvalidArgument", "'Date' must be at midnight GMT")
    with pytest.raises(ClientError) as err:
        s3.get_bucket_lifecycle_configuration(Bucket=bucket)
    assert _error(err)[1] == "NoSuchLifecycleConfiguration"
