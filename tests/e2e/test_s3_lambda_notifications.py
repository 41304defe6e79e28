"""S3 event notifications to Lambda functions through boto3 against a real headwater: the
permission S3 needs (AddPermission for s3.amazonaws.com), the event a function receives,
prefix/suffix filters, and a PUT that answers before the function has run."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError
from lambda_zip import zip_app

from headwater.testing import running_headwater

pytestmark = pytest.mark.e2e

ROLE = "arn:aws:iam::000000000000:role/lambda-role"
# The function forwards every event it receives to the queue named by OUT, so the test sees
# what S3 sent; keys with "slow" in them make it take a while first.
SOURCE = """
import json, os, time
import boto3

def record(event, context):
    if any("slow" in r["s3"]["object"]["key"] for r in event["Records"]):
        time.sleep(2)
    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName=os.environ["OUT"])["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps(event))
"""


def package() -> bytes:
    return zip_app(SOURCE)


def forwarder(lam: Any, sqs: Any) -> tuple[str, str]:
    """A function that forwards its events to a new queue: (function ARN, queue URL)."""
    queue = f"out-{uuid.uuid4().hex[:10]}"
    url = sqs.create_queue(QueueName=queue)["QueueUrl"]
    created = lam.create_function(
        FunctionName=f"on-upload-{uuid.uuid4().hex[:8]}", Runtime="python3.12", Role=ROLE,
        Handler="app.record", Code={"ZipFile": package()}, Timeout=30,
        Environment={"Variables": {"OUT": queue}})
    return created["FunctionArn"], url


def allow_s3(lam: Any, function_arn: str, bucket: str) -> None:
    lam.add_permission(FunctionName=function_arn, StatementId="s3-invoke",
                       Action="lambda:InvokeFunction", Principal="s3.amazonaws.com",
                       SourceArn=f"arn:aws:s3:::{bucket}", SourceAccount="000000000000")


def received(sqs: Any, url: str, count: int, timeout: float = 20) -> list[dict[str, Any]]:
    """The records of ``count`` events, in arrival order; fewer if they do not come."""
    records: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while len(records) < count and time.monotonic() < deadline:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                    WaitTimeSeconds=1).get("Messages", [])
        for message in batch:
            records.extend(json.loads(message["Body"])["Records"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return records


def test_filtered_events_invoke_the_function(
    s3: Any, lam: Any, sqs: Any, bucket: str
) -> None:
    function_arn, url = forwarder(lam, sqs)
    allow_s3(lam, function_arn, bucket)
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
        "LambdaFunctionConfigurations": [
            {"Id": "csv-in", "LambdaFunctionArn": function_arn, "Events": ["s3:ObjectCreated:*"],
             "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "in/"},
                                                {"Name": "suffix", "Value": ".csv"}]}}},
            {"Id": "removals", "LambdaFunctionArn": function_arn,
             "Events": ["s3:ObjectRemoved:*"],
             "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "out/"}]}}},
        ]})
    config = s3.get_bucket_notification_configuration(Bucket=bucket)
    assert [c["Id"] for c in config["LambdaFunctionConfigurations"]] == ["csv-in", "removals"]

    s3.put_object(Bucket=bucket, Key="in/a b.csv", Body=b"1,2,3")
    s3.put_object(Bucket=bucket, Key="in/skip.txt", Body=b"no")   # suffix does not match
    s3.put_object(Bucket=bucket, Key="out/skip.csv", Body=b"no")  # prefix does not match
    s3.delete_object(Bucket=bucket, Key="out/skip.csv")           # a removal under out/
    s3.delete_object(Bucket=bucket, Key="in/skip.txt")            # removal, wrong prefix
    records = received(sqs, url, 2)
    by_name = {r["eventName"]: r for r in records}
    assert sorted(by_name) == ["ObjectCreated:Put", "ObjectRemoved:Delete"]
    created = by_name["ObjectCreated:Put"]
    assert created["eventSource"] == "aws:s3" and created["awsRegion"] == "us-east-1"
    assert created["s3"]["configurationId"] == "csv-in"
    assert created["s3"]["bucket"]["name"] == bucket
    assert created["s3"]["object"]["key"] == "in/a+b.csv"
    assert created["s3"]["object"]["size"] == 5
    removed = by_name["ObjectRemoved:Delete"]
    assert removed["s3"]["configurationId"] == "removals"
    assert removed["s3"]["object"]["key"] == "out/skip.csv"
    assert received(sqs, url, 1, timeout=1.5) == []  # nothing else: no test event either


def test_the_put_answers_before_the_function_runs(
    s3: Any, lam: Any, sqs: Any, bucket: str
) -> None:
    function_arn, url = forwarder(lam, sqs)
    allow_s3(lam, function_arn, bucket)
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
        "LambdaFunctionConfigurations": [
            {"LambdaFunctionArn": function_arn, "Events": ["s3:ObjectCreated:Put"]}]})
    s3.put_object(Bucket=bucket, Key="slow.bin", Body=b"x")
    # The function sleeps 2 s before it forwards: its event cannot be there yet.
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0).get("Messages", []) == []
    [record] = received(sqs, url, 1)
    assert record["s3"]["object"]["key"] == "slow.bin"


def test_a_function_s3_may_not_invoke_is_refused(
    s3: Any, lam: Any, sqs: Any, bucket: str
) -> None:
    function_arn, _ = forwarder(lam, sqs)
    missing = function_arn + "-missing"

    def configure(arn: str) -> dict[str, Any]:
        with pytest.raises(ClientError) as caught:
            s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
                "LambdaFunctionConfigurations": [
                    {"LambdaFunctionArn": arn, "Events": ["s3:ObjectCreated:*"]}]})
        error: dict[str, Any] = caught.value.response["Error"]
        return error

    for arn in (function_arn, missing):  # no AddPermission yet; no such function
        error = configure(arn)
        assert error["Code"] == "InvalidArgument"
        assert error["Message"] == "Unable to validate the following destination configurations"
        assert error["ArgumentName1"] == f"{arn}, null"
        assert error["ArgumentValue1"] == f"Not authorized to invoke function [{arn}]"
    # A grant for another bucket does not help either.
    allow_s3(lam, function_arn, bucket + "-other")
    assert configure(function_arn)["Code"] == "InvalidArgument"
    assert "LambdaFunctionConfigurations" not in s3.get_bucket_notification_configuration(
        Bucket=bucket)
    # SkipDestinationValidation stores it anyway, as on AWS.
    s3.put_bucket_notification_configuration(
        Bucket=bucket, SkipDestinationValidation=True, NotificationConfiguration={
            "LambdaFunctionConfigurations": [
                {"LambdaFunctionArn": missing, "Events": ["s3:ObjectCreated:*"]}]})
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")  # the event is dropped, the PUT succeeds


def test_lifecycle_expiration_invokes_the_function() -> None:
    # The lifecycle pass runs on a worker thread; its events reach the function all the same.
    with running_headwater(lifecycle_day_seconds=0.5) as server:
        s3, lam, sqs = server.client("s3"), server.client("lambda"), server.client("sqs")
        bucket = f"lc-{uuid.uuid4().hex[:10]}"
        s3.create_bucket(Bucket=bucket)
        function_arn, url = forwarder(lam, sqs)
        allow_s3(lam, function_arn, bucket)
        s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
            "LambdaFunctionConfigurations": [
                {"LambdaFunctionArn": function_arn, "Events": ["s3:LifecycleExpiration:*"]}]})
        s3.put_object(Bucket=bucket, Key="old/report.csv", Body=b"x")
        s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [
            {"ID": "expire", "Status": "Enabled", "Filter": {"Prefix": "old/"},
             "Expiration": {"Days": 1}}]})
        [record] = received(sqs, url, 1)
        assert record["eventName"] == "LifecycleExpiration:Delete"
        assert record["s3"]["object"]["key"] == "old/report.csv"
        assert record["userIdentity"] == {"principalId": "s3.amazonaws.com"}
