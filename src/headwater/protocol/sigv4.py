"""SigV4 verification, for the Authorization header and for presigned query strings.

The expected signature is computed over the request as received, restricted to the headers
the client says it signed: the path and canonical query exactly as they arrived (the query
re-encoded from the decoded pairs, so any client's escaping verifies), the payload hash the
client announced or the body's own, and the checks around the signature (credential scope,
dates, expiry).  The canonical request and string to sign are built here rather than through
botocore's signer classes, whose generic request handling cost more than the rest of a
request's authentication; ``tests/unit/protocol/test_sigv4_canonical.py`` holds them to
botocore's for random requests.

AWS's answers when verification fails depend on the protocol family; ``AuthFailure`` carries
the kind of failure and ``protocol.auth_errors`` picks the code, message and status.

Implements https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html
and, for presigned URLs, https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from functools import lru_cache
from urllib.parse import quote

from headwater.core.clock import Clock
from headwater.protocol import sigv2
from headwater.protocol.http import HttpRequest

ALGORITHM = "AWS4-HMAC-SHA256"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
MAX_SKEW_SECONDS = 15 * 60
MAX_PRESIGN_EXPIRES = 7 * 24 * 3600
AMZ_DATE_FORMAT = "%Y%m%dT%H%M%SZ"

_PRESIGN_PARAMS = (
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Signature",
    "X-Amz-Date",
    "X-Amz-SignedHeaders",
    "X-Amz-Expires",
)
_HEX_SHA256 = re.compile(r"[0-9a-fA-F]{64}")
_AMZ_DATE = re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})T([0-9]{2})([0-9]{2})([0-9]{2})Z")
_CREDENTIAL_HINT = (
    'the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".'
)


class AuthFailure(Exception):
    """Why a request was not authenticated.  ``kind`` is one of:

    missing           no Authorization header and no presigned query
    unsupported       an Authorization header of another scheme (Bearer, ...)
    sigv2             an Authorization header of SigV2's form (``AWS key:signature``)
    malformed         an Authorization header or presigned query we cannot read
    unknown_key       the access key id is not configured
    bad_signature     the signature does not match
    payload_mismatch  x-amz-content-sha256 names a hash the body does not have
    skewed            the request date is more than 15 minutes from the server's clock
    expired           a presigned URL past its X-Amz-Expires
    not_yet_valid     a presigned URL dated more than 15 minutes in the future
    unsigned_headers  an S3 presigned request carrying x-amz-* headers it did not sign

    ``presigned`` says whether the request used query-string authentication (S3 names
    malformed presigned queries differently from malformed headers).  ``detail`` is the
    AWS-style explanation that most families put in the message.
    """

    def __init__(self, kind: str, detail: str = "", *, presigned: bool = False,
                 hashes: tuple[str, str] | None = None,
                 explained: dict[str, str] | None = None) -> None:
        super().__init__(f"{kind}: {detail}" if detail else kind)
        self.kind = kind
        self.detail = detail
        self.presigned = presigned
        self.hashes = hashes  # payload_mismatch: (the client's, the body's)
        self.explained = explained  # bad_signature: what S3 shows of its side (``_mismatch``)


@dataclass(frozen=True, slots=True)
class Scope:
    """The credential scope a request was signed with."""

    access_key: str
    date: str
    region: str
    service: str


@dataclass(frozen=True, slots=True)
class Identity:
    access_key: str
    region: str
    service: str
    presigned: bool


def credential_scope(request: HttpRequest) -> Scope | None:
    """The scope named by the request's Authorization header or presigned query, if any.

    Used for routing (which service was this signed for?) before verification.
    """
    auth = request.headers.get("authorization")
    if auth:
        idx = auth.find("Credential=")
        if idx < 0:
            return None
        cred = auth[idx + 11 :].split(",", 1)[0].strip()
        return _scope(cred)
    creds = request.query.get("X-Amz-Credential")
    if creds:
        return _scope(creds[0])
    return None


@lru_cache(maxsize=256)
def _scope(text: str) -> Scope | None:
    # Kept per credential text: a client signs every request of a day with the same one.
    parts = text.split("/")
    if len(parts) != 5 or parts[4] != "aws4_request" or not all(parts[:4]):
        return None
    return Scope(parts[0], parts[1], parts[2], parts[3])


def verify(request: HttpRequest, secrets: Mapping[str, str], clock: Clock) -> Identity:
    """Authenticate ``request`` or raise ``AuthFailure``."""
    auth = request.headers.get("authorization")
    if auth:
        return _verify_header(request, auth, secrets, clock)
    query = request.query
    if any(name in query for name in ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature")):
        return _verify_presigned(request, secrets, clock)
    if sigv2.is_presigned_v2(query):
        return _verify_presigned_v2(request, secrets, clock)
    raise AuthFailure("missing")


def _verify_presigned_v2(request: HttpRequest, secrets: Mapping[str, str], clock: Clock) -> Identity:
    """S3's legacy presigned URLs, which boto3 still makes by default in us-east-1."""
    try:
        access_key, matches = sigv2.verify_presigned(request, secrets)
    except ValueError as exc:
        raise AuthFailure("malformed", str(exc), presigned=True) from None
    except LookupError:
        raise AuthFailure("unknown_key", presigned=True) from None
    if not matches:
        raise AuthFailure("bad_signature", presigned=True)
    if sigv2.expired(request, clock):
        raise AuthFailure("expired", presigned=True)
    # SigV2 names no region; the caller falls back to the server's own.
    return Identity(access_key, "", "s3", presigned=True)


