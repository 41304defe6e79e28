"""Shapes to XML elements, shared by the ``query`` and ``rest-xml`` response serializers.

The walk mirrors what botocore's XML response parsers read: a member is an element named by
its ``locationName`` (or member name); a list wraps its items in ``<member>`` (or the item
shape's ``locationName``) unless ``flattened``, when the items repeat in place; a map is
``<entry><key/><value/></entry>`` per pair (names from the key and value shapes), or repeated
in place when flattened; an ``xmlAttribute`` member becomes an attribute of its structure;
``xmlNamespace`` adds an ``xmlns`` (or ``xmlns:prefix``) attribute.  Timestamps are ISO 8601
unless the member names another format; blobs are base64; booleans ``true``/``false``; the
special floats ``NaN``, ``Infinity``, ``-Infinity``.

Also the error documents of both protocols.  Wire format:
https://smithy.io/2.0/aws/protocols/aws-restxml-protocol.html#xml-shape-serialization
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any
from xml.etree.ElementTree import Element, SubElement, tostring

from botocore.model import Shape

from headwater.core.errors import ServiceError
from headwater.protocol.shapes import b64encode, format_timestamp

XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
# Members a structure carries outside the XML document in rest-xml responses.
_BOUND = frozenset({"header", "headers", "statusCode"})


# The control characters XML 1.0 has no place for (tab, line feed and carriage return aside).
# An object key may hold them, and S3 writes each as a character reference, "&#x1;" or
# "&#x1b;" (recorded in basho/riak_cs#1255, aws/aws-sdk-php#169, boto/botocore#3496): not
# well-formed XML either, so strict readers refuse the document, as they refuse S3's -- the
# reason clients list with encoding-type=url.  The references keep the rest of the document
# readable and the key recoverable by a lenient reader.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")
_CONTROL_BYTES = re.compile(b"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _control_reference(match: re.Match[str]) -> str:
    return f"&#x{ord(match[0]):x};"


def to_bytes(root: Element, declaration: bool = True) -> bytes:
    # ElementTree leaves a carriage return in text as is, and every XML reader turns "\r\n"
    # into "\n"; escaping it keeps the text exact.  Markup itself never holds a raw "\r".
    parts: list[str] = []
    if _write_plain(root, parts):
        body = "".join(parts).encode("utf-8", "surrogatepass").replace(b"\r", b"&#13;")
    else:
        body = tostring(root, encoding="utf-8").replace(b"\r", b"&#13;")
        body = _CONTROL_BYTES.sub(lambda m: b"&#x%x;" % m[0][0], body)
    return XML_DECLARATION + body if declaration else body


def escape_text(text: str) -> str:
    """``&``, ``<`` and ``>`` as their entities (what ElementTree writes in element text), and
    control characters as S3 writes them (``_CONTROL``)."""
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    if not text.isprintable():  # rare; isprintable is a quick test that none is there
        text = _CONTROL.sub(_control_reference, text)
    return text


def _escape_attribute(text: str) -> str:
    text = escape_text(text)
    for raw, escaped in (('"', "&quot;"), ("\n", "&#10;"), ("\t", "&#09;")):
        if raw in text:
            text = text.replace(raw, escaped)
    return text


def _write_plain(node: Element, out: list[str]) -> bool:
    """ElementTree's serialization, several times faster for the documents we build (plain
    tags, namespaces as ``xmlns`` attributes).  False, with ``out`` unusable, when the tree
    holds anything else (qualified ``{uri}tag`` names, comments), for ``tostring`` to do."""
    tag = node.tag
    if not isinstance(tag, str) or tag.startswith("{"):
        return False
    out.append("<" + tag)
    for key, value in node.attrib.items():
        if key.startswith("{"):
            return False
        out.append(f' {key}="{_escape_attribute(value)}"')
    if node.text or len(node):
        out.append(">")
        if node.text:
            out.append(escape_text(node.text))
        for child in node:
            if not _write_plain(child, out):
                return False
            if child.tail:
                out.append(escape_text(child.tail))
        out.append(f"</{tag}>")
    else:
        out.append(" />")
    return True


def add_namespace(shape: Shape, node: Element) -> None:
    namespace = shape.serialization.get("xmlNamespace")
    if isinstance(namespace, dict):
        prefix = namespace.get("prefix")
        node.set(f"xmlns:{prefix}" if prefix else "xmlns", namespace.get("uri", ""))
    elif isinstance(namespace, str):
        node.set("xmlns", namespace)


def write_members(
    node: Element, shape: Shape, value: Mapping[str, Any], body_only: bool = False
) -> None:
    """Write the members of structure ``shape`` found in ``value`` into ``node``.

    ``body_only`` skips members bound to headers or the status code (rest-xml responses).
    """
    for name, member in shape.members.items():
        item = value.get(name)
        if item is None:
            continue
        ser = member.serialization
        if body_only and ser.get("location") in _BOUND:
            continue
        if ser.get("xmlAttribute"):
            node.set(ser.get("name", name), scalar_text(member, item))
            continue
        write_value(node, member, item, ser.get("name", name))


def write_value(parent: Element, shape: Shape, value: Any, name: str) -> None:
    kind = shape.type_name
    if kind == "structure":
        node = SubElement(parent, name)
        add_namespace(shape, node)
        write_members(node, shape, value)
    elif kind == "list":
        member = shape.member
        if shape.serialization.get("flattened"):
            item_name = member.serialization.get("name", name)
            for item in value:
                write_value(parent, member, item, item_name)
        else:
            node = SubElement(parent, name)
            add_namespace(shape, node)
            item_name = member.serialization.get("name", "member")
            for item in value:
                write_value(node, member, item, item_name)
    elif kind == "map":
        key_name = shape.key.serialization.get("name", "key")
        value_name = shape.value.serialization.get("name", "value")
        flattened = shape.serialization.get("flattened")
        holder = parent
        if not flattened:
            holder = SubElement(parent, name)
            add_namespace(shape, holder)
        for key, item in value.items():
            entry = SubElement(holder, name if flattened else "entry")
            write_value(entry, shape.key, key, key_name)
            if item is not None:
                write_value(entry, shape.value, item, value_name)
    else:
        node = SubElement(parent, name)
        add_namespace(shape, node)
        node.text = scalar_text(shape, value)


def scalar_text(shape: Shape, value: Any) -> str:
    kind = shape.type_name
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "timestamp":
        return str(format_timestamp(value, shape.serialization.get("timestampFormat", "iso8601")))
    if kind == "blob":
        return b64encode(value)
    if kind in ("float", "double"):
        return float_text(value)
    return str(value)


def float_text(value: Any) -> str:
    if isinstance(value, int):
        return str(value)
    number = float(value)
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "Infinity" if number > 0 else "-Infinity"
    return repr(number)


def error_details(
    node: Element, error: ServiceError, shape: Shape | None, body_only: bool = False
) -> None:
    """The members of a modeled error (``error.fields``) as elements of ``<Error>``.

    Fields the error shape does not model (S3's ``BucketName`` on ``NoSuchBucket``) are written
    as plain text elements, as S3 does.
    """
    skip = {"Code", "Message", "Type", "RequestId", "HostId"}
    modeled: dict[str, Any] = {}
    members = shape.members if shape is not None else {}
    for key, item in error.fields.items():
        if item is None:
            continue
        member = members.get(key)
        if member is not None:
            if member.serialization.get("name", key) not in skip:
                modeled[key] = item
        elif key not in skip:
            SubElement(node, key).text = item if isinstance(item, str) else str(item)
    if shape is not None and modeled:
        write_members(node, shape, modeled, body_only=body_only)
