"""``x-amz-expiration`` with boto3 (the ``Expiration`` member): PutObject, HeadObject,
GetObject, CopyObject and CompleteMultipartUpload name the date an enabled lifecycle
Expiration rule deletes the object and the rule's ID, when the rule's filter takes it.

With Days the date is the object's creation plus Days, rounded up to the next midnight UTC
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/intro-lifecycle-rules.html); the
server's lifecycle day is AWS's 86,400 s here."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from email.utils import format_datetime
from typing import Any

import pytest

pytestmark = pytest.mark.e2e
MiB = 1024 * 1024


def lifecycle(s3: Any, bucket: str, *rules: dict[str, Any]) -> None:
    s3.put_bucket_lifecycle_configuration(Bucket=bucket,
                                          LifecycleConfiguration={"Rules": list(rules)})


def after_days(created: datetime, days: int) -> str:
    """The expiry-date S3 names for an object created at ``created`` under a Days rule."""
    midnight = datetime.combine(created.astimezone(UTC).date() + timedelta(days + 1),
                                time(), UTC)
    return format_datetime(midnight, usegmt=True)


def expected(s3: Any, bucket: str, key: str, days: int, rule: str) -> str:
    """The whole header for ``key``'s current version under a Days rule."""
    created = s3.head_object(Bucket=bucket, Key=key)["LastModified"]
    return f'expiry-date="{after_days(created, days)}", rule-id="{rule}"'


def test_days_rule_names_matching_keys_only(s3: Any, bucket: str) -> None:
    lifecycle(s3, bucket, {"ID": "rule1", "Status": "Enabled", "Filter": {"Prefix": "days1/"},
                           "Expiration": {"Days": 1}})
    put = s3.put_object(Bucket=bucket, Key="days1/foo", Body=b"bar")
    want = expected(s3, bucket, "days1/foo", 1, "rule1")
    assert put["Expiration"] == want
    assert s3.head_object(Bucket=bucket, Key="days1/foo")["Expiration"] == want
    got = s3.get_object(Bucket=bucket, Key="days1/foo")
    assert got["Expiration"] == want and got["Body"].read() == b"bar"
    # A ranged GET describes the same object.
    assert s3.get_object(Bucket=bucket, Key="days1/foo", Range="bytes=0-0")["Expiration"] == want

    other = s3.put_object(Bucket=bucket, Key="days2/foo", Body=b"bar")
    assert "Expiration" not in other
    assert "Expiration" not in s3.head_object(Bucket=bucket, Key="days2/foo")
    assert "Expiration" not in s3.get_object(Bucket=bucket, Key="days2/foo")


def test_date_rule_names_its_date(s3: Any, bucket: str) -> None:
    lifecycle(s3, bucket, {"ID": "picture-deletion-rule", "Status": "Enabled",
                           "Filter": {"Prefix": ""},
                           "Expiration": {"Date": datetime(2099, 12, 31, tzinfo=UTC)}})
    want = 'expiry-date="Thu, 31 Dec 2099 00:00:00 GMT", rule-id="picture-deletion-rule"'
    assert s3.put_object(Bucket=bucket, Key="photo.jpg", Body=b"x")["Expiration"] == want
    assert s3.head_object(Bucket=bucket, Key="photo.jpg")["Expiration"] == want


def test_tag_filter_takes_tagged_objects_only(s3: Any, bucket: str) -> None:
    lifecycle(s3, bucket, {"ID": "tagged", "Status": "Enabled",
                           "Filter": {"Tag": {"Key": "key1", "Value": "tag1"}},
                           "Expiration": {"Days": 3}})
    put = s3.put_object(Bucket=bucket, Key="with", Body=b"x", Tagging="key1=tag1&key5=tag5")
    assert put["Expiration"] == expected(s3, bucket, "with", 3, "tagged")
    assert "Expiration" not in s3.put_object(Bucket=bucket, Key="without", Body=b"x",
                                             Tagging="key1=other")
    assert "Expiration" not in s3.head_object(Bucket=bucket, Key="without")
    # Tagged later, the object is taken from then on.
    s3.put_object_tagging(Bucket=bucket, Key="without",
                          Tagging={"TagSet": [{"Key": "key1", "Value": "tag1"}]})
    assert s3.head_object(Bucket=bucket, Key="without")["Expiration"] == \
        expected(s3, bucket, "without", 3, "tagged")


def test_and_filter_needs_every_tag(s3: Any, bucket: str) -> None:
    lifecycle(s3, bucket, {"ID": "both", "Status": "Enabled",
                           "Filter": {"And": {"Prefix": "logs/", "Tags": [
                               {"Key": "key1", "Value": "tag1"},
                               {"Key": "key5", "Value": "tag6"}]}},
                           "Expiration": {"Days": 1}})
    assert "Expiration" not in s3.put_object(Bucket=bucket, Key="logs/a", Body=b"x",
                                             Tagging="key1=tag1&key5=tag5")
    put = s3.put_object(Bucket=bucket, Key="logs/b", Body=b"x", Tagging="key1=tag1&key5=tag6")
    assert put["Expiration"] == expected(s3, bucket, "logs/b", 1, "both")


