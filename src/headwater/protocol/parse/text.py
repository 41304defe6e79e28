"""Typed values from wire text: URI labels, query strings, headers, form fields and XML text.

Every protocol but ``json`` carries scalars as text, and the botocore model says what each one
is.  This module turns such text into the Python value botocore's client would have been handed
(``int``, ``float``, ``bool``, ``datetime``, ``bytes``, ``str``); it knows nothing of where the
text came from.  Callers pass the error code their protocol uses for unreadable input.

Wire formats: https://smithy.io/2.0/aws/protocols/aws-restjson1-protocol.html (and the restXml
and awsQuery pages), section "Timestamp formats" and the per-location binding tables.
"""

from __future__ import annotations

import base64
import binascii
import math
from datetime import datetime
from typing import Any

import orjson
from botocore.model import Shape

from headwater.core.errors import ServiceError
from headwater.protocol.shapes import to_datetime

_TRUE = "true"
_FALSE = "false"


def from_text(shape: Shape, text: str, where: str, error_code: str) -> Any:
    """The value of ``text`` read as ``shape`` (a scalar shape)."""
    kind = shape.type_name
    if kind == "string":
        return text
    if kind in ("integer", "long", "byte", "short"):
        try:
            return int(text.strip())
        except ValueError:
            raise _bad(error_code, where, text, "an integer") from None
    if kind in ("float", "double"):
        return _float(text, where, error_code)
    if kind == "boolean":
        lowered = text.strip().lower()
        if lowered == _TRUE:
            return True
        if lowered == _FALSE:
            return False
        raise _bad(error_code, where, text, "a boolean")
    if kind == "timestamp":
        return timestamp_from_text(text, where, error_code)
    if kind == "blob":
        try:
            return base64.b64decode(text.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise _bad(error_code, where, text, "base64-encoded binary data") from None
    return text


def timestamp_from_text(text: str, where: str, error_code: str) -> datetime:
    # Accept every format AWS accepts anywhere (epoch seconds, ISO 8601, RFC 7231): SDKs differ
    # in what they send for members without an explicit timestampFormat.
    try:
        return to_datetime(text)
    except (ValueError, OverflowError, OSError):
        raise _bad(error_code, where, text, "a timestamp") from None


def json_value_header(text: str, where: str, error_code: str) -> Any:
    """A ``jsonvalue`` header: base64 of a JSON document (botocore's client writes them so)."""
    try:
        return orjson.loads(base64.b64decode(text.strip(), validate=True))
    except (binascii.Error, ValueError, orjson.JSONDecodeError):
        raise _bad(error_code, where, text, "base64-encoded JSON") from None


def split_header_list(text: str, member: Shape) -> list[str]:
    """Split a comma-joined header list (RFC 7230), honouring double-quoted items.

    A quoted item is its content between the quotes, exactly (botocore quotes items holding a
    comma or a quote); an unquoted one is trimmed.  An HTTP-date contains a comma itself
    ("Mon, 16 Dec 2019 ..."), so a list of such dates is re-paired after splitting.
    """
    if not text.strip():
        return []
    items: list[str] = []
    bare: list[str] = []  # characters outside quotes
    inside: list[str] | None = None  # characters inside quotes, once a quote was seen
    quoted = escaped = False
    for char in text:
        if escaped:
            (inside if inside is not None else bare).append(char)
            escaped = False
        elif quoted and char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
            inside = inside if inside is not None else []
        elif char == "," and not quoted:
            items.append("".join(inside) if inside is not None else "".join(bare).strip())
            bare, inside = [], None
        elif quoted and inside is not None:
            inside.append(char)
        else:
            bare.append(char)
    items.append("".join(inside) if inside is not None else "".join(bare).strip())
    if member.type_name == "timestamp" and items[0].isalpha():
        items = [f"{items[i]}, {items[i + 1]}" for i in range(0, len(items) - 1, 2)]
    return items


def _float(text: str, where: str, error_code: str) -> float:
    stripped = text.strip()
    # Only the spellings AWS uses for the special values; Python's float() also takes "nan".
    if stripped in ("NaN", "Infinity", "-Infinity"):
        return float(stripped)
    try:
        value = float(stripped)
    except ValueError:
        raise _bad(error_code, where, text, "a number") from None
    if math.isnan(value) or math.isinf(value):
        raise _bad(error_code, where, text, "a number")
    return value


def _bad(code: str, where: str, text: str, expected: str) -> ServiceError:
    shown = text if len(text) <= 64 else text[:61] + "..."
    return ServiceError(code, f"Value '{shown}' for '{where}' is not {expected}.", 400)
