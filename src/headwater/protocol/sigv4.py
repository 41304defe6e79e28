"""SigV4 verification, for the Authorization header and for presigned query strings.

We do not re-implement the algorithm: the expected signature is computed by botocore's own
signer (``SigV4Auth``, or ``S3SigV4Auth`` whose paths are not double-encoded) over the request
as received, restricted to the headers the client says it signed.  What differs on the server
side is small and lives here: which headers count, the canonical query (re-encoded from the
decoded pairs, so any client's escaping verifies), and what the payload hash is.

AWS's answers when verification fails depend on the protocol family; ``AuthFailure`` carries
the kind of failure and ``protocol.errors`` picks the code and message.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import quote

from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from headwater.core.clock import Clock
from headwater.protocol.http import HttpRequest

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
MAX_SKEW_SECONDS = 15 * 60
MAX_PRESIGN_EXPIRES = 7 * 24 * 3600


class AuthFailure(Exception):
    """Why a request was not authenticated.  ``kind`` is one of:

    missing        no Authorization header and no presigned query
    malformed      an Authorization header or presigned query we cannot read
    unknown_key    the access key id is not configured
    bad_signature  the signature does not match
    expired        a presigned URL past its expiry
    skewed         X-Amz-Date more than 15 minutes from the server's clock
    """

    def __init__(self, kind: str, detail: str = "") -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail


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


def _scope(text: str) -> Scope | None:
    parts = text.split("/")
    if len(parts) != 5 or parts[4] != "aws4_request":
        return None
    return Scope(parts[0], parts[1], parts[2], parts[3])


class _ServerSide:
    """Mixin that points botocore's signer at the request as received."""

    signed: list[str]
    payload_hash: str
    canonical_query: str

    def headers_to_sign(self, request: AWSRequest) -> Mapping[str, str]:  # type: ignore[override]
        from botocore.awsrequest import HTTPHeaders

        out = HTTPHeaders()
        for name in self.signed:
            value = request.headers.get(name)
            out[name] = value if value is not None else ""
        return out

    def canonical_query_string(self, request: AWSRequest) -> str:
        return self.canonical_query

    def payload(self, request: AWSRequest) -> str:
        return self.payload_hash


class _Signer(_ServerSide, SigV4Auth):
    pass


class _S3Signer(_ServerSide, S3SigV4Auth):
    pass


def _canonical_query(query: Mapping[str, list[str]], exclude: str | None = None) -> str:
    pairs = [
        (quote(k, safe="-_.~"), quote(v, safe="-_.~"))
        for k, values in query.items()
        if k != exclude
        for v in values
    ]
    return "&".join(f"{k}={v}" for k, v in sorted(pairs))


