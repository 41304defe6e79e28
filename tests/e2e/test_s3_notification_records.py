"""S3 event records and notification configurations as AWS recorded them in LocalStack's
AWS-validated tests/aws/services/s3/test_s3_notifications_sqs.py (its snapshot file): tagging
and ACL events, DeleteObjects of keys that did not exist, the Id S3 gives a configuration
sent without one, the configuration's form errors, and who a finished restore is from."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from test_s3_notifications import allow_s3, drain, new_queue

from headwater.testing import RunningHeadwater, running_headwater

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def hw() -> Iterator[RunningHeadwater]:
    # An Expedited GLACIER restore finishes within the test (as in test_s3_event_sources).
    with running_headwater(archive_time_scale=0.001, lifecycle_day_seconds=0.5) as server:
        yield server


class Queue:
    """A bucket notifying a fresh queue of ``events`` (configured without an Id, as the
    recorded tests do); the s3:TestEvent already read."""

    def __init__(self, hw: RunningHeadwater, events: list[str]) -> None:
        self.s3, self.sqs = hw.client("s3"), hw.client("sqs")
        self.bucket = f"rec-{uuid.uuid4().hex[:12]}"
        self.s3.create_bucket(Bucket=self.bucket)
        self.url, self.arn = new_queue(self.sqs)
        allow_s3(self.sqs, self.url, self.arn, self.bucket)
        self.s3.put_bucket_notification_configuration(
            Bucket=self.bucket, NotificationConfiguration={"QueueConfigurations": [
                {"QueueArn": self.arn, "Events": events}]})
        assert [b["Event"] for b in drain(self.sqs, self.url)] == ["s3:TestEvent"]

    def wait_for(self, count: int, timeout: float = 15.0) -> list[dict[str, Any]]:
        got: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got += [r for body in drain(self.sqs, self.url) for r in body["Records"]]
            if len(got) >= count:
                return got
            time.sleep(0.05)
        raise AssertionError(f"{len(got)} of {count} events arrived: {got}")


def test_tagging_events_name_the_key_and_etag(hw: RunningHeadwater) -> None:
    """test_object_tagging_put_event / test_object_tagging_delete_event: version 2.3, and the
    object named by key and eTag alone (no size, no sequencer)."""
    q = Queue(hw, ["s3:ObjectTagging:*"])
    put = q.s3.put_object(Bucket=q.bucket, Key="tagged", Body=b"FooBarBlitz")
    q.s3.put_object_tagging(Bucket=q.bucket, Key="tagged", Tagging={
        "TagSet": [{"Key": "swallow_type", "Value": "african"}]})
    q.s3.delete_object_tagging(Bucket=q.bucket, Key="tagged")
    records = q.wait_for(2)
    assert [r["eventName"] for r in records] == ["ObjectTagging:Put", "ObjectTagging:Delete"]
    for record in records:
        assert record["eventVersion"] == "2.3"
        assert record["s3"]["object"] == {"eTag": put["ETag"].strip('"'), "key": "tagged"}


def test_only_an_acl_that_changes_is_announced(hw: RunningHeadwater) -> None:
    """test_object_put_acl: four PutObjectAcl, three events; ``private`` on a private object
    changes nothing and is not announced."""
    q = Queue(hw, ["s3:ObjectAcl:Put"])
    q.s3.delete_bucket_ownership_controls(Bucket=q.bucket)
    q.s3.delete_public_access_block(Bucket=q.bucket)  # as LocalStack's allow_bucket_acl does
    put = q.s3.put_object(Bucket=q.bucket, Key="my_key_acl", Body=b"something")
    owner = q.s3.list_buckets()["Owner"]
    q.s3.put_object_acl(Bucket=q.bucket, Key="my_key_acl", ACL="private")
    q.s3.put_object_acl(Bucket=q.bucket, Key="my_key_acl", ACL="public-read")
    q.s3.put_object_acl(Bucket=q.bucket, Key="my_key_acl",
                        GrantRead='uri="http://acs.amazonaws.com/groups/s3/LogDelivery"')
    q.s3.put_object_acl(Bucket=q.bucket, Key="my_key_acl", AccessControlPolicy={
        "Owner": owner, "Grants": [
            {"Grantee": {"ID": owner["ID"], "Type": "CanonicalUser"},
             "Permission": "FULL_CONTROL"},
            {"Grantee": {"URI": "http://acs.amazonaws.com/groups/s3/LogDelivery",
                         "Type": "Group"}, "Permission": "WRITE"}]})
    records = q.wait_for(3)
    time.sleep(0.2)
    records += [r for body in drain(q.sqs, q.url) for r in body["Records"]]
    assert len(records) == 3
    for record in records:
        assert (record["eventName"], record["eventVersion"]) == ("ObjectAcl:Put", "2.3")
        assert record["s3"]["object"] == {"eTag": put["ETag"].strip('"'), "key": "my_key_acl"}


def test_delete_objects_announces_missing_keys_too(hw: RunningHeadwater) -> None:
    """test_delete_objects: one ObjectRemoved:Delete per key asked for, existing or not; a
    missing key's record names the key (and sequencer) only."""
    q = Queue(hw, ["s3:ObjectRemoved:*"])
    q.s3.put_object(Bucket=q.bucket, Key="key-real", Body=b"something")
    q.s3.delete_objects(Bucket=q.bucket, Delete={
        "Objects": [{"Key": "key-real"}, {"Key": "dummy1"}, {"Key": "dummy2"}], "Quiet": True})
    records = sorted(q.wait_for(3), key=lambda r: r["s3"]["object"]["key"])
    assert [(r["eventName"], r["s3"]["object"]["key"]) for r in records] == [
        ("ObjectRemoved:Delete", "dummy1"), ("ObjectRemoved:Delete", "dummy2"),
        ("ObjectRemoved:Delete", "key-real")]
    for record in records:
        assert sorted(record["s3"]["object"]) == ["key", "sequencer"]
        assert record["eventVersion"] == "2.1"


