"""The HTTP bindings rest-json and rest-xml share on the way out.

An output member is bound by its ``location``: ``header``, ``headers`` (a prefix map such as
``x-amz-meta-``), ``statusCode``, or nothing (the body).  The output shape may name one
``payload`` member that *is* the body: raw bytes or text for a blob or string (S3 GetObject's
``Body``), a document for a structure.  Header values follow botocore's reading of them:
HTTP-dates for timestamps, comma-joined lists (items quoted when they hold a comma or a quote),
base64 JSON for ``jsonvalue`` members.

Subclasses write the body (JSON or XML) and the error responses.

Bindings: https://smithy.io/2.0/spec/http-bindings.html
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from botocore.model import OperationModel, Shape

from headwater.core.errors import ServiceError
from headwater.protocol.http import HttpResponse
from headwater.protocol.serialize.xml_ import float_text
from headwater.protocol.shapes import b64encode, format_timestamp
from headwater.protocol.specs import ServiceSpec

_BOUND = frozenset({"header", "headers", "statusCode"})


def has_body_members(shape: Shape) -> bool:
    return any(m.serialization.get("location") not in _BOUND for m in shape.members.values())


@dataclass(frozen=True, slots=True)
class _Binding:
    """An output member that goes in a header, a prefix map of headers or the status code."""

    position: int  # in the model's member order, which is the order headers are written in
    wire: str
    location: str  # "header" | "headers" | "statusCode"
    shape: Shape
    plain: bool  # a string whose header text is itself


@dataclass(frozen=True, slots=True)
class _Bindings:
    """The bound members of an output shape by member name; whether any goes in the body."""

    members: dict[str, _Binding]
    has_body: bool


class RestSerializer:
    """Serializes results of rest operations; subclasses supply the document format."""

    content_type = "application/json"

    def __init__(self, spec: ServiceSpec) -> None:
        self.spec = spec
        # Shape -> its bindings.  botocore hands out the same Shape objects for the life of a
        # ServiceModel, so each output (and error) shape is read once.
        self._bindings: dict[Shape, _Bindings] = {}

    # -- the document format: protocol specific -------------------------------------------

    def document(
        self, operation: OperationModel, shape: Shape, value: Mapping[str, Any], payload: bool
    ) -> bytes:
        """The body for structure ``shape``: its body members, or the whole payload member."""
        raise NotImplementedError

    def request_id_headers(self, request_id: str) -> list[tuple[str, str]]:
        return [("x-amzn-RequestId", request_id)]

    def blob_content_type(self, operation: OperationModel) -> str:
        """The Content-Type of a raw blob payload; a service may know better what it holds."""
        return "application/octet-stream"

    # -- results --------------------------------------------------------------------------

    def serialize(
        self, operation: OperationModel, result: Mapping[str, Any], request_id: str
    ) -> HttpResponse:
        status = int(operation.http.get("responseCode", 200))
        headers = self.request_id_headers(request_id)
        body: bytes | AsyncIterable[bytes] = b""
        shape = operation.output_shape
        if shape is not None:
            status = self.bind(shape, result, headers, status)
            payload = shape.serialization.get("payload")
            if payload is not None:
                member = shape.members[payload]
                body = self._payload(operation, member, result.get(payload), headers)
            elif self._bound(shape).has_body:
                body = self.document(operation, shape, result, payload=False)
                _set_default(headers, "Content-Type", self.content_type)
        return HttpResponse(status, headers, body)

    def bind(
        self, shape: Shape, value: Mapping[str, Any], headers: list[tuple[str, str]], status: int
    ) -> int:
        """Put header- and status-bound members of ``value`` in place; returns the status."""
        # A result sets a handful of the members an output shape may bind (S3's GetObject
        # binds fifty), so the result's keys are looked up, then put back in model order.
        bindings = self._bound(shape).members
        found = [
            (binding, item)
            for name, item in value.items()
            if item is not None and (binding := bindings.get(name)) is not None
        ]
        if len(found) > 1:
            found.sort(key=_model_order)
        for binding, item in found:
            location = binding.location
            if location == "header":
                if binding.plain:
                    headers.append((binding.wire, item if type(item) is str else str(item)))
                    continue
                member = binding.shape
                if member.type_name == "list" and not item:
                    continue  # an empty list is no header at all
                headers.append((binding.wire, header_text(member, item)))
            elif location == "statusCode":
                status = int(item)
            else:
                value_shape = binding.shape.value
                for key, entry in item.items():
                    headers.append((f"{binding.wire}{key}", header_text(value_shape, entry)))
        return status

    def _bound(self, shape: Shape) -> _Bindings:
        """The bindings of ``shape``, read from the model once per shape (see ``_Bindings``)."""
        try:
            return self._bindings[shape]
        except KeyError:
            pass
        members: dict[str, _Binding] = {}
        for position, (name, member) in enumerate(shape.members.items()):
            ser = member.serialization
            location = ser.get("location")
            if location in _BOUND:
                plain = member.type_name == "string" and not ser.get("jsonvalue")
                wire = str(ser.get("name", name))
                members[name] = _Binding(position, wire, location, member, plain)
        found = self._bindings[shape] = _Bindings(members, has_body_members(shape))
        return found

    def _payload(
        self, operation: OperationModel, member: Shape, value: Any, headers: list[tuple[str, str]]
    ) -> bytes | AsyncIterable[bytes]:
        kind = member.type_name
        if kind == "blob":
            _set_default(headers, "Content-Type", self.blob_content_type(operation))
            if value is None:
                return b""
            if isinstance(value, AsyncIterable):
                return value  # streamed: the result's ContentLength is the header that sizes it
            return value.encode("utf-8") if isinstance(value, str) else bytes(value)
        if kind == "string":
            _set_default(headers, "Content-Type", "text/plain")
            return b"" if value is None else str(value).encode("utf-8")
        if value is None:
            return b""
        _set_default(headers, "Content-Type", self.content_type)
        return self.document(operation, member, value, payload=True)

    # -- errors ---------------------------------------------------------------------------

    def error_headers(
        self, error: ServiceError, shape: Shape | None, request_id: str
    ) -> tuple[list[tuple[str, str]], int]:
        """Request id, the error's header-bound fields and its extra headers; and the status."""
        headers = self.request_id_headers(request_id)
        status = error.status
        if shape is not None and error.fields:
            status = self.bind(shape, error.fields, headers, status)
        headers.extend(error.headers.items())
        return headers, status


def _model_order(found: tuple[_Binding, Any]) -> int:
    return found[0].position


def header_text(shape: Shape, value: Any) -> str:
    kind = shape.type_name
    if kind == "timestamp":
        return str(format_timestamp(value, shape.serialization.get("timestampFormat", "rfc822")))
    if kind == "list":
        return ", ".join(_list_item(shape.member, item) for item in value if item is not None)
    if kind == "string" and shape.serialization.get("jsonvalue"):
        return base64.b64encode(orjson.dumps(value)).decode("ascii")
    if kind == "boolean":
        return "true" if value else "false"
    if kind in ("float", "double"):
        return float_text(value)
    if kind == "blob":
        return b64encode(value)
    return str(value)


def _list_item(shape: Shape, value: Any) -> str:
    text = header_text(shape, value)
    if shape.type_name == "string" and ('"' in text or "," in text):
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return text


def _set_default(headers: list[tuple[str, str]], name: str, value: str) -> None:
    lname = name.lower()
    if not any(key.lower() == lname for key, _ in headers):
        headers.append((name, value))
