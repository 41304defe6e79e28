"""CORS for S3 buckets: answering preflight requests and decorating actual ones.

A browser asks ``OPTIONS /bucket/key`` with ``Origin`` and ``Access-Control-Request-Method``
(and maybe ``-Headers``); S3 answers from the first rule of the bucket's CORS configuration
that allows that origin, method and every requested header (``*`` wildcards allowed in
origins and headers), and otherwise refuses with 403 AccessForbidden.  Actual requests with
an ``Origin`` header that a rule allows get the same ``Access-Control-*`` headers; so do
browser POST uploads (``post.py``), refused ones included, so the page can read why.

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
from headwater.services.s3.model import S3

_NOT_ALLOWED = (
    "CORSResponse: This CORS request is not allowed. This is usually because the evalution of "
    "Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers "
    "are not whitelisted by the resource's CORS spec."
)


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


class Cors:
    def __init__(self, s3: S3) -> None:
        self.s3 = s3

    def _rules(self, request: HttpRequest) -> tuple[str, list[dict[str, Any]] | None]:
        name, _ = _bucket_and_key(request)
        row = self.s3.store.bucket(name) if name else None
        if row is None:
            return name, None
        config = self.s3.bucket(name).config.get("cors") or {}
        return name, config.get("CORSRules")

    def preflight(self, request: HttpRequest, request_id: str) -> HttpResponse | None:
        origin = request.headers.get("origin")
        method = request.headers.get("access-control-request-method")
        if origin is None or method is None:
            raise ServiceError("BadRequest", "Insufficient information. Origin request header "
                               "needed.", 400)
        name, rules = self._rules(request)
        _, key = _bucket_and_key(request)
        resource = "OBJECT" if key else "BUCKET"
        if rules is None:
            if not name or self.s3.store.bucket(name) is None:
                raise ServiceError("NoSuchBucket", "The specified bucket does not exist", 404,
                                   fields={"BucketName": name})
            raise ServiceError("AccessForbidden", "CORSResponse: CORS is not enabled for this "
                               "bucket.", 403, fields={"Method": method, "ResourceType": resource})
        wanted = [h.strip() for h in request.headers.get("access-control-request-headers",
                                                          "").split(",") if h.strip()]
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
        _, rules = self._rules(request)
        if not rules:
            return
        rule = matching_rule(rules, origin, request.method, [])
        if rule is not None:
            response.headers.extend(_headers(rule, origin))
