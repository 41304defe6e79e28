"""The HTTP bindings rest-json and rest-xml share: where each input member sits in a request.

A member of the input shape is bound by its ``location``: ``uri`` (a path label, already cut
out and decoded by ``protocol.rest_router``), ``querystring`` (one key, or a map taking every
key no other member claims), ``header``, ``headers`` (a prefix map such as ``x-amz-meta-``), or
no location at all (the body).  The input shape may instead name one ``payload`` member that
*is* the body: raw bytes or text for a blob or string, a document for a structure.

The bindings of an operation are read from its model once, into a ``_Plan`` (per location, the
members with their wire names and text converters), so a request only looks up the members
its operation binds instead of walking every member of the input shape.

This module reads the bindings; the subclasses read the body (JSON or XML).  It is not a router.

Bindings: https://smithy.io/2.0/spec/http-bindings.html and
https://smithy.io/2.0/aws/protocols/aws-restjson1-protocol.html#supported-traits
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from botocore.model import OperationModel, Shape

from headwater.core.errors import ServiceError
from headwater.protocol.http import HttpRequest
from headwater.protocol.parse.text import from_text, json_value_header, split_header_list

_NOT_BODY = frozenset({"uri", "querystring", "header", "headers", "statusCode"})

# Text (or, for query members, the list of a key's values) -> the member's value.
Converter = Callable[[Any], Any]


def is_body_member(member: Shape) -> bool:
    return member.serialization.get("location") not in _NOT_BODY


def literal_query_keys(operation: OperationModel) -> frozenset[str]:
    """Query keys fixed by the operation's ``requestUri`` (``?uploads``, ``?list-type=2``)."""
    _, _, query = operation.http.get("requestUri", "").partition("?")
    return frozenset(parse_qs(query, keep_blank_values=True))


@dataclass(frozen=True, slots=True)
class _Plan:
    """Where each input member of one operation is found, read once from the model.

    Each binding is ``(wire name, member name, converter)``, the converter None where the
    text is the value (string members).  Header bindings are filed by lower-cased name, as
    request header names arrive: a request carries a few of the headers an operation may bind
    (S3's PutObject binds forty), so its headers are looked up rather than every binding.
    """

    shape: Shape
    uri: tuple[tuple[str, str, Converter | None], ...]
    query: tuple[tuple[str, str, Converter], ...]
    headers: dict[str, tuple[tuple[str, Converter | None], ...]]  # name -> (member, converter)
    prefixed: tuple[tuple[str, str, Shape | None], ...]  # (prefix, member, value shape)
    query_map: tuple[str, Shape] | None  # (member, value shape)
    literals: frozenset[str]
    payload: tuple[str, Shape] | None
    has_body: bool


