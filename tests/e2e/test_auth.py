"""Authentication over the wire: boto3 and raw HTTP against a real headwater on loopback.

Each protocol family answers a failed SigV4 check with AWS's own code and status, rendered in
its own wire format, so boto3 raises the ``ClientError`` a user would see from AWS.  Also the
credential rules: ``test``/``test`` only on loopback, configured credentials replace it, and
``headwater serve`` refuses to bind beyond loopback without credentials.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from headwater.config import Settings
from headwater.gateway.app import build_gateway
from headwater.gateway.server import BackgroundServer, free_port
from headwater.services import ServiceHandle
from headwater.testing import RunningHeadwater, running_headwater

pytestmark = pytest.mark.e2e

# Services whose auth answers we check even before headwater implements them: registered with
# an adapter that has no operations, so routing and the error serializer are the real ones
# and any authenticated call ends in 501.
STUBBED = ("lambda", "s3", "cloudformation", "stepfunctions")


@pytest.fixture(scope="module")
def hw() -> Iterator[RunningHeadwater]:
    with tempfile.TemporaryDirectory(prefix="headwater-auth-") as tmp:
        port = free_port()
        settings = Settings(host="127.0.0.1", port=port, data_dir=Path(tmp))
        gateway = build_gateway(settings)
        for name in STUBBED:
            if name not in gateway.services:
                gateway.add_service(ServiceHandle(name=name, adapter=object()))
        server = BackgroundServer(gateway)
        server.start()
        try:
            yield RunningHeadwater(f"http://127.0.0.1:{port}", Path(tmp), gateway)
        finally:
            server.stop()


def client(hw: RunningHeadwater, service: str, key: str = "test", secret: str = "test", **config: Any) -> Any:
    return boto3.client(
        service,
        endpoint_url=hw.endpoint,
        region_name="us-east-1",
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 1}, **config),
    )


CALLS: dict[str, tuple[str, dict[str, Any]]] = {
    "sqs": ("list_queues", {}),
    "lambda": ("list_functions", {}),
    "s3": ("list_buckets", {}),
    "cloudformation": ("list_stacks", {}),
    "stepfunctions": ("list_state_machines", {}),
}


def call_error(api: Any, service: str) -> tuple[str, int, str]:
    name, params = CALLS[service]
    with pytest.raises(ClientError) as caught:
        getattr(api, name)(**params)
    response = caught.value.response
    return (
        response["Error"]["Code"],
        response["ResponseMetadata"]["HTTPStatusCode"],
        response["Error"].get("Message", ""),
    )


WRONG_SECRET = [
    ("sqs", "SignatureDoesNotMatch", 403),
    ("lambda", "InvalidSignatureException", 403),
    ("s3", "SignatureDoesNotMatch", 403),
    ("cloudformation", "SignatureDoesNotMatch", 403),
    ("stepfunctions", "InvalidSignatureException", 400),
]
UNKNOWN_KEY = [
    ("sqs", "InvalidClientTokenId", 403),
    ("lambda", "UnrecognizedClientException", 403),
    ("s3", "InvalidAccessKeyId", 403),
    ("cloudformation", "InvalidClientTokenId", 403),
    ("stepfunctions", "UnrecognizedClientException", 400),
]
UNSIGNED_CALLS = [
    ("sqs", "MissingAuthenticationToken", 403),
    # One port serves every service and an unsigned REST request names none, so headwater
    # answers it as S3 answers an anonymous request, here for the bucket "2015-03-31" that
    # does not exist; a Lambda client only sees the status.
    ("lambda", "404", 404),
    ("s3", "AccessDenied", 403),
    ("cloudformation", "MissingAuthenticationToken", 403),
    ("stepfunctions", "MissingAuthenticationTokenException", 400),
]
SKEWED = [
    ("sqs", "SignatureDoesNotMatch", 403),
    ("lambda", "InvalidSignatureException", 403),
    ("s3", "RequestTimeTooSkewed", 403),
    ("cloudformation", "SignatureDoesNotMatch", 403),
    ("stepfunctions", "InvalidSignatureException", 400),
]


def test_signed_request_is_accepted(hw):
    assert client(hw, "sqs").list_queues()["ResponseMetadata"]["HTTPStatusCode"] == 200


@pytest.mark.parametrize(("service", "code", "status"), WRONG_SECRET)
def test_wrong_secret(hw, service, code, status):
    got_code, got_status, message = call_error(client(hw, service, secret="wrong"), service)
    assert (got_code, got_status) == (code, status)
    assert message.startswith("The request signature we calculated does not match")


@pytest.mark.parametrize(("service", "code", "status"), UNKNOWN_KEY)
def test_unknown_access_key(hw, service, code, status):
    got_code, got_status, _ = call_error(client(hw, service, key="AKIDNOTCONFIGURED"), service)
    assert (got_code, got_status) == (code, status)


@pytest.mark.parametrize(("service", "code", "status"), UNSIGNED_CALLS)
def test_missing_authentication(hw, service, code, status):
    got_code, got_status, _ = call_error(client(hw, service, signature_version=UNSIGNED), service)
    assert (got_code, got_status) == (code, status)


class _AheadClock:
    """The server's clock, running ``seconds`` ahead of this machine's."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def now(self) -> float:
        return time.time() + self.seconds

    def monotonic(self) -> float:
        return time.monotonic()


