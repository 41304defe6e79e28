"""What a message may contain, and the digests SQS returns for it.

Implements the body and attribute rules of
https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html and
https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-message-metadata.html
including the MD5 of message attributes described in
https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-message-metadata.html#sqs-attributes-md5-message-digest-calculation
which SDKs (the Java and .NET ones among them) recompute and compare.

Pure functions over plain values; the model decides when to apply them.
"""

from __future__ import annotations

import base64
import hashlib
import re
import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from headwater.services.sqs import errors

MAX_ATTRIBUTES = 10
DEDUP_WINDOW = 300.0  # seconds a MessageDeduplicationId (or ReceiveRequestAttemptId) is remembered
TRACE_HEADER = "AWSTraceHeader"

# Everything outside #x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF.
_INVALID_CHARS = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_ATTRIBUTE_NAME = re.compile(r"[A-Za-z0-9_.-]{1,256}")
_DATA_TYPE = re.compile(r"(String|Number|Binary)(\..+)?", re.DOTALL)
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
# Alphanumerics and punctuation: printable ASCII without the space.
_TOKEN = re.compile(r"[!-~]{1,128}")
_STRING_TYPE = b"\x01"
_BINARY_TYPE = b"\x02"


@dataclass(frozen=True, slots=True)
class AttributeValue:
    """One message (or message system) attribute: a data type and a string or binary value."""

    data_type: str
    string: str | None = None
    binary: bytes | None = None

    def size(self, name: str) -> int:
        value = self.binary if self.binary is not None else (self.string or "").encode()
        return len(name.encode()) + len(self.data_type.encode()) + len(value)


Attributes = dict[str, AttributeValue]


def has_invalid_characters(text: str) -> bool:
    return _INVALID_CHARS.search(text) is not None


def check_body(body: str | None) -> None:
    if not body:
        raise errors.missing_parameter("MessageBody")
    if has_invalid_characters(body):
        raise errors.invalid_message_contents()


def parse_attributes(wire: Mapping[str, Mapping[str, Any]] | None) -> Attributes:
    """Validate message attributes as the wire gives them (``DataType``/``StringValue``/...)."""
    if not wire:
        return {}
    if len(wire) > MAX_ATTRIBUTES:
        raise errors.invalid_parameter(
            f"Number of message attributes [{len(wire)}] exceeds the allowed maximum "
            f"[{MAX_ATTRIBUTES}]."
        )
    out: Attributes = {}
    for name, value in wire.items():
        _check_attribute_name(name)
        out[name] = _attribute_value(name, value, "message (user) attribute")
    return out


def parse_system_attributes(wire: Mapping[str, Mapping[str, Any]] | None) -> Attributes:
    """Validate message system attributes; AWSTraceHeader, a String, is the only one."""
    if not wire:
        return {}
    out: Attributes = {}
    for name, value in wire.items():
        if name != TRACE_HEADER:
            raise errors.invalid_parameter(f"Message system attribute name '{name}' is invalid.")
        parsed = _attribute_value(name, value, "message system attribute")
        if parsed.data_type != "String":
            raise errors.invalid_parameter(
                f"Message system attribute '{name}' must be of type 'String'."
            )
        out[name] = parsed
    return out


def _check_attribute_name(name: str) -> None:
    lowered = name.lower()
    if (
        not _ATTRIBUTE_NAME.fullmatch(name)
        or name.startswith(".")
        or name.endswith(".")
        or ".." in name
    ):
        raise errors.invalid_parameter(
            f"Message (user) attribute name '{name}' is invalid. Attribute name can contain "
            "A-Z, a-z, 0-9, underscore (_), hyphen (-), and period (.) characters."
        )
    if lowered.startswith(("aws.", "amazon.")):
        raise errors.invalid_parameter(
            f"Message (user) attribute name '{name}' is invalid. Names starting with 'AWS.' or "
            "'Amazon.' are reserved for use by Amazon Web Services."
        )


