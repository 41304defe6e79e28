"""Lambda's Invoke through both halves of the wire, with the values Lambda really produces.

``test_model_roundtrip.py`` covers every operation with sample values; this lane covers what is
particular to Invoke: the request body and the response body are raw bytes (the event and the
function's response, never wrapped in a JSON document), the outcome travels in headers
(``X-Amz-Function-Error``, ``X-Amz-Log-Result``, ``X-Amz-Executed-Version``) and in the status
code, and throttles carry a ``Reason``.  Our serializer's output is read by botocore's own
parser; botocore's serializer's request is routed and parsed by ours.

AWS page: https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html
"""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import urlsplit

import orjson
import pytest
from botocore.awsrequest import HeadersDict, create_request_object, prepare_request_dict
from botocore.parsers import create_parser
from botocore.serialize import create_serializer

from headwater.protocol.http import HttpRequest, HttpResponse
from headwater.protocol.parse import parser_for
from headwater.protocol.rest_router import router_for
from headwater.protocol.serialize import serializer_for
from headwater.protocol.specs import get_spec
from headwater.runtime.executor import THROTTLE_ACCOUNT, THROTTLE_RESERVED
from headwater.services.lambda_ import errors
from headwater.services.lambda_.invoke import SYNC_REQUEST_LIMIT, tail_of

SPEC = get_spec("lambda")
INVOKE = SPEC.model.operation_model("Invoke")
EVENT = orjson.dumps({"text": "café ☕ <b>&</b>", "n": [1, 2.5, None]})


def _parsed(response: HttpResponse) -> dict[str, Any]:
    assert isinstance(response.body, bytes)
    raw = {
        "status_code": response.status,
        "headers": HeadersDict(response.headers),
        "body": response.body,
        "context": {"operation_name": "Invoke"},
    }
    parsed: dict[str, Any] = create_parser("rest-json").parse(raw, INVOKE.output_shape)
    return parsed


def _payload(parsed: dict[str, Any]) -> bytes:
    # botocore hands a client the body as a stream; parsing bytes directly, it decodes them.
    value = parsed.get("Payload", b"")
    return value.encode("utf-8") if isinstance(value, str) else bytes(value)


def _parsed_error(response: HttpResponse) -> dict[str, Any]:
    """The error as a boto3 client sees it: the generic part, plus the modeled error's
    members parsed with its shape (botocore's client adds those the same way)."""
    parsed = _parsed(response)
    # Lambda's wire code RequestEntityTooLargeException is the model's RequestTooLargeException.
    shape = SPEC.model.shape_for(parsed["Error"]["Code"].replace("Entity", ""))
    raw = {"status_code": response.status, "headers": HeadersDict(response.headers)}
    modeled = create_parser("rest-json").parse({**raw, "body": response.body}, shape)
    modeled.pop("ResponseMetadata", None)
    return {**parsed, **modeled}


# -- responses: our serializer -> botocore's parser ------------------------------------------


def test_a_result_is_the_raw_body_and_json_labelled() -> None:
    body = orjson.dumps({"echo": orjson.loads(EVENT)})
    result = {"StatusCode": 200, "Payload": body, "ExecutedVersion": "3"}
    response = serializer_for(SPEC).serialize(INVOKE, result, "req-1")
    assert response.body == body  # byte for byte: not re-encoded, not base64
    assert response.header("Content-Type") == "application/json"
    parsed = _parsed(response)
    assert (parsed["StatusCode"], parsed["ExecutedVersion"]) == (200, "3")
    assert "FunctionError" not in parsed
    assert _payload(parsed) == body