# -- Authorization header ------------------------------------------------------------------


def _header_fields(auth: str) -> dict[str, str]:
    """The key=value parts after the algorithm, with AWS's IncompleteSignature wording."""
    _, _, rest = auth.strip().partition(" ")
    fields: dict[str, str] = {}
    for part in rest.split(","):
        part = part.strip()
        if not part:
            continue
        key, sep, value = part.partition("=")
        if not sep:
            raise AuthFailure(
                "malformed",
                f"'{part}' not a valid key=value pair (missing equal-sign) in Authorization "
                f"header: '{auth}'.",
            )
        fields[key.strip()] = value.strip()
    missing = [name for name in ("Credential", "Signature", "SignedHeaders") if name not in fields]
    if missing:
        text = " ".join(f"Authorization header requires '{name}' parameter." for name in missing)
        raise AuthFailure("malformed", f"{text} Authorization={auth}")
    return fields


def _verify_header(
    request: HttpRequest, auth: str, secrets: Mapping[str, str], clock: Clock
) -> Identity:
    algorithm = auth.strip().partition(" ")[0]
    if algorithm != ALGORITHM:
        kind = "sigv2" if algorithm == "AWS" else "unsupported"
        raise AuthFailure(kind, f"Unsupported Authorization Type {algorithm!r}")
    fields = _header_fields(auth)
    scope = _scope(fields["Credential"])
    if scope is None:
        raise AuthFailure("malformed", _CREDENTIAL_HINT)
    secret = secrets.get(scope.access_key)
    if secret is None:
        raise AuthFailure("unknown_key", scope.access_key)
    amz_date = _header_date(request, auth)
    _check_skew(_parse_amz_date(amz_date, presigned=False), clock.now())
    signed = _signed_header_names(fields["SignedHeaders"])
    payload = _payload_hash(request, signed)
    canonical_query = _canonical_query(request.query)
    if not _signature_matches(
        request,
        scope,
        secret,
        amz_date,
        signed,
        payload,
        canonical_query,
        fields["Signature"],
    ):
        raise _mismatch(request, scope, amz_date, signed, payload, canonical_query,
                        fields["Signature"], presigned=False)
    return Identity(scope.access_key, scope.region, scope.service, presigned=False)


def _header_date(request: HttpRequest, auth: str) -> str:
    """The signing time: X-Amz-Date, or the Date header reformatted (both are allowed)."""
    amz_date = request.headers.get("x-amz-date")
    if amz_date:
        return amz_date
    date_header = request.headers.get("date")
    if date_header:
        try:
            return parsedate_to_datetime(date_header).astimezone(UTC).strftime(
                AMZ_DATE_FORMAT
            )
        except (TypeError, ValueError, OverflowError, IndexError):
            pass
    raise AuthFailure(
        "malformed",
        "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. "
        f"Authorization={auth}",
    )


