"""Browser POST uploads missing their signing fields, answered as AWS recorded them, against
headwater's S3.

The forms are boto3's ``generate_presigned_post`` (SigV4) less some fields, as LocalStack sent
them to AWS (tests/aws/services/s3/test_s3.py, ``TestS3PresignedPost::
test_post_request_missing_signature[s3v4]`` and ``test_post_request_missing_fields[s3v4]``, and
the snapshot file in localstack/localstack).

AWS page: https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTForms.html
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


def _form(hw: RunningHeadwater, bucket: str) -> tuple[str, dict[str, str]]:
    signer = hw.client("s3", config=Config(signature_version="s3v4"))
    post = signer.generate_presigned_post(Bucket=bucket, Key="test-presigned-missing",
                                          ExpiresIn=60)
    return post["url"], dict(post["fields"])


def _error(body: bytes) -> dict[str, str | None]:
    """The error's members; None for one that is there but empty (botocore's null)."""
    root = ElementTree.fromstring(body)
    return {child.tag: child.text for child in root if child.tag not in ("RequestId", "HostId")}


def _missing(field: str) -> dict[str, str | None]:
    return {"Code": "InvalidArgument",
            "Message": f"Bucket POST must contain a field named '{field}'.  If it is specified, "
                       "please check the order of the fields.",
            "ArgumentName": field, "ArgumentValue": None}


def _not_stored(s3: Any, bucket: str) -> bool:
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="test-presigned-missing")
    return True


def test_form_without_signature(hw: RunningHeadwater, s3: Any, bucket: str) -> None:
    url, fields = _form(hw, bucket)
    del fields["x-amz-signature"]
    answer = s3_forms.post(url, fields, b"file content")
    assert (answer.status, _error(answer.body)) == (400, _missing("X-Amz-Signature"))
    assert _not_stored(s3, bucket)


def test_form_without_algorithm_and_credential(hw: RunningHeadwater, s3: Any,
                                               bucket: str) -> None:
    url, fields = _form(hw, bucket)
    del fields["x-amz-algorithm"], fields["x-amz-credential"]
    answer = s3_forms.post(url, fields, b"file content")
    assert (answer.status, _error(answer.body)) == (400, _missing("X-Amz-Algorithm"))
    assert _not_stored(s3, bucket)


@pytest.mark.parametrize("field", ["x-amz-credential", "x-amz-date"])
def test_form_without_another_signing_field_names_it(hw: RunningHeadwater, s3: Any,
                                                     bucket: str, field: str) -> None:
    url, fields = _form(hw, bucket)
    del fields[field]
    answer = s3_forms.post(url, fields, b"file content")
    shown = "X-Amz-" + field[len("x-amz-"):].capitalize()
    assert (answer.status, _error(answer.body)) == (400, _missing(shown))


def test_form_with_no_signing_fields_is_anonymous(hw: RunningHeadwater, s3: Any,
                                                  bucket: str) -> None:
    url, fields = _form(hw, bucket)
    answer = s3_forms.post(url, {k: v for k, v in fields.items() if k in ("key", "policy")},
                           b"file content")
    assert (answer.status, _error(answer.body)) == (403, {"Code": "AccessDenied",
                                                          "Message": "Access Denied"})
    assert _not_stored(s3, bucket)


def test_complete_form_is_stored(hw: RunningHeadwater, s3: Any, bucket: str) -> None:
    url, fields = _form(hw, bucket)
    answer = s3_forms.post(url, fields, b"file content")
    assert answer.status == 204, answer.body
    assert s3.get_object(Bucket=bucket, Key="test-presigned-missing")["Body"].read() == (
        b"file content")
