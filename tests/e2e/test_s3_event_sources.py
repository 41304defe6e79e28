"""S3 event notifications caused by real requests and by the background worker, read from an
SQS queue: each operation that emits an event is driven through boto3 (or a browser form),
and the record is checked field by field against AWS's event message structure
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html).

The server's archive clock and lifecycle day are shortened (as in ``test_s3_archive``) so
restores finish, restored copies expire and lifecycle rules apply within the test."""

from __future__ import annotations

import hashlib
import re
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from itertools import pairwise
from typing import Any
from urllib.parse import unquote_plus

import pytest
import s3_forms
from botocore.config import Config
from test_s3_notifications import allow_s3, drain, new_queue

from headwater.testing import RunningHeadwater, running_headwater

pytestmark = pytest.mark.e2e

EVERY_EVENT = ["s3:ObjectCreated:*", "s3:ObjectRemoved:*", "s3:ObjectRestore:*",
               "s3:LifecycleTransition", "s3:LifecycleExpiration:*"]
ISO_MILLIS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


@pytest.fixture(scope="module")
def hw() -> Iterator[RunningHeadwater]:
    # An Expedited GLACIER restore (5 minutes) takes 0.3 s; a lifecycle day is 0.5 s, so a
    # restored copy kept 1 day and a rule's 1-day actions come due within the test.
    with running_headwater(archive_time_scale=0.001, lifecycle_day_seconds=0.5) as server:
        yield server


class Watched:
    """A bucket whose every event goes to a fresh queue (the s3:TestEvent already read)."""

    def __init__(self, hw: RunningHeadwater, versioned: bool = False) -> None:
        self.s3, self.sqs = hw.client("s3"), hw.client("sqs")
        self.name = f"src-{uuid.uuid4().hex[:12]}"
        self.s3.create_bucket(Bucket=self.name)
        if versioned:
            self.s3.put_bucket_versioning(Bucket=self.name,
                                          VersioningConfiguration={"Status": "Enabled"})
        self.url, arn = new_queue(self.sqs)
        allow_s3(self.sqs, self.url, arn, self.name)
        self.configured = self.s3.put_bucket_notification_configuration(
            Bucket=self.name, NotificationConfiguration={"QueueConfigurations": [
                {"Id": "all", "QueueArn": arn, "Events": EVERY_EVENT}]})
        self.test_events = drain(self.sqs, self.url)

    def records(self) -> list[dict[str, Any]]:
        return [r for body in drain(self.sqs, self.url) for r in body["Records"]]

    def wait_for(self, count: int, timeout: float = 15.0) -> list[dict[str, Any]]:
        """The records delivered until ``count`` have arrived (the worker's events come later
        than the request that made them due)."""
        got: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got += self.records()
            if len(got) >= count:
                return got
            time.sleep(0.05)
        raise AssertionError(f"{len(got)} of {count} events arrived: {got}")


def later(first: str, second: str) -> bool:
    """AWS's rule for sequencers of one key: hex values, compared after padding to one length."""
    width = max(len(first), len(second))
    return int(second.rjust(width, "0"), 16) > int(first.rjust(width, "0"), 16)


def assert_ordered(records: list[dict[str, Any]]) -> None:
    sequencers = [r["s3"]["object"]["sequencer"] for r in records]
    # One width for all: then left and right padding (AWS has documented both) agree.
    assert len({len(s) for s in sequencers}) == 1, sequencers
    for first, second in pairwise(sequencers):
        assert later(first, second), sequencers


def event_names(records: list[dict[str, Any]]) -> list[str]:
    return [r["eventName"] for r in records]


def request_ids(response: dict[str, Any]) -> dict[str, str]:
    """The request ids S3 answered with, as an event's responseElements repeats them."""
    headers = response["ResponseMetadata"]["HTTPHeaders"]
    return {"x-amz-request-id": headers["x-amz-request-id"], "x-amz-id-2": headers["x-amz-id-2"]}