class RestParser:
    """Reads the HTTP bindings of a rest request; subclasses supply the body format."""

    # The code AWS answers with when a value cannot be read (a JSON service's Coral stack says
    # SerializationException; S3 overrides it).
    value_error_code = "SerializationException"

    def __init__(self) -> None:
        # OperationModel -> its plan.  botocore hands out one OperationModel per operation for
        # the life of a ServiceModel, so each operation is planned once.
        self._plans: dict[OperationModel, _Plan | None] = {}

    def parse(
        self, request: HttpRequest, operation: OperationModel, uri_params: Mapping[str, str]
    ) -> dict[str, Any]:
        try:
            plan = self._plans[operation]
        except KeyError:
            plan = self._plans[operation] = self._plan(operation)
        if plan is None:
            return {}
        out: dict[str, Any] = {}
        if uri_params:
            for wire, name, convert in plan.uri:
                text = uri_params.get(wire)
                if text is not None:
                    out[name] = text if convert is None else convert(text)
        query = request.query
        if query:
            for wire, name, convert_values in plan.query:
                values = query.get(wire)
                if values is not None:
                    out[name] = convert_values(values)
        headers = request.headers
        bound = plan.headers
        for key, text in headers.items():
            found = bound.get(key)
            if found is not None:
                for name, convert in found:
                    out[name] = text if convert is None else convert(text)
        for prefix, name, value_shape in plan.prefixed:
            prefixed = self._prefixed_headers(headers, prefix, value_shape)
            if prefixed:
                out[name] = prefixed
        if plan.query_map is not None and query:
            # A map bound to the query string takes every parameter, named ones included (the
            # server side of Smithy's httpQueryParams); only the operation's literal keys, which
            # are routing, are left out.
            name, value_shape = plan.query_map
            literals = plan.literals
            entries = {k: v for k, v in query.items() if k not in literals}
            if entries:
                out[name] = {k: self._query_value(value_shape, v, k) for k, v in entries.items()}
        if plan.payload is not None:
            payload, member = plan.payload
            value = self._payload(request, member, payload)
            if value is not None:
                out[payload] = value
        elif plan.has_body and request.body.strip():
            out.update(self.parse_body(request.body, plan.shape))
        return out

    def _plan(self, operation: OperationModel) -> _Plan | None:
        shape = operation.input_shape
        if shape is None:
            return None
        uri: list[tuple[str, str, Converter | None]] = []
        query: list[tuple[str, str, Converter]] = []
        headers: dict[str, tuple[tuple[str, Converter | None], ...]] = {}
        prefixed: list[tuple[str, str, Shape | None]] = []
        query_map: tuple[str, Shape] | None = None
        for name, member in shape.members.items():
            ser = member.serialization
            location = ser.get("location")
            wire = str(ser.get("name", name))
            if location == "uri":
                uri.append((wire, name, self._scalar_converter(member, wire)))
            elif location == "querystring":
                if member.type_name == "map":
                    query_map = (name, member.value)
                else:
                    query.append((wire, name, self._query_converter(member, wire)))
            elif location == "header":
                binding = (name, self._header_converter(member, wire))
                headers[wire.lower()] = (*headers.get(wire.lower(), ()), binding)
            elif location == "headers":
                value_shape = member.value
                plain = value_shape.type_name == "string" and not value_shape.serialization.get(
                    "jsonvalue"
                )
                prefixed.append((wire.lower(), name, None if plain else value_shape))
        payload_name = shape.serialization.get("payload")
        return _Plan(
            shape=shape,
            uri=tuple(uri),
            query=tuple(query),
            headers=headers,
            prefixed=tuple(prefixed),
            query_map=query_map,
            literals=literal_query_keys(operation),
            payload=(payload_name, shape.members[payload_name]) if payload_name else None,
            has_body=any(is_body_member(m) for m in shape.members.values()),
        )

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

    def _scalar_converter(self, shape: Shape, where: str) -> Converter | None:
        if shape.type_name == "string":
            return None
        return lambda text: self._scalar(shape, text, where)

    def _query_value(self, shape: Shape, values: list[str], where: str) -> Any:
        if shape.type_name == "list":
            return [self._scalar(shape.member, v, where) for v in values]
        return self._scalar(shape, values[0], where)

    def _query_converter(self, shape: Shape, where: str) -> Converter:
        if shape.type_name == "string":
            return _first
        return lambda values: self._query_value(shape, values, where)

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

    def _header_converter(self, shape: Shape, where: str) -> Converter | None:
        if shape.type_name == "string" and not shape.serialization.get("jsonvalue"):
            return None
        return lambda text: self._header_value(shape, text, where)

    def _prefixed_headers(
        self, headers: Mapping[str, str], prefix: str, value_shape: Shape | None
    ) -> dict[str, Any]:
        """The headers named ``prefix...`` as a map; ``value_shape`` None for plain strings."""
        # Header names arrive lower-cased (HTTP/1.1 names are case-insensitive); the map keys
        # are the suffixes, which is also what S3 returns for user metadata.
        size = len(prefix)
        return {
            key[size:]: text if value_shape is None else self._header_value(value_shape, text, key)
            for key, text in headers.items()
            if key.startswith(prefix) and len(key) > size
        }


def _first(values: list[str]) -> str:
    return values[0]
