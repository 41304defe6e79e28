"""boto3's default S3 presigned URLs (SigV2 in us-east-1) work against headwater."""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import Any

import pytest

from headwater.testing import RunningHeadwater

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def s3(hw: RunningHeadwater) -> Any:
    client = hw.client("s3")
    client.create_bucket(Bucket="presigned")
    return client


def test_default_presigned_get_and_put(s3: Any) -> None:
    s3.put_object(Bucket="presigned", Key="dir/a b+c.txt", Body=b"hello")
    url = s3.generate_presigned_url(
        "get_object",
        Params={"Bucket": "presigned", "Key": "dir/a b+c.txt", "ResponseContentType": "text/plain"},
    )
    assert "AWSAccessKeyId=" in url and "Signature=" in url  # the SigV2 form
    with urllib.request.urlopen(url) as reply:
        assert reply.read() == b"hello"
        assert reply.headers["Content-Type"] == "text/plain"

    put = s3.generate_presigned_url(
        "put_object", Params={"Bucket": "presigned", "Key": "up.csv", "ContentType": "text/csv"}
    )
    request = urllib.request.Request(
        put, data=b"a,b", method="PUT", headers={"Content-Type": "text/csv"}
    )
    with urllib.request.urlopen(request) as reply:
        assert reply.status == 200
    assert s3.get_object(Bucket="presigned", Key="up.csv")["Body"].read() == b"a,b"
    # The type signed is the one that must be sent (the URL's query carries a copy of it).
    other = urllib.request.Request(
        put, data=b"<a/>", method="PUT", headers={"Content-Type": "text/xml"}
    )
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(other)
    assert caught.value.code == 403
    assert b"<Code>SignatureDoesNotMatch</Code>" in caught.value.read()


def test_tampered_presigned_url_is_refused(s3: Any) -> None:
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "presigned", "Key": "x"})
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(url.replace("Signature=", "Signature=x"))
    assert caught.value.code == 403
    assert b"<Code>SignatureDoesNotMatch</Code>" in caught.value.read()


@pytest.mark.parametrize("spelling", ["acl", "acl="])
def test_a_subresource_without_a_value_signs_as_its_bare_name(s3: Any, spelling: str) -> None:
    # Signed as "?acl" (S3's canonical resource); the JS SDK v2 sends it as "acl=".
    s3.put_object(Bucket="presigned", Key="acl-me", Body=b"x")
    url = s3.generate_presigned_url("get_object_acl", Params={"Bucket": "presigned",
                                                               "Key": "acl-me"})
    base, _, query = url.partition("?")
    parts = ["acl" if p in ("acl", "acl=") else p for p in query.split("&")]
    assert "acl" in parts and "AWSAccessKeyId=" in url
    sent = f"{base}?" + "&".join(spelling if p == "acl" else p for p in parts)
    with urllib.request.urlopen(sent) as reply:
        assert b"<AccessControlPolicy" in reply.read()


def test_an_expired_url_says_when(s3: Any) -> None:
    import time
    import xml.etree.ElementTree as ET

    url = s3.generate_presigned_url("get_object", Params={"Bucket": "presigned", "Key": "x"},
                                    ExpiresIn=1)
    time.sleep(2.1)
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(url)
    root = ET.fromstring(caught.value.read())
    assert (root.findtext("Code"), root.findtext("Message")) == ("AccessDenied",
                                                                "Request has expired")
    assert root.findtext("Expires") and root.findtext("ServerTime")
    assert root.findtext("Expires") < root.findtext("ServerTime")  # ISO times sort as text
