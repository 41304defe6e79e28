"""Lambda's quirk on top of the generic rest-json serializer.

Invoke's output payload is a blob (the function's response, byte for byte), which the generic
binding labels ``application/octet-stream``.  Lambda labels it ``application/json``: a Python
function's response is always a JSON document, or Lambda's own error document.  SDKs do not
read the header; proxies, ``curl`` users and HTTP-level tests do.

Reference: https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html
"""

from __future__ import annotations

from botocore.model import OperationModel

from headwater.protocol.serialize.rest_json import RestJsonSerializer

# Operations whose blob payload Lambda sends as JSON.
_JSON_PAYLOADS = frozenset({"Invoke"})


class LambdaSerializer(RestJsonSerializer):
    def blob_content_type(self, operation: OperationModel) -> str:
        if operation.name in _JSON_PAYLOADS:
            # AWS quirk: Invoke's body is modeled as a blob but sent as application/json
            # (observed in boto3's HTTPHeaders of a real Invoke response).
            return "application/json"
        return super().blob_content_type(operation)
