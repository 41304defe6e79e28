"""SigV4's signature: the canonical request, the string to sign, the derived key, and the
comparison with the signature a request carries.

Built here rather than through botocore's signer classes, whose generic request handling cost
more than the rest of a request's authentication; ``tests/unit/protocol/test_sigv4_canonical.py``
holds them to botocore's for random requests.  ``protocol.sigv4`` decides which request fields
feed them (Authorization header or presigned query) and checks everything around them.

Implements https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import quote

from headwater.protocol.http import HttpRequest

ALGORITHM = "AWS4-HMAC-SHA256"


@dataclass(frozen=True, slots=True)
class Scope:
    """The credential scope a request was signed with."""

    access_key: str
    date: str
    region: str
    service: str


@lru_cache(maxsize=256)
def signed_header_names(text: str) -> tuple[str, ...]:
    """The signed header names, lower-case, sorted and each once (as the canonical request
    lists them); kept, since a client signs the same headers request after request."""
    return tuple(sorted({h.strip().lower() for h in text.split(";") if h.strip()}))


def canonical_query(query: Mapping[str, list[str]], exclude: str | None = None) -> str:
    if not query:
        return ""  # most requests (every object GET and PUT) have no query
    pairs = [
        (quote(k, safe="-_.~"), quote(v, safe="-_.~"))
        for k, values in query.items()
        if k != exclude
        for v in values
    ]
    return "&".join(f"{k}={v}" for k, v in sorted(pairs))


def _same(expected: str, provided: str) -> bool:
    # compare_digest refuses non-ASCII str; a garbage signature is just a wrong one.
    return hmac.compare_digest(expected.encode(), provided.encode("utf-8", "replace"))


@lru_cache(maxsize=256)
def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    """The derived key of SigV4, kept: it only changes with the day, and deriving it is four
    HMACs per request."""
    key = f"AWS4{secret}".encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode("utf-8"), hashlib.sha256).digest()
    return key


@lru_cache(maxsize=256)
def _keyed_mac(key: bytes) -> hmac.HMAC:
    """An HMAC-SHA256 already keyed with ``key``: copying it costs less than keying anew."""
    return hmac.new(key, digestmod=hashlib.sha256)


def canonical_path(raw_path: str, service: str) -> str:
    """The path line of the canonical request, from the path exactly as the client sent it
    (never re-parsed out of a URL: a raw '#', '?' or an odd Host would change what a URL
    parser returns).

    S3 signs the path as sent.  Every other service signs it normalised (dot segments and
    empty segments removed) and percent-encoded once more, so ``%2F`` becomes ``%252F``.
    """
    if service == "s3":
        return raw_path
    return quote(_remove_dot_segments(raw_path) if raw_path else "/", safe="/~")


def _remove_dot_segments(path: str) -> str:
    # RFC 3986 section 5.2.4, as AWS applies it: consecutive slashes collapse too.
    segments: list[str] = []
    for segment in path.split("/"):
        if segment == ".." and segments:
            segments.pop()
        elif segment and segment not in (".", ".."):
            segments.append(segment)
    first = "/" if path[0] == "/" else ""
    last = "/" if path[-1] == "/" and segments else ""
    return first + "/".join(segments) + last


def canonical_request(
    method: str,
    path: str,
    canonical_query: str,
    headers: Mapping[str, str],
    payload: str,
    *,
    received: bool = False,
) -> str:
    """SigV4's canonical request.

    ``path`` is the canonical path (``canonical_path``), ``headers`` the signed headers (names
    lower-case) with their values as received; values are trimmed and inner runs of white
    space collapsed to one space, as the signing clients do.  With ``received`` the values are
    bytes read as ISO-8859-1 (the gateway's text) and only ASCII white space counts: Python's
    str.split also splits at 0x85 and 0xA0, bytes inside UTF-8 sequences ("你" is E4 BD A0).
    """
    names = sorted(headers)
    if received:
        lines = "".join([f"{name}:{_trim_bytes(headers[name])}\n" for name in names])
    else:
        lines = "".join([f"{name}:{' '.join(headers[name].split())}\n" for name in names])
    return f"{method.upper()}\n{path}\n{canonical_query}\n{lines}\n{';'.join(names)}\n{payload}"


# The white space str.split() splits at, less what lies beyond ASCII (0x85, 0xA0).
_ASCII_SPACES = re.compile(r"[\t\n\x0b\x0c\r\x1c-\x1f ]+")


def _trim_bytes(value: str) -> str:
    return _ASCII_SPACES.sub(" ", value).strip(" ")


def string_to_sign(
    amz_date: str, region: str, service: str, canonical: str, encoding: str = "utf-8"
) -> str:
    """The string to sign over ``canonical`` hashed in ``encoding``: UTF-8 is what a client
    hashes when it signs text; ``signature_matches`` says what the server hashes."""
    digest = hashlib.sha256(canonical.encode(encoding)).hexdigest()
    # The scope's date is the signing time's day (as the signing clients derive it).
    return f"{ALGORITHM}\n{amz_date}\n{amz_date[0:8]}/{region}/{service}/aws4_request\n{digest}"


def _sign(secret: str, amz_date: str, scope: Scope, canonical: str, encoding: str) -> str:
    text = string_to_sign(amz_date, scope.region, scope.service, canonical, encoding)
    mac = _keyed_mac(signing_key(secret, amz_date[0:8], scope.region, scope.service)).copy()
    mac.update(text.encode("utf-8"))
    return mac.hexdigest()


def signed_values(request: HttpRequest, signed: tuple[str, ...]) -> dict[str, str]:
    """The signed headers' values as received (the Host as the connection saw it when the
    header map has none)."""
    headers = {name: request.headers.get(name, "") for name in signed}
    if "host" in headers and not headers["host"]:
        headers["host"] = request.host
    return headers


def signature_matches(
    request: HttpRequest,
    scope: Scope,
    secret: str,
    amz_date: str,
    signed: tuple[str, ...],
    payload: str,
    canonical_query: str,
    provided: str,
) -> bool:
    """Whether ``provided`` signs the request.

    AWS computes the signature over the bytes as received.  The gateway hands header values
    and the path over as ISO-8859-1 text, one character per byte, so encoding that text as
    ISO-8859-1 gives the bytes back; hashing its UTF-8 instead would encode each byte above
    0x7F twice, and refuse every client that sends raw UTF-8 in a header and signs those
    bytes (botocore for a str header value, Go's SDK and mc for x-amz-meta-* values; S3
    accepts them, minio/minio#21282).  Only a request with non-ASCII text has a second form:
    there the UTF-8 of the text is accepted too, as headwater always did: a client that
    signed a value's UTF-8 but sent it as ISO-8859-1 bytes (Java's and .NET's SDKs with
    "£" in metadata get SignatureDoesNotMatch from S3, aws/aws-sdk-java#2577, but no record
    shows the bytes they sent, so S3's rule for that form is not settled).
    """
    headers = signed_values(request, signed)
    path = canonical_path(request.path, scope.service)
    canonical = canonical_request(request.method, path, canonical_query, headers, payload)
    if canonical.isascii():
        # Every request but a few: bytes and text agree, one signature to compute.  (A value
        # whose only bytes above 0x7F are 0x85 or 0xA0, white space to str.split, lands here
        # too; UTF-8 never has them alone, and checking every value would cost each request.)
        return _same(_sign(secret, amz_date, scope, canonical, "utf-8"), provided)
    as_received = canonical_request(
        request.method, path, canonical_query, headers, payload, received=True
    )
    try:
        if _same(_sign(secret, amz_date, scope, as_received, "latin-1"), provided):
            return True
    except UnicodeEncodeError:
        pass  # characters beyond one byte: text that was not taken off the wire
    try:
        return _same(_sign(secret, amz_date, scope, canonical, "utf-8"), provided)
    except UnicodeError:
        # Text no HTTP client could have signed (only reachable by calling the gateway
        # directly with lone surrogates): it cannot match any signature.
        return False
