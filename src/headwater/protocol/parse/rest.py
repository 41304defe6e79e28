"""The HTTP bindings rest-json and rest-xml share: where each input member sits in a request.

A member of the input shape is bound by its ``location``: ``uri`` (a path label, already cut
out and decoded by ``protocol.rest_router``), ``querystring`` (one key, or a map taking every
key no other member claims), ``header``, ``headers`` (a prefix map such as ``x-amz-meta-``), or
no location at all (the body).  The input shape may instead name one ``payload`` member that
*is* the body: raw bytes or text for a blob or string, a document for a structure.

This module reads the bindings; the subclasses read the body (JSON or XML).  It is not a router.

Bindings: https://smithy.io/2.0/spec/http-bindings.html and
https://smithy.io/2.0/aws/protocols/aws-restjson1-protocol.html#supported-traits
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs

from botocore.model import OperationModel, Shape

from headwater.core.errors import ServiceError
from headwater.protocol.http import HttpRequest
from headwater.protocol.parse.text import from_text, json_value_header, split_header_list

_NOT_BODY = frozenset({"uri", "querystring", "header", "headers", "statusCode"})


def is_body_member(member: Shape) -> bool:
    return member.serialization.get("location") not in _NOT_BODY


def literal_query_keys(operation: OperationModel) -> frozenset[str]:
    """Query keys fixed by the operation's ``requestUri`` (``?uploads``, ``?list-type=2``)."""
    _, _, query = operation.http.get("requestUri", "").partition("?")
    return frozenset(parse_qs(query, keep_blank_values=True))


class RestParser:
    """Reads the HTTP bindings of a rest request; subclasses supply the body format."""

    # The code AWS answers with when a value cannot be read (a JSON service's Coral stack says
    # SerializationException; S3 overrides it).
    value_error_code = "SerializationException"

    def parse(
        self, request: HttpRequest, operation: OperationModel, uri_params: Mapping[str, str]
    ) -> dict[str, Any]:
        shape = operation.input_shape
        if shape is None:
            return {}
        out: dict[str, Any] = {}
        query_map: tuple[str, Shape] | None = None
        literals = literal_query_keys(operation)
        for name, member in shape.members.items():
            ser = member.serialization
            location = ser.get("location")
            wire = ser.get("name", name)
            if location == "uri":
                if wire in uri_params:
                    out[name] = self._scalar(member, uri_params[wire], wire)
            elif location == "querystring":
                if member.type_name == "map":
                    query_map = (name, member)
                    continue
                values = request.query.get(wire)
                if values is not None:
                    out[name] = self._query_value(member, values, wire)
            elif location == "header":
                text = request.headers.get(wire.lower())
                if text is not None:
                    out[name] = self._header_value(member, text, wire)
            elif location == "headers":
                prefixed = self._prefixed_headers(request, wire.lower(), member)
                if prefixed:
                    out[name] = prefixed
        if query_map is not None:
            # A map bound to the query string takes every parameter, named ones included (the
            # server side of Smithy's httpQueryParams); only the operation's literal keys, which
            # are routing, are left out.
            name, member = query_map
            entries = {k: v for k, v in request.query.items() if k not in literals}
            if entries:
                out[name] = {k: self._query_value(member.value, v, k) for k, v in entries.items()}
        payload = shape.serialization.get("payload")
        if payload is not None:
            value = self._payload(request, shape.members[payload], payload)
            if value is not None:
                out[payload] = value
        elif any(is_body_member(m) for m in shape.members.values()) and request.body.strip():
            out.update(self.parse_body(request.body, shape))
        return out

    # -- the body: protocol specific ------------------------------------------------------

    def parse_body(self, body: bytes, shape: Shape) -> dict[str, Any]:
        """The body members of ``shape`` read from ``body`` (members with no location)."""
        raise NotImplementedError

    def parse_payload_document(self, body: bytes, shape: Shape) -> Any:
        """A structure, union or document payload read from ``body``; None when absent."""
        raise NotImplementedError

    def _payload(self, request: HttpRequest, member: Shape, name: str) -> Any:
        kind = member.type_name
        if kind == "blob":
            # A blob payload is the body itself (S3 PutObject's Body): the stream when the
            # gateway streams this operation's input, bytes otherwise.
            if request.stream is not None:
                return request.stream
            return request.body if request.body else None
        if kind == "string":
            if not request.body:
                return None
            try:
                return request.body.decode("utf-8")
            except UnicodeDecodeError:
                raise ServiceError(self.value_error_code, f"'{name}' is not UTF-8 text.") from None
        if not request.body.strip():
            return None
        return self.parse_payload_document(request.body, member)

    # -- scalars from text ----------------------------------------------------------------

    def _scalar(self, shape: Shape, text: str, where: str) -> Any:
        return from_text(shape, text, where, self.value_error_code)

    def _query_value(self, shape: Shape, values: list[str], where: str) -> Any:
        if shape.type_name == "list":
            return [self._scalar(shape.member, v, where) for v in values]
        return self._scalar(shape, values[0], where)

    def _header_value(self, shape: Shape, text: str, where: str) -> Any:
        if shape.type_name == "list":
            return [
                self._scalar(shape.member, item, where)
                for item in split_header_list(text, shape.member)
            ]
        if shape.type_name == "string" and shape.serialization.get("jsonvalue"):
            return json_value_header(text, where, self.value_error_code)
        if shape.type_name == "string":
            return text
        return self._scalar(shape, text.strip(), where)

    def _prefixed_headers(self, request: HttpRequest, prefix: str, shape: Shape) -> dict[str, Any]:
        # Header names arrive lower-cased (HTTP/1.1 names are case-insensitive); the map keys
        # are the suffixes, which is also what S3 returns for user metadata.
        value_shape = shape.value
        return {
            key[len(prefix) :]: self._header_value(value_shape, text, key)
            for key, text in request.headers.items()
            if key.startswith(prefix) and len(key) > len(prefix)
        }
