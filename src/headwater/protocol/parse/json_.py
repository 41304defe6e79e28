"""The ``json`` protocol (awsJson1_0 / awsJson1_1): a POST whose body is a JSON document.

Used by SQS, Step Functions, EventBridge and Kinesis.  The operation comes from the
``X-Amz-Target`` header (see ``protocol.detect``); the body maps one-to-one onto the input
shape, with timestamps as epoch seconds and blobs base64-encoded.

Protocol: https://smithy.io/2.0/aws/protocols/aws-json-1_0-protocol.html (1.1 alike)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from weakref import WeakKeyDictionary

import orjson
from botocore.model import OperationModel, Shape

from headwater.core.errors import ServiceError
from headwater.protocol.http import HttpRequest
from headwater.protocol.shapes import b64decode, to_datetime


class JsonParser:
    def parse(
        self, request: HttpRequest, operation: OperationModel, uri_params: Mapping[str, str]
    ) -> dict[str, Any]:
        shape = operation.input_shape
        body = request.body
        if not body.strip():
            return {}
        try:
            document = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise ServiceError(
                "SerializationException", "Start of structure or map found where not expected."
            ) from exc
        if shape is None:
            return {}
        if not isinstance(document, dict):
            raise ServiceError(
                "SerializationException", "Start of structure or map expected, but found a value."
            )
        return parse_structure(shape, document)


_WireNames = dict[str, tuple[str, Shape]]
_wire_names: WeakKeyDictionary[Shape, _WireNames] = WeakKeyDictionary()


def wire_names(shape: Shape) -> _WireNames:
    """JSON key -> (member name, member shape); a member's ``locationName`` renames its key."""
    found = _wire_names.get(shape)
    if found is None:
        found = {
            member.serialization.get("name", name): (name, member)
            for name, member in shape.members.items()
        }
        _wire_names[shape] = found
    return found


def parse_structure(
    shape: Shape, document: dict[str, Any], body_only: bool = False
) -> dict[str, Any]:
    """The members of ``shape`` in ``document``; ``body_only`` skips members bound elsewhere
    (rest-json headers and labels are never read from the body)."""
    out: dict[str, Any] = {}
    names = wire_names(shape)
    for key, value in document.items():
        found = names.get(key)
        if found is None or value is None:
            continue  # AWS ignores members it does not know
        name, member = found
        if body_only and "location" in member.serialization:
            continue
        out[name] = parse_value(member, value, name)
    return out


def parse_value(shape: Shape, value: Any, where: str) -> Any:
    t = shape.type_name
    if t == "string":
        if isinstance(value, str):
            return value
        _mismatch(where, "STRING", value)
    if t == "structure":
        if shape.is_document_type:
            return value  # a document is any JSON value, kept as it came
        if isinstance(value, dict):
            return parse_structure(shape, value)
        _mismatch(where, "STRUCTURE", value)
    if t == "list":
        if isinstance(value, list):
            member = shape.member
            return [parse_value(member, v, where) for v in value if v is not None]
        _mismatch(where, "LIST", value)
    if t == "map":
        if isinstance(value, dict):
            vshape = shape.value
            return {k: parse_value(vshape, v, where) for k, v in value.items() if v is not None}
        _mismatch(where, "MAP", value)
    if t in ("integer", "long"):
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        _mismatch(where, "NUMBER", value)
    if t in ("float", "double"):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if value in ("NaN", "Infinity", "-Infinity"):
            return float(value)
        _mismatch(where, "NUMBER", value)
    if t == "boolean":
        if isinstance(value, bool):
            return value
        _mismatch(where, "BOOLEAN", value)
    if t == "blob":
        if isinstance(value, str):
            return b64decode(value, where)
        _mismatch(where, "STRING", value)
    if t == "timestamp":
        if isinstance(value, (int, float, str)) and not isinstance(value, bool):
            try:
                return to_datetime(value)
            except (ValueError, OverflowError, OSError):
                pass
        _mismatch(where, "TIMESTAMP", value)
    return value  # document types pass through as JSON


def _mismatch(where: str, expected: str, value: Any) -> None:
    found = {dict: "START_OBJECT", list: "START_ARRAY", str: "VALUE_STRING", bool: "VALUE_BOOLEAN"}
    kind = found.get(type(value), "VALUE_NUMBER")
    raise ServiceError(
        "SerializationException",
        f"Expected {expected} for member {where!r} but found {kind}.",
    )
