"""PutObject with raw UTF-8 bytes in an x-amz-meta-* header, signed over those bytes.

S3 verifies SigV4 over the header bytes as received, so such uploads succeed (Go's SDK and mc
send and sign them, minio/minio#21282; boto3 does the same with a str header value, as
ceph/s3-tests' test_object_set_get_unicode_metadata does).  It reads the bytes as ISO-8859-1,
so the value comes back as an RFC 2047 encoded-word of that text: "ö" sent as C3 B6 returns as
``=?UTF-8?B?w4PCtg==?=`` (observed on S3, same issue).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import pytest

from headwater.testing import RunningHeadwater

pytestmark = pytest.mark.e2e


def encoded_word(raw: bytes) -> str:
    """What S3 returns for a value sent as ``raw``: its bytes read as ISO-8859-1, as UTF-8."""
    return "=?UTF-8?B?" + base64.b64encode(raw.decode("latin-1").encode()).decode() + "?="


def signed_put(hw: RunningHeadwater, bucket: str, key: str, body: bytes, meta: bytes) -> int:
    """PUT over http.client, x-amz-meta-name sent as ``meta`` and signed over those bytes (as
    a client that signs what it sends computes the signature); the response status."""
    parts = urlsplit(hw.endpoint)
    host = parts.netloc
    path = f"/{bucket}/{key}"
    amz_date = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    payload = hashlib.sha256(body).hexdigest()
    headers = {
        "host": host.encode(),
        "x-amz-content-sha256": payload.encode(),
        "x-amz-date": amz_date.encode(),
        "x-amz-meta-name": meta,
    }
    names = sorted(headers)
    lines = b"".join(name.encode() + b":" + headers[name] + b"\n" for name in names)
    signed = ";".join(names)
    canonical = b"PUT\n" + path.encode() + b"\n\n" + lines + b"\n" + signed.encode() + b"\n"
    canonical += payload.encode()
    scope = f"{amz_date[:8]}/{hw.region}/s3/aws4_request"
    to_sign = f"AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{hashlib.sha256(canonical).hexdigest()}"
    key_bytes = f"AWS4{hw.secret_key}".encode()
    for part in (amz_date[:8], hw.region, "s3", "aws4_request"):
        key_bytes = hmac.new(key_bytes, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key_bytes, to_sign.encode(), hashlib.sha256).hexdigest()
    auth = (
        f"AWS4-HMAC-SHA256 Credential={hw.access_key}/{scope}, SignedHeaders={signed}, "
        f"Signature={signature}"
    )
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        conn.putrequest("PUT", path, skip_host=True, skip_accept_encoding=True)
        for name in names:
            conn.putheader(name, headers[name])  # bytes go out as they are
        conn.putheader("authorization", auth)
        conn.putheader("content-length", str(len(body)))
        conn.endheaders(body)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def test_raw_utf8_metadata_signed_bytewise_is_stored(hw: RunningHeadwater, s3: Any, bucket: str) -> None:
    raw = "Mini\u00f6 \u4f60\u597d".encode()
    assert signed_put(hw, bucket, "raw", b"hello", raw) == 200
    head = s3.head_object(Bucket=bucket, Key="raw")
    assert head["Metadata"] == {"name": encoded_word(raw)}
    assert s3.get_object(Bucket=bucket, Key="raw")["Body"].read() == b"hello"


def test_observed_encoded_word_for_o_umlaut(hw: RunningHeadwater, s3: Any, bucket: str) -> None:
    assert signed_put(hw, bucket, "o", b"", "\u00f6".encode()) == 200
    assert s3.head_object(Bucket=bucket, Key="o")["Metadata"] == {"name": "=?UTF-8?B?w4PCtg==?="}


def test_boto3_str_header_value_is_accepted(hw: RunningHeadwater, bucket: str) -> None:
    # ceph/s3-tests' test_object_set_get_unicode_metadata: a str value put in the request's
    # headers, which botocore signs and sends as UTF-8.
    client = hw.client("s3")

    def set_unicode_metadata(params: dict[str, Any], **kwargs: Any) -> None:
        params["headers"]["x-amz-meta-meta1"] = "Hello World\u00e9"

    client.meta.events.register("before-call.s3.PutObject", set_unicode_metadata)
    client.put_object(Bucket=bucket, Key="foo", Body=b"bar")
    got = client.get_object(Bucket=bucket, Key="foo")["Metadata"]
    assert got == {"meta1": encoded_word("Hello World\u00e9".encode())}
