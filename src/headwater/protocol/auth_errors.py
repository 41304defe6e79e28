"""How each protocol family reports an authentication failure.

AWS's front ends answer failed SigV4 checks differently by family, and not always with 403:

- S3 (rest-xml): its own codes; malformed credentials are 400 ``AuthorizationHeaderMalformed``
  or ``AuthorizationQueryParametersError``, an expired presigned URL is 403 ``AccessDenied``.
- query services (CloudFormation, STS, SNS) and SQS, whose JSON protocol is
  ``awsQueryCompatible`` and keeps the query codes (``InvalidClientTokenId``,
  ``SignatureDoesNotMatch``): 403, except ``IncompleteSignature`` (400).
- rest-json services (Lambda): the ``...Exception`` codes, 403.
- json services (Step Functions, EventBridge, Kinesis): the same ``...Exception`` codes, but
  AWS quirk: HTTP 400 (observed as "Status Code: 400; Error Code: UnrecognizedClientException"
  from Kinesis, Step Functions and DynamoDB clients).

What is not settled by observation is marked where it is chosen.  Codes and texts follow
https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html and the "Common Errors"
page of each service's API reference.
"""

from __future__ import annotations

from headwater.core.errors import ServiceError
from headwater.protocol.sigv4 import AuthFailure
from headwater.protocol.specs import ServiceSpec

_SIGNATURE_MESSAGE = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. Consult the service documentation "
    "for details."
)
_TOKEN_MESSAGE = "The security token included in the request is invalid."

# kind -> (code, message, status); "{detail}" is the AuthFailure's AWS-style explanation.
_Table = dict[str, tuple[str, str, int]]


def _coral(
    missing: tuple[str, str],
    incomplete: str,
    unknown: str,
    signature: str,
    status: int,
    incomplete_status: int,
) -> _Table:
    """The table the Coral front end (everything but S3) uses, given one family's names."""
    return {
        "missing": (*missing, status),
        "malformed": (incomplete, "{detail}", incomplete_status),
        "unsupported": (incomplete, "{detail}", incomplete_status),
        "sigv2": (incomplete, "{detail}", incomplete_status),
        "unknown_key": (unknown, _TOKEN_MESSAGE, status),
        "bad_signature": (signature, _SIGNATURE_MESSAGE, status),
        # A body that is not the one signed fails the signature for these services.
        "payload_mismatch": (signature, _SIGNATURE_MESSAGE, status),
        "skewed": (signature, "{detail}", status),
        # Only S3 tells expired presigned URLs apart; kept for completeness.
        "expired": (signature, "{detail}", status),
        "not_yet_valid": (signature, "Signature not yet current", status),
        "unsigned_headers": (signature, "{detail}", status),
    }


_QUERY = _coral(
    ("MissingAuthenticationToken", "Request is missing Authentication Token"),
    "IncompleteSignature",
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
    status=403,
    incomplete_status=400,
)
_REST_JSON = _coral(
    ("MissingAuthenticationTokenException", "Missing Authentication Token"),
    "IncompleteSignatureException",
    "UnrecognizedClientException",
    "InvalidSignatureException",
    status=403,
    incomplete_status=403,
)
_JSON = _coral(
    ("MissingAuthenticationTokenException", "Request is missing Authentication Token"),
    "IncompleteSignatureException",
    "UnrecognizedClientException",
    "InvalidSignatureException",
    status=400,
    incomplete_status=400,
)
_S3: _Table = {
    # An unsigned request is an anonymous one, which no bucket here allows.
    "missing": ("AccessDenied", "Access Denied", 403),
    "malformed": ("AuthorizationHeaderMalformed", "The authorization header is malformed; {detail}", 400),
    "unsupported": ("InvalidArgument", "Unsupported Authorization Type", 400),
    # headwater verifies no SigV2 Authorization header: it answers as the regions (and the
    # buckets made since 2020) that take SigV4 only do.
    "sigv2": (
        "InvalidRequest",
        (
            "The authorization mechanism you have provided is not supported. Please use "
            "AWS4-HMAC-SHA256."
        ),
        400,
    ),
    "unknown_key": (
        "InvalidAccessKeyId",
        "The AWS Access Key Id you provided does not exist in our records.",
        403,
    ),
    # AWS quirk: S3's wording differs from the other services'.
    "bad_signature": (
        "SignatureDoesNotMatch",
        (
            "The request signature we calculated does not match the signature you provided. "
            "Check your key and signing method."
        ),
        403,
    ),
    "payload_mismatch": (
        "XAmzContentSHA256Mismatch",
        "The provided 'x-amz-content-sha256' header does not match what was computed.",
        400,
    ),
    "skewed": (
        "RequestTimeTooSkewed",
        "The difference between the request time and the current time is too large.",
        403,
    ),
    "expired": ("AccessDenied", "Request has expired", 403),
    "not_yet_valid": ("AccessDenied", "Request is not valid yet", 403),
    "unsigned_headers": ("AccessDenied",
                         "There were headers present in the request which were not signed", 403),
}
_S3_QUERY_MALFORMED = ("AuthorizationQueryParametersError", "{detail}", 400)


def auth_error(spec: ServiceSpec, failure: AuthFailure) -> ServiceError:
    """The error ``spec``'s service answers for ``failure``."""
    if spec.protocol == "rest-xml":
        code, message, status = _S3[failure.kind]
        if failure.presigned and failure.kind == "malformed":
            code, message, status = _S3_QUERY_MALFORMED
        if failure.hashes is not None:
            client, computed = failure.hashes
            return ServiceError(code, message, status, fields={
                "ClientComputedContentSHA256": client, "S3ComputedContentSHA256": computed})
        if failure.explained is not None:
            return ServiceError(code, message, status, fields=dict(failure.explained))
        if failure.kind == "unsigned_headers":
            return ServiceError(code, message, status,
                                fields={"HeadersNotSigned": failure.detail})
    else:
        if spec.protocol == "query" or spec.query_compatible:
            table = _QUERY
        elif spec.protocol == "rest-json":
            table = _REST_JSON
        else:
            table = _JSON
        code, message, status = table[failure.kind]
    return ServiceError(code, message.format(detail=failure.detail), status)