def test_a_configuration_without_id_is_given_one(hw: RunningHeadwater) -> None:
    """test_filter_rules_case_insensitive: an Id is generated, returned by
    GetBucketNotificationConfiguration and named by each event; rule names come back as
    Prefix / Suffix."""
    q = Queue(hw, ["s3:ObjectCreated:*"])
    stored = q.s3.get_bucket_notification_configuration(Bucket=q.bucket)
    generated = stored["QueueConfigurations"][0]["Id"]
    assert generated
    q.s3.put_object(Bucket=q.bucket, Key="k", Body=b"x")
    assert q.wait_for(1)[0]["s3"]["configurationId"] == generated
    # With SkipDestinationValidation too, and with filter rule names in any case.
    q.s3.put_bucket_notification_configuration(
        Bucket=q.bucket, SkipDestinationValidation=True, NotificationConfiguration={
            "QueueConfigurations": [{"QueueArn": q.arn, "Events": ["s3:ObjectCreated:*"],
                                     "Filter": {"Key": {"FilterRules": [
                                         {"Name": "suffix", "Value": ".txt"},
                                         {"Name": "PREFIX", "Value": "notif-"}]}}}]})
    config = q.s3.get_bucket_notification_configuration(Bucket=q.bucket)["QueueConfigurations"][0]
    assert config["Id"]
    assert config["Filter"]["Key"]["FilterRules"] == [
        {"Name": "Suffix", "Value": ".txt"}, {"Name": "Prefix", "Value": "notif-"}]
    q.s3.put_object(Bucket=q.bucket, Key="notif-a.txt", Body=b"x")
    q.s3.put_object(Bucket=q.bucket, Key="other.txt", Body=b"x")
    records = q.wait_for(1)
    assert [(r["s3"]["object"]["key"], r["s3"]["configurationId"]) for r in records] == [
        ("notif-a.txt", config["Id"])]
    # An Id sent is kept.
    q.s3.put_bucket_notification_configuration(Bucket=q.bucket, NotificationConfiguration={
        "QueueConfigurations": [{"Id": "id123", "QueueArn": q.arn,
                                 "Events": ["s3:ObjectCreated:*"]}]})
    kept = q.s3.get_bucket_notification_configuration(Bucket=q.bucket)["QueueConfigurations"]
    assert kept[0]["Id"] == "id123"


def _refusal(s3: Any, bucket: str, config: dict[str, Any], skip: bool = False) -> dict[str, Any]:
    with pytest.raises(ClientError) as err:
        s3.put_bucket_notification_configuration(
            Bucket=bucket, NotificationConfiguration=config, SkipDestinationValidation=skip)
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    error: dict[str, Any] = err.value.response["Error"]
    return error


def _filter_refusal(hw: RunningHeadwater, rules: list[dict[str, str]]) -> dict[str, Any]:
    """The error for a queue configuration with these filter rules, refused for its form
    before the queue (which has no policy for S3 here) is looked at."""
    s3, sqs = hw.client("s3"), hw.client("sqs")
    bucket = f"rec-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    _, arn = new_queue(sqs)
    return _refusal(s3, bucket, {"QueueConfigurations": [{
        "QueueArn": arn, "Events": ["s3:ObjectCreated:*"],
        "Filter": {"Key": {"FilterRules": rules}}}]})


def test_a_filter_rule_named_otherwise_is_refused(hw: RunningHeadwater) -> None:
    """test_bucket_notification_with_invalid_filter_rules."""
    error = _filter_refusal(hw, [{"Name": "INVALID", "Value": "does not matter"}])
    assert error == {"Code": "InvalidArgument",
                     "Message": "filter rule name must be either prefix or suffix",
                     "ArgumentName": "FilterRule.Name", "ArgumentValue": "INVALID"}


