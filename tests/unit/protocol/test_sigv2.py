"""S3's legacy (SigV2) presigned URLs, signed by botocore's own HmacV1QueryAuth."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from botocore.auth import HmacV1QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from headwater.core.clock import ManualClock
from headwater.protocol import sigv4
from headwater.protocol.http import HttpRequest

SECRETS = {"AKID": "secret"}
NOW = 1_800_000_000.0


def presign(url: str, *, method: str = "GET", auth_path: str | None = None,
            headers: dict[str, str] | None = None, expires: int = 3600) -> HttpRequest:
    signer = HmacV1QueryAuth(Credentials("AKID", "secret"), expires=expires)
    signer._get_date = lambda: str(int(NOW) + expires)  # type: ignore[method-assign]
    request = AWSRequest(method=method, url=url, headers=headers or {})
    request.auth_path = auth_path
    signer.add_auth(request)
    split = urlsplit(request.url)
    sent = {"host": split.netloc, **{k.lower(): v for k, v in (headers or {}).items()}}
    return HttpRequest(method, split.path, split.query, sent, b"", split.netloc)


def test_path_style_url_verifies() -> None:
    request = presign("http://127.0.0.1:4566/bkt/dir/a%20b%2Bc.txt")
    identity = sigv4.verify(request, SECRETS, ManualClock(NOW))
    assert identity.access_key == "AKID" and identity.presigned and identity.service == "s3"


def test_virtual_hosted_url_signs_the_bucket_into_the_path() -> None:
    request = presign("http://bkt.localhost:4566/key.txt", auth_path="/bkt/key.txt")
    assert sigv4.verify(request, SECRETS, ManualClock(NOW)).access_key == "AKID"


def test_subresources_and_headers_moved_into_the_query_are_signed() -> None:
    request = presign(
        "http://127.0.0.1:4566/bkt/k?response-content-type=text%2Fplain",
        method="PUT",
        headers={"Content-Type": "text/csv", "x-amz-meta-owner": "me"},
    )
    assert "x-amz-meta-owner=me" in request.query_string
    assert sigv4.verify(request, SECRETS, ManualClock(NOW)).access_key == "AKID"


@pytest.mark.parametrize("sent", [{"content-type": "text/xml"}, {}])
def test_the_content_type_signed_is_the_one_that_must_be_sent(sent: dict[str, str]) -> None:
    """The URL's query carries a copy of the signed Content-Type; S3 checks the header sent."""
    request = presign("http://127.0.0.1:4566/bkt/k", method="PUT",
                      headers={"Content-Type": "text/csv"})
    request.headers.pop("content-type")
    request.headers.update(sent)
    with pytest.raises(sigv4.AuthFailure) as caught:
        sigv4.verify(request, SECRETS, ManualClock(NOW))
    assert caught.value.kind == "bad_signature"


def test_tampered_path_fails() -> None:
    request = presign("http://127.0.0.1:4566/bkt/k")
    request.path = "/bkt/other"
    with pytest.raises(sigv4.AuthFailure) as caught:
        sigv4.verify(request, SECRETS, ManualClock(NOW))
    assert caught.value.kind == "bad_signature"


def test_expired_url_fails() -> None:
    request = presign("http://127.0.0.1:4566/bkt/k", expires=60)
    with pytest.raises(sigv4.AuthFailure) as caught:
        sigv4.verify(request, SECRETS, ManualClock(NOW + 61))
    assert caught.value.kind == "expired"


def test_unknown_key_fails() -> None:
    request = presign("http://127.0.0.1:4566/bkt/k")
    with pytest.raises(sigv4.AuthFailure) as caught:
        sigv4.verify(request, {"OTHER": "x"}, ManualClock(NOW))
    assert caught.value.kind == "unknown_key"


def test_missing_expires_is_malformed() -> None:
    request = presign("http://127.0.0.1:4566/bkt/k")
    request.query_string = "&".join(
        p for p in request.query_string.split("&") if not p.startswith("Expires=")
    )
    with pytest.raises(sigv4.AuthFailure) as caught:
        sigv4.verify(request, SECRETS, ManualClock(NOW))
    assert caught.value.kind == "malformed"
