"""Bodies sent with HTTP chunked framing (``Transfer-Encoding: chunked``, no Content-Length).

S3 takes a body of unknown length only as aws-chunked with ``x-amz-decoded-content-length``
(sigv4-streaming.html allows either Content-Length or Transfer-Encoding for those); any other
chunked upload is 501 NotImplemented naming the header, as recorded against S3 in
aws/aws-sdk-js-v3#3403, automattic/knox#43 and chilts/awssum#30.
"""

from __future__ import annotations

import http.client
import socket
import xml.etree.ElementTree as ET
from typing import Any
from urllib.parse import urlsplit

import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError
from test_s3_streaming import _Signer, chunked, crc32

from headwater.testing import RunningHeadwater

pytestmark = pytest.mark.e2e


def send_chunked(hw: RunningHeadwater, path: str, pieces: list[bytes],
                 headers: dict[str, str]) -> tuple[int, bytes]:
    """A signed PUT whose body goes out in HTTP chunks, with no Content-Length.

    The request leaves in one write: S3 (and headwater) may answer before reading the body
    and close the connection, which would fail a client still sending it."""
    url = f"{hw.endpoint}{path}"
    request = AWSRequest(method="PUT", url=url, headers=dict(headers, **{
        "Transfer-Encoding": "chunked"}))
    signer: S3SigV4Auth = _Signer(Credentials(hw.access_key, hw.secret_key), "s3", hw.region)
    signer.add_auth(request)
    parts = urlsplit(url)
    target = f"{parts.path}?{parts.query}" if parts.query else parts.path
    head = "".join(f"{name}: {value}\r\n" for name, value in request.headers.items())
    body = b"".join(b"%x\r\n%s\r\n" % (len(piece), piece) for piece in pieces) + b"0\r\n\r\n"
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        sock.sendall(f"PUT {target} HTTP/1.1\r\nHost: {parts.netloc}\r\n{head}\r\n".encode()
                     + body)
        response = http.client.HTTPResponse(sock)
        response.begin()
        return response.status, response.read()


def test_a_plain_chunked_put_is_not_implemented(hw: RunningHeadwater, s3: Any,
                                                bucket: str) -> None:
    status, text = send_chunked(hw, f"/{bucket}/plain", [b"hello ", b"world"],
                                {"X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"})
    assert status == 501, text
    error = {child.tag: child.text for child in ET.fromstring(text)}
    assert error["Code"] == "NotImplemented"
    assert error["Message"] == "A header you provided implies functionality that is not implemented"
    assert error["Header"] == "Transfer-Encoding"
    assert "additionalMessage" not in error
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="plain")


def test_a_chunked_upload_part_is_not_implemented(hw: RunningHeadwater, s3: Any,
                                                  bucket: str) -> None:
    upload = s3.create_multipart_upload(Bucket=bucket, Key="parts")["UploadId"]
    status, text = send_chunked(hw, f"/{bucket}/parts?partNumber=1&uploadId={upload}",
                                [b"part"], {"X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"})
    assert status == 501, text
    assert s3.list_parts(Bucket=bucket, Key="parts", UploadId=upload).get("Parts", []) == []


def test_aws_chunked_may_come_in_http_chunks(hw: RunningHeadwater, s3: Any,
                                             bucket: str) -> None:
    """sigv4-streaming.html: Content-Length or Transfer-Encoding, with the decoded length."""
    data = b"streamed " * 10_000
    body = chunked(data, 16384, {"x-amz-checksum-crc32": crc32(data)})
    status, text = send_chunked(hw, f"/{bucket}/framed", [body[:5000], body[5000:]], {
        "X-Amz-Content-SHA256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        "Content-Encoding": "aws-chunked",
        "X-Amz-Decoded-Content-Length": str(len(data)),
        "X-Amz-Trailer": "x-amz-checksum-crc32",
    })
    assert status == 200, text
    assert s3.get_object(Bucket=bucket, Key="framed")["Body"].read() == data
