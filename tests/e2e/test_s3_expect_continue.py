"""``Expect: 100-continue``: a request its headers already refuse is answered before its body.

S3's API reference (Common Request Headers, ``Expect``): "If the message is rejected based on
the headers, the body of the message is not sent."  boto3 sends the header on every PutObject
and UploadPart; ceph/s3-tests' test_100_continue checks it on an anonymous PUT.
"""

from __future__ import annotations

import hashlib
import socket
import uuid
from typing import Any
from urllib.parse import urlsplit

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from headwater.testing import RunningHeadwater

BODY = b"x" * 1000


def _head_only(hw: RunningHeadwater, path: str, headers: dict[str, str]) -> socket.socket:
    """Send a PUT's request line and headers, no body; the open socket."""
    parts = urlsplit(hw.endpoint)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=10)
    lines = [f"PUT {path} HTTP/1.1", f"Host: {parts.netloc}", f"Content-Length: {len(BODY)}",
             "Expect: 100-continue", *(f"{k}: {v}" for k, v in headers.items())]
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    return sock


def _first_answer(sock: socket.socket) -> bytes:
    """The first answer's head, and its body when it has a Content-Length."""
    data = b""
    while b"\r\n\r\n" not in data:
        piece = sock.recv(65536)
        if not piece:
            return data
        data += piece
    head, _, body = data.partition(b"\r\n\r\n")
    length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                   if line.lower().startswith(b"content-length:")), 0)
    while len(body) < length:
        piece = sock.recv(65536)
        if not piece:
            break
        body += piece
    return head + b"\r\n\r\n" + body


def _signed(hw: RunningHeadwater, path: str, secret: str) -> dict[str, str]:
    request = AWSRequest(method="PUT", url=f"{hw.endpoint}{path}", data=BODY, headers={
        "X-Amz-Content-SHA256": hashlib.sha256(BODY).hexdigest(), "Expect": "100-continue"})
    S3SigV4Auth(Credentials(hw.access_key, secret), "s3", hw.region).add_auth(request)
    return {k: v for k, v in request.headers.items() if k.lower() not in ("expect", "host")}


def test_an_anonymous_put_is_refused_before_its_body(hw: RunningHeadwater, bucket: str) -> None:
    for path, status in ((f"/{bucket}/k", b"403"), (f"/missing-{uuid.uuid4().hex[:8]}/k", b"404")):
        with _head_only(hw, path, {}) as sock:
            answer = _first_answer(sock)
        assert answer.split(b" ")[1] == status, answer
        assert b"connection: close" in answer.lower()
        code = b"<Code>AccessDenied</Code>" if status == b"403" else b"<Code>NoSuchBucket</Code>"
        assert code in answer


def test_a_badly_signed_small_put_is_refused_before_its_body(hw: RunningHeadwater,
                                                             bucket: str) -> None:
    path = f"/{bucket}/bad"
    with _head_only(hw, path, _signed(hw, path, "not-the-secret")) as sock:
        answer = _first_answer(sock)
    assert answer.split(b" ")[1] == b"403" and b"<Code>SignatureDoesNotMatch</Code>" in answer


def test_a_well_signed_small_put_is_told_to_continue(hw: RunningHeadwater, s3: Any,
                                                     bucket: str) -> None:
    path = f"/{bucket}/good"
    with _head_only(hw, path, _signed(hw, path, hw.secret_key)) as sock:
        assert _first_answer(sock).startswith(b"HTTP/1.1 100")
        sock.sendall(BODY)
        assert _first_answer(sock).split(b" ")[1] == b"200"
    assert s3.get_object(Bucket=bucket, Key="good")["Body"].read() == BODY
