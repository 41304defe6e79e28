"""CORS on browser POST uploads and the request ids of CORS preflights, against headwater's S3.

A page that uploads with a form POST (``fetch`` or ``XMLHttpRequest`` with a ``FormData``
body) can read the upload's answer (its status, ``ETag``, ``Location``, the ``PostResponse``
document, or why it was refused) only when the answer carries the ``Access-Control-*`` headers
of the bucket's CORS rule that allows the page's ``Origin`` and method POST, as every other
S3 answer to a cross-origin request does.  And a preflight's answer, allowed or refused,
carries S3's ``x-amz-request-id`` and ``x-amz-id-2`` like every S3 answer.

AWS pages: https://docs.aws.amazon.com/AmazonS3/latest/userguide/cors.html,
https://docs.aws.amazon.com/AmazonS3/latest/API/RESTObjectPOST.html,
https://docs.aws.amazon.com/AmazonS3/latest/API/API_OPTIONSobject.html
"""

from __future__ import annotations

from typing import Any

import pytest
import s3_forms
from botocore.config import Config
from s3_forms import Answer

from headwater.testing import RunningHeadwater

pytestmark = pytest.mark.e2e

PAGE = "https://app.example"


def _post(hw: RunningHeadwater, bucket: str, origin: str | None,
          fields: dict[str, str] | None = None, content: bytes = b"hello",
          conditions: list[Any] | None = None) -> Answer:
    """A browser form upload to ``bucket``, sent from a page at ``origin`` (None: no
    ``Origin`` header, as a same-origin form or a script outside a browser sends it)."""
    fields = fields or {}
    signer = hw.client("s3", config=Config(signature_version="s3v4"))
    post = signer.generate_presigned_post(
        bucket, "up/${filename}", Fields=fields,
        Conditions=[*(conditions or []), *({n: v} for n, v in fields.items())],
    )
    return s3_forms.post(post["url"], post["fields"], content,
                         {"Origin": origin} if origin is not None else None)


def _preflight(hw: RunningHeadwater, bucket: str, origin: str, method: str) -> Answer:
    return s3_forms.send(f"{hw.endpoint}/{bucket}/up/a.txt", "OPTIONS", b"",
                         {"Origin": origin, "Access-Control-Request-Method": method})


def _allow_posts(s3: Any, bucket: str) -> None:
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [
        {"AllowedOrigins": ["https://*.example"], "AllowedMethods": ["GET"]},  # not POST
        {"AllowedOrigins": [PAGE], "AllowedMethods": ["POST", "PUT"],
         "ExposeHeaders": ["ETag", "Location", "x-amz-request-id"], "MaxAgeSeconds": 300},
    ]})


def _cors_headers(answer: Answer) -> dict[str, str]:
    return {k: v for k, v in answer.headers.items() if k.startswith("access-control-")}


# -- POST answers carry the matching rule's CORS headers ------------------------------------


@pytest.mark.parametrize("status", ["204", "200", "201"])
def test_post_from_an_allowed_origin_gets_the_rule_cors_headers(
        hw: RunningHeadwater, s3: Any, bucket: str, status: str) -> None:
    _allow_posts(s3, bucket)
    answer = _post(hw, bucket, PAGE, {"success_action_status": status})
    assert answer.status == int(status), answer.body
    # The second rule is the first to allow POST from this origin: its headers, not the first's.
    assert answer.headers["access-control-allow-origin"] == PAGE
    assert answer.headers["access-control-allow-credentials"] == "true"
    assert answer.headers["access-control-allow-methods"] == "POST, PUT"
    assert answer.headers["access-control-expose-headers"] == "ETag, Location, x-amz-request-id"
    assert answer.headers["access-control-max-age"] == "300"
    assert answer.headers["vary"] == (
        "Origin, Access-Control-Request-Headers, Access-Control-Request-Method")
    # What the exposed headers let the page read is there too.
    assert answer.headers["etag"] == s3.head_object(Bucket=bucket, Key="up/a.txt")["ETag"]
    assert answer.headers["location"].endswith(f"/{bucket}/up/a.txt")


def test_post_redirect_from_an_allowed_origin_gets_cors_headers(
        hw: RunningHeadwater, s3: Any, bucket: str) -> None:
    _allow_posts(s3, bucket)
    answer = _post(hw, bucket, PAGE, {"success_action_redirect": f"{PAGE}/done"})
    assert answer.status == 303, answer.body
    assert answer.headers["location"].startswith(f"{PAGE}/done?")
    assert answer.headers["access-control-allow-origin"] == PAGE


def test_post_with_a_wildcard_rule_allows_any_origin(hw: RunningHeadwater, s3: Any,
                                                     bucket: str) -> None:
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [
        {"AllowedOrigins": ["*"], "AllowedMethods": ["POST"]}]})
    answer = _post(hw, bucket, "https://anyone.test")
    assert answer.status == 204, answer.body
    assert answer.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in answer.headers


