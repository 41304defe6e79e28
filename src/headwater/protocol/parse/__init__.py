"""Request parsers, one per protocol: an HTTP request becomes the operation's parameter dict.

The dict has the shape botocore's client would have been called with: model member names as
keys, ``datetime`` for timestamps, ``bytes`` for blobs.  Parsers raise ``ServiceError`` for
input that cannot be read (``SerializationException`` and friends); constraint checks happen
afterwards in ``protocol.validate``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from botocore.model import OperationModel

from headwater.protocol.http import HttpRequest


class RequestParser(Protocol):
    def parse(
        self, request: HttpRequest, operation: OperationModel, uri_params: Mapping[str, str]
    ) -> dict[str, Any]: ...


def parser_for(protocol: str) -> RequestParser:
    if protocol == "json":
        from headwater.protocol.parse.json_ import JsonParser

        return JsonParser()
    if protocol == "rest-json":
        from headwater.protocol.parse.rest_json import RestJsonParser

        return RestJsonParser()
    if protocol == "rest-xml":
        from headwater.protocol.parse.rest_xml import RestXmlParser

        return RestXmlParser()
    if protocol == "query":
        from headwater.protocol.parse.query import QueryParser

        return QueryParser()
    raise ValueError(f"no parser for protocol {protocol!r}")
