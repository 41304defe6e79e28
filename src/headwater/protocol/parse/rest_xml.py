"""The ``rest-xml`` protocol's requests (S3): HTTP bindings plus an XML body.

The bindings are read by ``parse.rest``; this module reads XML bodies, walking the botocore
shape: members by ``locationName``, lists wrapped in ``<member>`` (or the member's own name) or
``flattened`` into repeated elements, maps as ``<entry><key/><value/></entry>`` (or flattened),
``xmlAttribute`` members from attributes.  Namespaces are ignored when matching names, as S3
does.  Documents with a DTD or entity declarations are refused before parsing (no entity
expansion, no external fetches), and unreadable XML is S3's ``MalformedXML``.

Protocol: https://smithy.io/2.0/aws/protocols/aws-restxml-protocol.html
"""

from __future__ import annotations

import re
from typing import Any
from xml.etree import ElementTree

from botocore.model import Shape

from headwater.core.errors import ServiceError
from headwater.protocol.parse.rest import Converter, RestParser, is_body_member
from headwater.protocol.parse.text import from_text

MALFORMED_XML = (
    "The XML you provided was not well-formed or did not validate against our published schema"
)
_UNSAFE = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
# AWS quirk: S3 serves a request whose conditional date header it cannot read as if the header
# were absent, as RFC 9110 (section 13.1.3) asks of If-Modified-Since, instead of refusing it:
# MinIO changed to this after comparing with S3 (minio/minio#4082).
_LENIENT_DATES = frozenset({
    "if-modified-since", "if-unmodified-since",
    "x-amz-copy-source-if-modified-since", "x-amz-copy-source-if-unmodified-since",
})


def malformed_xml() -> ServiceError:
    return ServiceError("MalformedXML", MALFORMED_XML, 400)


def read_xml(body: bytes) -> ElementTree.Element:
    """The root element of ``body``; DTDs and entity declarations are refused."""
    if _UNSAFE.search(body):
        raise malformed_xml()
    try:
        parser = ElementTree.XMLParser()
        parser.feed(body.strip())
        return parser.close()
    except ElementTree.ParseError:
        raise malformed_xml() from None


def local_name(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


class RestXmlParser(RestParser):
    # AWS quirk: S3 answers a header or query value it cannot read with InvalidArgument.
    value_error_code = "InvalidArgument"

    def parse_body(self, body: bytes, shape: Shape) -> dict[str, Any]:
        return self.read_structure(shape, read_xml(body), body_only=True)

    def _header_converter(self, shape: Shape, where: str) -> Converter | None:
        convert = super()._header_converter(shape, where)
        if convert is None or where.lower() not in _LENIENT_DATES:
            return convert

        def lenient(text: str) -> Any:
            try:
                return convert(text)
            except ServiceError:
                return None  # unreadable: no condition

        return lenient

    def parse_payload_document(self, body: bytes, shape: Shape) -> Any:
        return self.read_value(shape, [read_xml(body)], shape.name)

    # -- the walker -----------------------------------------------------------------------

    def read_structure(
        self, shape: Shape, node: ElementTree.Element, body_only: bool = False
    ) -> dict[str, Any]:
        children: dict[str, list[ElementTree.Element]] = {}
        for child in node:
            children.setdefault(local_name(child.tag), []).append(child)
        out: dict[str, Any] = {}
        for name, member in shape.members.items():
            if body_only and not is_body_member(member):
                continue
            ser = member.serialization
            if ser.get("xmlAttribute"):
                found = _attribute(node, ser.get("name", name))
                if found is not None:
                    out[name] = self._text(member, found, name)
                continue
            nodes = _find(children, member, name)
            if nodes:
                out[name] = self.read_value(member, nodes, name)
        return out

    def read_value(self, shape: Shape, nodes: list[ElementTree.Element], where: str) -> Any:
        """``nodes``: the elements named for this value (several only for flattened ones)."""
        kind = shape.type_name
        flattened = shape.serialization.get("flattened", False)
        if kind == "structure":
            return self.read_structure(shape, nodes[0])
        if kind == "list":
            items = nodes if flattened else list(nodes[0])
            return [self.read_value(shape.member, [item], where) for item in items]
        if kind == "map":
            entries = nodes if flattened else list(nodes[0])
            key_name = shape.key.serialization.get("name", "key")
            value_name = shape.value.serialization.get("name", "value")
            out: dict[str, Any] = {}
            for entry in entries:
                key = value = None
                for part in entry:
                    tag = local_name(part.tag)
                    if tag == key_name:
                        key = part.text or ""
                    elif tag == value_name:
                        value = self.read_value(shape.value, [part], where)
                if key is not None:
                    out[key] = value
            return out
        return self._text(shape, nodes[0].text or "", where)

    def _text(self, shape: Shape, text: str, where: str) -> Any:
        if shape.type_name == "string":
            return text  # whitespace is content in a string
        return from_text(shape, text.strip(), where, self.value_error_code)


def _find(
    children: dict[str, list[ElementTree.Element]], member: Shape, name: str
) -> list[ElementTree.Element] | None:
    """The elements holding member ``name``, under any spelling a client may use."""
    ser = member.serialization
    nodes = children.get(str(ser.get("name", name)))
    if nodes:
        return nodes
    if member.type_name == "list" and ser.get("flattened"):
        # botocore's response parser (and clients modelled on it) name a flattened list's items
        # after the item shape's locationName rather than the member's.
        item_name = member.member.serialization.get("name")
        if item_name and children.get(str(item_name)):
            return children[str(item_name)]
    # A locationName inherited from the target shape (not set on the member) is ignored by
    # Smithy-generated clients, which use the member name.
    return children.get(name)


def _attribute(node: ElementTree.Element, name: str) -> str | None:
    if name in node.attrib:
        return node.attrib[name]
    # "xsi:type" arrives as "{http://www.w3.org/2001/XMLSchema-instance}type".
    local = name.rsplit(":", 1)[-1]
    for key, value in node.attrib.items():
        if key.startswith("{") and local_name(key) == local:
            return value
    return None
