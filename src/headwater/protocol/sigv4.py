"""SigV4 verification, for the Authorization header and for presigned query strings.

The expected signature is computed over the request as received, restricted to the headers
the client says it signed: the path and canonical query exactly as they arrived (the query
re-encoded from the decoded pairs, so any client's escaping verifies), the payload hash the
client announced or the body's own, and the checks around the signature (credential scope,
dates, expiry).  The signature itself (canonical request, string to sign, key) is
``protocol.sigv4_signature``'s.

AWS's answers when verification fails depend on the protocol family; ``AuthFailure`` carries
the kind of failure and ``protocol.auth_errors`` picks the code, message and status.

Implements https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html
and, for presigned URLs, https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from functools import lru_cache

from headwater.core.clock import Clock
from headwater.protocol import sigv2
from headwater.protocol.http import HttpRequest
from headwater.protocol.sigv4_signature import (
    ALGORITHM,
    Scope,
    canonical_path,
    canonical_query,
    canonical_request,
    signature_matches,
    signed_header_names,
    signed_values,
    signing_key,
    string_to_sign,
)

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
        deadline = request.query["Expires"][0]
        raise AuthFailure("expired", presigned=True, explained=_expiry_times(
            float(deadline) if deadline.isdigit() else 0.0, clock.now()))
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
    signed = signed_header_names(fields["SignedHeaders"])
    payload = _payload_hash(request, signed)
    query_line = canonical_query(request.query)
    if not signature_matches(
        request,
        scope,
        secret,
        amz_date,
        signed,
        payload,
        query_line,
        fields["Signature"],
    ):
        raise _mismatch(request, scope, amz_date, signed, payload, query_line,
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
    key = signing_key(secrets[scope.access_key], scope.date, scope.region, scope.service)
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
    signed = signed_header_names(q["X-Amz-SignedHeaders"])
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
    query_line = canonical_query(query, exclude="X-Amz-Signature")
    if not signature_matches(
        request,
        scope,
        secret,
        q["X-Amz-Date"],
        signed,
        payload,
        query_line,
        q["X-Amz-Signature"],
    ):
        raise _mismatch(request, scope, q["X-Amz-Date"], signed, payload, query_line,
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
        raise AuthFailure("expired", _expired_text(signed_at, now, expires), presigned=True,
                          explained={"X-Amz-Expires": str(expires),
                                     **_expiry_times(start + expires, now)})


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


def _expiry_times(deadline: float, now: float) -> dict[str, str]:
    """What S3 adds to an expired presigned URL's AccessDenied: when it expired and the
    server's time, to the second (recorded S3 answers quoted in many clients' tests)."""
    def text(moment: float) -> str:
        return datetime.fromtimestamp(int(moment), tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    return {"Expires": text(deadline), "ServerTime": text(now)}


def _expired_text(signed_at: datetime, now: float, expires: int) -> str:
    server = datetime.fromtimestamp(now, tz=UTC)
    deadline = signed_at + timedelta(seconds=expires)
    return f"Signature expired: {_stamp(deadline)} is now earlier than {_stamp(server)}"


# -- a signature that does not match ---------------------------------------------------------


def _mismatch(request: HttpRequest, scope: Scope, amz_date: str, signed: tuple[str, ...],
              payload: str, query_line: str, provided: str, *,
              presigned: bool) -> AuthFailure:
    """A bad signature, with what S3's SignatureDoesNotMatch shows of the server's side so a
    client can see where it differs: the canonical request and string to sign, as text and as
    bytes (hex pairs; https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-authenticating-
    requests.html, and S3's error documents).  Computed only for a failed request."""
    canonical = canonical_request(request.method, canonical_path(request.path, scope.service),
                                  query_line, signed_values(request, signed), payload,
                                  received=True)
    # The text is the bytes as received, one character each (``signature_matches``); only
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
