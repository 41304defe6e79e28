"""Tag rules S3 applies to every way of setting tags: a key starting ``aws:`` is 400 InvalidTag
(worded per resource), a key named twice is InvalidTag in a Tagging document and InvalidArgument
in the ``x-amz-tagging`` header, and PutBucketTagging answers 204.  Sources: moto's AWS-verified
test_put_object_with_tagging, test_put_bucket_tagging, test_put_object_tagging_prefixed_with_aws;
aws/aws-sdk-java#1583; S3's header answer quoted in open-io/swift3#92."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError
from s3_answers import refused

OBJECT_SYSTEM_TAG = ("InvalidTag", 400, "Your TagKey cannot be prefixed with aws:")
BUCKET_SYSTEM_TAG = ("InvalidTag", 400, "System tags cannot be added/updated by requester")
DUPLICATE_IN_DOCUMENT = ("InvalidTag", 400, "Cannot provide multiple Tags with the same key")
DUPLICATE_IN_HEADER = ("InvalidArgument", 400,
                       ("The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded "
                        "URL query parameters without tag name duplicates."))


def exists(s3: Any, bucket: str, key: str) -> bool:
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except ClientError:
        return False
    return True


def header_writes(s3: Any, bucket: str) -> dict[str, Callable[[str], Any]]:
    """Each request that takes tags in ``x-amz-tagging``, writing key ``out``."""
    s3.put_object(Bucket=bucket, Key="src", Body=b"x", Tagging="kept=1")
    return {
        "PutObject": lambda tagging: s3.put_object(Bucket=bucket, Key="out", Body=b"x",
                                                   Tagging=tagging),
        "CopyObject": lambda tagging: s3.copy_object(
            Bucket=bucket, Key="out", CopySource={"Bucket": bucket, "Key": "src"},
            TaggingDirective="REPLACE", Tagging=tagging),
        "CreateMultipartUpload": lambda tagging: s3.create_multipart_upload(
            Bucket=bucket, Key="out", Tagging=tagging),
    }


@pytest.mark.parametrize("operation", ["PutObject", "CopyObject", "CreateMultipartUpload"])
def test_header_tags_refuse_aws_keys_and_duplicates(s3: Any, bucket: str,
                                                    operation: str) -> None:
    write = header_writes(s3, bucket)[operation]
    assert refused(lambda: write("aws:foo=bar")) == OBJECT_SYSTEM_TAG
    assert refused(lambda: write("a=1&b=2&a=3")) == DUPLICATE_IN_HEADER
    assert not exists(s3, bucket, "out")
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    # "aws:" only as a prefix: elsewhere in a key it is an ordinary tag.
    write("something%3Aaws%3Astuff=fine")


def test_put_object_tagging_refuses_aws_keys_and_duplicates(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", Tagging="before=1")

    def put(tags: list[tuple[str, str]]) -> Any:
        return s3.put_object_tagging(Bucket=bucket, Key="k", Tagging={
            "TagSet": [{"Key": k, "Value": v} for k, v in tags]})

    assert refused(lambda: put([("aws:item1", "foo")])) == OBJECT_SYSTEM_TAG
    assert refused(lambda: put([("a", "1"), ("a", "2")])) == DUPLICATE_IN_DOCUMENT
    assert s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"] == [
        {"Key": "before", "Value": "1"}]


def test_put_bucket_tagging_answers_204_and_refuses_aws_keys_and_duplicates(
        s3: Any, bucket: str) -> None:
    def put(tags: list[tuple[str, str]]) -> Any:
        return s3.put_bucket_tagging(Bucket=bucket, Tagging={
            "TagSet": [{"Key": k, "Value": v} for k, v in tags]})

    assert put([("TagOne", "ValueOne")])["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert put([("TagOne", "ValueOne"), ("TagTwo", "ValueTwo"), ("TagThree", "")]
               )["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert refused(lambda: put([("TagOne", "ValueOne"), ("TagOne", "Again")])
                   ) == DUPLICATE_IN_DOCUMENT
    assert refused(lambda: put([("aws:sometag", "nope")])) == BUCKET_SYSTEM_TAG
    assert len(s3.get_bucket_tagging(Bucket=bucket)["TagSet"]) == 3
    put([("something:aws:stuff", "this is fine")])
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == [
        {"Key": "something:aws:stuff", "Value": "this is fine"}]
