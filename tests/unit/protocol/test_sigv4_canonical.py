"""headwater's own SigV4 canonical request and signature, held to botocore's for random requests.

``protocol.sigv4_signature`` builds the canonical request and string to sign itself (botocore's signer
classes cost more than the rest of a verification).  Two properties keep it honest:

- for any request as received (method, raw path, query, signed headers, payload hash), the
  canonical request and signature equal what botocore's ``SigV4Auth`` / ``S3SigV4Auth`` compute
  when pointed at the same request;
- any request botocore's client signers sign is accepted by ``sigv4.verify``.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote

from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from hypothesis import given, settings
from hypothesis import strategies as st

from headwater.core.clock import ManualClock
from headwater.protocol import sigv4, sigv4_signature
from headwater.protocol.http import HttpRequest

SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
HOST = "127.0.0.1:4566"

# -- the reference: botocore's signer pointed at a request as the server received it --------


class _Headers(dict[str, str]):
    """What botocore's ``canonical_headers`` reads of the signed headers."""

    def get_all(self, name: str) -> list[str]:
        return [self[name]]


class _Received:
    """What botocore's SigV4 steps read of a request: method, url, headers, context."""

    def __init__(self, method: str, headers: dict[str, str], amz_date: str) -> None:
        self.method = method
        self.url = "http://localhost/"  # the path comes from _normalize_url_path
        self.headers = headers
        self.context = {"timestamp": amz_date}


class _ServerSide:
    signed: tuple[str, ...]
    payload_hash: str
    canonical_query: str
    raw_path: str

    def headers_to_sign(self, request: _Received) -> _Headers:
        return _Headers((name, request.headers.get(name, "")) for name in self.signed)

    def canonical_query_string(self, request: _Received) -> str:
        return self.canonical_query

    def payload(self, request: _Received) -> str:
        return self.payload_hash

    def _normalize_url_path(self, path: str) -> str:
        normalize: Any = super()._normalize_url_path  # type: ignore[misc]
        return str(normalize(self.raw_path))


class _Reference(_ServerSide, SigV4Auth):
    pass


class _S3Reference(_ServerSide, S3SigV4Auth):
    pass


def reference(
    request: HttpRequest, service: str, region: str, amz_date: str, signed: tuple[str, ...],
    payload: str, canonical_query: str,
) -> tuple[str, str]:
    """(canonical request, signature) as botocore computes them."""
    cls = _S3Reference if service == "s3" else _Reference
    signer = cls(Credentials("AKID", SECRET), service, region)
    signer.signed = signed
    signer.payload_hash = payload
    signer.canonical_query = canonical_query
    signer.raw_path = request.path
    headers = {name: request.headers.get(name, "") for name in signed}
    if "host" in signed and not headers.get("host"):
        headers["host"] = request.host
    received = _Received(request.method, headers, amz_date)
    canonical = signer.canonical_request(received)
    return canonical, signer.signature(signer.string_to_sign(received, canonical), received)


# -- strategies --------------------------------------------------------------------------------

_SEGMENT = st.one_of(
    st.sampled_from(["", ".", "..", "a", "~b", "%20", "%2F", "%E6%97%A5", "x+y", "k=v", "%25"]),
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="/?#"), max_size=6),
)
_PATHS = st.lists(_SEGMENT, max_size=6).map(lambda parts: "/" + "/".join(parts))
_NAMES = st.from_regex(r"x-hw-[a-z0-9-]{1,8}", fullmatch=True)
_VALUES = st.text(st.characters(blacklist_categories=("Cs",)), max_size=16)
_SERVICES = st.sampled_from(["s3", "sqs", "lambda", "states"])
_QUERY = st.dictionaries(
    st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=6),
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=8),
    max_size=4,
)


@settings(max_examples=300, deadline=None)
@given(
    method=st.sampled_from(["GET", "PUT", "post", "DELETE", "HEAD"]),
    path=_PATHS,
    headers=st.dictionaries(_NAMES, _VALUES, max_size=5),
    query=_QUERY,
    service=_SERVICES,
    payload=st.sampled_from([sigv4.EMPTY_SHA256, sigv4.UNSIGNED_PAYLOAD, "a" * 64]),
    host_signed=st.booleans(),
    host=st.sampled_from([HOST, "", "bucket.s3.localhost"]),
)
def test_canonical_request_and_signature_are_botocores(
    method: str, path: str, headers: dict[str, str], query: dict[str, str], service: str,
    payload: str, host_signed: bool, host: str,
) -> None:
    amz_date = "20260102T030405Z"
    received = dict(headers, **({"host": host} if host else {}))
    request = HttpRequest(method, path, "", received, host=host or HOST)
    signed = tuple(sorted([*headers, *(["host"] if host_signed else []), "x-hw-unsent"]))
    canonical_query = sigv4_signature.canonical_query({k: [v] for k, v in query.items()})
    scope = sigv4_signature.Scope("AKID", amz_date[:8], "eu-west-1", service)
    expected_canonical, expected_signature = reference(
        request, service, "eu-west-1", amz_date, signed, payload, canonical_query
    )
    lines = {name: received.get(name, "") for name in signed}
    if host_signed and not lines["host"]:
        lines["host"] = request.host
    canonical = sigv4_signature.canonical_request(
        method, sigv4_signature.canonical_path(path, service), canonical_query, lines, payload
    )
    assert canonical == expected_canonical
    assert sigv4_signature.signature_matches(
        request, scope, SECRET, amz_date, signed, payload, canonical_query, expected_signature
    )


_CLIENT_SEGMENT = st.one_of(
    st.sampled_from(["", ".", "..", "a", "~b", "x+y", "k=v"]),
    st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=6).map(
        lambda text: quote(text, safe="")
    ),
)


@settings(max_examples=200, deadline=None)
@given(
    method=st.sampled_from(["GET", "PUT", "POST", "DELETE"]),
    parts=st.lists(_CLIENT_SEGMENT, max_size=5),
    headers=st.dictionaries(
        _NAMES, st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=16),
        max_size=4,
    ),
    query=_QUERY,
    service=_SERVICES,
    body=st.binary(max_size=32),
)
def test_what_botocore_signs_verifies(
    method: str, parts: list[str], headers: dict[str, str], query: dict[str, str],
    service: str, body: bytes,
) -> None:
    path = "/" + "/".join(parts)
    signer = (S3SigV4Auth if service == "s3" else SigV4Auth)(
        Credentials("AKID", SECRET), service, "eu-west-1"
    )
    aws = AWSRequest(method=method, url=f"http://{HOST}{path}", data=body, headers=headers,
                     params=query)
    signer.add_auth(aws)
    prepared = aws.prepare()
    target = prepared.url.split(HOST, 1)[1]
    raw_path, _, query_string = target.partition("?")
    received = {k.lower(): v.decode("latin-1") if isinstance(v, bytes) else v
                for k, v in prepared.headers.items()}
    received.setdefault("host", HOST)
    request = HttpRequest(method, raw_path or "/", query_string, received, body=body, host=HOST)
    identity = sigv4.verify(request, {"AKID": SECRET}, ManualClock(time.time()))
    assert identity.service == service and identity.region == "eu-west-1"