def test_a_put_record_carries_every_field_a_consumer_reads(hw: RunningHeadwater) -> None:
    watched = Watched(hw, versioned=True)
    key = "in/a b/ü €.txt"
    put = watched.s3.put_object(Bucket=watched.name, Key=key, Body=b"hello")
    [record] = watched.records()
    assert record["eventVersion"] == "2.1"
    assert record["eventSource"] == "aws:s3"
    assert record["awsRegion"] == hw.region
    assert ISO_MILLIS.match(record["eventTime"]), record["eventTime"]
    assert record["eventName"] == "ObjectCreated:Put"  # no "s3:" prefix
    assert record["userIdentity"]["principalId"]
    assert record["responseElements"] == request_ids(put)
    s3 = record["s3"]
    assert (s3["s3SchemaVersion"], s3["configurationId"]) == ("1.0", "all")
    assert s3["bucket"]["name"] == watched.name
    assert s3["bucket"]["arn"] == f"arn:aws:s3:::{watched.name}"
    assert s3["bucket"]["ownerIdentity"]["principalId"]
    obj = s3["object"]
    # Form-encoded UTF-8: a space is "+", "/" stays, other bytes are %XX.
    assert obj["key"] == "in/a+b/%C3%BC+%E2%82%AC.txt"
    assert unquote_plus(obj["key"]) == key
    assert obj["size"] == 5
    assert obj["eTag"] == put["ETag"].strip('"') and '"' not in obj["eTag"]
    assert obj["versionId"] == put["VersionId"]
    assert re.fullmatch(r"[0-9A-F]+", obj["sequencer"])


def test_the_test_event_names_the_configuring_request(hw: RunningHeadwater) -> None:
    watched = Watched(hw)
    [test] = watched.test_events
    ids = request_ids(watched.configured)
    assert test["Service"] == "Amazon S3" and test["Event"] == "s3:TestEvent"
    assert test["Bucket"] == watched.name
    assert ISO_MILLIS.match(test["Time"]), test["Time"]
    assert (test["RequestId"], test["HostId"]) == (ids["x-amz-request-id"], ids["x-amz-id-2"])
    assert "Records" not in test
    # Reading the configuration sends none.
    watched.s3.get_bucket_notification_configuration(Bucket=watched.name)
    assert drain(watched.sqs, watched.url) == []


def test_completing_a_multipart_upload(hw: RunningHeadwater) -> None:
    watched = Watched(hw)
    s3, key = watched.s3, "big file.bin"
    upload = s3.create_multipart_upload(Bucket=watched.name, Key=key)["UploadId"]
    parts = []
    for number, body in ((1, b"a" * (5 * 1024 * 1024)), (2, b"tail")):
        etag = s3.upload_part(Bucket=watched.name, Key=key, UploadId=upload, PartNumber=number,
                              Body=body)["ETag"]
        parts.append({"PartNumber": number, "ETag": etag})
    assert watched.records() == []  # parts are no objects yet
    done = s3.complete_multipart_upload(Bucket=watched.name, Key=key, UploadId=upload,
                                        MultipartUpload={"Parts": parts})
    [record] = watched.records()
    assert record["eventName"] == "ObjectCreated:CompleteMultipartUpload"
    assert record["responseElements"] == request_ids(done)
    obj = record["s3"]["object"]
    assert obj["key"] == "big+file.bin"
    assert obj["size"] == 5 * 1024 * 1024 + 4
    assert obj["eTag"] == done["ETag"].strip('"') and obj["eTag"].endswith("-2")
    assert "versionId" not in obj  # an unversioned bucket


