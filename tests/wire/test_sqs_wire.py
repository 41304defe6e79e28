"""SQS through both halves of the wire, with the values SQS really produces.

``test_model_roundtrip.py`` covers every operation with sample values; this lane covers what is
particular to SQS: it speaks the json protocol but is ``awsQueryCompatible``, so every error
must reach boto3 under the legacy query code its users catch (``QueueDoesNotExist`` arrives as
``AWS.SimpleQueueService.NonExistentQueue``), and message attributes carry binary values
(base64 in JSON) both ways.

AWS page: https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-json-faqs.html
"""

from __future__ import annotations

from typing import Any

import boto3
import orjson
import pytest
from botocore.awsrequest import HeadersDict
from botocore.parsers import create_parser
from botocore.serialize import create_serializer

from headwater.core.errors import ServiceError
from headwater.protocol.http import HttpRequest
from headwater.protocol.parse import parser_for
from headwater.protocol.serialize import serializer_for
from headwater.protocol.specs import get_spec
from headwater.services.sqs.errors import QUERY_ERROR_CODES

SPEC = get_spec("sqs")
ATTRIBUTES = {
    "text": {"DataType": "String", "StringValue": "café ☕"},
    "count": {"DataType": "Number", "StringValue": "42"},
    "blob": {"DataType": "Binary", "BinaryValue": bytes(range(256))},
}


def _botocore_reads(response: Any, shape: Any, operation: str) -> dict[str, Any]:
    raw = {
        "status_code": response.status,
        "headers": HeadersDict(response.headers),
        "body": response.body,
        "context": {"operation_name": operation},
    }
    parsed: dict[str, Any] = create_parser("json").parse(raw, shape)
    return parsed


@pytest.fixture(scope="module")
def client() -> Any:
    # Only for its exception classes: no request is sent.
    return boto3.client(
        "sqs", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )


@pytest.mark.parametrize("shape", sorted(SPEC.model.error_shapes, key=lambda s: s.name))
def test_every_modeled_error_reaches_boto3_as_its_exception(shape: Any, client: Any) -> None:
    operation = SPEC.model.operation_model("SendMessage")
    failure = ServiceError(shape.name, "it failed")
    response = serializer_for(SPEC, QUERY_ERROR_CODES).serialize_error(operation, failure, "r")
    parsed = _botocore_reads(response, operation.output_shape, "SendMessage")
    assert parsed["Error"]["Code"] == QUERY_ERROR_CODES.get(shape.name, shape.name)
    assert parsed["Error"]["Message"] == "it failed"
    # What users write: ``except sqs.exceptions.QueueDoesNotExist``.  botocore picks the class
    # by the shape name it keeps as QueryErrorCode (its SQS handler), else by Code.
    found = parsed["Error"].get("QueryErrorCode") or parsed["Error"]["Code"]
    assert client.exceptions.from_code(found).__name__ == shape.name


def test_received_message_attributes_round_trip() -> None:
    operation = SPEC.model.operation_model("ReceiveMessage")
    message = {
        "MessageId": "5fea7756-0ea4-451a-a703-a558b933e274",
        "ReceiptHandle": "AQEB+/handle==",
        "MD5OfBody": "fafb00f5732ab283681e124bf8747ed1",
        "Body": '{"x": "<&>"}',
        "Attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1700000000000"},
        "MD5OfMessageAttributes": "0123456789abcdef0123456789abcdef",
        "MessageAttributes": ATTRIBUTES,
    }
    response = serializer_for(SPEC, QUERY_ERROR_CODES).serialize(
        operation, {"Messages": [message]}, "r"
    )
    wire = orjson.loads(response.body)["Messages"][0]["MessageAttributes"]["blob"]
    assert isinstance(wire["BinaryValue"], str)  # base64 text in JSON
    parsed = _botocore_reads(response, operation.output_shape, "ReceiveMessage")
    assert parsed["Messages"] == [message]


def test_sent_batch_with_binary_attributes_is_read_back() -> None:
    operation = SPEC.model.operation_model("SendMessageBatch")
    params = {
        "QueueUrl": "http://localhost:4566/000000000000/jobs",
        "Entries": [
            {"Id": "a", "MessageBody": "first", "MessageAttributes": ATTRIBUTES},
            {"Id": "b", "MessageBody": "second", "DelaySeconds": 5},
        ],
    }
    sent = create_serializer("json").serialize_to_request(params, operation)
    body = sent["body"]
    request = HttpRequest(
        method="POST",
        path="/",
        query_string="",
        headers={k.lower(): v for k, v in sent["headers"].items()},
        body=body if isinstance(body, bytes) else body.encode(),
    )
    parsed = parser_for("json").parse(request, operation, {})
    assert parsed == params
