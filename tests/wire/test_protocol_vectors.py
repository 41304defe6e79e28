"""AWS's protocol test vectors, read backwards: we are the server.

The vectors (botocore's ``tests/unit/protocols``, in ``../shared/conformance/protocols``) say
what a client sends for given parameters and what it parses out of a given response.  For a
server that means:

- input cases: route and parse the recorded request with our parser; we must recover the
  caller's ``params``;
- output cases: serialize the expected ``result`` (or error) with our serializer; botocore's
  own response parser must read back the same ``result`` (or error code, message and fields).

Each case builds a one-operation botocore ``ServiceModel`` from the suite.  The lane is skipped
when the conformance folder is absent; single cases are skipped only with a stated reason.
"""

from __future__ import annotations

import json
import math
import os
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from botocore.awsrequest import HeadersDict
from botocore.model import OperationModel, ServiceModel
from botocore.parsers import create_parser

from headwater.core.errors import ServiceError
from headwater.protocol.http import HttpRequest
from headwater.protocol.parse import parser_for
from headwater.protocol.rest_router import RestRouter
from headwater.protocol.serialize import serializer_for
from headwater.protocol.serialize.errors import error_shape
from headwater.protocol.specs import ServiceSpec

REPO = Path(__file__).resolve().parents[2]
CONFORMANCE = Path(
    os.environ.get("HEADWATER_CONFORMANCE_DIR", REPO.parent / "shared" / "conformance")
)
VECTORS = CONFORMANCE / "protocols"
FILES = ("json", "json_1_0", "json_1_0-query-compatible", "query", "rest-json", "rest-xml")

pytestmark = pytest.mark.skipif(
    not VECTORS.is_dir(), reason=f"protocol vectors not found at {VECTORS}"
)

# Cases a server cannot pass by construction, each with the reason.
SKIPS: dict[str, str] = {
    "RestJsonQueryPrecedence": "lossy on the wire: the client drops a map entry shadowed by a "
    "named query parameter, so no server can recover it",
    "RestXmlQueryPrecedence": "lossy on the wire: the client drops a map entry shadowed by a "
    "named query parameter, so no server can recover it",
    "MediaTypeHeaderInputBase64": "smithy @mediaType string modelled as jsonvalue: botocore's "
    "client sends JSON for jsonvalue headers, the vector sends raw text",
    "RestJsonQueryParamsStringListMap": "client-side variant: a server puts every query "
    "parameter in the httpQueryParams map, named ones included (Smithy's server variant of this "
    "case; RestJsonAllQueryStringTypes checks it)",
    "RestXmlQueryParamsStringListMap": "client-side variant: a server puts every query "
    "parameter in the httpQueryParams map, named ones included (Smithy's server variant of this "
    "case; AllQueryStringTypes checks it)",
}
# The rest-xml twins of RestJsonAllQueryStringTypes leave the httpQueryParams map out of params,
# while a server fills it with every query parameter (the rest-json twins include it).
for _case in (
    "AllQueryStringTypes",
    "RestXmlQueryStringEscaping",
    "RestXmlSupportsNaNFloatQueryValues",
    "RestXmlSupportsInfinityFloatQueryValues",
    "RestXmlSupportsNegativeInfinityFloatQueryValues",
    "RestXmlZeroAndFalseQueryValues",
):
    SKIPS[_case] = (
        "client-side variant: params leave out the httpQueryParams map that a server fills "
        "with every query parameter (the rest-json twin of this case includes it)"
    )
