"""Browser POST uploads S3 refuses, answered as AWS recorded them, against headwater's S3.

The forms are boto3's ``generate_presigned_post`` as LocalStack's AWS-validated tests sent them
(tests/aws/services/s3/test_s3.py, ``TestS3PresignedPost``: ``test_post_object_with_tags``,
``test_post_object_with_wrong_content_type``, ``test_post_object_policy_validation_size``) with
the answers in that file's snapshot in localstack/localstack.

AWS page: https://docs.aws.amazon.com/AmazonS3/latest/API/RESTObjectPOST.html
"""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree

import pytest
import s3_forms
from botocore.config import Config
from botocore.exceptions import ClientError

from headwater.testing import RunningHeadwater

pytestmark = pytest.mark.e2e

KEY = "test-presigned-post"


def _form(hw: RunningHeadwater, bucket: str, fields: dict[str, str] | None = None,
          conditions: list[Any] | None = None) -> tuple[str, dict[str, str]]:
    signer = hw.client("s3", config=Config(signature_version="s3v4"))
    post = signer.generate_presigned_post(Bucket=bucket, Key=KEY, ExpiresIn=60, Fields=fields,
                                          Conditions=[{"bucket": bucket}, *(conditions or [])])
    return post["url"], dict(post["fields"])


def _error(body: bytes) -> dict[str, str | None]:
    root = ElementTree.fromstring(body)
    return {child.tag: child.text for child in root if child.tag not in ("RequestId", "HostId")}


def _stored(s3: Any, bucket: str) -> bool:
    try:
        s3.head_object(Bucket=bucket, Key=KEY)
    except ClientError:
        return False
    return True


# -- the tagging field ---------------------------------------------------------------------------

def _tagged_form(hw: RunningHeadwater, bucket: str, tagging: str) -> tuple[str, dict[str, str]]:
    return _form(hw, bucket, {"tagging": tagging}, [["eq", "$tagging", tagging]])


def test_tagging_that_is_not_xml_is_malformed_and_nothing_is_stored(
        hw: RunningHeadwater, s3: Any, bucket: str) -> None:
    url, fields = _tagged_form(hw, bucket, "not-xml")
    answer = s3_forms.post(url, fields, b"test-body-tagging")
    assert (answer.status, _error(answer.body)) == (400, {
        "Code": "MalformedXML",
        "Message": "The XML you provided was not well-formed or did not validate against our "
                   "published schema"})
    assert not _stored(s3, bucket)


@pytest.mark.parametrize(("tagging", "tags"), [
    ("<Tagging><TagSet><Tag><Key>TagName</Key><Value>TagValue</Value></Tag></TagSet></Tagging>",
     [{"Key": "TagName", "Value": "TagValue"}]),
    ("<Tagging><TagSet><Tag><Key>TagName</Key><Value>TagValue</Value></Tag>"
     + "<Tag><Key>TagName2</Key><Value>TagValue2</Value></Tag></TagSet></Tagging>",
     [{"Key": "TagName", "Value": "TagValue"}, {"Key": "TagName2", "Value": "TagValue2"}]),
    # Well-formed, but no Tagging document: stored, untagged.
    ("<InvalidXmlTagging></InvalidXmlTagging>", []),
], ids=["single", "list", "invalid"])
def test_tagging_document_tags_the_object(hw: RunningHeadwater, s3: Any, bucket: str,
                                          tagging: str, tags: list[dict[str, str]]) -> None:
    url, fields = _tagged_form(hw, bucket, tagging)
    answer = s3_forms.post(url, fields, b"test-body-tagging")
    assert answer.status == 204, answer.body
    assert s3.get_object_tagging(Bucket=bucket, Key=KEY)["TagSet"] == tags


# -- the enclosure type ----------------------------------------------------------------------------

# The gateway hands an unsigned POST on a bucket with no subresource to S3's form handler
# whatever its Content-Type (gateway/app.py ``_bucket_post``).
def test_post_that_is_not_a_form_fails_its_precondition(hw: RunningHeadwater, s3: Any,
                                                        bucket: str) -> None:
    url, fields = _form(hw, bucket)
    body, _ = s3_forms.form(fields, b"test-body-wrong-content-type")
    answer = s3_forms.send(url, "POST", body, {"Content-Type": "text/html"})
    assert (answer.status, _error(answer.body)) == (412, {
        "Code": "PreconditionFailed",
        "Message": "At least one of the pre-conditions you specified did not hold",
        "Condition": "Bucket POST must be of the enclosure-type multipart/form-data"})
    assert not _stored(s3, bucket)


def test_delete_objects_still_routes(s3: Any, bucket: str) -> None:
    # POST /bucket?delete is DeleteObjects, whatever the form handling does.
    s3.put_object(Bucket=bucket, Key="gone", Body=b"x")
    out = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "gone"}]})
    assert [d["Key"] for d in out["Deleted"]] == ["gone"]


# -- content-length-range ------------------------------------------------------------------------

def test_content_length_range_names_the_sizes(hw: RunningHeadwater, s3: Any,
                                              bucket: str) -> None:
    url, fields = _form(hw, bucket, conditions=[["content-length-range", 5, 10]])
    answer = s3_forms.post(url, fields, b"a" * 12)
    assert (answer.status, _error(answer.body)) == (400, {
        "Code": "EntityTooLarge",
        "Message": "Your proposed upload exceeds the maximum allowed size",
        "ProposedSize": "12", "MaxSizeAllowed": "10"})
    answer = s3_forms.post(url, fields, b"a")
    assert (answer.status, _error(answer.body)) == (400, {
        "Code": "EntityTooSmall",
        "Message": "Your proposed upload is smaller than the minimum allowed size",
        "ProposedSize": "1", "MinSizeAllowed": "5"})
    assert not _stored(s3, bucket)
    for size in (5, 10):
        assert s3_forms.post(url, fields, b"a" * size).status == 204
    assert s3.get_object(Bucket=bucket, Key=KEY)["Body"].read() == b"a" * 10


def test_content_length_range_bounds_may_be_numeric_strings(hw: RunningHeadwater, s3: Any,
                                                            bucket: str) -> None:
    url, fields = _form(hw, bucket, conditions=[["content-length-range", "5", "10"]])
    assert s3_forms.post(url, fields, b"a" * 10).status == 204
    url, fields = _form(hw, bucket, conditions=[["content-length-range", "test", "10"]])
    answer = s3_forms.post(url, fields, b"a" * 10)
    assert (answer.status, _error(answer.body)) == (403, {
        "Code": "AccessDenied",
        "Message": 'Invalid according to Policy: Policy Condition failed: '
                   '["content-length-range", "test", "10"]'})


def test_a_sigv2_form_is_answered_as_sigv4_only_regions_answer_it(
        hw: RunningHeadwater, s3: Any, bucket: str) -> None:
    # ceph/s3-tests' POST tests sign their forms this way; S3's SigV4-only regions answer so.
    signer = hw.client("s3", config=Config(signature_version="s3"))
    post = signer.generate_presigned_post(Bucket=bucket, Key=KEY, ExpiresIn=60)
    assert "AWSAccessKeyId" in post["fields"] and "signature" in post["fields"]
    answer = s3_forms.post(post["url"], dict(post["fields"]), b"body")
    assert (answer.status, _error(answer.body)) == (400, {
        "Code": "InvalidRequest",
        "Message": "The authorization mechanism you have provided is not supported. "
                   "Please use AWS4-HMAC-SHA256."})
    assert not _stored(s3, bucket)
