"""S3 event notifications delivered to SQS queues, in AWS's event format."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from headwater.testing import RunningHeadwater

pytestmark = pytest.mark.e2e


def drain(sqs: Any, url: str) -> list[dict[str, Any]]:
    bodies = []
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
        messages = got.get("Messages", [])
        if not messages:
            return bodies
        for message in messages:
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def allow_s3(sqs: Any, url: str, arn: str, bucket: str) -> None:
    """The queue policy a SAM or CDK template writes so that S3 may notify the queue."""
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"},
            "Action": "sqs:SendMessage", "Resource": arn,
            "Condition": {"ArnLike": {"aws:SourceArn": f"arn:aws:s3:*:*:{bucket}"},
                          "StringEquals": {"aws:SourceAccount": "000000000000"}},
        }],
    })})


def new_queue(sqs: Any) -> tuple[str, str]:
    url = sqs.create_queue(QueueName=f"events-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def test_events_reach_the_queue(hw: RunningHeadwater) -> None:
    s3, sqs = hw.client("s3"), hw.client("sqs")
    bucket = f"ev-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=bucket)
    url, arn = new_queue(sqs)
    allow_s3(sqs, url, arn, bucket)
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
        "QueueConfigurations": [{
            "Id": "uploads", "QueueArn": arn, "Events": ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"],
            "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "in/"},
                                               {"Name": "suffix", "Value": ".csv"}]}},
        }]})
    assert drain(sqs, url)[0]["Event"] == "s3:TestEvent"
    config = s3.get_bucket_notification_configuration(Bucket=bucket)
    assert config["QueueConfigurations"][0]["Id"] == "uploads"
    s3.put_object(Bucket=bucket, Key="in/a b.csv", Body=b"1,2,3")
    s3.put_object(Bucket=bucket, Key="in/skip.txt", Body=b"no")
    s3.put_object(Bucket=bucket, Key="out/skip.csv", Body=b"no")
    s3.copy_object(Bucket=bucket, Key="in/copy.csv", CopySource=f"{bucket}/in/a b.csv")
    s3.delete_object(Bucket=bucket, Key="in/copy.csv")
    records = [r for body in drain(sqs, url) for r in body["Records"]]
    assert [r["eventName"] for r in records] == [
        "ObjectCreated:Put", "ObjectCreated:Copy", "ObjectRemoved:Delete"]
    first = records[0]
    assert first["eventSource"] == "aws:s3" and first["awsRegion"] == "us-east-1"
    assert first["s3"]["bucket"]["name"] == bucket
    assert first["s3"]["object"]["key"] == "in/a+b.csv"  # URL-encoded, as S3 sends it
    assert first["s3"]["object"]["size"] == 5
    assert first["s3"]["configurationId"] == "uploads"


def test_unknown_queue_is_refused(hw: RunningHeadwater) -> None:
    s3 = hw.client("s3")
    bucket = f"ev-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=bucket)
    with pytest.raises(ClientError) as err:
        s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
            "QueueConfigurations": [{"QueueArn": "arn:aws:sqs:us-east-1:000000000000:nope",
                                     "Events": ["s3:ObjectCreated:*"]}]})
    assert err.value.response["Error"]["Code"] == "InvalidArgument"


def test_a_topic_destination_is_refused_since_no_topic_exists(hw: RunningHeadwater) -> None:
    """headwater serves no SNS: a topic fails validation as a missing one does on AWS;
    skipping the validation stores it (and nothing is delivered)."""
    s3 = hw.client("s3")
    bucket = f"ev-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=bucket)
    topic = "arn:aws:sns:us-east-1:000000000000:uploads"
    config = {"TopicConfigurations": [{"TopicArn": topic, "Events": ["s3:ObjectCreated:*"]}]}
    with pytest.raises(ClientError) as err:
        s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=config)
    error = err.value.response["Error"]
    assert (error["Code"], error["ArgumentName1"], error["ArgumentValue1"]) == (
        "InvalidArgument", topic, ("Permissions on the destination topic do not allow S3 to "
                                   "publish notifications from this bucket"))
    assert "TopicConfigurations" not in s3.get_bucket_notification_configuration(Bucket=bucket)
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=config,
                                             SkipDestinationValidation=True)
    stored = s3.get_bucket_notification_configuration(Bucket=bucket)["TopicConfigurations"]
    assert stored[0]["TopicArn"] == topic
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")  # no destination to deliver to


def test_overlapping_configurations_are_refused_and_nothing_is_stored(hw: RunningHeadwater) -> None:
    s3, sqs = hw.client("s3"), hw.client("sqs")
    bucket = f"ev-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=bucket)
    url, arn = new_queue(sqs)
    with pytest.raises(ClientError) as err:
        s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
            "QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectRemoved:*"]},
                                    {"QueueArn": arn, "Events": ["s3:ObjectRemoved:Delete"]}]})
    error = err.value.response["Error"]
    assert (error["Code"], error["ArgumentName"], error["ArgumentValue"]) == (
        "InvalidArgument", "Event", "s3:ObjectRemoved:*, s3:ObjectRemoved:Delete")
    assert "QueueConfigurations" not in s3.get_bucket_notification_configuration(Bucket=bucket)
    assert drain(sqs, url) == []  # refused before any test event


def test_a_queue_whose_policy_does_not_let_s3_send_is_refused(hw: RunningHeadwater) -> None:
    s3, sqs = hw.client("s3"), hw.client("sqs")
    bucket = f"ev-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=bucket)
    url, arn = new_queue(sqs)
    config = {"QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:*"]}]}
    for grant_for in (None, "another-bucket"):  # no policy; a policy for another bucket
        if grant_for is not None:
            allow_s3(sqs, url, arn, grant_for)
        with pytest.raises(ClientError) as err:
            s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=config)
        error = err.value.response["Error"]
        assert (error["Code"], error["Message"]) == (
            "InvalidArgument", "Unable to validate the following destination configurations")
        assert (error["ArgumentName1"], error["ArgumentValue1"]) == (
            arn, ("Permissions on the destination queue do not allow S3 to publish "
                  "notifications from this bucket"))
    assert drain(sqs, url) == []
    # Skipping the validation stores it, but S3 still may not send: events are dropped.
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=config,
                                             SkipDestinationValidation=True)
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert drain(sqs, url) == []
    allow_s3(sqs, url, arn, bucket)
    s3.put_object(Bucket=bucket, Key="k2", Body=b"x")
    assert [r["s3"]["object"]["key"] for b in drain(sqs, url) for r in b["Records"]] == ["k2"]