def test_a_function_error_and_its_log_tail_travel_in_headers() -> None:
    document = orjson.dumps({"errorMessage": "it broke", "errorType": "RuntimeError"})
    logs = "START RequestId: r Version: $LATEST\n" + "é" * 3000 + "\nEND RequestId: r\n"
    result = {
        "StatusCode": 200,
        "Payload": document,
        "ExecutedVersion": "$LATEST",
        "FunctionError": "Unhandled",
        "LogResult": tail_of(logs),
    }
    parsed = _parsed(serializer_for(SPEC).serialize(INVOKE, result, "req-1"))
    assert parsed["FunctionError"] == "Unhandled"
    assert _payload(parsed) == document
    tail = base64.b64decode(parsed["LogResult"])
    assert len(tail) == 4096 and logs.encode().endswith(tail)


@pytest.mark.parametrize(("status", "kind"), [(202, "Event"), (204, "DryRun")])
def test_accepted_and_dry_run_calls_have_a_status_and_no_body(status: int, kind: str) -> None:
    response = serializer_for(SPEC).serialize(INVOKE, {"StatusCode": status, "Payload": b""}, "r")
    assert (response.status, response.body) == (status, b"")
    parsed = _parsed(response)
    assert parsed["StatusCode"] == status and _payload(parsed) == b"", kind


@pytest.mark.parametrize("reason", [THROTTLE_RESERVED, THROTTLE_ACCOUNT])
def test_a_throttle_is_429_with_its_reason(reason: str) -> None:
    assert reason in SPEC.model.shape_for("ThrottleReason").enum
    response = serializer_for(SPEC).serialize_error(INVOKE, errors.throttled(reason), "req-1")
    assert response.status == 429
    parsed = _parsed_error(response)
    assert parsed["Error"]["Code"] == "TooManyRequestsException"
    assert parsed["Error"]["Message"] == "Rate Exceeded."
    assert (parsed["Reason"], parsed["Type"]) == (reason, "User")


def test_an_oversized_request_keeps_lambdas_wire_code() -> None:
    error = errors.request_too_large(SYNC_REQUEST_LIMIT)
    response = serializer_for(SPEC).serialize_error(INVOKE, error, "req-1")
    parsed = _parsed_error(response)
    assert response.status == 413
    assert parsed["Error"]["Code"] == "RequestEntityTooLargeException"
    assert parsed["Error"]["Message"] == (
        "Request must be smaller than 6291456 bytes for the InvokeFunction operation"
    )


# -- requests: botocore's serializer -> our router and parser --------------------------------


def _request(params: dict[str, Any]) -> HttpRequest:
    request_dict = create_serializer("rest-json").serialize_to_request(params, INVOKE)
    prepare_request_dict(request_dict, "http://localhost:4566")
    prepared = create_request_object(request_dict).prepare()
    url = urlsplit(prepared.url)
    headers = {
        key.lower(): value.decode("latin-1") if isinstance(value, bytes) else str(value)
        for key, value in prepared.headers.items()
    }
    body = prepared.body or b""
    return HttpRequest(
        method=prepared.method,
        path=url.path,
        query_string=url.query,
        headers=headers,
        body=body.encode() if isinstance(body, str) else bytes(body),
        host=url.netloc,
    )


def test_invoke_request_body_is_the_raw_event() -> None:
    context = base64.b64encode(orjson.dumps({"custom": {"k": "v"}})).decode()
    params = {
        "FunctionName": "arn:aws:lambda:us-east-1:000000000000:function:my-fn",
        "Qualifier": "live",
        "InvocationType": "Event",
        "LogType": "Tail",
        "ClientContext": context,
        "Payload": EVENT,
    }
    request = _request(params)
    assert request.body == EVENT  # the event itself, not a JSON envelope
    matched = router_for(SPEC).match(request)
    assert matched is not None
    operation, uri_params = matched
    assert operation.name == "Invoke"
    parsed = parser_for("rest-json").parse(request, operation, uri_params)
    assert {k: v for k, v in parsed.items() if k != "Payload"} == {
        k: v for k, v in params.items() if k != "Payload"
    }
    assert bytes(parsed["Payload"]) == EVENT
