"""How each protocol family reports an authentication failure.

AWS's front ends answer failed SigV4 checks differently by family: S3 (rest-xml) with its own
codes, the query services with the IAM-style codes, and the JSON services (json, rest-json)
with ``...Exception`` codes.  All are HTTP 403.
"""

from __future__ import annotations

from headwater.core.errors import ServiceError
from headwater.protocol.sigv4 import AuthFailure

_SIGNATURE_MESSAGE = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. Consult the service documentation "
    "for details."
)
_TOKEN_MESSAGE = "The security token included in the request is invalid."

# kind -> (code, message) per protocol family
_JSON = {
    "missing": ("MissingAuthenticationTokenException", "Missing Authentication Token"),
    "malformed": ("IncompleteSignatureException", "{detail}"),
    "unknown_key": ("UnrecognizedClientException", _TOKEN_MESSAGE),
    "bad_signature": ("InvalidSignatureException", _SIGNATURE_MESSAGE),
    "expired": ("InvalidSignatureException", "Signature expired: {detail} is now earlier than the allowed time."),
    "skewed": ("InvalidSignatureException", "Signature expired: {detail} is now earlier than the allowed time."),
}
_QUERY = {
    "missing": ("MissingAuthenticationToken", "Request is missing Authentication Token"),
    "malformed": ("IncompleteSignature", "{detail}"),
    "unknown_key": ("InvalidClientTokenId", _TOKEN_MESSAGE),
    "bad_signature": ("SignatureDoesNotMatch", _SIGNATURE_MESSAGE),
    "expired": ("SignatureDoesNotMatch", "Signature expired: {detail} is now earlier than the allowed time."),
    "skewed": ("SignatureDoesNotMatch", "Signature expired: {detail} is now earlier than the allowed time."),
}
_S3 = {
    "missing": ("AccessDenied", "Access Denied"),
    "malformed": ("AuthorizationHeaderMalformed", "{detail}"),
    "unknown_key": (
        "InvalidAccessKeyId",
        "The AWS Access Key Id you provided does not exist in our records.",
    ),
    "bad_signature": ("SignatureDoesNotMatch", _SIGNATURE_MESSAGE),
    "expired": ("AccessDenied", "Request has expired"),
    "skewed": (
        "RequestTimeTooSkewed",
        "The difference between the request time and the current time is too large.",
    ),
}
_FAMILIES = {"json": _JSON, "rest-json": _JSON, "query": _QUERY, "rest-xml": _S3}


def auth_error(protocol: str, failure: AuthFailure) -> ServiceError:
    table = _FAMILIES.get(protocol, _JSON)
    code, message = table[failure.kind]
    return ServiceError(code, message.format(detail=failure.detail), 403)
