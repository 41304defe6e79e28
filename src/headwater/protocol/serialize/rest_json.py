"""The ``rest-json`` protocol's responses (Lambda, Pipes): bindings plus a JSON body.

Errors carry the code in the ``x-amzn-ErrorType`` header and a JSON body with the message and
the modeled error's members, as Lambda does::

    HTTP/1.1 404
    x-amzn-ErrorType: ResourceNotFoundException
    {"Type": "User", "Message": "Function not found: ..."}

The message key follows the error shape (``message`` for most services, ``Message`` where the
model spells it so); botocore reads either.

Protocol: https://smithy.io/2.0/aws/protocols/aws-restjson1-protocol.html#operation-error-serialization
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from botocore.model import OperationModel, Shape

from headwater.core.errors import ServiceError
from headwater.protocol.http import HttpResponse
from headwater.protocol.serialize.errors import error_message, error_shape, wire_code
from headwater.protocol.serialize.json_ import serialize_structure, serialize_value
from headwater.protocol.serialize.rest import RestSerializer


class RestJsonSerializer(RestSerializer):
    content_type = "application/json"

    def document(
        self, operation: OperationModel, shape: Shape, value: Mapping[str, Any], payload: bool
    ) -> bytes:
        if payload:
            return orjson.dumps(serialize_value(shape, value))
        return orjson.dumps(serialize_structure(shape, value, body_only=True))

    def serialize_error(
        self, operation: OperationModel | None, error: ServiceError, request_id: str
    ) -> HttpResponse:
        shape = error_shape(self.spec.model, error.code)
        headers, status = self.error_headers(error, shape, request_id)
        code = wire_code(shape, error.code)
        headers.append(("x-amzn-ErrorType", code))
        headers.append(("Content-Type", self.content_type))
        document: dict[str, Any] = {}
        if shape is not None and error.fields:
            document = serialize_structure(shape, error.fields, body_only=True)
        message = error_message(error, shape)
        if message:
            document[_message_key(shape)] = message
        return HttpResponse(status, headers, orjson.dumps(document))


def _message_key(shape: Shape | None) -> str:
    if shape is not None:
        for name, member in shape.members.items():
            if name.lower() == "message":
                return str(member.serialization.get("name", name))
    return "message"