# Output cases botocore's own response parser cannot read back, whatever the server sends.
_BOTOCORE_CANNOT = {
    "XmlLists": "botocore reads a flattened list by its item's locationName, so two flattened "
    "members whose items are both named 'item' cannot both round-trip through it",
    "QueryXmlLists": "botocore reads a flattened list by its item's locationName, so two "
    "flattened members whose items are both named 'item' cannot both round-trip through it",
    "RestJsonHttpPayloadWithUnsetUnion": "botocore rejects an empty union payload ('must have "
    "one and only one member set'), also on the vector's own response",
    "RestXmlHttpPayloadWithUnsetUnion": "botocore rejects an empty union payload ('must have "
    "one and only one member set'), also on the vector's own response",
    "HttpPrefixHeadersResponse": "an all-headers map (empty prefix) also captures the request "
    "id header every AWS response carries",
    "RestJsonInputAndOutputWithQuotedStringHeaders": "botocore splits a header list on every "
    "comma (no quoted strings)",
    "RestJsonInputAndOutputWithTimestampHeaders": "botocore splits a header list on every "
    "comma, and an HTTP-date holds one",
    "InputAndOutputWithTimestampHeaders": "botocore splits a header list on every comma, and "
    "an HTTP-date holds one",
}


def _load(direction: str) -> list[Any]:
    if not VECTORS.is_dir():
        return []
    params = []
    for name in FILES:
        suites = json.loads((VECTORS / direction / f"{name}.json").read_text())
        for index, suite in enumerate(suites):
            for case in suite["cases"]:
                params.append(pytest.param(name, suite, case, id=f"{name}:{index}:{case['id']}"))
    return params


def _model(suite: dict[str, Any], case: dict[str, Any]) -> tuple[ServiceSpec, OperationModel]:
    given = case["given"]
    description = {
        "metadata": suite["metadata"],
        "shapes": suite["shapes"],
        "operations": {given["name"]: given},
    }
    model = ServiceModel(description, service_name="vectors")
    meta = model.metadata
    spec = ServiceSpec(
        name="vectors",
        model=model,
        protocol=meta["protocol"],
        target_prefix=meta.get("targetPrefix"),
        signing_name="vectors",
        query_compatible="awsQueryCompatible" in meta,
    )
    return spec, model.operation_model(given["name"])


def _skip_reason(suite: dict[str, Any], case: dict[str, Any], op: OperationModel) -> str | None:
    if case["id"] in SKIPS and "params" in case:
        return SKIPS[case["id"]]
    if case["id"] in _BOTOCORE_CANNOT and "result" in case:
        return _BOTOCORE_CANNOT[case["id"]]
    if "serialized" not in case:
        return None
    serialized = case["serialized"]
    if "Content-Encoding" in serialized.get("headers", {}) and "body" not in serialized:
        return "client-side only: request compression (the vector records no body)"
    if suite["metadata"]["protocol"] == "json" and "headers" not in serialized:
        return "client-side only: endpoint host prefix (the vector records no X-Amz-Target)"
    shape = op.input_shape
    if shape is not None and "params" in case:
        for name, member in shape.members.items():
            if member.metadata.get("idempotencyToken") and name not in case["params"]:
                return "client-side only: idempotency token auto-fill"
    return None


# -- input: the recorded request -> our parser -> the caller's params ----------------------


@pytest.mark.parametrize(("name", "suite", "case"), _load("input"))
def test_input_vector(name: str, suite: dict[str, Any], case: dict[str, Any]) -> None:
    spec, op = _model(suite, case)
    reason = _skip_reason(suite, case, op)
    if reason:
        pytest.skip(reason)
    request = _request(suite, case["serialized"])
    routed, uri_params = _route(spec, request)
    assert routed.name == op.name
    parsed = parser_for(spec.protocol).parse(request, routed, uri_params)
    expected = {
        key: value
        for key, value in case["params"].items()
        # An empty map or list that leaves no trace on the wire (a header map with no headers,
        # an empty query map) cannot be recovered; the caller's {} and "absent" are the same.
        if key in parsed or not (isinstance(value, (dict, list)) and not value)
    }
    assert normalize(parsed) == normalize(expected)