def _parse_amz_date(text: str) -> datetime:
    try:
        return datetime.strptime(text, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
    except ValueError as exc:
        raise AuthFailure("malformed", f"bad X-Amz-Date {text!r}") from exc


def verify(request: HttpRequest, secrets: Mapping[str, str], clock: Clock) -> Identity:
    """Authenticate ``request`` or raise ``AuthFailure``."""
    auth = request.headers.get("authorization")
    if auth:
        return _verify_header(request, auth, secrets, clock)
    if "X-Amz-Signature" in request.query or "X-Amz-Credential" in request.query:
        return _verify_presigned(request, secrets, clock)
    raise AuthFailure("missing")


def _fields(auth: str) -> dict[str, str]:
    algorithm, _, rest = auth.partition(" ")
    if algorithm != "AWS4-HMAC-SHA256":
        raise AuthFailure("malformed", f"unsupported algorithm {algorithm!r}")
    out: dict[str, str] = {}
    for part in rest.split(","):
        key, sep, value = part.strip().partition("=")
        if sep:
            out[key] = value
    for needed in ("Credential", "SignedHeaders", "Signature"):
        if needed not in out:
            raise AuthFailure("malformed", f"Authorization header lacks {needed}")
    return out


def _verify_header(
    request: HttpRequest, auth: str, secrets: Mapping[str, str], clock: Clock
) -> Identity:
    fields = _fields(auth)
    scope = _scope(fields["Credential"])
    if scope is None:
        raise AuthFailure("malformed", "bad Credential")
    secret = secrets.get(scope.access_key)
    if secret is None:
        raise AuthFailure("unknown_key", scope.access_key)
    amz_date = request.headers.get("x-amz-date") or ""
    if not amz_date:
        date_header = request.headers.get("date")
        if not date_header:
            raise AuthFailure("malformed", "no X-Amz-Date")
        from email.utils import parsedate_to_datetime

        try:
            amz_date = parsedate_to_datetime(date_header).strftime("%Y%m%dT%H%M%SZ")
        except (TypeError, ValueError) as exc:
            raise AuthFailure("malformed", "bad Date header") from exc
    signed_at = _parse_amz_date(amz_date)
    skew = abs(clock.now() - signed_at.timestamp())
    if skew > MAX_SKEW_SECONDS:
        raise AuthFailure("skewed", amz_date)
    signed = [h.strip().lower() for h in fields["SignedHeaders"].split(";") if h.strip()]
    payload = request.headers.get("x-amz-content-sha256") or hashlib.sha256(request.body).hexdigest()
    expected = _signature(
        request, scope, secret, amz_date, signed, payload, _canonical_query(request.query)
    )
    if not hmac.compare_digest(expected, fields["Signature"]):
        raise AuthFailure("bad_signature")
    return Identity(scope.access_key, scope.region, scope.service, presigned=False)


def _verify_presigned(request: HttpRequest, secrets: Mapping[str, str], clock: Clock) -> Identity:
    q = {k: v[0] for k, v in request.query.items()}
    for needed in ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-SignedHeaders",
                   "X-Amz-Signature"):
        if needed not in q:
            raise AuthFailure("malformed", f"presigned URL lacks {needed}")
    if q["X-Amz-Algorithm"] != "AWS4-HMAC-SHA256":
        raise AuthFailure("malformed", "unsupported algorithm")
    scope = _scope(q["X-Amz-Credential"])
    if scope is None:
        raise AuthFailure("malformed", "bad X-Amz-Credential")
    secret = secrets.get(scope.access_key)
    if secret is None:
        raise AuthFailure("unknown_key", scope.access_key)
    signed_at = _parse_amz_date(q["X-Amz-Date"])
    try:
        expires = int(q.get("X-Amz-Expires", "900"))
    except ValueError as exc:
        raise AuthFailure("malformed", "X-Amz-Expires is not a number") from exc
    if expires < 1 or expires > MAX_PRESIGN_EXPIRES:
        raise AuthFailure("malformed", "X-Amz-Expires must be between 1 and 604800")
    if clock.now() > signed_at.timestamp() + expires:
        raise AuthFailure("expired", q["X-Amz-Date"])
    signed = [h.strip().lower() for h in q["X-Amz-SignedHeaders"].split(";") if h.strip()]
    if scope.service == "s3":
        payload = UNSIGNED_PAYLOAD
    else:
        payload = hashlib.sha256(request.body).hexdigest()
    expected = _signature(
        request,
        scope,
        secret,
        q["X-Amz-Date"],
        signed,
        payload,
        _canonical_query(request.query, exclude="X-Amz-Signature"),
    )
    if not hmac.compare_digest(expected, q["X-Amz-Signature"]):
        raise AuthFailure("bad_signature")
    return Identity(scope.access_key, scope.region, scope.service, presigned=True)


def _signature(
    request: HttpRequest,
    scope: Scope,
    secret: str,
    amz_date: str,
    signed: list[str],
    payload: str,
    canonical_query: str,
) -> str:
    cls = _S3Signer if scope.service == "s3" else _Signer
    signer = cls(Credentials(scope.access_key, secret), scope.service, scope.region)
    signer.signed = signed
    signer.payload_hash = payload
    signer.canonical_query = canonical_query
    headers = {name: request.headers.get(name, "") for name in signed}
    if "host" in signed and not headers.get("host"):
        headers["host"] = request.host
    aws_request = AWSRequest(method=request.method, url=f"http://{request.host or 'localhost'}{request.path}", headers=headers)
    aws_request.context["timestamp"] = amz_date
    # botocore takes the payload hash from this header when present (S3 always sends it).
    canonical = signer.canonical_request(aws_request)
    string_to_sign = signer.string_to_sign(aws_request, canonical)
    return signer.signature(string_to_sign, aws_request)
