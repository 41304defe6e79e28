"""SigV4 verification against botocore's own signers.

Every accepted request here was signed by botocore (``SigV4Auth``, ``S3SigV4Auth``,
``SigV4QueryAuth``, ``S3SigV4QueryAuth``, or a real client's request pipeline) and verified by
``headwater.protocol.sigv4``; every rejected one checks the failure kind and the code, message
and status each protocol family answers with (``protocol.auth_errors``).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth, SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.utils import percent_encode_sequence

from headwater.core.clock import ManualClock
from headwater.protocol import sigv4
from headwater.protocol.auth_errors import auth_error
from headwater.protocol.http import HttpRequest
from headwater.protocol.sigv4 import AuthFailure
from headwater.protocol.specs import get_spec

SECRETS = {"test": "test", "AKIDEXAMPLE": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}

# botocore signs with the AWS Common Runtime (awscrt) when it is installed, as it is with
# headwater, and with its Python signers otherwise: both must verify.
try:
    from botocore.crt.auth import (
        CrtS3SigV4Auth,
        CrtS3SigV4QueryAuth,
        CrtSigV4Auth,
        CrtSigV4QueryAuth,
    )
except ImportError:  # pragma: no cover - awscrt is a dependency of headwater
    HEADER_SIGNERS = [SigV4Auth]
    S3_SIGNERS = [S3SigV4Auth]
    QUERY_SIGNERS = [SigV4QueryAuth]
    S3_QUERY_SIGNERS = [S3SigV4QueryAuth]
else:
    HEADER_SIGNERS = [SigV4Auth, CrtSigV4Auth]
    S3_SIGNERS = [S3SigV4Auth, CrtS3SigV4Auth]
    QUERY_SIGNERS = [SigV4QueryAuth, CrtSigV4QueryAuth]
    S3_QUERY_SIGNERS = [S3SigV4QueryAuth, CrtS3SigV4QueryAuth]
HOST = "127.0.0.1:4566"


@pytest.fixture
def clock() -> ManualClock:
    # botocore signs with the wall clock; the server's clock starts there and can be moved.
    return ManualClock(time.time())


def to_http(method: str, url: str, headers: Iterable[tuple[str, str]], body: bytes) -> HttpRequest:
    parts = urlsplit(url)
    lowered: dict[str, str] = {}
    for name, value in headers:
        # botocore keeps some header values as bytes; on the wire they are latin-1 text.
        lowered[name.lower()] = value.decode("latin-1") if isinstance(value, bytes) else value
    lowered.setdefault("host", parts.netloc)  # what the HTTP client adds on the wire
    return HttpRequest(
        method=method,
        path=parts.path or "/",
        query_string=parts.query,
        headers=lowered,
        body=body,
        host=lowered["host"],
    )


def sign(
    signer: Any,
    method: str,
    url: str,
    *,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    params: Any = None,
    context: dict[str, Any] | None = None,
) -> HttpRequest:
    if isinstance(params, list):
        # Repeated keys cannot be a dict: put them in the URL already encoded, as a client's
        # serializer would (the CRT signers only take dict params).
        url += ("&" if "?" in url else "?") + percent_encode_sequence(params)
        params = None
    request = AWSRequest(method=method, url=url, data=body, headers=headers or {}, params=params)
    request.context.update(context or {})
    signer.add_auth(request)
    prepared = request.prepare()
    return to_http(method, prepared.url, prepared.headers.items(), body)


def creds(key: str = "test", secret: str = "test") -> Credentials:
    return Credentials(key, secret)


def captured(service: str, call: str, **params: Any) -> HttpRequest:
    """The request a real boto3 client sends for ``call`` (captured before it hits the wire)."""
    client = boto3.client(
        service,
        endpoint_url=f"http://{HOST}",
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1}),
    )
    seen: list[HttpRequest] = []

    def grab(request: Any, **_: Any) -> Any:
        body = request.body or b""
        if hasattr(body, "read"):
            body = body.read()
        if isinstance(body, str):
            body = body.encode()
        seen.append(to_http(request.method, request.url, request.headers.items(), body))
        raise _Captured

    client.meta.events.register("before-send", grab)
    with pytest.raises(_Captured):
        getattr(client, call)(**params)
    return seen[0]


class _Captured(Exception):
    pass


def verify(request: HttpRequest, clock: ManualClock) -> sigv4.Identity:
    return sigv4.verify(request, SECRETS, clock)


def failure(request: HttpRequest, clock: ManualClock) -> AuthFailure:
    with pytest.raises(AuthFailure) as caught:
        sigv4.verify(request, SECRETS, clock)
    return caught.value


# -- accepted: what real clients send ------------------------------------------------------


@pytest.mark.parametrize(
    ("service", "call", "params"),
    [
        ("sqs", "send_message", {"QueueUrl": f"http://{HOST}/000000000000/q", "MessageBody": "héllo ✓"}),
        ("stepfunctions", "list_state_machines", {}),
        ("events", "put_events", {"Entries": [{"Source": "a", "DetailType": "b", "Detail": "{}"}]}),
        ("cloudformation", "list_stacks", {"StackStatusFilter": ["CREATE_COMPLETE"]}),
        ("lambda", "invoke", {"FunctionName": "my-fn:live", "Payload": b'{"k": 1}'}),
        ("lambda", "get_function", {"FunctionName": "arn:aws:lambda:us-east-1:000000000000:function:f"}),
        ("s3", "put_object", {"Bucket": "bkt", "Key": "dir/a b+c%d~e/ünï.txt", "Body": b"data"}),
        ("s3", "get_object", {"Bucket": "bkt", "Key": "//leading/../dots/./kept"}),
        ("s3", "list_objects_v2", {"Bucket": "bkt", "Prefix": "a/ b", "Delimiter": "/"}),
        ("s3", "delete_objects", {"Bucket": "bkt", "Delete": {"Objects": [{"Key": "x"}]}}),
    ],
)
def test_requests_from_real_clients_verify(service, call, params, clock):
    request = captured(service, call, **params)
    identity = verify(request, clock)
    assert identity.access_key == "test"
    assert identity.service == get_spec(service).signing_name
    assert identity.region == "us-east-1" and not identity.presigned


def test_streaming_checksum_trailer_payload_is_taken_as_signed(clock):
    request = sign(
        S3SigV4Auth(creds(), "s3", "us-east-1"),
        "PUT",
        f"http://{HOST}/bkt/key",
        body=b"chunked body is checked by the S3 parser",
        context={"checksum": {"request_algorithm": {"in": "trailer", "name": "x-amz-checksum-crc32"}}},
    )
    assert request.headers["x-amz-content-sha256"] == "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
    verify(request, clock)


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/2015-03-31/functions/my%20fn/invocations",
        "/a/./b//c/../d",
        "/%E6%97%A5%E6%9C%AC/%F0%9F%98%80",
        "/trailing/",
        "/reserved%2Fslash%3Fq%23h",
    ],
)
@pytest.mark.parametrize("signer_class", HEADER_SIGNERS)
def test_odd_paths_for_non_s3_services(path, signer_class, clock):
    request = sign(
        signer_class(creds(), "lambda", "eu-west-1"),
        "GET",
        f"http://{HOST}{path}",
    )
    assert verify(request, clock).region == "eu-west-1"


@pytest.mark.parametrize(
    "path",
    ["/bkt/a%20b", "/bkt//double//slash", "/bkt/dots/../kept/./", "/bkt/%E2%9C%93~tilde", "/bkt/plus+sign"],
)
@pytest.mark.parametrize("signer_class", S3_SIGNERS)
def test_odd_paths_for_s3_are_not_normalised(path, signer_class, clock):
    request = sign(signer_class(creds(), "s3", "us-east-1"), "GET", f"http://{HOST}{path}")
    verify(request, clock)


@pytest.mark.parametrize(
    "params",
    [
        [("b", "2"), ("a", "1"), ("a", "0")],  # repeated keys: sorted by key, then value
        [("name", "日本語"), ("emoji", "😀"), ("sp ace", "a b")],
        [("empty", ""), ("slash", "a/b"), ("reserved", "!*'();:@&=+$,?#[]")],
        [("tilde~", "x~y"), ("percent", "100%")],
    ],
)
@pytest.mark.parametrize(
    ("signer_class", "as_dict"),
    # Parameters in the URL, as botocore's clients send them, for every signer; and as the
    # ``params`` dict the Python signers also accept (the CRT ones take it unencoded).
    [(signer, False) for signer in HEADER_SIGNERS + S3_SIGNERS]
    + [(SigV4Auth, True), (S3SigV4Auth, True)],
)
def test_query_parameters_repeated_unicode_and_reserved(params, signer_class, as_dict, clock):
    service = "s3" if signer_class in S3_SIGNERS else "cloudformation"
    if as_dict:
        params = dict(params)
    request = sign(signer_class(creds(), service, "us-east-1"), "GET", f"http://{HOST}/bkt", params=params)
    verify(request, clock)


def test_key_without_equals_sign_verifies(clock):
    request = sign(S3SigV4Auth(creds(), "s3", "us-east-1"), "GET", f"http://{HOST}/bkt?acl")
    assert request.query_string == "acl"
    verify(request, clock)


def test_unsigned_payload(clock):
    request = sign(
        S3SigV4Auth(creds(), "s3", "us-east-1"),
        "PUT",
        f"https://{HOST}/bkt/key",
        body=b"not hashed by the client",
        headers={"Content-MD5": "irrelevant"},
        context={"client_config": Config(s3={"payload_signing_enabled": False})},
    )
    assert request.headers["x-amz-content-sha256"] == "UNSIGNED-PAYLOAD"
    verify(request, clock)


def test_signed_date_header_instead_of_x_amz_date(clock):
    request = sign(
        SigV4Auth(creds(), "sqs", "us-east-1"),
        "POST",
        f"http://{HOST}/",
        body=b"{}",
        headers={"Date": "placeholder"},
    )
    assert "x-amz-date" not in request.headers
    verify(request, clock)


def test_second_configured_key(clock):
    request = sign(
        SigV4Auth(creds("AKIDEXAMPLE", SECRETS["AKIDEXAMPLE"]), "sqs", "us-east-1"),
        "POST",
        f"http://{HOST}/",
        body=b"{}",
    )
    assert verify(request, clock).access_key == "AKIDEXAMPLE"


# -- presigned query strings ---------------------------------------------------------------


def test_presigned_s3_url_from_client(clock):
    client = boto3.client(
        "s3",
        endpoint_url=f"http://{HOST}",
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        # Left alone, boto3 presigns S3 URLs in us-east-1 with SigV2, which headwater refuses.
        config=Config(signature_version="s3v4"),
    )
    url = client.generate_presigned_url(
        "get_object", Params={"Bucket": "bkt", "Key": "ä b/c+d.txt"}, ExpiresIn=300
    )
    request = to_http("GET", url, [], b"")
    identity = verify(request, clock)
    assert identity.presigned and identity.service == "s3"


def test_presigned_query_service_url_from_client(clock):
    client = boto3.client(
        "cloudformation",
        endpoint_url=f"http://{HOST}",
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    url = client.generate_presigned_url("describe_stacks", Params={"StackName": "my stack"})
    # botocore signs the operation's own method (POST for the query protocol), so that is the
    # method the URL verifies with; the method is part of what is signed.
    assert verify(to_http("POST", url, [], b""), clock).presigned
    assert failure(to_http("GET", url, [], b""), clock).kind == "bad_signature"


@pytest.mark.parametrize(
    ("signer_class", "service", "path"),
    [
        *[(signer, "sts", "/") for signer in QUERY_SIGNERS],
        *[(signer, "lambda", "/2015-03-31/functions/a%20b") for signer in QUERY_SIGNERS],
        *[(signer, "s3", "/bkt/k%20ey//x") for signer in S3_QUERY_SIGNERS],
    ],
)
def test_presigned_with_botocore_query_signers(signer_class, service, path, clock):
    signer = signer_class(creds(), service, "us-west-2", expires=60)
    request = sign(signer, "GET", f"http://{HOST}{path}", params=[("z", "1"), ("a", "ü"), ("a", "0")])
    assert "X-Amz-Signature" in request.query
    assert verify(request, clock).region == "us-west-2"


def s3_presigned(expires: int = 60) -> HttpRequest:
    return sign(S3SigV4QueryAuth(creds(), "s3", "us-east-1", expires=expires), "GET", f"http://{HOST}/b/k")


def test_presigned_s3_url_expires(clock):
    request = s3_presigned(expires=60)
    clock.advance(59)
    verify(request, clock)
    clock.advance(2)
    assert failure(request, clock).kind == "expired"
    error = auth_error(get_spec("s3"), failure(request, clock))
    assert (error.code, error.message, error.status) == ("AccessDenied", "Request has expired", 403)


def test_presigned_s3_url_lives_longer_than_fifteen_minutes(clock):
    request = s3_presigned(expires=3600)
    clock.advance(3000)
    verify(request, clock)


def test_presigned_non_s3_url_is_bound_to_fifteen_minutes(clock):
    request = sign(SigV4QueryAuth(creds(), "sts", "us-east-1", expires=3600), "GET", f"http://{HOST}/")
    clock.advance(14 * 60)
    verify(request, clock)
    clock.advance(2 * 60)
    got = failure(request, clock)
    assert got.kind == "skewed" and got.detail.startswith("Signature expired: ")


def test_presigned_expiry_over_a_week_is_malformed(clock):
    request = s3_presigned()
    request.query_string = request.query_string.replace("X-Amz-Expires=60", "X-Amz-Expires=604801")
    got = failure(request, clock)
    assert got.kind == "malformed" and got.presigned
    error = auth_error(get_spec("s3"), got)
    assert error.code == "AuthorizationQueryParametersError" and error.status == 400
    assert "604800" in error.message


@pytest.mark.parametrize("drop", ["X-Amz-Date", "X-Amz-SignedHeaders", "X-Amz-Expires"])
def test_presigned_missing_parameter_is_malformed(drop, clock):
    request = s3_presigned()
    request.query_string = "&".join(
        p for p in request.query_string.split("&") if not p.startswith(drop + "=")
    )
    assert failure(request, clock).kind == "malformed"


def test_presigned_url_from_the_future_is_not_valid_yet(clock):
    request = s3_presigned()
    behind = ManualClock(clock.now() - 3600)  # the server is an hour behind the signer
    got = failure(request, behind)
    assert got.kind == "not_yet_valid"
    assert auth_error(get_spec("s3"), got).message == "Request is not valid yet"


def test_tampered_presigned_query_fails(clock):
    request = sign(
        S3SigV4QueryAuth(creds(), "s3", "us-east-1", expires=60),
        "GET",
        f"http://{HOST}/b/k",
        params={"response-content-type": "text/plain"},
    )
    request.query_string = request.query_string.replace("text%2Fplain", "text%2Fhtml")
    assert failure(request, clock).kind == "bad_signature"


# -- rejected --------------------------------------------------------------------------------


def sqs_request(key: str = "test", secret: str = "test", body: bytes = b'{"QueueName": "q"}') -> HttpRequest:
    return sign(
        SigV4Auth(creds(key, secret), "sqs", "us-east-1"),
        "POST",
        f"http://{HOST}/",
        body=body,
        headers={"X-Amz-Target": "AmazonSQS.CreateQueue", "Content-Type": "application/x-amz-json-1.0"},
    )


def test_missing_authentication(clock):
    request = to_http("POST", f"http://{HOST}/", [("X-Amz-Target", "AmazonSQS.ListQueues")], b"{}")
    assert failure(request, clock).kind == "missing"


def test_unknown_access_key(clock):
    got = failure(sqs_request(key="AKIDUNKNOWN"), clock)
    assert got.kind == "unknown_key"


def test_wrong_secret(clock):
    assert failure(sqs_request(secret="not-the-secret"), clock).kind == "bad_signature"


def test_body_changed_after_signing(clock):
    request = sqs_request()
    request.body = b'{"QueueName": "other"}'
    assert failure(request, clock).kind == "bad_signature"


def test_s3_body_not_matching_announced_hash(clock):
    request = sign(S3SigV4Auth(creds(), "s3", "us-east-1"), "PUT", f"http://{HOST}/b/k", body=b"one")
    request.body = b"two"
    verify(request, clock)  # the signature covers the announced hash, which is unchanged
    with pytest.raises(AuthFailure) as caught:
        sigv4.check_body_hash(request)
    got = caught.value
    assert got.kind == "payload_mismatch"
    assert got.hashes == (hashlib.sha256(b"one").hexdigest(), hashlib.sha256(b"two").hexdigest())
    error = auth_error(get_spec("s3"), got)
    assert (error.code, error.status) == ("XAmzContentSHA256Mismatch", 400)
    assert error.fields == {"ClientComputedContentSHA256": got.hashes[0],
                            "S3ComputedContentSHA256": got.hashes[1]}
    request.body = b"one"
    sigv4.check_body_hash(request)


def test_a_bad_signature_is_reported_before_a_body_that_is_not_the_announced_one(clock):
    request = sign(S3SigV4Auth(creds(), "s3", "us-east-1"), "PUT", f"http://{HOST}/b/k", body=b"one")
    request.body = b"two"
    auth = request.headers["authorization"]
    request.headers["authorization"] = auth[:-1] + ("0" if auth[-1] != "0" else "1")
    assert failure(request, clock).kind == "bad_signature"


def test_unsigned_header_may_change_but_signed_one_may_not(clock):
    request = sqs_request()
    request.headers["user-agent"] = "changed"  # never signed by botocore
    verify(request, clock)
    request.headers["x-amz-target"] = "AmazonSQS.DeleteQueue"
    assert failure(request, clock).kind == "bad_signature"


@pytest.mark.parametrize(("offset", "prefix"), [(16 * 60, "Signature expired: "), (-16 * 60, "Signature not yet current: ")])
def test_clock_skew_beyond_fifteen_minutes(offset, prefix, clock):
    request = sqs_request()
    got = failure(request, ManualClock(clock.now() + offset))
    assert got.kind == "skewed"
    assert got.detail.startswith(prefix) and "15 min." in got.detail


def test_clock_skew_within_fifteen_minutes_is_accepted(clock):
    request = sqs_request()
    clock.advance(14 * 60)
    verify(request, clock)


@pytest.mark.parametrize(
    ("authorization", "expect"),
    [
        ("AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/sqs/aws4_request", "requires 'Signature'"),
        ("AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/sqs/aws4_request, SignedHeaders=host, Sig", "missing equal-sign"),
        ("AWS4-HMAC-SHA256 Credential=test/bad, SignedHeaders=host, Signature=00", "mal-formed"),
        ("AWS4-HMAC-SHA256", "requires 'Credential'"),
    ],
)
def test_malformed_authorization_header(authorization, expect, clock):
    request = sqs_request()
    request.headers["authorization"] = authorization
    got = failure(request, clock)
    assert got.kind == "malformed" and expect in got.detail


@pytest.mark.parametrize("authorization", ["Bearer abc", "AWS4-HMAC-SHA512 Credential=x"])
def test_other_authorization_schemes_are_unsupported(authorization, clock):
    request = sqs_request()
    request.headers["authorization"] = authorization
    assert failure(request, clock).kind == "unsupported"


def test_a_sigv2_authorization_header_is_told_apart(clock):
    request = sqs_request()
    request.headers["authorization"] = "AWS test:c2lnbmF0dXJl"
    assert failure(request, clock).kind == "sigv2"


def test_missing_date_is_malformed(clock):
    request = sqs_request()
    del request.headers["x-amz-date"]
    got = failure(request, clock)
    assert got.kind == "malformed" and "X-Amz-Date" in got.detail


def test_garbage_signature_is_just_wrong(clock):
    request = sqs_request()
    auth = request.headers["authorization"]
    request.headers["authorization"] = auth[: auth.index("Signature=") + 10] + "ünïcødé"
    assert failure(request, clock).kind == "bad_signature"


def test_credential_scope_is_read_for_routing():
    scope = sigv4.credential_scope(sqs_request())
    assert scope is not None and (scope.access_key, scope.region, scope.service) == ("test", "us-east-1", "sqs")
    assert sigv4.credential_scope(to_http("GET", f"http://{HOST}/", [], b"")) is None


# -- what each family answers ----------------------------------------------------------------

FAMILY_CASES = [
    # service, kind, code, status
    ("sqs", "missing", "MissingAuthenticationToken", 403),
    ("sqs", "unknown_key", "InvalidClientTokenId", 403),
    ("sqs", "bad_signature", "SignatureDoesNotMatch", 403),
    ("sqs", "skewed", "SignatureDoesNotMatch", 403),
    ("sqs", "malformed", "IncompleteSignature", 400),
    ("cloudformation", "missing", "MissingAuthenticationToken", 403),
    ("cloudformation", "unknown_key", "InvalidClientTokenId", 403),
    ("cloudformation", "bad_signature", "SignatureDoesNotMatch", 403),
    ("cloudformation", "malformed", "IncompleteSignature", 400),
    ("lambda", "missing", "MissingAuthenticationTokenException", 403),
    ("lambda", "unknown_key", "UnrecognizedClientException", 403),
    ("lambda", "bad_signature", "InvalidSignatureException", 403),
    ("lambda", "skewed", "InvalidSignatureException", 403),
    ("lambda", "malformed", "IncompleteSignatureException", 403),
    ("stepfunctions", "unknown_key", "UnrecognizedClientException", 400),
    ("stepfunctions", "bad_signature", "InvalidSignatureException", 400),
    ("stepfunctions", "missing", "MissingAuthenticationTokenException", 400),
    ("s3", "missing", "AccessDenied", 403),
    ("s3", "unknown_key", "InvalidAccessKeyId", 403),
    ("s3", "bad_signature", "SignatureDoesNotMatch", 403),
    ("s3", "skewed", "RequestTimeTooSkewed", 403),
    ("s3", "malformed", "AuthorizationHeaderMalformed", 400),
    ("s3", "unsupported", "InvalidArgument", 400),
    ("s3", "sigv2", "InvalidRequest", 400),
    ("sqs", "sigv2", "IncompleteSignature", 400),
]


@pytest.mark.parametrize(("service", "kind", "code", "status"), FAMILY_CASES)
def test_each_family_answers_with_aws_codes(service, kind, code, status):
    error = auth_error(get_spec(service), AuthFailure(kind, "detail text"))
    assert (error.code, error.status) == (code, status)
    assert error.message


def test_skew_message_carries_the_times():
    detail = "Signature expired: 20240101T000000Z is now earlier than 20240101T001500Z (20240101T003000Z - 15 min.)"
    error = auth_error(get_spec("sqs"), AuthFailure("skewed", detail))
    assert error.message == detail


def test_every_kind_has_an_answer_in_every_family():
    kinds = [
        "missing", "unsupported", "sigv2", "malformed", "unknown_key", "bad_signature",
        "payload_mismatch", "skewed", "expired", "not_yet_valid",
    ]
    for service in ("sqs", "s3", "lambda", "stepfunctions", "cloudformation", "events", "kinesis"):
        for kind in kinds:
            for presigned in (False, True):
                error = auth_error(get_spec(service), AuthFailure(kind, "x", presigned=presigned))
                assert 400 <= error.status < 500 and error.code and error.message


def test_empty_sha256_constant():
    assert sigv4.EMPTY_SHA256 == hashlib.sha256(b"").hexdigest()


@pytest.mark.parametrize("host", ["[not-an-ipv6", "host:99999999", "ü.example", ""])
def test_odd_host_header_is_a_wrong_signature_not_an_error(host, clock):
    request = sqs_request()
    request.headers["host"] = host
    request.host = host
    assert failure(request, clock).kind == "bad_signature"


@pytest.mark.parametrize("path", ["/a#fragment", "/a?b", "/%zz", "/\u00e9"])
def test_raw_paths_a_client_could_not_send_do_not_break_verification(path, clock):
    request = sqs_request()
    request.path = path
    assert failure(request, clock).kind == "bad_signature"
