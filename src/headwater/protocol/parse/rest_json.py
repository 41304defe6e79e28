"""The ``rest-json`` protocol's requests (Lambda, Pipes): HTTP bindings plus a JSON body.

The bindings (labels, query string, headers, payload) are read by ``parse.rest``; this module
reads the body: the members without a location as one JSON object, or the payload member as a
JSON document.  Timestamps in the body are epoch seconds unless the member says otherwise; blobs
are base64 — the same value rules as the ``json`` protocol, so its walker is reused.

Protocol: https://smithy.io/2.0/aws/protocols/aws-restjson1-protocol.html
"""

from __future__ import annotations

from typing import Any

import orjson
from botocore.model import Shape

from headwater.core.errors import ServiceError
from headwater.protocol.parse.json_ import parse_structure, parse_value
from headwater.protocol.parse.rest import RestParser


class RestJsonParser(RestParser):
    value_error_code = "SerializationException"

    def parse_body(self, body: bytes, shape: Shape) -> dict[str, Any]:
        document = _load(body)
        if not isinstance(document, dict):
            raise ServiceError(
                "SerializationException", "Start of structure or map expected, but found a value."
            )
        return parse_structure(shape, document, body_only=True)

    def parse_payload_document(self, body: bytes, shape: Shape) -> Any:
        document = _load(body)
        if document is None:
            return None
        if shape.type_name == "structure" and not shape.is_document_type and document == {}:
            # botocore's client sends "{}" when the payload member is not set, so an empty
            # object cannot be told apart from "absent"; treat it as absent.
            return None
        return parse_value(shape, document, shape.name)


def _load(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        raise ServiceError(
            "SerializationException", "Unable to parse the request body as JSON."
        ) from None
