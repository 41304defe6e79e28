"""Which operation of a rest-json or rest-xml service a request is for.

Each operation's ``http.method`` and ``http.requestUri`` are compiled once into a matcher: the
path template becomes a regular expression (``{Label}`` one segment, ``{Label+}`` the rest of
the path, slashes included), and the template's query part (``?uploads``, ``?list-type=2``,
``?x-id=GetObject``) becomes required query keys.  Several operations often share a path, so
the most specific match wins, ranked in this order:

1. the most literal query keys matched (``GET /b?list-type=2`` is ListObjectsV2, ``GET /b``
   ListObjects): a subresource names its operation even when the request lacks a member the
   operation requires (``GET /b/k?attributes`` without ``x-amz-object-attributes`` is
   GetObjectAttributes, refused for the missing header as S3 does, not GetObject);
2. all of its required query-string and header members are present (S3's CopyObject requires
   ``x-amz-copy-source``, so a PUT without it is PutObject; ``DELETE /b/k?uploadId=1`` is
   AbortMultipartUpload, ``DELETE /b/k`` DeleteObject);
3. the most required members present, then the most request query keys it binds at all
   (``GET /?max-directory-buckets=1`` is ListDirectoryBuckets, ``GET /`` ListBuckets);
4. the most literal path text, then fewer greedy labels, then more labels;
5. a current operation over a deprecated twin with the very same route (S3's
   GetBucketLifecycle and GetBucketLifecycleConfiguration).

``x-id`` is the exception among query literals: botocore sends it, other SDKs and older CLIs do
not, and S3 does not need it to tell operations apart, so it must match when present but may be
absent.

S3 virtual-hosted addressing (``bucket.localhost:4566``, ``bucket.s3.localhost...``,
``bucket.s3.us-east-1.amazonaws.com``) is routed as if the path were ``/bucket/...``.

This module only routes; ``protocol.parse.rest`` reads the bound values.
Reference: https://smithy.io/2.0/spec/http-bindings.html#http-trait and
https://docs.aws.amazon.com/AmazonS3/latest/userguide/VirtualHosting.html
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qs, unquote

from botocore.model import OperationModel, ServiceModel

from headwater.protocol.http import HttpRequest
from headwater.protocol.specs import ServiceSpec

_LABEL = re.compile(r"\{([^}]+)\}")
# Query literals that may be missing from a request and still match (see the module docstring).
_OPTIONAL_LITERALS = frozenset({"x-id"})


@dataclass(frozen=True, slots=True)
class _Route:
    operation: OperationModel
    pattern: re.Pattern[str]
    labels: tuple[tuple[str, str], ...]  # (regex group, label name)
    query: tuple[tuple[str, str | None], ...]  # (key, required value or None for "any")
    required: tuple[tuple[str, str], ...]  # ("querystring" | "header", name) of required members
    known_query: frozenset[str]  # query keys the operation binds to members
    score: tuple[int, int, int, int, int]  # the last: -(position in the model), see _best


@dataclass(frozen=True, slots=True)
class _MethodRoutes:
    """The routes of one HTTP method, indexed by the query keys they cannot match without.

    A route whose template requires a query key (``?uploads``, ``?list-type=2``) is filed
    under one such key: a request lacking that key cannot match it, so it is never tried.
    Only the routes without required keys (``plain``) are tried for every request.
    """

    plain: tuple[_Route, ...]
    by_key: dict[str, tuple[_Route, ...]]

    @classmethod
    def of(cls, routes: list[_Route]) -> _MethodRoutes:
        plain: list[_Route] = []
        by_key: dict[str, list[_Route]] = {}
        for route in routes:
            keys = [key for key, _ in route.query if key not in _OPTIONAL_LITERALS]
            if keys:
                by_key.setdefault(keys[0], []).append(route)
            else:
                plain.append(route)
        return cls(tuple(plain), {key: tuple(found) for key, found in by_key.items()})

    def candidates(self, query: dict[str, list[str]]) -> list[_Route] | tuple[_Route, ...]:
        if not query:
            return self.plain
        found = list(self.plain)
        for key in query:
            filed = self.by_key.get(key)
            if filed is not None:
                found.extend(filed)
        return found


class RestRouter:
    """Routes requests to the operations of one rest service."""

    def __init__(self, model: ServiceModel, virtual_hosts: bool = False) -> None:
        self.virtual_hosts = virtual_hosts
        by_method: dict[str, list[_Route]] = {}
        for order, name in enumerate(model.operation_names):
            operation = model.operation_model(name)
            route = _compile(operation, order)
            by_method.setdefault(route_method(operation), []).append(route)
        self._routes = {method: _MethodRoutes.of(routes) for method, routes in by_method.items()}

    def match(self, request: HttpRequest) -> tuple[OperationModel, dict[str, str]] | None:
        indexed = self._routes.get(request.method.upper())
        if indexed is None:
            return None
        query = request.query
        routes = indexed.candidates(query)
        path = request.path or "/"
        if self.virtual_hosts:
            bucket = virtual_host_bucket(request.host or request.headers.get("host", ""))
            if bucket is not None:
                hosted = f"/{bucket}" if path == "/" else f"/{bucket}{path}"
                found = _best(routes, hosted, query, request.headers)
                # A host that only looks virtual-hosted (an endpoint named "x.localhost")
                # still routes path style when nothing matches the bucket reading.
                if found is not None:
                    return found
        return _best(routes, path, query, request.headers)


def _best(
    routes: list[_Route] | tuple[_Route, ...],
    path: str,
    query: dict[str, list[str]],
    headers: dict[str, str],
) -> tuple[OperationModel, dict[str, str]] | None:
    best: tuple[tuple[Any, ...], _Route, re.Match[str]] | None = None
    for route in routes:
        found = route.pattern.match(path)
        if found is None:
            continue
        matched = _query_matches(route, query) if route.query else 0
        if matched < 0:
            continue
        present = 0
        for where, key in route.required:
            if key in (query if where == "querystring" else headers):
                present += 1
        known = 0
        if query:
            for key in query:
                if key in route.known_query:
                    known += 1
        # Equal ranks go to the operation listed first in the model, whatever order the
        # candidates came in (the score's last part).
        rank = (matched, present == len(route.required), present, known, route.score)
        if best is None or rank > best[0]:
            best = (rank, route, found)
    if best is None:
        return None
    _, route, found = best
    params = {label: unquote(found.group(group)) for group, label in route.labels}
    return route.operation, params


def route_method(operation: OperationModel) -> str:
    return str(operation.http.get("method", "POST")).upper()


def _compile(operation: OperationModel, order: int = 0) -> _Route:
    """The route of ``operation``; ``order`` is its position in the model (see ``_best``)."""
    uri = operation.http.get("requestUri", "/")
    path, _, query = uri.partition("?")
    parts: list[str] = []
    labels: list[tuple[str, str]] = []
    literal = 0
    greedy = 0
    position = 0
    for index, found in enumerate(_LABEL.finditer(path)):
        text = path[position : found.start()]
        parts.append(re.escape(text))
        literal += len(text.strip("/"))
        name = found.group(1)
        group = f"l{index}"
        if name.endswith("+"):
            greedy += 1
            labels.append((group, name[:-1]))
            parts.append(f"(?P<{group}>.+)")
        else:
            labels.append((group, name))
            parts.append(f"(?P<{group}>[^/]+)")
        position = found.end()
    tail = path[position:]
    literal += len(tail.strip("/"))
    parts.append(re.escape(tail.rstrip("/")))
    # A trailing slash is optional ("/bucket" and "/bucket/" are the same bucket), except after
    # a greedy label, where it belongs to the value (an S3 key may end in "/").
    ends_greedy = tail == "" and greedy > 0
    pattern = "".join(parts) + ("" if ends_greedy else "/?")
    literals = tuple(
        (key, values[0] if values[0] != "" else None)
        for key, values in parse_qs(query, keep_blank_values=True).items()
    )
    shape = operation.input_shape
    members = shape.members if shape is not None else {}
    required_names = set(shape.required_members) if shape is not None else set()
    required: list[tuple[str, str]] = []
    known_query: set[str] = set()
    for name, member in members.items():
        location = member.serialization.get("location")
        wire = str(member.serialization.get("name", name))
        if location == "querystring":
            known_query.add(wire)
        if name in required_names and location in ("querystring", "header"):
            required.append((location, wire if location == "querystring" else wire.lower()))
    return _Route(
        operation=operation,
        pattern=re.compile(f"^{pattern}$", re.DOTALL),
        labels=tuple(labels),
        query=literals,
        required=tuple(required),
        known_query=frozenset(known_query),
        # Identical routes exist (S3's deprecated GetBucketLifecycle and its successor
        # GetBucketLifecycleConfiguration): the current operation wins.
        score=(literal, -greedy, len(labels), 0 if operation.deprecated else 1, -order),
    )


def _query_matches(route: _Route, query: dict[str, list[str]]) -> int:
    """How many of the route's query literals the request carries; -1 when one conflicts."""
    matched = 0
    for key, value in route.query:
        given = query.get(key)
        if given is None:
            if key in _OPTIONAL_LITERALS:
                continue
            return -1
        if value is not None and value not in given:
            return -1
        matched += 1
    return matched