def _request(suite: dict[str, Any], serialized: dict[str, Any]) -> HttpRequest:
    path, _, query = serialized["uri"].partition("?")
    # The client's endpoint may carry a base path (https://example.com/custom); where a server
    # is mounted is deployment, not protocol, so the base path is taken off here.
    base = urlsplit(suite.get("clientEndpoint", "")).path.rstrip("/")
    if base and path.startswith(base):
        path = path[len(base) :] or "/"
    headers = {k.lower(): v for k, v in serialized.get("headers", {}).items()}
    host = serialized.get("host", "example.com")
    return HttpRequest(
        method=serialized["method"],
        path=path,
        query_string=query,
        headers=headers,
        body=serialized.get("body", "").encode("utf-8"),
        host=host,
    )


def _route(spec: ServiceSpec, request: HttpRequest) -> tuple[OperationModel, dict[str, str]]:
    if spec.protocol == "json":
        target = request.headers["x-amz-target"]
        prefix, _, name = target.rpartition(".")
        assert prefix == spec.target_prefix
        return spec.model.operation_model(name), {}
    if spec.protocol == "query":
        action = parse_qs(request.body.decode())["Action"][0]
        return spec.model.operation_model(action), {}
    matched = RestRouter(spec.model).match(request)
    assert matched is not None, f"no route for {request.method} {request.path}"
    return matched


# -- output: the expected result -> our serializer -> botocore's parser --------------------


@pytest.mark.parametrize(("name", "suite", "case"), _load("output"))
def test_output_vector(name: str, suite: dict[str, Any], case: dict[str, Any]) -> None:
    spec, op = _model(suite, case)
    reason = _skip_reason(suite, case, op)
    if reason:
        pytest.skip(reason)
    serializer = serializer_for(spec)
    parser = create_parser(spec.protocol)
    if "error" in case:
        error = ServiceError(
            case["errorCode"],
            case.get("errorMessage", ""),
            case["response"]["status_code"],
            fields=dict(case["error"]),
        )
        response = serializer.serialize_error(op, error, "req-1")
        raw = _botocore_response(response)
        parsed = parser.parse(raw, op.output_shape)
        assert parsed["Error"]["Code"] == case["errorCode"]
        assert (parsed["Error"].get("Message") or "") == case.get("errorMessage", "")
        shape = error_shape(spec.model, parsed["Error"]["Code"])
        fields = parser.parse(_botocore_response(response), shape) if shape is not None else {}
        assert normalize(fields) == normalize(case["error"])
    else:
        response = serializer.serialize(op, case["result"], "req-1")
        parsed = parser.parse(_botocore_response(response), op.output_shape)
        shape = op.output_shape
        payload = shape.serialization.get("payload") if shape is not None else None
        if payload and payload not in case["result"] and parsed.get(payload) in ("", b""):
            # botocore always reports a blob or string payload, as "" when there is no body.
            del parsed[payload]
        assert normalize(parsed) == normalize(case["result"])


def _botocore_response(response: Any) -> dict[str, Any]:
    headers = HeadersDict()
    for key, value in response.headers:
        headers[key] = value
    return {
        "status_code": response.status,
        "headers": headers,
        "body": response.body,
        "context": {"operation_name": "vector"},
    }


# -- comparing values -----------------------------------------------------------------------


def normalize(value: Any) -> Any:
    """One spelling per value: epoch seconds for timestamps, text for blobs, strings for the
    special floats (the vectors write NaN as "NaN"); no ResponseMetadata, no nulls."""
    if isinstance(value, dict):
        return {
            k: normalize(v) for k, v in value.items() if v is not None and k != "ResponseMetadata"
        }
    if isinstance(value, list):
        return [normalize(v) for v in value]
    if isinstance(value, datetime):
        return float(value.timestamp())
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8")
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        number = float(value)
        if math.isnan(number):
            return "NaN"
        if math.isinf(number):
            return "Infinity" if number > 0 else "-Infinity"
        return number
    return value
