"""CORS for S3 buckets: answering preflight requests and decorating actual ones.

A browser asks ``OPTIONS /bucket/key`` with ``Origin`` and ``Access-Control-Request-Method``
(and maybe ``-Headers``); S3 answers from the first rule of the bucket's CORS configuration
that allows that origin, method and every requested header (``*`` wildcards allowed in
origins and headers), and otherwise refuses with 403 AccessForbidden (a missing bucket or
configuration is refused before any rule is read).  Actual requests with an ``Origin`` header
that a rule allows get the same ``Access-Control-*`` headers (matched on the preflight headers
when they carry them, as S3 was recorded to); so do browser POST uploads (``post.py``),
refused ones included, so the page can read why.

Reference: https://docs.aws.amazon.com/AmazonS3/latest/userguide/cors.html and
https://docs.aws.amazon.com/AmazonS3/latest/API/API_OPTIONSobject.html
"""

from __future__ import annotations

import fnmatch
from typing import Any
from urllib.parse import unquote

from headwater.core.errors import ServiceError
from headwater.protocol.http import HttpRequest, HttpResponse
from headwater.protocol.rest_router import virtual_host_bucket
from headwater.protocol.serialize.rest_xml import host_id
from headwater.protocol.serialize.s3 import SERVER_HEADER
from headwater.services.s3 import errors
from headwater.services.s3.model import S3, Bucket

_NOT_ALLOWED = (
    "CORSResponse: This CORS request is not allowed. This is usually because the evalution of "
    "Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers "
    "are not whitelisted by the resource's CORS spec."
)


# "Valid values are GET, PUT, HEAD, POST, and DELETE" (API_CORSRule.html, AllowedMethod).
METHODS = ("GET", "PUT", "HEAD", "POST", "DELETE")


def check_configuration(config: dict[str, Any] | None) -> None:
    """Refuse a PutBucketCors document as S3 was recorded to (LocalStack test_s3_cors.py,
    test_put_cors_invalid_rules): no rule at all is MalformedXML, and an AllowedMethod outside
    ``METHODS`` is InvalidRequest naming the first such method."""
    rules = (config or {}).get("CORSRules") or []
    if not rules:
        raise errors.malformed_xml()
    for rule in rules:
        for method in rule.get("AllowedMethods") or []:
            if method not in METHODS:
                raise errors.invalid_request("Found unsupported HTTP method in CORS config. "
                                             f"Unsupported method is {method}")


def _bucket_and_key(request: HttpRequest) -> tuple[str, str]:
    hosted = virtual_host_bucket(request.host)
    path = unquote(request.path).lstrip("/")
    if hosted is not None:
        return hosted, path
    bucket, _, key = path.partition("/")
    return bucket, key


def _like(pattern: str, value: str) -> bool:
    return fnmatch.fnmatchcase(value.lower(), pattern.lower())


def matching_rule(rules: list[dict[str, Any]], origin: str, method: str,
                  headers: list[str]) -> dict[str, Any] | None:
    for rule in rules:
        if not any(_like(o, origin) for o in rule.get("AllowedOrigins") or []):
            continue
        if method not in (rule.get("AllowedMethods") or []):
            continue
        allowed = rule.get("AllowedHeaders") or []
        if all(any(_like(a, h) for a in allowed) for h in headers):
            return rule
    return None


def _headers(rule: dict[str, Any], origin: str) -> list[tuple[str, str]]:
    wildcard = "*" in (rule.get("AllowedOrigins") or [])
    out = [("Access-Control-Allow-Origin", "*" if wildcard else origin),
           ("Access-Control-Allow-Methods", ", ".join(rule.get("AllowedMethods") or [])),
           ("Vary", "Origin, Access-Control-Request-Headers, Access-Control-Request-Method")]
    if not wildcard:
        out.append(("Access-Control-Allow-Credentials", "true"))
    if rule.get("ExposeHeaders"):
        out.append(("Access-Control-Expose-Headers", ", ".join(rule["ExposeHeaders"])))
    if rule.get("MaxAgeSeconds") is not None:
        out.append(("Access-Control-Max-Age", str(rule["MaxAgeSeconds"])))
    return out


