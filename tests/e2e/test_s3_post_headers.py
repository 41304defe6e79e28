"""Browser POST uploads against headwater's S3: the form fields that become headers.

A POST form carries as fields what a PutObject sends as headers (``Content-Type``,
``Cache-Control``, ``Content-Disposition``, ``Content-Encoding``, ``Expires``, user metadata),
and GET / HEAD send them back as headers.  A form's fields are UTF-8 text, which a header
cannot always carry: such fields are refused when uploaded, never stored to break every later
read.  And the upload's own answer carries S3's ``x-amz-request-id`` and ``x-amz-id-2``.

AWS pages: https://docs.aws.amazon.com/AmazonS3/latest/API/RESTObjectPOST.html,
https://docs.aws.amazon.com/AmazonS3/latest/API/RESTCommonResponseHeaders.html
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
import s3_forms
from botocore.config import Config
from botocore.exceptions import ClientError
from s3_forms import Answer

from headwater.testing import RunningHeadwater

pytestmark = pytest.mark.e2e


def _post(hw: RunningHeadwater, bucket: str, key: str, fields: dict[str, str],
          content: bytes = b"hello") -> Answer:
    """A browser form upload of ``content`` with ``fields`` (each listed in the policy)."""
    signer = hw.client("s3", config=Config(signature_version="s3v4"))
    post = signer.generate_presigned_post(
        bucket, key, Fields=fields, Conditions=[{name: value} for name, value in fields.items()]
    )
    return s3_forms.post(post["url"], post["fields"], content)


def _missing(s3: Any, bucket: str, key: str) -> bool:
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except ClientError as error:
        return error.response["Error"]["Code"] == "404"
    return False


# -- header fields stored and returned ------------------------------------------------------


def test_form_header_fields_are_stored_and_come_back(hw: RunningHeadwater, s3: Any,
                                                     bucket: str) -> None:
    fields = {
        "Content-Type": "text/plain; charset=utf-8",
        "Cache-Control": "max-age=60",
        # ISO-8859-1 beyond ASCII: a header carries it (as one byte), so it is kept.
        "Content-Disposition": 'attachment; filename="café.txt"',
        "Content-Encoding": "identity",
        "Expires": "Thu, 01 Dec 2039 16:00:00 GMT",
    }
    assert _post(hw, bucket, "k", fields).status == 204
    head = s3.head_object(Bucket=bucket, Key="k")
    assert (head["ContentType"], head["CacheControl"], head["ContentDisposition"],
            head["ContentEncoding"]) == (
        "text/plain; charset=utf-8", "max-age=60", 'attachment; filename="café.txt"', "identity")
    assert head["ExpiresString"] == "Thu, 01 Dec 2039 16:00:00 GMT"
    assert head["Expires"].year == 2039
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"hello"


def test_form_expires_that_is_no_date_comes_back_as_sent(hw: RunningHeadwater, s3: Any,
                                                         bucket: str) -> None:
    # As for PutObject: S3 keeps any text; boto3 reads one that is not a date as ExpiresString.
    assert _post(hw, bucket, "k", {"Expires": "when the cows come home"}).status == 204
    head = s3.head_object(Bucket=bucket, Key="k")
    assert head["ExpiresString"] == "when the cows come home"
    assert "Expires" not in head


# -- fields no header can carry -------------------------------------------------------------


@pytest.mark.parametrize("field", ["Content-Type", "Cache-Control", "Content-Disposition",
                                   "Content-Encoding", "Expires"])
def test_form_header_field_beyond_iso_8859_1_is_refused(hw: RunningHeadwater, s3: Any,
                                                        bucket: str, field: str) -> None:
    value = 'attachment; filename="東京.txt"'
    answer = _post(hw, bucket, "k", {field: value})
    assert answer.status == 400, answer.body
    error = answer.error()
    assert error["Code"] == "InvalidArgument"
    assert error["Message"] == "Header value cannot be represented using ISO-8859-1."
    assert (error["ArgumentName"], error["ArgumentValue"]) == (field.lower(), value)
    assert _missing(s3, bucket, "k")


def test_form_header_field_with_a_line_break_is_refused(hw: RunningHeadwater, s3: Any,
                                                        bucket: str) -> None:
    # A form value may hold CR LF; a header may not (nor may it inject a second header).
    answer = _post(hw, bucket, "k", {"Content-Type": "text/plain\r\nX-Injected: yes"})
    assert answer.status == 400, answer.body
    error = answer.error()
    assert (error["Code"], error["ArgumentName"]) == ("InvalidArgument", "content-type")
    assert _missing(s3, bucket, "k")


def test_form_metadata_name_that_is_no_header_name_is_refused(hw: RunningHeadwater, s3: Any,
                                                              bucket: str) -> None:
    answer = _post(hw, bucket, "k", {"x-amz-meta-two words": "v"})
    assert answer.status == 400, answer.body
    error = answer.error()
    assert (error["Code"], error["ArgumentName"]) == ("InvalidArgument", "x-amz-meta-two words")
    assert _missing(s3, bucket, "k")
    # A name that is a header name is stored, its UTF-8 value returned encoded.
    assert _post(hw, bucket, "k", {"x-amz-meta-city": "東京"}).status == 204
    assert s3.head_object(Bucket=bucket, Key="k")["Metadata"] == {"city": "=?UTF-8?B?5p2x5Lqs?="}


def test_redirect_url_is_percent_encoded_where_a_header_cannot_carry_it(
    hw: RunningHeadwater, s3: Any, bucket: str
) -> None:
    answer = _post(hw, bucket, "k", {"success_action_redirect": "https://example.com/done/東京 ok"})
    assert answer.status == 303, answer.body
    etag = s3.head_object(Bucket=bucket, Key="k")["ETag"]
    assert answer.headers["location"] == (
        f"https://example.com/done/%E6%9D%B1%E4%BA%AC%20ok?bucket={bucket}&key=k"
        f"&etag={quote(etag)}")


# -- the upload's answer --------------------------------------------------------------------


@pytest.mark.parametrize(("fields", "status"), [
    ({}, 204),
    ({"success_action_status": "200"}, 200),
    ({"success_action_status": "201"}, 201),
    ({"success_action_redirect": "https://example.com/done"}, 303),
], ids=["204", "200", "201", "303"])
def test_post_answers_carry_request_and_host_ids(hw: RunningHeadwater, s3: Any, bucket: str,
                                                fields: dict[str, str], status: int) -> None:
    answer = _post(hw, bucket, "k", fields)
    assert answer.status == status, answer.body
    assert answer.headers["x-amz-request-id"]
    assert answer.headers["x-amz-id-2"]
    # Each answer names its own request, as every other S3 answer does.
    head = s3.head_object(Bucket=bucket, Key="k")["ResponseMetadata"]
    assert answer.headers["x-amz-request-id"] != head["RequestId"]
    assert answer.headers["x-amz-id-2"] != head["HostId"]


def test_a_virtual_hosted_post_answers_a_virtual_hosted_location(hw: RunningHeadwater,
                                                                 bucket: str) -> None:
    signer = hw.client("s3", config=Config(signature_version="s3v4"))
    post = signer.generate_presigned_post(bucket, "v h/k", Fields={"success_action_status": "201"},
                                          Conditions=[{"success_action_status": "201"}])
    port = hw.endpoint.rsplit(":", 1)[1]
    body, form_type = s3_forms.form(post["fields"], b"x", "a.txt", "text/plain")
    answer = s3_forms.send(f"{hw.endpoint}/", "POST", body, {
        "Content-Type": form_type, "Host": f"{bucket}.localhost:{port}"})
    assert answer.status == 201
    expected = f"http://{bucket}.localhost:{port}/v%20h/k"
    assert answer.headers["location"] == expected
    assert f"<Location>{expected}</Location>" in answer.body.decode()


@pytest.mark.parametrize(("given", "code"), [("right", None), ("wrong", "BadDigest"),
                                             ("garbled", "InvalidDigest")])
def test_a_content_md5_field_is_checked(hw: RunningHeadwater, s3: Any, bucket: str,
                                        given: str, code: str | None) -> None:
    import base64
    import hashlib

    digest = {"right": hashlib.md5(b"abc").digest(), "wrong": hashlib.md5(b"abd").digest(),
              "garbled": b"short"}[given]
    answer = _post(hw, bucket, "md5", {"Content-MD5": base64.b64encode(digest).decode()},
                   content=b"abc")
    if code is None:
        assert answer.status == 204
        assert s3.get_object(Bucket=bucket, Key="md5")["Body"].read() == b"abc"
    else:
        assert answer.status == 400 and f"<Code>{code}</Code>" in answer.body.decode()
        assert _missing(s3, bucket, "md5")