def test_disabled_rule_sends_nothing(s3: Any, bucket: str) -> None:
    lifecycle(s3, bucket,
              {"ID": "off", "Status": "Disabled", "Filter": {"Prefix": "a/"},
               "Expiration": {"Days": 1}},
              {"ID": "on", "Status": "Enabled", "Filter": {"Prefix": "b/"},
               "Expiration": {"Days": 1}})
    assert "Expiration" not in s3.put_object(Bucket=bucket, Key="a/x", Body=b"x")
    assert "Expiration" not in s3.head_object(Bucket=bucket, Key="a/x")
    assert s3.put_object(Bucket=bucket, Key="b/x", Body=b"x")["Expiration"] == \
        expected(s3, bucket, "b/x", 1, "on")


def test_earliest_rule_wins_and_its_id_is_url_encoded(s3: Any, bucket: str) -> None:
    lifecycle(s3, bucket,
              {"ID": "long", "Status": "Enabled", "Filter": {"Prefix": ""},
               "Expiration": {"Days": 30}},
              {"ID": "short rule/1", "Status": "Enabled", "Filter": {"Prefix": "tmp/"},
               "Expiration": {"Days": 2}})
    put = s3.put_object(Bucket=bucket, Key="tmp/x", Body=b"x")
    assert put["Expiration"] == expected(s3, bucket, "tmp/x", 2, "short%20rule%2F1")
    put = s3.put_object(Bucket=bucket, Key="keep/x", Body=b"x")
    assert put["Expiration"] == expected(s3, bucket, "keep/x", 30, "long")


def test_copy_object_names_the_copy_s_expiration(s3: Any, bucket: str) -> None:
    lifecycle(s3, bucket, {"ID": "copies", "Status": "Enabled", "Filter": {"Prefix": "copies/"},
                           "Expiration": {"Days": 7}})
    s3.put_object(Bucket=bucket, Key="source", Body=b"data")
    copied = s3.copy_object(Bucket=bucket, Key="copies/one",
                            CopySource={"Bucket": bucket, "Key": "source"})
    created = copied["CopyObjectResult"]["LastModified"]
    assert copied["Expiration"] == f'expiry-date="{after_days(created, 7)}", rule-id="copies"'
    elsewhere = s3.copy_object(Bucket=bucket, Key="kept/one",
                               CopySource={"Bucket": bucket, "Key": "copies/one"})
    assert "Expiration" not in elsewhere


def test_complete_multipart_upload_names_the_expiration(s3: Any, bucket: str) -> None:
    lifecycle(s3, bucket, {"ID": "uploads", "Status": "Enabled", "Filter": {"Prefix": "big/"},
                           "Expiration": {"Days": 5}})
    upload = s3.create_multipart_upload(Bucket=bucket, Key="big/file")
    part = s3.upload_part(Bucket=bucket, Key="big/file", UploadId=upload["UploadId"],
                          PartNumber=1, Body=b"x" * (5 * MiB))
    done = s3.complete_multipart_upload(
        Bucket=bucket, Key="big/file", UploadId=upload["UploadId"],
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    want = expected(s3, bucket, "big/file", 5, "uploads")
    assert done["Expiration"] == want
    assert s3.head_object(Bucket=bucket, Key="big/file")["Expiration"] == want


def test_versioned_bucket_names_the_current_version_only(s3: Any, bucket: str) -> None:
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    # A NoncurrentVersionExpiration sooner than the Expiration is never what the header names.
    lifecycle(s3, bucket,
              {"ID": "old-versions", "Status": "Enabled", "Filter": {"Prefix": ""},
               "NoncurrentVersionExpiration": {"NoncurrentDays": 1}},
              {"ID": "current", "Status": "Enabled", "Filter": {"Prefix": ""},
               "Expiration": {"Days": 10}})
    first = s3.put_object(Bucket=bucket, Key="doc", Body=b"1")
    second = s3.put_object(Bucket=bucket, Key="doc", Body=b"2")
    want = expected(s3, bucket, "doc", 10, "current")
    assert second["Expiration"] == want
    assert s3.head_object(Bucket=bucket, Key="doc")["Expiration"] == want
    assert s3.get_object(Bucket=bucket, Key="doc")["Expiration"] == want
    # Asked for by version id, noncurrent or current, no version is named.
    for version in (first["VersionId"], second["VersionId"]):
        assert "Expiration" not in s3.head_object(Bucket=bucket, Key="doc", VersionId=version)
        assert "Expiration" not in s3.get_object(Bucket=bucket, Key="doc", VersionId=version)