@pytest.mark.parametrize("names", [("prefix", "prefix"), ("suffix", "Suffix")])
def test_two_rules_of_one_name_in_a_filter_are_refused(hw: RunningHeadwater,
                                                       names: tuple[str, str]) -> None:
    """AWS's message recorded in aws/aws-cli#1465 (suffix) and aws/aws-cdk#3347 (prefix)."""
    error = _filter_refusal(hw, [{"Name": names[0], "Value": "a"},
                                 {"Name": names[1], "Value": ""}])
    assert error["Code"] == "InvalidArgument"
    assert error["Message"] == f"Cannot specify more than one {names[0]} rule in a filter."


def test_queue_arns_that_do_not_parse_or_name_no_queue(hw: RunningHeadwater) -> None:
    """test_invalid_sqs_arn and test_multiple_invalid_sqs_arns."""
    s3 = hw.client("s3")
    bucket = f"rec-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    missing = "arn:aws:sqs:us-east-1:000000000000:my-queue"
    config = {"QueueConfigurations": [
        {"Id": "id123", "Events": ["s3:ObjectCreated:*"], "QueueArn": "invalid-queue"}]}
    for skip in (False, True):  # the form is checked even when validation is skipped
        error = _refusal(s3, bucket, config, skip=skip)
        assert error == {"Code": "InvalidArgument", "Message": "The ARN could not be parsed",
                         "ArgumentName": "Queue", "ArgumentValue": "invalid-queue"}
    config["QueueConfigurations"][0]["QueueArn"] = missing
    error = _refusal(s3, bucket, config)
    assert error == {"Code": "InvalidArgument",
                     "Message": "Unable to validate the following destination configurations",
                     "ArgumentName1": missing,
                     "ArgumentValue1": "The destination queue does not exist"}
    s3.put_bucket_notification_configuration(
        Bucket=bucket, NotificationConfiguration=config, SkipDestinationValidation=True)
    assert s3.get_bucket_notification_configuration(Bucket=bucket)["QueueConfigurations"] == [
        {"Id": "id123", "QueueArn": missing, "Events": ["s3:ObjectCreated:*"]}]

    several = {"QueueConfigurations": [
        {"Id": "id1", "Events": ["s3:ObjectCreated:*"], "QueueArn": "invalid_arn"},
        {"Id": "id2", "Events": ["s3:ObjectRemoved:*"], "QueueArn": "invalid_arn_2"}]}
    assert _refusal(s3, bucket, several)["ArgumentValue"] == "invalid_arn"  # the first only
    several["QueueConfigurations"][0]["QueueArn"] = missing
    # A form error wins over a queue that does not exist.
    assert _refusal(s3, bucket, several)["ArgumentValue"] == "invalid_arn_2"
    several["QueueConfigurations"][1]["QueueArn"] = missing + "-2"
    error = _refusal(s3, bucket, several)
    assert (error["ArgumentName1"], error["ArgumentValue1"], error["ArgumentName2"],
            error["ArgumentValue2"]) == (missing, "The destination queue does not exist",
                                         missing + "-2", "The destination queue does not exist")


def test_a_function_arn_that_does_not_parse(hw: RunningHeadwater) -> None:
    """test_invalid_lambda_arn (invalid_not_skip, invalid_skip): refused for its form, named
    CloudFunction, whether or not destinations are validated; nothing is stored."""
    s3 = hw.client("s3")
    bucket = f"rec-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    config = {"LambdaFunctionConfigurations": [
        {"Id": "id123", "Events": ["s3:ObjectCreated:*"], "LambdaFunctionArn": "invalid-queue"}]}
    for skip in (False, True):
        error = _refusal(s3, bucket, config, skip=skip)
        assert error == {"Code": "InvalidArgument", "Message": "The ARN could not be parsed",
                         "ArgumentName": "CloudFunction", "ArgumentValue": "invalid-queue"}
    assert "LambdaFunctionConfigurations" not in s3.get_bucket_notification_configuration(
        Bucket=bucket)


def test_a_finished_restore_is_the_bucket_owners(hw: RunningHeadwater) -> None:
    """test_restore_object: ObjectRestore:Post is the requester's, ObjectRestore:Completed
    is "AmazonCustomer:" and the bucket owner's principal id."""
    q = Queue(hw, ["s3:ObjectRestore:*"])
    q.s3.put_object(Bucket=q.bucket, Key="my_key_restore", Body=b"something",
                    StorageClass="GLACIER")
    q.s3.restore_object(Bucket=q.bucket, Key="my_key_restore", RestoreRequest={
        "Days": 1, "GlacierJobParameters": {"Tier": "Expedited"}})
    post, completed = q.wait_for(2)[:2]
    assert (post["eventName"], completed["eventName"]) == (
        "ObjectRestore:Post", "ObjectRestore:Completed")
    assert post["userIdentity"]["principalId"] == f"AWS:{hw.access_key}"
    owner = completed["s3"]["bucket"]["ownerIdentity"]["principalId"]
    assert completed["userIdentity"]["principalId"] == f"AmazonCustomer:{owner}"
    assert completed["eventVersion"] == "2.1"
