"""A request signed for another region than its bucket's gets S3's 400 naming both regions
(``x-amz-bucket-region`` too), and SDKs that read it sign again for the bucket's region."""

from __future__ import annotations

import http.client
import urllib.error
import urllib.request
import uuid
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from headwater.testing import RunningHeadwater

pytestmark = pytest.mark.e2e


def client(hw: RunningHeadwater, region: str) -> Any:
    return boto3.client("s3", endpoint_url=hw.endpoint, region_name=region,
                        aws_access_key_id=hw.access_key, aws_secret_access_key=hw.secret_key,
                        config=Config(retries={"max_attempts": 1}, signature_version="s3v4"))


@pytest.fixture(scope="module")
def eu_bucket(hw: RunningHeadwater) -> str:
    name = f"eu-{uuid.uuid4().hex[:12]}"
    client(hw, "eu-west-1").create_bucket(
        Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    return name


def test_a_header_signed_for_another_region(hw: RunningHeadwater, eu_bucket: str) -> None:
    url = f"{hw.endpoint}/{eu_bucket}?list-type=2"
    request = AWSRequest(method="GET", url=url)
    S3SigV4Auth(Credentials(hw.access_key, hw.secret_key), "s3", "us-east-1").add_auth(request)
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        connection.request("GET", f"{parts.path}?{parts.query}",
                           headers=dict(request.headers.items()))
        response = connection.getresponse()
        status, region, body = (response.status, response.getheader("x-amz-bucket-region"),
                                response.read())
    finally:
        connection.close()
    assert (status, region) == (400, "eu-west-1")
    assert b"<Code>AuthorizationHeaderMalformed</Code>" in body
    assert (b"<Message>The authorization header is malformed; the region 'us-east-1' is wrong; "
            b"expecting 'eu-west-1'</Message><Region>eu-west-1</Region>") in body


def test_boto3_signs_again_for_the_bucket_region(hw: RunningHeadwater, eu_bucket: str) -> None:
    east = client(hw, "us-east-1")
    east.put_object(Bucket=eu_bucket, Key="k", Body=b"x")
    assert east.get_object(Bucket=eu_bucket, Key="k")["Body"].read() == b"x"
    # GetBucketLocation answers whatever region it was signed for: it is how clients ask.
    assert east.get_bucket_location(Bucket=eu_bucket)["LocationConstraint"] == "eu-west-1"


def test_a_presigned_url_for_another_region(hw: RunningHeadwater, eu_bucket: str) -> None:
    client(hw, "eu-west-1").put_object(Bucket=eu_bucket, Key="p", Body=b"x")
    url = client(hw, "us-east-1").generate_presigned_url(
        "get_object", Params={"Bucket": eu_bucket, "Key": "p"})
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(url, timeout=30)
    body = caught.value.read()
    assert caught.value.code == 400
    assert b"<Code>AuthorizationQueryParametersError</Code>" in body
    assert (b"Error parsing the X-Amz-Credential parameter; the region 'us-east-1' is wrong; "
            b"expecting 'eu-west-1'") in body
    assert b"<Region>eu-west-1</Region>" in body
    signed_there = client(hw, "eu-west-1").generate_presigned_url(
        "get_object", Params={"Bucket": eu_bucket, "Key": "p"})
    assert urllib.request.urlopen(signed_there, timeout=30).read() == b"x"


def test_unsigned_requests_name_no_region(hw: RunningHeadwater, eu_bucket: str) -> None:
    # An anonymous request is refused for its missing credentials, never for a region.
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(f"{hw.endpoint}/{eu_bucket}/k", timeout=30)
    assert caught.value.code == 403
    assert b"AccessDenied" in caught.value.read()
