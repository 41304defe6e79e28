"""CompleteMultipartUpload repeated after it succeeded.

S3 answers a repeat of a successful Complete with 200 and the same result (a script against
real S3 in adobe/S3Mock#2586; minio/minio#13318 "succeeds with S3"), so a client that lost the
first answer and retries sees success.  What S3 does once the object that upload made is gone
(overwritten, deleted) is not recorded: headwater answers NoSuchUpload then (docs/s3.md).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from headwater.testing import RunningHeadwater

pytestmark = pytest.mark.e2e
MiB = 1024 * 1024


def error(err: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    response = err.value.response
    return str(response["Error"]["Code"]), int(response["ResponseMetadata"]["HTTPStatusCode"])


def start(s3: Any, bucket: str, key: str) -> tuple[str, dict[str, Any]]:
    """An upload of two parts (5 MiB and a small last one) with CRC32 checksums; its id and
    the Complete request's part list."""
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key=key, ChecksumAlgorithm="CRC32")["UploadId"]
    parts = []
    for number, body in enumerate([b"a" * (5 * MiB), b"tail"], start=1):
        out = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number,
                             Body=body, ChecksumAlgorithm="CRC32")
        parts.append({"PartNumber": number, "ETag": out["ETag"], "ChecksumCRC32": out["ChecksumCRC32"]})
    return upload_id, {"Parts": parts}


def complete(s3: Any, bucket: str, key: str, upload_id: str, parts: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id,
                                                       MultipartUpload=parts)
    return out


RESULT = ("Location", "Bucket", "Key", "ETag", "ChecksumCRC32", "ChecksumType")


def test_a_repeat_answers_the_same_result(s3: Any, bucket: str) -> None:
    upload_id, parts = start(s3, bucket, "big")
    first = complete(s3, bucket, "big", upload_id, parts)
    again = complete(s3, bucket, "big", upload_id, parts)
    assert again["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert {k: again.get(k) for k in RESULT} == {k: first.get(k) for k in RESULT}
    assert again["ETag"].endswith('-2"') and again["ChecksumType"] == "COMPOSITE"
    head = s3.head_object(Bucket=bucket, Key="big")
    assert head["ETag"] == first["ETag"] and head["ContentLength"] == 5 * MiB + 4


def test_a_repeat_after_the_key_was_overwritten_is_no_such_upload(s3: Any, bucket: str) -> None:
    upload_id, parts = start(s3, bucket, "over")
    complete(s3, bucket, "over", upload_id, parts)
    s3.put_object(Bucket=bucket, Key="over", Body=b"newer")
    with pytest.raises(ClientError) as err:
        complete(s3, bucket, "over", upload_id, parts)
    assert error(err) == ("NoSuchUpload", 404)
    assert s3.get_object(Bucket=bucket, Key="over")["Body"].read() == b"newer"


def test_a_repeat_after_a_later_upload_completed_is_no_such_upload(s3: Any, bucket: str) -> None:
    earlier, earlier_parts = start(s3, bucket, "twice")
    later, later_parts = start(s3, bucket, "twice")
    complete(s3, bucket, "twice", earlier, earlier_parts)
    second = complete(s3, bucket, "twice", later, later_parts)
    with pytest.raises(ClientError) as err:
        complete(s3, bucket, "twice", earlier, earlier_parts)
    assert error(err) == ("NoSuchUpload", 404)
    assert complete(s3, bucket, "twice", later, later_parts)["ETag"] == second["ETag"]


def test_a_repeat_after_the_object_was_deleted_is_no_such_upload(s3: Any, bucket: str) -> None:
    upload_id, parts = start(s3, bucket, "gone")
    complete(s3, bucket, "gone", upload_id, parts)
    s3.delete_object(Bucket=bucket, Key="gone")
    with pytest.raises(ClientError) as err:
        complete(s3, bucket, "gone", upload_id, parts)
    assert error(err) == ("NoSuchUpload", 404)
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="gone")  # the repeat wrote nothing


def test_a_copy_over_the_object_is_no_such_upload(s3: Any, bucket: str) -> None:
    # The copy keeps the object's metadata, but it is a new object that no upload made.
    upload_id, parts = start(s3, bucket, "copied")
    complete(s3, bucket, "copied", upload_id, parts)
    s3.copy_object(Bucket=bucket, Key="copied", CopySource={"Bucket": bucket, "Key": "copied"},
                   StorageClass="STANDARD_IA")
    with pytest.raises(ClientError) as err:
        complete(s3, bucket, "copied", upload_id, parts)
    assert error(err) == ("NoSuchUpload", 404)


def test_upload_ids_never_completed_are_no_such_upload(s3: Any, bucket: str) -> None:
    upload_id, parts = start(s3, bucket, "aborted")
    s3.abort_multipart_upload(Bucket=bucket, Key="aborted", UploadId=upload_id)
    with pytest.raises(ClientError) as err:
        complete(s3, bucket, "aborted", upload_id, parts)
    assert error(err) == ("NoSuchUpload", 404)
    with pytest.raises(ClientError) as err:
        complete(s3, bucket, "aborted", "no-such-upload-id", parts)
    assert error(err) == ("NoSuchUpload", 404)


def test_a_completed_upload_id_under_another_key_is_no_such_upload(s3: Any, bucket: str) -> None:
    upload_id, parts = start(s3, bucket, "mine")
    complete(s3, bucket, "mine", upload_id, parts)
    s3.put_object(Bucket=bucket, Key="other", Body=b"x")
    with pytest.raises(ClientError) as err:
        complete(s3, bucket, "other", upload_id, parts)
    assert error(err) == ("NoSuchUpload", 404)


def test_versioned_bucket_a_repeat_answers_with_the_version_it_made(s3: Any) -> None:
    bucket = f"ver-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    upload_id, parts = start(s3, bucket, "k")
    first = complete(s3, bucket, "k", upload_id, parts)
    assert first["VersionId"]
    newer = s3.put_object(Bucket=bucket, Key="k", Body=b"newer")["VersionId"]
    again = complete(s3, bucket, "k", upload_id, parts)
    assert again["VersionId"] == first["VersionId"] and again["ETag"] == first["ETag"]
    # The repeat made no new version: the later PUT is still the current one.
    assert s3.head_object(Bucket=bucket, Key="k")["VersionId"] == newer
    s3.delete_object(Bucket=bucket, Key="k", VersionId=first["VersionId"])
    with pytest.raises(ClientError) as err:
        complete(s3, bucket, "k", upload_id, parts)
    assert error(err) == ("NoSuchUpload", 404)


def test_a_repeat_sends_no_second_event(hw: RunningHeadwater) -> None:
    s3, sqs = hw.client("s3"), hw.client("sqs")
    bucket = f"ev-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=bucket)
    url = sqs.create_queue(QueueName=f"events-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"},
                       "Action": "sqs:SendMessage", "Resource": arn}],
    })})
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
        "QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:*"]}]})
    upload_id, parts = start(s3, bucket, "k")
    complete(s3, bucket, "k", upload_id, parts)
    complete(s3, bucket, "k", upload_id, parts)
    s3.put_object(Bucket=bucket, Key="after", Body=b"x")  # an event known to come after
    names = []
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        for message in got.get("Messages", []):
            names += [r["eventName"] for r in json.loads(message["Body"]).get("Records", [])]
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        if "ObjectCreated:Put" in names or not got.get("Messages"):
            break
    assert sorted(names) == ["ObjectCreated:CompleteMultipartUpload", "ObjectCreated:Put"]
