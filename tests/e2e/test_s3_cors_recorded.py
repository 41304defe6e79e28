"""S3 CORS answers as AWS recorded them, against headwater's S3.

Each case is one LocalStack recorded against AWS (tests/aws/services/s3/test_s3_cors.py and its
snapshot file in localstack/localstack): PutBucketCors refusing an unknown method or no rule,
preflights to a bucket without CORS or to no bucket at all, and actual requests that carry the
preflight headers, which get no CORS headers unless the rule allows what those headers ask.
Anonymous GETs of public objects in the recordings are sent here as presigned GETs (ACLs are
not enforced: docs/s3.md).

AWS pages: https://docs.aws.amazon.com/AmazonS3/latest/userguide/cors.html,
https://docs.aws.amazon.com/AmazonS3/latest/API/API_OPTIONSobject.html
"""

from __future__ import annotations

import http.client
import uuid
from typing import Any
from urllib.parse import urlsplit
from xml.etree import ElementTree

import pytest
from botocore.exceptions import ClientError

from headwater.testing import RunningHeadwater

pytestmark = pytest.mark.e2e

ORIGIN = "https://localhost:4200"
VARY = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"


def _send(url: str, method: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.netloc, timeout=30)
    try:
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        connection.request(method, target, b"", headers)
        response = connection.getresponse()
        return (response.status, {k.lower(): v for k, v in response.getheaders()},
                response.read())
    finally:
        connection.close()


def _error(body: bytes) -> dict[str, str]:
    root = ElementTree.fromstring(body)
    return {child.tag: child.text or "" for child in root
            if child.tag not in ("RequestId", "HostId")}


def _cors(headers: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k.startswith("access-control-") or k == "vary"}


def _client_error(call: Any, **kwargs: Any) -> tuple[dict[str, Any], int]:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    response = caught.value.response
    return response["Error"], response["ResponseMetadata"]["HTTPStatusCode"]


# -- PutBucketCors (test_put_cors_invalid_rules) ------------------------------------------


def test_put_cors_refuses_an_unsupported_method(s3: Any, bucket: str) -> None:
    error, status = _client_error(s3.put_bucket_cors, Bucket=bucket, CORSConfiguration={
        "CORSRules": [{"AllowedOrigins": ["*", "https://test.com"],
                       "AllowedMethods": ["GET", "PUT", "HEAD", "MYMETHOD"]}]})
    assert (status, error) == (400, {
        "Code": "InvalidRequest",
        "Message": "Found unsupported HTTP method in CORS config. Unsupported method is MYMETHOD",
    })
    error, status = _client_error(s3.get_bucket_cors, Bucket=bucket)
    assert error["Code"] == "NoSuchCORSConfiguration"


def test_put_cors_refuses_no_rules(s3: Any, bucket: str) -> None:
    error, status = _client_error(s3.put_bucket_cors, Bucket=bucket,
                                  CORSConfiguration={"CORSRules": []})
    assert (status, error) == (400, {
        "Code": "MalformedXML",
        "Message": "The XML you provided was not well-formed or did not validate against our "
                   "published schema",
    })


def test_put_cors_takes_every_documented_method(s3: Any, bucket: str) -> None:
    rules = [{"AllowedOrigins": ["*"], "AllowedMethods": ["GET", "PUT", "HEAD", "POST", "DELETE"]}]
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": rules})
    assert s3.get_bucket_cors(Bucket=bucket)["CORSRules"] == rules


# -- preflights without a configuration or a bucket ---------------------------------------


def test_preflight_to_a_bucket_without_cors(hw: RunningHeadwater, s3: Any, bucket: str) -> None:
    url = f"{hw.endpoint}/{bucket}/test-cors-options-no-config"
    s3.put_object(Bucket=bucket, Key="test-cors-options-no-config", Body=b"cors-test")

    status, _, body = _send(url, "OPTIONS", {})
    assert (status, _error(body)) == (400, {
        "Code": "BadRequest", "Message": "Insufficient information. Origin request header needed."})

    status, _, body = _send(url, "OPTIONS", {"Origin": "whatever",
                                             "Access-Control-Request-Method": "PUT"})
    assert (status, _error(body)) == (403, {
        "Code": "AccessForbidden", "Message": "CORSResponse: CORS is not enabled for this bucket.",
        "Method": "PUT", "ResourceType": "BUCKET"})

    status, _, body = _send(url, "OPTIONS", {"Origin": "whatever"})
    assert (status, _error(body)) == (403, {
        "Code": "AccessForbidden", "Message": "CORSResponse: CORS is not enabled for this bucket.",
        "Method": "OPTIONS", "ResourceType": "BUCKET"})


