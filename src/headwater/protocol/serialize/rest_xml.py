"""The ``rest-xml`` protocol's responses, as S3 (the rest-xml service headwater serves) sends them.

Bindings (headers, status code, payload) come from ``serialize.rest``; the body is an XML
document written by ``serialize.xml_``, its root named by the payload member or by the output
shape, with the service's namespace.  Request ids travel as S3 sends them: ``x-amz-request-id``
and ``x-amz-id-2``.  Errors are S3's document::

    <Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message>
    <Key>photo.jpg</Key><RequestId>..</RequestId><HostId>..</HostId></Error>

with ``ServiceError.fields`` as elements (the modeled ones through the error shape, header-bound
ones as headers).

Protocol: https://smithy.io/2.0/aws/protocols/aws-restxml-protocol.html and
https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any
from xml.etree.ElementTree import Element, SubElement

from botocore.model import OperationModel, Shape

from headwater.core.errors import ServiceError
from headwater.protocol.http import HttpResponse
from headwater.protocol.serialize.errors import error_message, error_shape, wire_code
from headwater.protocol.serialize.rest import RestSerializer
from headwater.protocol.serialize.xml_ import (
    add_namespace,
    error_details,
    to_bytes,
    write_members,
    write_value,
)
from headwater.protocol.specs import ServiceSpec


class RestXmlSerializer(RestSerializer):
    content_type = "application/xml"

    def __init__(self, spec: ServiceSpec) -> None:
        super().__init__(spec)
        self.namespace: str | None = spec.model.metadata.get("xmlNamespace")

    def request_id_headers(self, request_id: str) -> list[tuple[str, str]]:
        return [("x-amz-request-id", request_id), ("x-amz-id-2", host_id(request_id))]

    def document(
        self, operation: OperationModel, shape: Shape, value: Mapping[str, Any], payload: bool
    ) -> bytes:
        holder = Element("")
        if payload:
            write_value(holder, shape, value, str(shape.serialization.get("name", shape.name)))
            root = holder[0]
        else:
            root = SubElement(holder, self.root_name(operation, shape))
            add_namespace(shape, root)
            write_members(root, shape, value, body_only=True)
        if self.namespace and "xmlns" not in root.attrib:
            root.set("xmlns", self.namespace)
        return to_bytes(root)

    def root_name(self, operation: OperationModel, shape: Shape) -> str:
        """The root element of an output document that has no payload member."""
        return str(shape.serialization.get("name", shape.name))

    def serialize_error(
        self, operation: OperationModel | None, error: ServiceError, request_id: str
    ) -> HttpResponse:
        shape = error_shape(self.spec.model, error.code)
        headers, status = self.error_headers(error, shape, request_id)
        headers.append(("Content-Type", self.content_type))
        root = Element("Error")
        SubElement(root, "Code").text = wire_code(shape, error.code)
        SubElement(root, "Message").text = error_message(error, shape)
        error_details(root, error, shape, body_only=True)
        SubElement(root, "RequestId").text = request_id
        SubElement(root, "HostId").text = host_id(request_id)
        return HttpResponse(status, headers, to_bytes(root))


def host_id(request_id: str) -> str:
    # S3's x-amz-id-2 identifies the host that answered; headwater has one, so derive a stable
    # opaque token from the request id (no hidden randomness).
    return base64.b64encode(f"headwater/{request_id}".encode()).decode("ascii")