def test_a_browser_post_upload(hw: RunningHeadwater) -> None:
    watched = Watched(hw)
    signer = hw.client("s3", config=Config(signature_version="s3v4"))
    post = signer.generate_presigned_post(watched.name, "forms/${filename}",
                                          Conditions=[["starts-with", "$key", "forms/"]])
    answer = s3_forms.post(post["url"], post["fields"], b"posted", filename="photo.jpg")
    assert answer.status == 204
    headers = answer.headers
    [record] = watched.records()
    assert record["eventName"] == "ObjectCreated:Post"
    assert record["responseElements"]["x-amz-request-id"] == headers["x-amz-request-id"]
    # The uploader: the key that signed the form, as a PUT names the key that signed it.
    assert record["userIdentity"]["principalId"] == f"AWS:{hw.access_key}"
    obj = record["s3"]["object"]
    assert obj["key"] == "forms/photo.jpg"
    assert obj["size"] == 6
    assert obj["eTag"] == headers["etag"].strip('"')


def test_copy_object(hw: RunningHeadwater) -> None:
    watched = Watched(hw, versioned=True)
    s3 = watched.s3
    s3.put_object(Bucket=watched.name, Key="source", Body=b"copied")
    copied = s3.copy_object(Bucket=watched.name, Key="copy", CopySource=f"{watched.name}/source")
    put, copy = watched.records()
    assert event_names([put, copy]) == ["ObjectCreated:Put", "ObjectCreated:Copy"]
    assert copy["responseElements"] == request_ids(copied)
    obj = copy["s3"]["object"]
    assert (obj["key"], obj["size"]) == ("copy", 6)
    assert obj["eTag"] == copied["CopyObjectResult"]["ETag"].strip('"')
    assert obj["versionId"] == copied["VersionId"]


def test_deletes_in_a_versioned_bucket(hw: RunningHeadwater) -> None:
    watched = Watched(hw, versioned=True)
    s3, name = watched.s3, watched.name
    version = s3.put_object(Bucket=name, Key="k", Body=b"data")["VersionId"]
    marked = s3.delete_object(Bucket=name, Key="k")
    assert marked["DeleteMarker"]
    s3.delete_object(Bucket=name, Key="k", VersionId=marked["VersionId"])  # the marker
    s3.delete_object(Bucket=name, Key="k", VersionId=version)  # the data, for good
    records = watched.records()
    assert event_names(records) == ["ObjectCreated:Put", "ObjectRemoved:DeleteMarkerCreated",
                                    "ObjectRemoved:Delete", "ObjectRemoved:Delete"]
    objects = [r["s3"]["object"] for r in records]
    assert [o["versionId"] for o in objects] == [
        version, marked["VersionId"], marked["VersionId"], version]
    for obj in objects[1:]:
        # A removal names the key and version only: S3 sends no size or eTag with it.
        assert "size" not in obj and "eTag" not in obj, obj
    assert_ordered(records)


def test_a_delete_in_an_unversioned_bucket(hw: RunningHeadwater) -> None:
    watched = Watched(hw)
    watched.s3.put_object(Bucket=watched.name, Key="gone soon", Body=b"x")
    deleted = watched.s3.delete_object(Bucket=watched.name, Key="gone soon")
    put, removed = watched.records()
    assert removed["eventName"] == "ObjectRemoved:Delete"
    assert removed["responseElements"] == request_ids(deleted)
    assert removed["s3"]["object"]["key"] == "gone+soon"
    assert set(removed["s3"]["object"]) == {"key", "sequencer"}
    assert_ordered([put, removed])