def test_preflight_to_a_bucket_that_does_not_exist(hw: RunningHeadwater) -> None:
    url = f"{hw.endpoint}/fake-bucket-{uuid.uuid4().hex[:8]}/test-cors-options-no-bucket"

    status, _, body = _send(url, "OPTIONS", {})
    assert (status, _error(body)) == (400, {
        "Code": "BadRequest", "Message": "Insufficient information. Origin request header needed."})

    status, _, body = _send(url, "OPTIONS", {"Origin": "whatever"})
    assert (status, _error(body)) == (403, {
        "Code": "AccessForbidden", "Message": "CORSResponse: Bucket not found",
        "Method": "OPTIONS", "ResourceType": "BUCKET"})


# -- actual requests carrying preflight headers -------------------------------------------


def _object_with_rule(s3: Any, bucket: str, allowed_headers: list[str]) -> str:
    s3.put_object(Bucket=bucket, Key="test-cors-method", Body=b"test-cors")
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [{
        "AllowedOrigins": [ORIGIN], "AllowedMethods": ["GET"], "MaxAgeSeconds": 3000,
        "AllowedHeaders": allowed_headers}]})
    url: str = s3.generate_presigned_url("get_object",
                                         Params={"Bucket": bucket, "Key": "test-cors-method"})
    return url


def test_get_naming_a_method_the_rule_does_not_allow_gets_no_cors_headers(
        s3: Any, bucket: str) -> None:
    url = _object_with_rule(s3, bucket, ["*"])
    # Recorded: get-wrong-op.
    status, headers, body = _send(url, "GET", {"Origin": ORIGIN,
                                               "Access-Control-Request-Method": "PUT"})
    assert (status, body, _cors(headers)) == (200, b"test-cors", {})
    # Recorded: get-op.
    status, headers, body = _send(url, "GET", {"Origin": ORIGIN})
    assert (status, body) == (200, b"test-cors")
    assert _cors(headers) == {
        "access-control-allow-origin": ORIGIN, "access-control-allow-methods": "GET",
        "access-control-allow-credentials": "true", "access-control-max-age": "3000",
        "vary": VARY}


def test_get_naming_an_allowed_method_gets_cors_headers(s3: Any, bucket: str) -> None:
    url = _object_with_rule(s3, bucket, ["*"])
    status, headers, _ = _send(url, "GET", {"Origin": ORIGIN,
                                            "Access-Control-Request-Method": "GET"})
    assert status == 200
    assert headers["access-control-allow-origin"] == ORIGIN


def test_get_naming_headers_the_rule_does_not_allow_gets_no_cors_headers(
        s3: Any, bucket: str) -> None:
    url = _object_with_rule(s3, bucket, ["x-amz-expected-bucket-owner",
                                         "x-amz-server-side-encryption-customer-algorithm"])
    # Recorded: get-non-allowed-with-acl.
    status, headers, body = _send(url, "GET", {"Origin": ORIGIN,
                                               "Access-Control-Request-Headers":
                                               "x-amz-request-payer"})
    assert (status, body, _cors(headers)) == (200, b"test-cors", {})
    # A header the rule allows is matched as a preflight would match it.
    status, headers, _ = _send(url, "GET", {"Origin": ORIGIN, "Access-Control-Request-Headers":
                                            "X-Amz-Expected-Bucket-Owner"})
    assert headers["access-control-allow-origin"] == ORIGIN


def test_headers_an_actual_request_carries_are_not_weighed(s3: Any, bucket: str) -> None:
    # Recorded (get-non-allowed) with x-amz-request-payer sent, unsigned in a SigV2 URL; here
    # with a header a presigned SigV4 URL leaves unsigned too.  No rule lists it.
    url = _object_with_rule(s3, bucket, ["x-amz-expected-bucket-owner"])
    status, headers, _ = _send(url, "GET", {"Origin": ORIGIN, "Cache-Control": "no-cache"})
    assert status == 200
    assert headers["access-control-allow-origin"] == ORIGIN
    assert headers["vary"] == VARY