def _payload_hash(request: HttpRequest, signed: tuple[str, ...]) -> str:
    """The payload line of the canonical request.

    A client may announce the body's hash (S3 always does), or say it did not sign the body
    (``UNSIGNED-PAYLOAD``, the ``STREAMING-...`` forms of aws-chunked uploads, whose chunks
    the S3 parser checks).  Whether an announced hash is the body's is checked apart, once
    the signature over it is good (``check_body_hash``, or the body stream as it arrives).
    """
    claimed = request.headers.get("x-amz-content-sha256")
    if claimed and (request.stream is not None or not _HEX_SHA256.fullmatch(claimed)
                    or "x-amz-content-sha256" in signed):
        # The client signed the header's spelling, which is what botocore puts in the
        # canonical request when the header is present.
        return claimed
    body = request.body
    return hashlib.sha256(body).hexdigest() if body else EMPTY_SHA256


def check_body_hash(request: HttpRequest) -> None:
    """Raise ``payload_mismatch`` when a body that is here is not the one whose hash
    ``x-amz-content-sha256`` announced: S3 answers ``XAmzContentSHA256Mismatch``, and for
    every other service a body changed after signing is a signature that does not match.
    Checked after the signature, as S3 does: it streams the body, so it knows the body's
    hash only once it has checked the signature over the announced one."""
    claimed = request.headers.get("x-amz-content-sha256")
    if claimed is None or request.stream is not None or not _HEX_SHA256.fullmatch(claimed):
        return
    body = request.body
    actual = hashlib.sha256(body).hexdigest() if body else EMPTY_SHA256
    if claimed.lower() != actual:
        raise AuthFailure("payload_mismatch", hashes=(claimed, actual))


def streaming_key(request: HttpRequest, secrets: Mapping[str, str]) -> tuple[bytes, str, str, str] | None:
    """(signing key, X-Amz-Date, scope text, seed signature) of a request signed with an
    Authorization header, for checking the chunk signatures of its streamed body; None when
    the request is not signed that way.  Call after ``verify`` accepted the request."""
    auth = request.headers.get("authorization")
    if not auth:
        return None
    try:
        fields = _header_fields(auth)
    except AuthFailure:
        return None
    scope = _scope(fields["Credential"])
    amz_date = request.headers.get("x-amz-date")
    if scope is None or not amz_date or scope.access_key not in secrets:
        return None
    key = _signing_key(secrets[scope.access_key], scope.date, scope.region, scope.service)
    text = f"{scope.date}/{scope.region}/{scope.service}/aws4_request"
    return key, amz_date, text, fields["Signature"]


def is_hex_sha256(text: str) -> bool:
    """Whether an ``x-amz-content-sha256`` value is a hash (not ``UNSIGNED-PAYLOAD`` & co)."""
    return bool(_HEX_SHA256.fullmatch(text))


# -- presigned query string ----------------------------------------------------------------