def _requested_headers(request: HttpRequest) -> list[str]:
    return [h.strip() for h in request.headers.get("access-control-request-headers",
                                                    "").split(",") if h.strip()]


class Cors:
    def __init__(self, s3: S3) -> None:
        self.s3 = s3

    def _bucket(self, name: str) -> Bucket | None:
        """The bucket named (the model's cached row), or None when there is none."""
        if not name:
            return None
        try:
            return self.s3.bucket(name)
        except ServiceError:
            return None

    @staticmethod
    def _rules(bucket: Bucket) -> list[dict[str, Any]] | None:
        rules: list[dict[str, Any]] | None = (bucket.config.get("cors") or {}).get("CORSRules")
        return rules

    def preflight(self, request: HttpRequest, request_id: str) -> HttpResponse | None:
        origin = request.headers.get("origin")
        method = request.headers.get("access-control-request-method")
        if origin is None:
            # Recorded (LocalStack test_s3_cors.py, options-no-origin / opt-referer): without
            # Origin, 400 whether or not the bucket exists or a method is named.
            raise ServiceError("BadRequest", "Insufficient information. Origin request header "
                               "needed.", 400)
        name, key = _bucket_and_key(request)
        # AWS quirk (recorded, test_cors_http_options_no_config / _non_existent_bucket): before
        # any rule is read, a missing bucket or configuration is a 403 naming the resource as
        # BUCKET even for an object's URL, and Method is the Access-Control-Request-Method or,
        # without one, OPTIONS itself.
        shown = method or "OPTIONS"
        bucket = self._bucket(name)
        if bucket is None:
            # Recorded without a method; with one, the same answer naming it is assumed.
            raise ServiceError("AccessForbidden", "CORSResponse: Bucket not found", 403,
                               fields={"Method": shown, "ResourceType": "BUCKET"})
        rules = self._rules(bucket)
        if rules is None:
            raise ServiceError("AccessForbidden", "CORSResponse: CORS is not enabled for this "
                               "bucket.", 403, fields={"Method": shown, "ResourceType": "BUCKET"})
        if method is None:
            # Not recorded with a CORS configuration: the earlier answer is kept.
            raise ServiceError("BadRequest", "Insufficient information. Origin request header "
                               "needed.", 400)
        resource = "OBJECT" if key else "BUCKET"
        wanted = _requested_headers(request)
        rule = matching_rule(rules, origin, method, wanted)
        if rule is None:
            raise ServiceError("AccessForbidden", _NOT_ALLOWED, 403,
                               fields={"Method": method, "ResourceType": resource})
        headers = _headers(rule, origin)
        if wanted:
            headers.append(("Access-Control-Allow-Headers", ", ".join(wanted)))
        # Like every S3 answer (and the refusals, which the error serializer writes).
        headers += [("x-amz-request-id", request_id), ("x-amz-id-2", host_id(request_id)),
                    SERVER_HEADER]
        return HttpResponse(200, headers, b"")

    def decorate(self, request: HttpRequest, response: HttpResponse) -> None:
        origin = request.headers.get("origin", "")
        bucket = self._bucket(_bucket_and_key(request)[0])
        rules = self._rules(bucket) if bucket is not None else None
        if not rules:
            return
        # AWS quirk (recorded, test_s3_cors.py get-wrong-op, get-non-allowed-with-acl,
        # get-non-allowed): an actual request carrying the preflight headers is matched as its
        # preflight would be: the rule must allow the Access-Control-Request-Method (when sent,
        # instead of the request's own method) and every Access-Control-Request-Headers entry;
        # without a match it gets no CORS headers at all.  Headers the request itself carries
        # are not weighed.
        method = request.headers.get("access-control-request-method") or request.method
        rule = matching_rule(rules, origin, method, _requested_headers(request))
        if rule is not None:
            response.headers.extend(_headers(rule, origin))
