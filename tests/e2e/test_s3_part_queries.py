"""Requests whose query names an upload or a part, sent to an operation that does not take
them: S3 goes by the subresource, so none of them writes the object (answers recorded from
S3 in versity/versitygw#1236, #1237, #1226 and #896)."""

from __future__ import annotations

import http.client
from typing import Any
from urllib.parse import urlsplit

import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from headwater.testing import RunningHeadwater

pytestmark = pytest.mark.e2e


def send(hw: RunningHeadwater, method: str, target: str, body: bytes = b"",
         headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    url = f"{hw.endpoint}{target}"
    request = AWSRequest(method=method, url=url, data=body, headers=headers or {})
    S3SigV4Auth(Credentials(hw.access_key, hw.secret_key), "s3", hw.region).add_auth(request)
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        connection.request(method, path, body=body, headers=dict(request.headers.items()))
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def unchanged(s3: Any, bucket: str) -> bool:
    return bool(s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"original")


@pytest.fixture
def original(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"original")


@pytest.mark.usefixtures("original")
@pytest.mark.parametrize("copy", [False, True], ids=["put", "copy"])
def test_put_with_an_upload_id_but_no_part_number_is_405(
        hw: RunningHeadwater, s3: Any, bucket: str, copy: bool) -> None:
    headers = {"x-amz-copy-source": f"/{bucket}/k"} if copy else {}
    status, head, text = send(hw, "PUT", f"/{bucket}/k?uploadId=abc", b"CLOBBER", headers)
    assert status == 405, text
    assert b"<Code>MethodNotAllowed</Code>" in text and b"<Method>PUT</Method>" in text
    assert b"<ResourceType>UPLOAD</ResourceType>" in text
    assert head["allow"] == "DELETE, POST, GET" and "x-amz-delete-marker" not in head
    assert unchanged(s3, bucket)


@pytest.mark.usefixtures("original")
@pytest.mark.parametrize("copy", [False, True], ids=["put", "copy"])
def test_put_with_a_part_number_but_no_upload_id_is_invalid_argument(
        hw: RunningHeadwater, s3: Any, bucket: str, copy: bool) -> None:
    headers = {"x-amz-copy-source": f"/{bucket}/k"} if copy else {}
    status, _, text = send(hw, "PUT", f"/{bucket}/k?partNumber=1", b"CLOBBER", headers)
    assert status == 400, text
    assert b"<Code>InvalidArgument</Code>" in text
    assert b"This operation does not accept partNumber without uploadId" in text
    assert b"<ArgumentName>partNumber</ArgumentName>" in text
    assert unchanged(s3, bucket)


@pytest.mark.usefixtures("original")
@pytest.mark.parametrize("query", ["", "?upload"], ids=["none", "misspelt"])
def test_post_on_an_object_without_a_subresource_is_405(
        hw: RunningHeadwater, s3: Any, bucket: str, query: str) -> None:
    body = b"<CompleteMultipartUpload/>"
    status, _, text = send(hw, "POST", f"/{bucket}/k{query}", body)
    assert status == 405, text
    assert b"<Method>POST</Method><ResourceType>OBJECT</ResourceType>" in text
    assert unchanged(s3, bucket)


def test_a_delete_marker_read_by_version_still_says_so(s3: Any, bucket: str) -> None:
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    marker = s3.delete_object(Bucket=bucket, Key="gone")["VersionId"]
    with pytest.raises(Exception) as caught:
        s3.get_object(Bucket=bucket, Key="gone", VersionId=marker)
    response = caught.value.response  # type: ignore[attr-defined]
    assert response["Error"]["Code"] == "MethodNotAllowed"
    headers = response["ResponseMetadata"]["HTTPHeaders"]
    assert headers["allow"] == "DELETE" and headers["x-amz-delete-marker"] == "true"