@contextmanager
def server_clock_ahead(hw: RunningHeadwater, seconds: float) -> Iterator[None]:
    # Moving the server's clock rather than the client's: botocore signs with either its own
    # or the CRT's clock, and the request is the same either way.
    saved = hw.gateway.clock
    hw.gateway.clock = _AheadClock(seconds)
    try:
        yield
    finally:
        hw.gateway.clock = saved


@pytest.mark.parametrize(("service", "code", "status"), SKEWED)
def test_clock_skew_beyond_fifteen_minutes(hw, service, code, status):
    with server_clock_ahead(hw, 20 * 60):
        got_code, got_status, message = call_error(client(hw, service), service)
    assert (got_code, got_status) == (code, status)
    if service != "s3":
        assert message.startswith("Signature expired: ") and message.endswith("- 15 min.)")


def test_skew_within_fifteen_minutes_is_accepted(hw):
    with server_clock_ahead(hw, 10 * 60):
        client(hw, "sqs").list_queues()


# -- raw HTTP: the bodies and headers themselves -------------------------------------------------


def raw(hw: RunningHeadwater, method: str, target: str, headers: dict[str, str], body: bytes = b"") -> tuple[int, dict[str, str], bytes]:
    parts = urlsplit(hw.endpoint)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        conn.request(method, target, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


MALFORMED = "AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/{service}/aws4_request, SignedHeaders=host"


def test_malformed_authorization_sqs_json(hw):
    status, headers, body = raw(
        hw,
        "POST",
        "/",
        {
            "X-Amz-Target": "AmazonSQS.ListQueues",
            "Content-Type": "application/x-amz-json-1.0",
            "Authorization": MALFORMED.format(service="sqs"),
        },
        b"{}",
    )
    assert status == 400
    document = json.loads(body)
    assert document["__type"].endswith("IncompleteSignature")
    assert "requires 'Signature' parameter" in document["message"]
    assert headers["x-amzn-query-error"] == "IncompleteSignature;Sender"


def test_malformed_authorization_query(hw):
    status, _, body = raw(
        hw,
        "POST",
        "/",
        {
            "Content-Type": "application/x-www-form-urlencoded",
            "Authorization": MALFORMED.format(service="cloudformation"),
        },
        b"Action=ListStacks&Version=2010-05-15",
    )
    assert status == 400
    root = ET.fromstring(body)
    assert root.findtext(".//{*}Code") == "IncompleteSignature"


def test_malformed_authorization_s3(hw):
    status, _, body = raw(hw, "GET", "/", {"Authorization": MALFORMED.format(service="s3")})
    assert status == 400
    assert ET.fromstring(body).findtext("Code") == "AuthorizationHeaderMalformed"


def test_unsupported_authorization_scheme_s3(hw):
    status, _, body = raw(hw, "GET", "/bucket", {"Authorization": "Bearer token"})
    assert status == 400
    assert ET.fromstring(body).findtext("Code") == "InvalidArgument"


def test_sigv2_authorization_header_s3(hw):
    # As a SigV4-only region answers (eu-central-1, and buckets made since June 2020).
    status, _, body = raw(hw, "GET", "/bucket", {"Authorization": "AWS test:c2lnbmF0dXJl",
                                                  "Date": "Sat, 28 Nov 2026 05:00:00 GMT"})
    assert status == 400
    root = ET.fromstring(body)
    assert root.findtext("Code") == "InvalidRequest"
    assert root.findtext("Message") == ("The authorization mechanism you have provided is not "
                                        "supported. Please use AWS4-HMAC-SHA256.")


def test_malformed_authorization_rest_json(hw):
    status, headers, body = raw(
        hw, "GET", "/2015-03-31/functions/", {"Authorization": MALFORMED.format(service="lambda")}
    )
    assert status == 403
    assert headers["x-amzn-errortype"].split(":")[0] == "IncompleteSignatureException"
    json.loads(body)


def presigned_get(hw: RunningHeadwater, expires: int, ahead: float = 0) -> tuple[int, bytes]:
    s3 = client(hw, "s3", signature_version="s3v4")
    url = s3.generate_presigned_url("list_objects_v2", Params={"Bucket": "bkt"}, ExpiresIn=expires)
    parts = urlsplit(url)
    with server_clock_ahead(hw, ahead):
        status, _, body = raw(hw, "GET", f"{parts.path}?{parts.query}", {})
    return status, body


def test_presigned_url_within_its_lifetime_gets_past_auth(hw):
    status, body = presigned_get(hw, 3600, ahead=30 * 60)
    # Authenticated; whatever S3 answers next is not an auth failure.
    code = ET.fromstring(body).findtext("Code") if status >= 400 else None
    assert code not in ("AccessDenied", "SignatureDoesNotMatch", "InvalidAccessKeyId")


def test_expired_presigned_url(hw):
    status, body = presigned_get(hw, 3600, ahead=2 * 3600)
    assert status == 403
    root = ET.fromstring(body)
    assert (root.findtext("Code"), root.findtext("Message")) == ("AccessDenied", "Request has expired")
    # With when it expired and the server's time, as S3 sends them.
    assert root.findtext("X-Amz-Expires") == "3600"
    expires = datetime.strptime(root.findtext("Expires"), "%Y-%m-%dT%H:%M:%SZ")
    server = datetime.strptime(root.findtext("ServerTime"), "%Y-%m-%dT%H:%M:%SZ")
    assert 3600 - 5 <= (server - expires).total_seconds() <= 3600 + 5


def test_tampered_presigned_url(hw):
    s3 = client(hw, "s3", signature_version="s3v4")
    url = s3.generate_presigned_url("list_objects_v2", Params={"Bucket": "bkt"}, ExpiresIn=60)
    parts = urlsplit(url)
    status, _, body = raw(hw, "GET", f"{parts.path.replace('bkt', 'other')}?{parts.query}", {})
    assert status == 403
    assert ET.fromstring(body).findtext("Code") == "SignatureDoesNotMatch"


# -- which credentials are accepted ----------------------------------------------------------


def test_configured_credentials_replace_the_test_pair():
    with running_headwater(credentials={"AKIDHEADWATER": "s3cr3t"}) as server:
        good = client(server, "sqs", key="AKIDHEADWATER", secret="s3cr3t")
        assert good.list_queues()["ResponseMetadata"]["HTTPStatusCode"] == 200
        code, status, _ = call_error(client(server, "sqs"), "sqs")
        assert (code, status) == ("InvalidClientTokenId", 403)


def serve(*args: str, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("HEADWATER_")}
    environ.update(env or {})
    with tempfile.TemporaryDirectory() as tmp:
        return subprocess.run(
            [sys.executable, "-m", "headwater", "serve", "--data-dir", tmp, "--port", str(free_port()), *args],
            capture_output=True,
            check=False,
            text=True,
            env=environ,
            timeout=timeout,
        )


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10"])
def test_serve_beyond_loopback_without_credentials_refuses_to_start(host):
    result = serve("--host", host)
    assert result.returncode != 0
    assert f"refusing to listen on {host}" in result.stderr
    assert "HEADWATER_CREDENTIALS" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_beyond_loopback_refuses_the_test_pair():
    result = serve("--host", "0.0.0.0", env={"HEADWATER_CREDENTIALS": "test:test"})
    assert result.returncode != 0
    assert "'test' key is only allowed on loopback" in result.stderr


def test_s3_shows_its_side_of_a_bad_signature(hw):
    """SignatureDoesNotMatch carries S3's canonical request and string to sign, as S3 does;
    with only the secret wrong, the string shown is exactly the one the client signed: the
    wrong secret signs it into the signature the client sent."""
    with pytest.raises(ClientError) as err:
        client(hw, "s3", secret="wrong").list_buckets()
    error = err.value.response["Error"]
    assert error["Code"] == "SignatureDoesNotMatch" and error["AWSAccessKeyId"] == "test"
    to_sign = error["StringToSign"]
    _, _, scope, digest = to_sign.split("\n")
    assert digest == hashlib.sha256(error["CanonicalRequest"].encode()).hexdigest()
    key = b"AWS4wrong"
    for part in scope.split("/"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    assert hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest() == error[
        "SignatureProvided"]
    assert bytes.fromhex(error["StringToSignBytes"]).decode() == to_sign
    assert bytes.fromhex(error["CanonicalRequestBytes"]).decode() == error["CanonicalRequest"]
    assert error["CanonicalRequest"].startswith("GET\n/\n")
