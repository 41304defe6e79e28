"""The ``json`` protocol's responses: a JSON document shaped like the output shape.

Errors are ``{"__type": CODE, "message": TEXT}`` with the HTTP status of the error.  For an
``awsQueryCompatible`` service (SQS) the ``x-amzn-query-error: CODE;Sender`` header also carries
the legacy query error code, which botocore prefers, so boto3 users see codes such as
``AWS.SimpleQueueService.NonExistentQueue``.

Protocol: https://smithy.io/2.0/aws/protocols/aws-json-1_0-protocol.html,
https://smithy.io/2.0/aws/protocols/aws-query-protocol.html#aws-protocols-awsquerycompatible-trait
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import orjson
from botocore.model import OperationModel, Shape

from headwater.core.errors import ServiceError
from headwater.protocol.http import HttpResponse
from headwater.protocol.serialize.errors import error_message, error_shape, wire_code
from headwater.protocol.shapes import b64encode, format_timestamp
from headwater.protocol.specs import ServiceSpec


class JsonSerializer:
    def __init__(self, spec: ServiceSpec, query_error_codes: Mapping[str, str]) -> None:
        self.spec = spec
        self.content_type = (
            f"application/x-amz-json-{spec.model.metadata.get('jsonVersion', '1.0')}"
        )
        self.query_error_codes = query_error_codes

    def serialize(
        self, operation: OperationModel, result: Mapping[str, Any], request_id: str
    ) -> HttpResponse:
        shape = operation.output_shape
        document = serialize_structure(shape, result) if shape is not None else {}
        return HttpResponse(
            200,
            [("Content-Type", self.content_type), ("x-amzn-RequestId", request_id)],
            orjson.dumps(document),
        )

    def serialize_error(
        self, operation: OperationModel | None, error: ServiceError, request_id: str
    ) -> HttpResponse:
        shape = error_shape(self.spec.model, error.code)
        document: dict[str, Any] = {"__type": shape.name if shape is not None else error.code}
        if shape is not None and error.fields:
            document.update(serialize_structure(shape, error.fields))
        message = error_message(error, shape)
        if message and not any(key.lower() == "message" for key in document):
            document["message"] = message
        headers = [("Content-Type", self.content_type), ("x-amzn-RequestId", request_id)]
        if self.spec.query_compatible:
            code = self.query_error_codes.get(error.code) or wire_code(shape, error.code)
            fault = "Sender" if error.sender_fault else "Receiver"
            headers.append(("x-amzn-query-error", f"{code};{fault}"))
        headers.extend(error.headers.items())
        return HttpResponse(error.status, headers, orjson.dumps(document))


def serialize_structure(
    shape: Shape, value: Mapping[str, Any], body_only: bool = False
) -> dict[str, Any]:
    """The JSON object for ``value``; ``body_only`` leaves out members bound to headers or
    the status code (rest-json)."""
    out: dict[str, Any] = {}
    members = shape.members
    for key, item in value.items():
        if item is None:
            continue
        member = members.get(key)
        if member is None:
            continue  # the domain may carry more than the wire shows
        if body_only and "location" in member.serialization:
            continue
        out[member.serialization.get("name", key)] = serialize_value(member, item)
    return out


def serialize_value(shape: Shape, value: Any) -> Any:
    t = shape.type_name
    if t == "structure":
        if shape.is_document_type:
            return value  # a document is any JSON value
        return serialize_structure(shape, value)
    if t == "list":
        member = shape.member
        return [serialize_value(member, v) for v in value]
    if t == "map":
        vshape = shape.value
        return {k: serialize_value(vshape, v) for k, v in value.items()}
    if t == "blob":
        return b64encode(value)
    if t == "timestamp":
        return format_timestamp(value, shape.serialization.get("timestampFormat", "unixTimestamp"))
    if t in ("float", "double") and isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
    return value