def _verify_presigned(request: HttpRequest, secrets: Mapping[str, str], clock: Clock) -> Identity:
    query = request.query
    if any(name not in query for name in _PRESIGN_PARAMS):
        raise AuthFailure(
            "malformed",
            "Query-string authentication version 4 requires the X-Amz-Algorithm, "
            "X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and "
            "X-Amz-Expires parameters.",
            presigned=True,
        )
    q = {name: query[name][0] for name in _PRESIGN_PARAMS}
    if q["X-Amz-Algorithm"] != ALGORITHM:
        raise AuthFailure(
            "malformed", f'X-Amz-Algorithm only supports "{ALGORITHM}"', presigned=True
        )
    scope = _scope(q["X-Amz-Credential"])
    if scope is None:
        raise AuthFailure(
            "malformed",
            f"Error parsing the X-Amz-Credential parameter; {_CREDENTIAL_HINT}",
            presigned=True,
        )
    secret = secrets.get(scope.access_key)
    if secret is None:
        raise AuthFailure("unknown_key", scope.access_key, presigned=True)
    signed_at = _parse_amz_date(q["X-Amz-Date"], presigned=True)
    expires = _presign_expires(q["X-Amz-Expires"])
    now = clock.now()
    signed = _signed_header_names(q["X-Amz-SignedHeaders"])
    if scope.service == "s3":
        _check_presign_window(signed_at, expires, now)
        # S3 presigned URLs sign no payload unless the client chose to sign its hash header.
        payload = (
            request.headers.get("x-amz-content-sha256", UNSIGNED_PAYLOAD)
            if "x-amz-content-sha256" in signed
            else UNSIGNED_PAYLOAD
        )
    else:
        # AWS quirk: outside S3, a presigned request is only good within the usual 15 minutes
        # of its X-Amz-Date whatever X-Amz-Expires says (STS GetCallerIdentity URLs, observed
        # in aws/aws-sdk-go#2167).  We honour a shorter X-Amz-Expires too.
        _check_skew(signed_at, now, presigned=True)
        if now > signed_at.timestamp() + expires:
            raise AuthFailure("skewed", _expired_text(signed_at, now, expires), presigned=True)
        payload = _payload_hash(request, signed)
    canonical_query = _canonical_query(query, exclude="X-Amz-Signature")
    if not _signature_matches(
        request,
        scope,
        secret,
        q["X-Amz-Date"],
        signed,
        payload,
        canonical_query,
        q["X-Amz-Signature"],
    ):
        raise _mismatch(request, scope, q["X-Amz-Date"], signed, payload, canonical_query,
                        q["X-Amz-Signature"], presigned=True)
    if scope.service == "s3":
        # A presigned URL lets whoever holds it send only what was signed: S3 refuses any
        # x-amz-* header outside X-Amz-SignedHeaders, naming them (LocalStack's AWS-validated
        # test_s3_put_presigned_url_same_header_and_qs_parameter and
        # test_put_object_with_md5_and_chunk_signature_bad_headers).
        unsigned = sorted(name for name in request.headers
                          if name.startswith("x-amz-") and name not in signed)
        if unsigned:
            raise AuthFailure("unsigned_headers", ", ".join(unsigned), presigned=True)
    return Identity(scope.access_key, scope.region, scope.service, presigned=True)


def _presign_expires(text: str) -> int:
    try:
        expires = int(text)
    except ValueError:
        raise AuthFailure("malformed", "X-Amz-Expires should be a number", presigned=True) from None
    if expires < 0:
        raise AuthFailure("malformed", "X-Amz-Expires must be non-negative", presigned=True)
    if expires > MAX_PRESIGN_EXPIRES:
        raise AuthFailure(
            "malformed",
            f"X-Amz-Expires must be less than a week (in seconds) that is {MAX_PRESIGN_EXPIRES}",
            presigned=True,
        )
    return expires


def _check_presign_window(signed_at: datetime, expires: int, now: float) -> None:
    start = signed_at.timestamp()
    if start - now > MAX_SKEW_SECONDS:
        raise AuthFailure("not_yet_valid", presigned=True)
    if now > start + expires:
        raise AuthFailure("expired", _expired_text(signed_at, now, expires), presigned=True)


# -- dates -----------------------------------------------------------------------------------


def _parse_amz_date(text: str, *, presigned: bool) -> datetime:
    found = _amz_datetime(text)
    if found is None:
        raise AuthFailure(
            "malformed",
            "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"",
            presigned=presigned,
        )
    return found


@lru_cache(maxsize=64)
def _amz_datetime(text: str) -> datetime | None:
    # A regular expression rather than strptime, which costs a tenth of a verification; kept,
    # since the requests of one second share their X-Amz-Date.
    match = _AMZ_DATE.fullmatch(text)
    if match is None:
        return None
    year, month, day, hour, minute, second = map(int, match.groups())
    try:
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError:
        return None


def _stamp(moment: datetime) -> str:
    return moment.strftime(AMZ_DATE_FORMAT)