def test_refused_post_from_an_allowed_origin_gets_cors_headers(hw: RunningHeadwater, s3: Any,
                                                               bucket: str) -> None:
    # The page must be able to read why its upload was refused (here: too large).
    _allow_posts(s3, bucket)
    answer = _post(hw, bucket, PAGE, content=b"x" * 50,
                   conditions=[["content-length-range", 1, 10]])
    assert answer.status == 400 and b"<Code>EntityTooLarge</Code>" in answer.body
    assert answer.headers["access-control-allow-origin"] == PAGE
    assert answer.headers["access-control-expose-headers"] == "ETag, Location, x-amz-request-id"


# -- and none where no rule allows it ---------------------------------------------------------


def test_post_from_an_origin_no_rule_allows_gets_no_cors_headers(hw: RunningHeadwater, s3: Any,
                                                                 bucket: str) -> None:
    _allow_posts(s3, bucket)
    # The first rule allows this origin, but only GET; the second allows POST, but not it.
    answer = _post(hw, bucket, "https://other.example")
    assert answer.status == 204, answer.body
    assert _cors_headers(answer) == {}
    assert "vary" not in answer.headers
    answer = _post(hw, bucket, "https://evil.test", content=b"x" * 50,
                   conditions=[["content-length-range", 1, 10]])
    assert answer.status == 400
    assert _cors_headers(answer) == {}


def test_post_to_a_bucket_without_cors_gets_no_cors_headers(hw: RunningHeadwater, s3: Any,
                                                            bucket: str) -> None:
    answer = _post(hw, bucket, PAGE)
    assert answer.status == 204, answer.body
    assert _cors_headers(answer) == {}
    assert s3.get_object(Bucket=bucket, Key="up/a.txt")["Body"].read() == b"hello"


def test_post_without_an_origin_gets_no_cors_headers(hw: RunningHeadwater, s3: Any,
                                                     bucket: str) -> None:
    # Not a cross-origin request, so no CORS headers, even where a rule allows every origin.
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [
        {"AllowedOrigins": ["*"], "AllowedMethods": ["POST"]}]})
    answer = _post(hw, bucket, None)
    assert answer.status == 204, answer.body
    assert _cors_headers(answer) == {}


# -- preflight answers carry S3's request ids -------------------------------------------------


def test_allowed_preflight_carries_both_request_ids(hw: RunningHeadwater, s3: Any,
                                                    bucket: str) -> None:
    _allow_posts(s3, bucket)
    answer = _preflight(hw, bucket, PAGE, "POST")
    assert answer.status == 200
    assert answer.headers["access-control-allow-origin"] == PAGE
    assert answer.headers["x-amz-request-id"]
    assert answer.headers["x-amz-id-2"]
    assert answer.headers["server"] == "AmazonS3"


def test_refused_preflights_carry_both_request_ids(hw: RunningHeadwater, s3: Any,
                                                   bucket: str) -> None:
    refused = [_preflight(hw, bucket, PAGE, "POST")]  # CORS not enabled for this bucket
    _allow_posts(s3, bucket)
    refused.append(_preflight(hw, bucket, "https://evil.test", "POST"))  # no rule allows it
    for answer in refused:
        assert answer.status == 403 and b"<Code>AccessForbidden</Code>" in answer.body
        request_id = answer.headers["x-amz-request-id"]
        host_id = answer.headers["x-amz-id-2"]
        assert f"<RequestId>{request_id}</RequestId>".encode() in answer.body
        assert f"<HostId>{host_id}</HostId>".encode() in answer.body
        assert _cors_headers(answer) == {}


# -- signed requests: errors carry them too -----------------------------------------------


def test_a_signed_request_refused_from_an_allowed_origin_gets_cors_headers(
    hw: RunningHeadwater, s3: Any, bucket: str
) -> None:
    # A page's fetch of a missing object can tell "not there" from a network failure only
    # if the 404 carries the CORS headers (S3 sends them on errors as on successes).
    from botocore.exceptions import ClientError

    _allow_posts(s3, bucket)
    client = hw.client("s3")

    def from_page(origin: str) -> Any:
        def add(request: Any, **_: Any) -> None:
            request.headers["Origin"] = origin
        return add

    client.meta.events.register("before-sign.s3.GetObject", from_page(PAGE))
    with pytest.raises(ClientError) as refused:
        client.get_object(Bucket=bucket, Key="missing")
    headers = refused.value.response["ResponseMetadata"]["HTTPHeaders"]
    assert refused.value.response["Error"]["Code"] == "NoSuchKey"
    assert headers["access-control-allow-origin"] == PAGE
    other = hw.client("s3")
    other.meta.events.register("before-sign.s3.GetObject", from_page("https://evil.test"))
    with pytest.raises(ClientError) as refused:
        other.get_object(Bucket=bucket, Key="missing")
    assert "access-control-allow-origin" not in refused.value.response["ResponseMetadata"][
        "HTTPHeaders"]