def test_delete_objects_sends_one_event_per_key(hw: RunningHeadwater) -> None:
    versioned = Watched(hw, versioned=True)
    s3, name = versioned.s3, versioned.name
    for key in ("a", "b"):
        s3.put_object(Bucket=name, Key=key, Body=b"x")
    b_version = s3.list_object_versions(Bucket=name, Prefix="b")["Versions"][0]["VersionId"]
    versioned.records()
    answer = s3.delete_objects(Bucket=name, Delete={"Objects": [
        {"Key": "a"}, {"Key": "b", "VersionId": b_version}]})
    assert len(answer["Deleted"]) == 2
    by_key = {r["s3"]["object"]["key"]: r for r in versioned.records()}
    assert {k: r["eventName"] for k, r in by_key.items()} == {
        "a": "ObjectRemoved:DeleteMarkerCreated", "b": "ObjectRemoved:Delete"}
    marker = next(d for d in answer["Deleted"] if d["Key"] == "a")["DeleteMarkerVersionId"]
    assert by_key["a"]["s3"]["object"]["versionId"] == marker
    assert by_key["b"]["s3"]["object"]["versionId"] == b_version
    for record in by_key.values():
        assert record["responseElements"] == request_ids(answer)

    plain = Watched(hw)
    for key in ("x", "y"):
        plain.s3.put_object(Bucket=plain.name, Key=key, Body=b"x")
    plain.records()
    plain.s3.delete_objects(Bucket=plain.name, Delete={"Objects": [{"Key": "x"}, {"Key": "y"}],
                                                       "Quiet": True})
    records = plain.records()
    assert sorted((r["eventName"], r["s3"]["object"]["key"]) for r in records) == [
        ("ObjectRemoved:Delete", "x"), ("ObjectRemoved:Delete", "y")]


def test_sequencers_order_the_events_of_one_key(hw: RunningHeadwater) -> None:
    watched = Watched(hw)
    for body in (b"1", b"2", b"3", b"4"):
        watched.s3.put_object(Bucket=watched.name, Key="hot", Body=body)
    watched.s3.copy_object(Bucket=watched.name, Key="hot", CopySource=f"{watched.name}/hot",
                           MetadataDirective="REPLACE")
    watched.s3.delete_object(Bucket=watched.name, Key="hot")
    records = watched.records()
    assert len(records) == 6
    assert_ordered(records)


def _restore_expiry(head: dict[str, Any]) -> datetime:
    found = re.search(r'expiry-date="([^"]+)"', head["Restore"])
    assert found, head["Restore"]
    return parsedate_to_datetime(found.group(1))


