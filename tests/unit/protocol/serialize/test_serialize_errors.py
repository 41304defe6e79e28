"""Errors and response envelopes as each protocol family sends them, read back by botocore."""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree

import orjson
from botocore.awsrequest import HeadersDict
from botocore.parsers import create_parser

from headwater.core.errors import ServiceError
from headwater.protocol.http import HttpResponse
from headwater.protocol.serialize import serializer_for
from headwater.protocol.specs import get_spec


def botocore_reads(service: str, response: HttpResponse, shape: Any = None) -> dict[str, Any]:
    raw = {
        "status_code": response.status,
        "headers": HeadersDict(response.headers),
        "body": response.body,
        "context": {},
    }
    return create_parser(get_spec(service).protocol).parse(raw, shape)


def error(service: str, failure: ServiceError, **kwargs: Any) -> HttpResponse:
    return serializer_for(get_spec(service), **kwargs).serialize_error(None, failure, "req-42")


# -- query (CloudFormation) -----------------------------------------------------------------


def test_query_error_document_uses_the_modeled_code() -> None:
    response = error("cloudformation", ServiceError("ChangeSetNotFoundException", "gone", 404))
    assert response.status == 404
    assert response.header("x-amzn-RequestId") == "req-42"
    root = ElementTree.fromstring(response.body)
    assert root.tag == "{http://cloudformation.amazonaws.com/doc/2010-05-15/}ErrorResponse"
    parsed = botocore_reads("cloudformation", response)
    assert parsed["Error"] == {"Type": "Sender", "Code": "ChangeSetNotFound", "Message": "gone"}
    assert parsed["ResponseMetadata"]["RequestId"] == "req-42"


def test_query_receiver_fault() -> None:
    failure = ServiceError("InternalFailure", "oops", 500, sender_fault=False)
    parsed = botocore_reads("cloudformation", error("cloudformation", failure))
    assert parsed["Error"]["Type"] == "Receiver"


def test_query_result_is_wrapped_with_metadata() -> None:
    spec = get_spec("cloudformation")
    op = spec.model.operation_model("CreateStack")
    response = serializer_for(spec).serialize(op, {"StackId": "arn:stack/1"}, "req-7")
    body = response.body.decode()
    assert "<CreateStackResponse xmlns=" in body and "<CreateStackResult>" in body
    parsed = botocore_reads("cloudformation", response, op.output_shape)
    assert parsed["StackId"] == "arn:stack/1"
    assert parsed["ResponseMetadata"]["RequestId"] == "req-7"


# -- rest-xml (S3) --------------------------------------------------------------------------


def test_s3_error_document_with_fields_and_ids() -> None:
    failure = ServiceError(
        "NoSuchKey", "The specified key does not exist.", 404, fields={"Key": "cat.jpg"}
    )
    response = error("s3", failure)
    root = ElementTree.fromstring(response.body)
    assert root.tag == "Error"
    assert [child.tag for child in root] == ["Code", "Message", "Key", "RequestId", "HostId"]
    assert response.header("x-amz-request-id") == "req-42"
    assert response.header("x-amz-id-2")
    parsed = botocore_reads("s3", response)
    assert parsed["Error"] == {
        "Code": "NoSuchKey",
        "Message": "The specified key does not exist.",
        "Key": "cat.jpg",
    }
    assert parsed["ResponseMetadata"]["RequestId"] == "req-42"


def test_error_headers_and_status_are_honoured() -> None:
    failure = ServiceError(
        "MethodNotAllowed", "The specified method is not allowed.", 405, headers={"Allow": "GET"}
    )
    response = error("s3", failure)
    assert (response.status, response.header("Allow")) == (405, "GET")


def test_s3_output_document_root_and_namespace() -> None:
    spec = get_spec("s3")
    op = spec.model.operation_model("ListObjectsV2")
    result = {"Name": "photos", "KeyCount": 1, "Contents": [{"Key": "a <b>.txt", "Size": 3}]}
    response = serializer_for(spec).serialize(op, result, "req-1")
    root = ElementTree.fromstring(response.body)
    assert root.tag == "{http://s3.amazonaws.com/doc/2006-03-01/}ListBucketResult"
    parsed = botocore_reads("s3", response, op.output_shape)
    assert parsed["Contents"] == [{"Key": "a <b>.txt", "Size": 3}]


def test_s3_get_bucket_location_is_the_bare_element() -> None:
    spec = get_spec("s3")
    op = spec.model.operation_model("GetBucketLocation")
    response = serializer_for(spec).serialize(op, {"LocationConstraint": "eu-west-1"}, "r")
    root = ElementTree.fromstring(response.body)
    assert (root.tag.rpartition("}")[2], root.text) == ("LocationConstraint", "eu-west-1")


def test_s3_streaming_body_and_headers() -> None:
    spec = get_spec("s3")
    op = spec.model.operation_model("GetObject")
    result = {"Body": b"\x00raw", "ContentType": "image/png", "Metadata": {"owner": "me"}}
    response = serializer_for(spec).serialize(op, result, "r")
    assert response.body == b"\x00raw"
    assert response.header("Content-Type") == "image/png"
    assert response.header("x-amz-meta-owner") == "me"


# -- rest-json (Lambda, Pipes) --------------------------------------------------------------


def test_rest_json_error_type_header_and_modeled_message_key() -> None:
    failure = ServiceError(
        "ResourceNotFoundException", "Function not found", 404, fields={"Type": "User"}
    )
    response = error("lambda", failure)
    assert response.status == 404
    assert response.header("x-amzn-ErrorType") == "ResourceNotFoundException"
    assert response.header("x-amzn-RequestId") == "req-42"
    # Lambda's error shapes spell the member "Message"; botocore reads either spelling.
    assert orjson.loads(response.body) == {"Type": "User", "Message": "Function not found"}
    parsed = botocore_reads("lambda", response)
    assert parsed["Error"] == {"Code": "ResourceNotFoundException", "Message": "Function not found"}


def test_rest_json_lower_case_message_where_the_model_says_so() -> None:
    response = error("pipes", ServiceError("NotFoundException", "no pipe", 404))
    assert orjson.loads(response.body) == {"message": "no pipe"}


# -- json (SQS, query compatible) ------------------------------------------------------------


def test_json_query_compatible_error_code() -> None:
    codes = {"QueueDoesNotExist": "AWS.SimpleQueueService.NonExistentQueue"}
    failure = ServiceError("QueueDoesNotExist", "The specified queue does not exist.")
    response = error("sqs", failure, query_error_codes=codes)
    assert response.header("x-amzn-query-error") == "AWS.SimpleQueueService.NonExistentQueue;Sender"
    parsed = botocore_reads("sqs", response)
    assert parsed["Error"]["Code"] == "AWS.SimpleQueueService.NonExistentQueue"
    assert parsed["Error"]["Message"] == "The specified queue does not exist."
