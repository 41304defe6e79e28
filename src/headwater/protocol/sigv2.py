"""S3's legacy query-string authentication (Signature Version 2), for presigned URLs.

boto3 still presigns S3 URLs this way by default in us-east-1
(``?AWSAccessKeyId=..&Signature=..&Expires=..``), so a user's ``generate_presigned_url`` only
works against headwater if we accept it.  As with SigV4, the expected signature is computed by
botocore's own signer (``HmacV1QueryAuth``); what is ours is rebuilding, from the request as
received, the headers it signed (``x-amz-*``, ``Content-Type`` and ``Content-MD5`` travel in
the query string of a presigned URL) and the resource path (for virtual-hosted addressing the
bucket is part of the signed path although not of the URL's).

Only presigned URLs: the ``Authorization: AWS key:signature`` header form is not accepted.
https://docs.aws.amazon.com/AmazonS3/latest/userguide/RESTAuthentication.html
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from urllib.parse import urlsplit

from botocore.auth import HmacV1QueryAuth
from botocore.awsrequest import HTTPHeaders
from botocore.credentials import Credentials

from headwater.core.clock import Clock
from headwater.protocol.http import HttpRequest

PARAMETERS = ("AWSAccessKeyId", "Signature", "Expires")


def is_presigned_v2(query: Mapping[str, list[str]]) -> bool:
    return "AWSAccessKeyId" in query and "Signature" in query


class _Verifier(HmacV1QueryAuth):
    """botocore's signer, with the Expires value of the URL instead of "now + expiry"."""

    def __init__(self, credentials: Credentials, expires: str) -> None:
        super().__init__(credentials)
        self._expires_value = expires

    def _get_date(self) -> str:
        return self._expires_value


def verify_presigned(request: HttpRequest, secrets: Mapping[str, str]) -> tuple[str, bool]:
    """(access key, signature matches) for a SigV2 presigned request.

    Raises ``ValueError`` with the reason for a malformed URL and ``LookupError`` for an
    unknown key; the caller turns those into AWS's errors.  Expiry is checked by the caller
    through ``expired``.
    """
    query = {name: values[0] for name, values in request.query.items()}
    for name in PARAMETERS:
        if name not in query:
            raise ValueError(f"Query-string authentication requires the {name} parameter")
    access_key = query["AWSAccessKeyId"]
    secret = secrets.get(access_key)
    if secret is None:
        raise LookupError(access_key)
    # A client that left '+' unescaped in the base64 signature reads back as a space.
    given = query["Signature"].replace(" ", "+")
    headers = HTTPHeaders()
    for name in ("content-type", "content-md5"):
        # The headers sent, never the copies a presigned URL carries in its query: a PUT
        # sent with another Content-Type than the one signed is SignatureDoesNotMatch
        # (LocalStack's AWS-validated test_s3_put_presigned_url_with_different_headers).
        value = request.headers.get(name)
        if value is not None:
            headers[name] = value
    # x-amz-* may travel in the query (how presigning carries them) or as headers; one value
    # each (HTTPHeaders would keep both, and sign "name:v,v").
    amz = {name.lower(): value for name, value in list(query.items()) + list(request.headers.items())
           if name.lower().startswith("x-amz-")}
    for name, value in amz.items():
        headers[name] = value
    verifier = _Verifier(Credentials(access_key, secret), query["Expires"])
    # A subresource without a value is signed as its bare name ("?acl": S3 appends "the
    # subresource, its value if it has one"), however the URL spells it: the JS SDK v2
    # signs "?acl" and sends "acl=".
    query_string = "&".join(part[:-1] if part.endswith("=") and part.count("=") == 1 else part
                            for part in request.query_string.split("&"))
    for path in _signed_paths(request):
        split = urlsplit(f"http://host{path}?{query_string}")
        expected = verifier.get_signature(request.method, split, headers)
        if hmac.compare_digest(expected.encode(), given.encode()):
            return access_key, True
    return access_key, False


def expired(request: HttpRequest, clock: Clock) -> bool:
    try:
        return clock.now() > int(request.query["Expires"][0])
    except (KeyError, ValueError):
        return True


def _signed_paths(request: HttpRequest) -> list[str]:
    """The path as sent and, for a virtual-hosted request, with the bucket in front."""
    paths = [request.path or "/"]
    host = request.host.rsplit(":", 1)[0] if request.host else ""
    label, dot, rest = host.partition(".")
    if dot and label and not label.isdigit() and rest:
        paths.append(f"/{label}{request.path or '/'}")
    return paths