@lru_cache(maxsize=256)
def virtual_host_bucket(host: str) -> str | None:
    """The bucket named by an S3 virtual-hosted style Host header, or None for path style.

    Kept per host: a client sends the same Host on every request, and telling an IP address
    from a name is a good part of the work.
    """
    name = host.strip().lower()
    if name.startswith("["):
        return None  # an IPv6 literal
    name = name.rsplit(":", 1)[0] if ":" in name else name
    try:
        ipaddress.ip_address(name)
        return None
    except ValueError:
        pass
    labels = name.split(".")
    # The bucket is what comes before the first label (after the first) that marks the
    # endpoint; with none, the host is the endpoint itself (s3.amazonaws.com,
    # s3-us-west-2.amazonaws.com, localhost), path style.  A bucket may itself begin with
    # "s3-" or be "localhost" ("s3-data.s3.amazonaws.com"); "s3" is no bucket name (too
    # short), so "s3.localhost" is an endpoint.
    for index in range(1, len(labels)):
        label = labels[index]
        if label == "s3" or label.startswith("s3-") or label == "localhost":
            bucket = ".".join(labels[:index])
            return None if bucket == "s3" else bucket
    return None


@lru_cache(maxsize=64)
def router_for(spec: ServiceSpec) -> RestRouter:
    return RestRouter(spec.model, virtual_hosts=spec.name == "s3")
