"""SigV4 over header values with bytes above 0x7F.

The gateway reads header bytes as ISO-8859-1 text, one character per byte.  S3 verifies a
signature over the bytes as received, so a client that sends raw UTF-8 in an ``x-amz-meta-*``
header and signs those bytes (Go's SDK and mc, minio/minio#21282; botocore, which sends a str
value as its UTF-8 and signs the same UTF-8) must be accepted.  The UTF-8 of the text read is
accepted as a second form, as headwater always did (``sigv4_signature.signature_matches``).

Requests here are signed two ways: by hand over a canonical request built from bytes, and by
botocore's ``SigV4Auth`` family over str values, then handed to ``sigv4.verify`` as the
gateway would (the bytes on the wire decoded as ISO-8859-1).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest
from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from headwater.core.clock import ManualClock
from headwater.protocol import sigv4
from headwater.protocol.http import HttpRequest
from headwater.protocol.sigv4 import AuthFailure

AKID = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
SECRETS = {AKID: SECRET}
HOST = "127.0.0.1:4566"
REGION = "us-east-1"
# "Miniö 你好": two- and three-byte UTF-8 sequences.
RAW_UTF8 = "Mini\u00f6 \u4f60\u597d".encode()


def wire_text(raw: bytes) -> str:
    """A header value as the gateway hands it over: its bytes read as ISO-8859-1."""
    return raw.decode("latin-1")


# -- signing by hand, over bytes -----------------------------------------------------------------


def _hmac(key: bytes, text: bytes) -> bytes:
    return hmac.new(key, text, hashlib.sha256).digest()


def sign_bytes(
    method: str,
    path: str,
    headers: dict[str, bytes],
    payload: str,
    amz_date: str,
    query: str = "",
    service: str = "s3",
) -> str:
    """A SigV4 signature over the canonical request of these header bytes, as a client that
    signs what it sends computes it (Go's SDK signs byte strings)."""
    names = sorted(headers)
    lines = b"".join(name.encode() + b":" + headers[name].strip() + b"\n" for name in names)
    canonical = b"\n".join(
        [method.encode(), path.encode(), query.encode(), lines, ";".join(names).encode(),
         payload.encode()]
    )
    scope = f"{amz_date[:8]}/{REGION}/{service}/aws4_request"
    to_sign = f"AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{hashlib.sha256(canonical).hexdigest()}"
    key = f"AWS4{SECRET}".encode()
    for part in (amz_date[:8], REGION, service, "aws4_request"):
        key = _hmac(key, part.encode())
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def now_amz() -> tuple[str, ManualClock]:
    now = time.time()
    return datetime.fromtimestamp(now, tz=UTC).strftime("%Y%m%dT%H%M%SZ"), ManualClock(now)


def header_signed_put(value: bytes, payload: str = sigv4.UNSIGNED_PAYLOAD) -> tuple[HttpRequest, ManualClock]:
    """A PutObject whose x-amz-meta-name carries ``value``, signed over the bytes sent."""
    amz_date, clock = now_amz()
    sent = {
        "host": HOST.encode(),
        "x-amz-content-sha256": payload.encode(),
        "x-amz-date": amz_date.encode(),
        "x-amz-meta-name": value,
    }
    signature = sign_bytes("PUT", "/bucket/key", sent, payload, amz_date)
    headers = {name: wire_text(raw) for name, raw in sent.items()}
    headers["authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={AKID}/{amz_date[:8]}/{REGION}/s3/aws4_request, "
        f"SignedHeaders={';'.join(sorted(sent))}, Signature={signature}"
    )
    return HttpRequest("PUT", "/bucket/key", "", headers, host=HOST), clock


def test_raw_utf8_header_signed_bytewise_is_accepted() -> None:
    request, clock = header_signed_put(RAW_UTF8)
    identity = sigv4.verify(request, SECRETS, clock)
    assert identity.access_key == AKID and identity.service == "s3"


def test_each_byte_above_0x7f_is_accepted_as_sent() -> None:
    # Not UTF-8 at all: a single byte E9 (ISO-8859-1 "é") is still one byte as received.
    request, clock = header_signed_put(b"caf\xe9 \x80\xff")
    assert sigv4.verify(request, SECRETS, clock).access_key == AKID


def test_bytewise_signature_does_not_cover_other_bytes() -> None:
    request, clock = header_signed_put(RAW_UTF8)
    # The same text delivered with a changed byte: neither form matches.
    request.headers["x-amz-meta-name"] = wire_text(RAW_UTF8.replace(b"\xb6", b"\xb7"))
    with pytest.raises(AuthFailure) as failure:
        sigv4.verify(request, SECRETS, clock)
    assert failure.value.kind == "bad_signature"


def test_streaming_seed_signature_over_raw_utf8_is_accepted() -> None:
    # aws-chunked uploads: the Authorization header's signature is the seed of the chunk
    # signatures, and is verified the same way.
    request, clock = header_signed_put(RAW_UTF8, payload="STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
    request.headers["content-encoding"] = "aws-chunked"
    assert sigv4.verify(request, SECRETS, clock).access_key == AKID
    found = sigv4.streaming_key(request, SECRETS)
    assert found is not None
    assert found[3] == request.headers["authorization"].rsplit("Signature=", 1)[1]


def test_presigned_url_signing_raw_utf8_header_is_accepted() -> None:
    amz_date, clock = now_amz()
    credential = f"{AKID}/{amz_date[:8]}/{REGION}/s3/aws4_request"
    query = (
        "X-Amz-Algorithm=AWS4-HMAC-SHA256"
        f"&X-Amz-Credential={credential.replace('/', '%2F')}"
        f"&X-Amz-Date={amz_date}&X-Amz-Expires=300"
        "&X-Amz-SignedHeaders=host%3Bx-amz-meta-name"
    )
    sent = {"host": HOST.encode(), "x-amz-meta-name": RAW_UTF8}
    signature = sign_bytes("PUT", "/bucket/key", sent, sigv4.UNSIGNED_PAYLOAD, amz_date, query)
    headers = {name: wire_text(raw) for name, raw in sent.items()}
    request = HttpRequest(
        "PUT", "/bucket/key", f"{query}&X-Amz-Signature={signature}", headers, host=HOST
    )
    identity = sigv4.verify(request, SECRETS, clock)
    assert identity.presigned and identity.access_key == AKID


# -- botocore's signers, over str values -----------------------------------------------------------


def botocore_signed(signer_cls: type, value: str, service: str = "s3") -> AWSRequest:
    aws = AWSRequest(
        method="PUT",
        url=f"http://{HOST}/bucket/key",
        data=b"",
        headers={"x-amz-meta-name": value, "X-Amz-Content-SHA256": sigv4.UNSIGNED_PAYLOAD},
    )
    signer_cls(Credentials(AKID, SECRET), service, REGION).add_auth(aws)
    return aws


def received(aws: AWSRequest, meta: bytes) -> HttpRequest:
    """botocore's request as the server reads it, its metadata header sent as ``meta``."""
    prepared = aws.prepare()
    parts = urlsplit(prepared.url)
    headers = {
        name.lower(): value.decode("latin-1") if isinstance(value, bytes) else value
        for name, value in prepared.headers.items()
    }
    headers["x-amz-meta-name"] = wire_text(meta)
    headers.setdefault("host", HOST)
    return HttpRequest("PUT", parts.path, parts.query, headers, host=HOST)


@pytest.mark.parametrize("signer_cls", [S3SigV4Auth, SigV4Auth])
def test_botocore_str_value_sent_as_utf8_is_accepted(signer_cls: type) -> None:
    # What a boto3 client does with a str header value (ceph/s3-tests'
    # test_object_set_get_unicode_metadata): signs its UTF-8 and sends those bytes
    # (botocore's Endpoint encodes str header values as UTF-8 before sending).
    value = "Hello World\u00e9"
    aws = botocore_signed(signer_cls, value)
    request = received(aws, value.encode("utf-8"))
    assert sigv4.verify(request, SECRETS, ManualClock(time.time())).access_key == AKID


def test_botocore_signature_sent_as_latin1_is_accepted_as_the_second_form() -> None:
    # The signature over the value's UTF-8, with the value sent as ISO-8859-1 bytes (E9):
    # the UTF-8 of the text the gateway read is what was signed.
    value = "Hello World\u00e9"
    aws = botocore_signed(S3SigV4Auth, value)
    request = received(aws, value.encode("latin-1"))
    assert sigv4.verify(request, SECRETS, ManualClock(time.time())).access_key == AKID


def test_text_beyond_one_byte_verifies_as_its_utf8() -> None:
    # Text no wire could give (characters past U+00FF, only from a direct caller): its UTF-8
    # is the one form it has.
    value = "\u4f60\u597d"
    aws = botocore_signed(S3SigV4Auth, value)
    request = received(aws, b"")
    request.headers["x-amz-meta-name"] = value
    assert sigv4.verify(request, SECRETS, ManualClock(time.time())).access_key == AKID


def test_botocore_presigned_url_with_raw_utf8_header_is_accepted() -> None:
    value = "Mini\u00f6"
    aws = AWSRequest(method="PUT", url=f"http://{HOST}/bucket/key", headers={"x-amz-meta-name": value})
    S3SigV4QueryAuth(Credentials(AKID, SECRET), "s3", REGION, expires=300).add_auth(aws)
    request = received(aws, value.encode("utf-8"))
    assert "x-amz-meta-name" in request.query["X-Amz-SignedHeaders"][0]
    identity = sigv4.verify(request, SECRETS, ManualClock(time.time()))
    assert identity.presigned