def _check_skew(signed_at: datetime, now: float, *, presigned: bool = False) -> None:
    """AWS's 15-minute window around the server's clock, with its messages."""
    if abs(signed_at.timestamp() - now) < MAX_SKEW_SECONDS - 1:
        return  # well inside the window: spare the datetime arithmetic below
    server = datetime.fromtimestamp(now, tz=UTC)
    window = timedelta(seconds=MAX_SKEW_SECONDS)
    if signed_at < server - window:
        raise AuthFailure(
            "skewed",
            f"Signature expired: {_stamp(signed_at)} is now earlier than "
            f"{_stamp(server - window)} ({_stamp(server)} - 15 min.)",
            presigned=presigned,
        )
    if signed_at > server + window:
        raise AuthFailure(
            "skewed",
            f"Signature not yet current: {_stamp(signed_at)} is still later than "
            f"{_stamp(server + window)} ({_stamp(server)} + 15 min.)",
            presigned=presigned,
        )


def _expired_text(signed_at: datetime, now: float, expires: int) -> str:
    server = datetime.fromtimestamp(now, tz=UTC)
    deadline = signed_at + timedelta(seconds=expires)
    return f"Signature expired: {_stamp(deadline)} is now earlier than {_stamp(server)}"


# -- the signature itself --------------------------------------------------------------------


@lru_cache(maxsize=256)
def _signed_header_names(text: str) -> tuple[str, ...]:
    """The signed header names, lower-case, sorted and each once (as the canonical request
    lists them); kept, since a client signs the same headers request after request."""
    return tuple(sorted({h.strip().lower() for h in text.split(";") if h.strip()}))


def _canonical_query(query: Mapping[str, list[str]], exclude: str | None = None) -> str:
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
def _signing_key(secret: str, date: str, region: str, service: str) -> bytes:
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
    hashes when it signs text; ``_signature_matches`` says what the server hashes."""
    digest = hashlib.sha256(canonical.encode(encoding)).hexdigest()
    # The scope's date is the signing time's day (as the signing clients derive it).
    return f"{ALGORITHM}\n{amz_date}\n{amz_date[0:8]}/{region}/{service}/aws4_request\n{digest}"


def _sign(secret: str, amz_date: str, scope: Scope, canonical: str, encoding: str) -> str:
    text = string_to_sign(amz_date, scope.region, scope.service, canonical, encoding)
    mac = _keyed_mac(_signing_key(secret, amz_date[0:8], scope.region, scope.service)).copy()
    mac.update(text.encode("utf-8"))
    return mac.hexdigest()


def _signed_values(request: HttpRequest, signed: tuple[str, ...]) -> dict[str, str]:
    """The signed headers' values as received (the Host as the connection saw it when the
    header map has none)."""
    headers = {name: request.headers.get(name, "") for name in signed}
    if "host" in headers and not headers["host"]:
        headers["host"] = request.host
    return headers


def _mismatch(request: HttpRequest, scope: Scope, amz_date: str, signed: tuple[str, ...],
              payload: str, canonical_query: str, provided: str, *,
              presigned: bool) -> AuthFailure:
    """A bad signature, with what S3's SignatureDoesNotMatch shows of the server's side so a
    client can see where it differs: the canonical request and string to sign, as text and as
    bytes (hex pairs; https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-authenticating-
    requests.html, and S3's error documents).  Computed only for a failed request."""
    canonical = canonical_request(request.method, canonical_path(request.path, scope.service),
                                  canonical_query, _signed_values(request, signed), payload,
                                  received=True)
    # The text is the bytes as received, one character each (``_signature_matches``); only
    # a direct call can hold wider characters, shown as their UTF-8.
    encoding = "latin-1" if all(ord(c) < 256 for c in canonical) else "utf-8"
    raw = canonical.encode(encoding)
    to_sign = string_to_sign(amz_date, scope.region, scope.service, canonical, encoding)
    return AuthFailure("bad_signature", presigned=presigned, explained={
        "AWSAccessKeyId": scope.access_key,
        "StringToSign": to_sign,
        "SignatureProvided": provided,
        "StringToSignBytes": to_sign.encode("utf-8").hex(" "),
        "CanonicalRequest": canonical,
        "CanonicalRequestBytes": raw.hex(" "),
    })


def _signature_matches(
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
    headers = _signed_values(request, signed)
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
