"""The ``query`` protocol's responses (CloudFormation): an XML document per operation.

    <CreateStackResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/">
      <CreateStackResult>...output members...</CreateStackResult>
      <ResponseMetadata><RequestId>...</RequestId></ResponseMetadata>
    </CreateStackResponse>

The ``<...Result>`` wrapper is the output shape's ``resultWrapper``; the namespace comes from
the model's metadata.  Errors are

    <ErrorResponse><Error><Type>Sender</Type><Code>..</Code><Message>..</Message></Error>
    <RequestId>..</RequestId></ErrorResponse>

with the modeled error's extra members inside ``<Error>`` and the code the model gives the
error (its ``error.code``), which is what boto3 maps back to an exception class.

Protocol: https://smithy.io/2.0/aws/protocols/aws-query-protocol.html#response-serialization
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from xml.etree.ElementTree import Element, SubElement

from botocore.model import OperationModel

from headwater.core.errors import ServiceError
from headwater.protocol.http import HttpResponse
from headwater.protocol.serialize.errors import error_message, error_shape, wire_code
from headwater.protocol.serialize.xml_ import (
    error_details,
    to_bytes,
    write_members,
)
from headwater.protocol.specs import ServiceSpec

CONTENT_TYPE = "text/xml"


class QuerySerializer:
    def __init__(self, spec: ServiceSpec) -> None:
        self.spec = spec
        self.namespace: str | None = spec.model.metadata.get("xmlNamespace")

    def serialize(
        self, operation: OperationModel, result: Mapping[str, Any], request_id: str
    ) -> HttpResponse:
        root = self._root(f"{operation.name}Response")
        shape = operation.output_shape
        if shape is not None:
            wrapper = shape.serialization.get("resultWrapper")
            holder = SubElement(root, wrapper) if wrapper else root
            write_members(holder, shape, result)
        metadata = SubElement(root, "ResponseMetadata")
        SubElement(metadata, "RequestId").text = request_id
        return HttpResponse(200, self._headers(request_id), to_bytes(root))

    def serialize_error(
        self, operation: OperationModel | None, error: ServiceError, request_id: str
    ) -> HttpResponse:
        shape = error_shape(self.spec.model, error.code)
        root = self._root("ErrorResponse")
        node = SubElement(root, "Error")
        SubElement(node, "Type").text = "Sender" if error.sender_fault else "Receiver"
        SubElement(node, "Code").text = wire_code(shape, error.code)
        message = error_message(error, shape)
        if message:
            SubElement(node, "Message").text = message
        error_details(node, error, shape)
        SubElement(root, "RequestId").text = request_id
        headers = self._headers(request_id)
        headers.extend(error.headers.items())
        return HttpResponse(error.status, headers, to_bytes(root))

    def _root(self, name: str) -> Element:
        root = Element(name)
        if self.namespace:
            root.set("xmlns", self.namespace)
        return root

    def _headers(self, request_id: str) -> list[tuple[str, str]]:
        return [("Content-Type", CONTENT_TYPE), ("x-amzn-RequestId", request_id)]
