"""Response serializers, one per protocol: a result dict or a ``ServiceError`` becomes HTTP.

The result dict uses the model's member names (as botocore's client would return them); the
serializer walks the output shape, so adapters never build JSON or XML bodies by hand.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from botocore.model import OperationModel

from headwater.core.errors import ServiceError
from headwater.protocol.http import HttpResponse
from headwater.protocol.specs import ServiceSpec


class ResponseSerializer(Protocol):
    def serialize(
        self, operation: OperationModel, result: Mapping[str, Any], request_id: str
    ) -> HttpResponse: ...

    def serialize_error(
        self, operation: OperationModel | None, error: ServiceError, request_id: str
    ) -> HttpResponse: ...


def serializer_for(
    spec: ServiceSpec, query_error_codes: Mapping[str, str] | None = None
) -> ResponseSerializer:
    """The serializer for ``spec``'s protocol.

    ``query_error_codes`` maps error shape names to the legacy query-protocol codes an
    ``awsQueryCompatible`` service reports in ``x-amzn-query-error``.
    """
    if spec.protocol == "json":
        from headwater.protocol.serialize.json_ import JsonSerializer

        return JsonSerializer(spec, query_error_codes or {})
    if spec.protocol == "rest-json":
        from headwater.protocol.serialize.lambda_ import LambdaSerializer
        from headwater.protocol.serialize.rest_json import RestJsonSerializer

        return LambdaSerializer(spec) if spec.name == "lambda" else RestJsonSerializer(spec)
    if spec.protocol == "rest-xml":
        from headwater.protocol.serialize.rest_xml import RestXmlSerializer
        from headwater.protocol.serialize.s3 import S3Serializer

        return S3Serializer(spec) if spec.name == "s3" else RestXmlSerializer(spec)
    if spec.protocol == "query":
        from headwater.protocol.serialize.query import QuerySerializer

        return QuerySerializer(spec)
    raise ValueError(f"no serializer for protocol {spec.protocol!r}")