def _attribute_value(name: str, value: Mapping[str, Any], what: str) -> AttributeValue:
    data_type = value.get("DataType") or ""
    if not data_type:
        raise errors.invalid_parameter(f"The {what} '{name}' must contain non-empty type.")
    found = _DATA_TYPE.fullmatch(data_type)
    if found is None or len(data_type) > 256:
        raise errors.invalid_parameter(
            f"The type of {what} '{name}' is invalid. You must use only the following supported "
            "type prefixes: Binary, Number, String."
        )
    kind = found.group(1)
    if kind == "Binary":
        binary = value.get("BinaryValue")
        if not binary:
            raise errors.invalid_parameter(
                f"The {what} '{name}' must contain a non-empty value of type 'Binary'."
            )
        return AttributeValue(data_type, binary=bytes(binary))
    string = value.get("StringValue")
    if not string:
        raise errors.invalid_parameter(
            f"The {what} '{name}' must contain a non-empty value of type '{kind}'."
        )
    if has_invalid_characters(string):
        raise errors.invalid_message_contents()
    if kind == "Number" and not _NUMBER.fullmatch(string.strip()):
        raise errors.invalid_parameter(f"Can't cast the value of {what} '{name}' to a number.")
    return AttributeValue(data_type, string=string)


def attributes_size(attributes: Attributes) -> int:
    return sum(value.size(name) for name, value in attributes.items())


def message_size(body: str, attributes: Attributes) -> int:
    """What counts against MaximumMessageSize: the body and the user attributes.

    System attributes do not count (AWS documents this for AWSTraceHeader).
    """
    return len(body.encode()) + attributes_size(attributes)


def check_token(parameter: str, value: str) -> None:
    """MessageGroupId, MessageDeduplicationId, ReceiveRequestAttemptId: 1-128 of [!-~]."""
    if not _TOKEN.fullmatch(value):
        raise errors.invalid_value(
            parameter,
            value,
            f"{parameter} can only include alphanumeric and punctuation characters. "
            "1 to 128 in length.",
        )


def content_dedup_id(body: str) -> str:
    """ContentBasedDeduplication: the SHA-256 of the body (not of its attributes)."""
    return hashlib.sha256(body.encode()).hexdigest()


# -- digests ------------------------------------------------------------------------------


def md5_of_body(body: str) -> str:
    return hashlib.md5(body.encode(), usedforsecurity=False).hexdigest()


def md5_of_attributes(attributes: Attributes) -> str | None:
    """AWS's digest of message (or system) attributes; None when there are none.

    Per attribute, in order of name: length-prefixed name, length-prefixed data type, a
    transport byte (1 string, 2 binary), length-prefixed value; lengths are 4-byte big-endian.
    """
    if not attributes:
        return None
    digest = hashlib.md5(usedforsecurity=False)
    for name in sorted(attributes):
        value = attributes[name]
        _update(digest, name.encode())
        _update(digest, value.data_type.encode())
        if value.binary is not None:
            digest.update(_BINARY_TYPE)
            _update(digest, value.binary)
        else:
            digest.update(_STRING_TYPE)
            _update(digest, (value.string or "").encode())
    return digest.hexdigest()


def _update(digest: Any, data: bytes) -> None:
    digest.update(struct.pack(">I", len(data)))
    digest.update(data)


# -- selecting and storing ----------------------------------------------------------------


def select_attributes(attributes: Attributes, names: Iterable[str]) -> Attributes:
    """The attributes ReceiveMessage's MessageAttributeNames asks for.

    ``All`` and ``.*`` select everything; ``prefix.*`` selects names starting with ``prefix.``.
    """
    wanted = list(names)
    if not wanted or not attributes:
        return {}
    if "All" in wanted or ".*" in wanted:
        return dict(attributes)
    exact = {n for n in wanted if not n.endswith(".*")}
    prefixes = tuple(n[:-1] for n in wanted if n.endswith(".*"))
    return {
        name: value
        for name, value in attributes.items()
        if name in exact or (prefixes and name.startswith(prefixes))
    }


def encode_attributes(attributes: Attributes) -> bytes | None:
    """A compact JSON form for the store (binary values base64-encoded)."""
    if not attributes:
        return None
    document = {
        name: [v.data_type, "b", base64.b64encode(v.binary).decode()]
        if v.binary is not None
        else [v.data_type, "s", v.string]
        for name, v in attributes.items()
    }
    return orjson.dumps(document)


def decode_attributes(data: bytes | str | None) -> Attributes:
    if not data:
        return {}
    document: dict[str, list[str]] = orjson.loads(data)
    return {
        name: AttributeValue(data_type, binary=base64.b64decode(value))
        if kind == "b"
        else AttributeValue(data_type, string=value)
        for name, (data_type, kind, value) in document.items()
    }


def to_wire(attributes: Attributes) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for name, value in attributes.items():
        if value.binary is not None:
            out[name] = {"DataType": value.data_type, "BinaryValue": value.binary}
        else:
            out[name] = {"DataType": value.data_type, "StringValue": value.string}
    return out