def test_restore_started_completed_and_expired(hw: RunningHeadwater) -> None:
    watched = Watched(hw, versioned=True)
    s3, name = watched.s3, watched.name
    put = s3.put_object(Bucket=name, Key="cold", Body=b"frozen", StorageClass="GLACIER")
    started = s3.restore_object(Bucket=name, Key="cold", RestoreRequest={
        "Days": 1, "GlacierJobParameters": {"Tier": "Expedited"}})
    assert started["ResponseMetadata"]["HTTPStatusCode"] == 202
    records = watched.wait_for(4)  # the put, the restore started, completed, expired
    assert event_names(records) == ["ObjectCreated:Put", "ObjectRestore:Post",
                                    "ObjectRestore:Completed", "ObjectRestore:Delete"]
    _, post, completed, expired = records
    assert post["responseElements"] == request_ids(started)
    for record in (post, completed):
        assert record["eventVersion"] == "2.1"
        obj = record["s3"]["object"]
        assert (obj["key"], obj["size"], obj["versionId"]) == ("cold", 6, put["VersionId"])
        assert obj["eTag"] == put["ETag"].strip('"')
    # Only a completed restore says until when the copy lasts, and from which class.
    assert "glacierEventData" not in post
    restored = completed["glacierEventData"]["restoreEventData"]
    assert restored["lifecycleRestoreStorageClass"] == "GLACIER"
    expiry = restored["lifecycleRestorationExpiryTime"]
    assert ISO_MILLIS.match(expiry), expiry
    # AWS's event versions: 2.3 for the deletion of a restored copy.
    assert expired["eventVersion"] == "2.3"
    assert "glacierEventData" not in expired
    assert expired["s3"]["object"]["versionId"] == put["VersionId"]
    assert_ordered(records)
    # The expiry announced is the one HEAD reports (the first copy is gone: restore again,
    # for 20 days of 0.5 s, and compare while that copy lasts).
    s3.restore_object(Bucket=name, Key="cold", RestoreRequest={
        "Days": 20, "GlacierJobParameters": {"Tier": "Expedited"}})
    again = watched.wait_for(2)[1]
    assert again["eventName"] == "ObjectRestore:Completed"
    head = s3.head_object(Bucket=name, Key="cold")
    announced = datetime.strptime(again["glacierEventData"]["restoreEventData"][
        "lifecycleRestorationExpiryTime"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    assert abs((announced - _restore_expiry(head)).total_seconds()) < 1


def test_lifecycle_transition_and_expiration(hw: RunningHeadwater) -> None:
    watched = Watched(hw)
    s3, name = watched.s3, watched.name
    s3.put_bucket_lifecycle_configuration(
        Bucket=name, TransitionDefaultMinimumObjectSize="varies_by_storage_class",
        LifecycleConfiguration={"Rules": [
            {"ID": "archive", "Status": "Enabled", "Filter": {"Prefix": "logs/"},
             "Transitions": [{"Days": 1, "StorageClass": "GLACIER"}]},
            {"ID": "expire", "Status": "Enabled", "Filter": {"Prefix": "tmp/"},
             "Expiration": {"Days": 1}},
        ]})
    s3.put_object(Bucket=name, Key="logs/day 1.log", Body=b"log lines")
    s3.put_object(Bucket=name, Key="tmp/scratch", Body=b"scratch")
    records = [r for r in watched.wait_for(4) if r["eventName"] != "ObjectCreated:Put"]
    by_name = {r["eventName"]: r for r in records}
    assert sorted(by_name) == ["LifecycleExpiration:Delete", "LifecycleTransition"]
    transition, expiration = by_name["LifecycleTransition"], by_name["LifecycleExpiration:Delete"]
    for record in records:
        # AWS's lifecycle events: event version 2.3, made by S3 itself.
        assert record["eventVersion"] == "2.3"
        assert record["userIdentity"]["principalId"] == "s3.amazonaws.com"
        assert record["requestParameters"]["sourceIPAddress"] == "s3.amazonaws.com"
        assert ISO_MILLIS.match(record["eventTime"])
    assert transition["s3"]["object"]["key"] == "logs/day+1.log"
    # The version that moved, as S3's example record shows it.
    assert transition["s3"]["object"]["size"] == len(b"log lines")
    assert transition["s3"]["object"]["eTag"] == hashlib.md5(b"log lines").hexdigest()
    assert transition["lifecycleEventData"] == {
        "transitionEventData": {"destinationStorageClass": "GLACIER"}}
    assert s3.head_object(Bucket=name, Key="logs/day 1.log")["StorageClass"] == "GLACIER"
    assert expiration["s3"]["object"]["key"] == "tmp/scratch"
    assert set(expiration["s3"]["object"]) == {"key", "sequencer"}
    assert "lifecycleEventData" not in expiration


def test_lifecycle_expiration_in_a_versioned_bucket(hw: RunningHeadwater) -> None:
    watched = Watched(hw, versioned=True)
    s3, name = watched.s3, watched.name
    s3.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={"Rules": [
        {"ID": "expire", "Status": "Enabled", "Filter": {"Prefix": ""},
         "Expiration": {"Days": 1}, "NoncurrentVersionExpiration": {"NoncurrentDays": 1}}]})
    version = s3.put_object(Bucket=name, Key="old", Body=b"x")["VersionId"]
    # The current version expires under a new delete marker; a day later the noncurrent
    # version goes, and then the marker, now an expired object delete marker.
    records = watched.wait_for(4)
    assert event_names(records) == [
        "ObjectCreated:Put", "LifecycleExpiration:DeleteMarkerCreated",
        "LifecycleExpiration:Delete", "LifecycleExpiration:Delete"]
    _, marked, removed, unmarked = records
    marker = marked["s3"]["object"]["versionId"]
    assert marker != version
    assert removed["s3"]["object"]["versionId"] == version
    assert unmarked["s3"]["object"]["versionId"] == marker
    for record in records[1:]:
        assert record["eventVersion"] == "2.3"
        assert set(record["s3"]["object"]) == {"key", "versionId", "sequencer"}
    assert_ordered(records)
    assert s3.list_object_versions(Bucket=name).get("DeleteMarkers") is None
