"""Unreadable requests become the ServiceError AWS answers with, never an uncaught exception."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from headwater.core.errors import ServiceError
from headwater.protocol.http import HttpRequest
from headwater.protocol.parse import parser_for
from headwater.protocol.parse.rest_xml import MALFORMED_XML
from headwater.protocol.rest_router import router_for
from headwater.protocol.specs import get_spec


def parse(service: str, method: str, target: str, body: bytes = b"", **headers: str) -> Any:
    spec = get_spec(service)
    path, _, query = target.partition("?")
    request = HttpRequest(
        method, path, query, {k.replace("_", "-"): v for k, v in headers.items()}, body
    )
    if spec.protocol in ("rest-json", "rest-xml"):
        matched = router_for(spec).match(request)
        assert matched is not None
        operation, labels = matched
    elif spec.protocol == "query":
        operation, labels = spec.model.operation_model(headers.get("action", "CreateStack")), {}
    else:
        operation, labels = spec.model.operation_model(headers["x_amz_target"]), {}
    return parser_for(spec.protocol).parse(request, operation, labels)


@contextmanager
def fails(code: str, status: int = 400) -> Iterator[None]:
    with pytest.raises(ServiceError) as info:
        yield
    assert (info.value.code, info.value.status) == (code, status), repr(info.value)


# -- rest-xml (S3) ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"<Tagging><TagSet>",
        b"not xml at all",
        b"<Tagging></Tag>",
        # Entity tricks are refused before any parsing (billion laughs, external entities).
        b'<?xml version="1.0"?><!DOCTYPE t [<!ENTITY a "aaaa">]><Tagging>&a;</Tagging>',
        b'<!DOCTYPE t SYSTEM "file:///etc/passwd"><Tagging/>',
        b'<Tagging><!ENTITY x "y"></Tagging>',
    ],
)
def test_s3_malformed_xml(body: bytes) -> None:
    with pytest.raises(ServiceError) as info:
        parse("s3", "PUT", "/bucket?tagging", body)
    assert (info.value.code, info.value.status) == ("MalformedXML", 400)
    assert info.value.message == MALFORMED_XML


def test_s3_well_formed_xml_parses() -> None:
    body = b"<Tagging><TagSet><Tag><Key>k</Key><Value>v &amp; w</Value></Tag></TagSet></Tagging>"
    parsed = parse("s3", "PUT", "/bucket?tagging", body)
    assert parsed["Tagging"] == {"TagSet": [{"Key": "k", "Value": "v & w"}]}


def test_s3_unreadable_typed_value_is_invalid_argument() -> None:
    with fails("InvalidArgument"):
        parse("s3", "PUT", "/bucket/key?partNumber=one&uploadId=u")


@pytest.mark.parametrize("header", ["if_modified_since", "if_unmodified_since"])
def test_s3_unreadable_conditional_date_is_no_condition(header: str) -> None:
    parsed = parse("s3", "GET", "/bucket/key", **{header: "yesterday-ish"})
    assert parsed.get("IfModifiedSince") is None and parsed.get("IfUnmodifiedSince") is None
    readable = parse("s3", "GET", "/bucket/key", **{header: "Wed, 21 Oct 2015 07:28:00 GMT"})
    assert any(isinstance(value, datetime) for value in readable.values())


# -- rest-json (Lambda) ---------------------------------------------------------------------


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b'"text"', b"\xff\xfe"])
def test_rest_json_malformed_body(body: bytes) -> None:
    with fails("SerializationException"):
        parse("lambda", "POST", "/2015-03-31/functions", body)


def test_rest_json_wrong_member_type() -> None:
    with fails("SerializationException"):
        parse("lambda", "POST", "/2015-03-31/functions", b'{"FunctionName": 12}')
    with fails("SerializationException"):
        parse("lambda", "POST", "/2015-03-31/functions", b'{"Code": {"ZipFile": "!!notbase64"}}')


def test_rest_json_unreadable_query_value() -> None:
    with fails("SerializationException"):
        parse("lambda", "GET", "/2015-03-31/functions/?MaxItems=lots")


# -- json (SQS) -----------------------------------------------------------------------------


@pytest.mark.parametrize("body", [b"{", b"[]", b"nul"])
def test_json_malformed_body(body: bytes) -> None:
    with fails("SerializationException"):
        parse("sqs", "POST", "/", body, x_amz_target="SendMessage")


# -- query (CloudFormation) -----------------------------------------------------------------


def test_query_unreadable_number_is_invalid_parameter_value() -> None:
    with fails("InvalidParameterValue"):
        parse("cloudformation", "POST", "/", b"Action=CreateStack&StackName=s&TimeoutInMinutes=ten")


def test_query_bad_list_index_is_invalid_parameter_value() -> None:
    body = b"Action=CreateStack&StackName=s&Parameters.member.first.ParameterKey=k"
    with fails("InvalidParameterValue"):
        parse("cloudformation", "POST", "/", body)


def test_query_scalar_given_as_structure_is_invalid_parameter_value() -> None:
    with fails("InvalidParameterValue"):
        parse("cloudformation", "POST", "/", b"Action=CreateStack&StackName.x=s")


def test_query_body_that_is_not_utf8_is_malformed_input() -> None:
    with fails("MalformedInput"):
        parse("cloudformation", "POST", "/", b"Action=CreateStack&StackName=\xff\xfe")


def test_query_nested_values_parse() -> None:
    body = (
        b"Action=CreateStack&StackName=s&TimeoutInMinutes=5&DisableRollback=true"
        b"&Parameters.member.2.ParameterKey=b&Parameters.member.1.ParameterKey=a"
        b"&Tags.member.1.Key=k&Tags.member.1.Value=v%20w&Capabilities.member.1=CAPABILITY_IAM"
    )
    parsed = parse("cloudformation", "POST", "/", body)
    assert parsed == {
        "StackName": "s",
        "TimeoutInMinutes": 5,
        "DisableRollback": True,
        "Parameters": [{"ParameterKey": "a"}, {"ParameterKey": "b"}],
        "Tags": [{"Key": "k", "Value": "v w"}],
        "Capabilities": ["CAPABILITY_IAM"],
    }


# -- anything at all ------------------------------------------------------------------------

_XMLISH = st.text(alphabet="<>/=\"'&;!?[]-abcTagSetKeyValue \n", max_size=120)
_FORMISH = st.text(alphabet="=&.%+ 0123456789abcmemberParametersTagsKeyValue", max_size=120)


@settings(max_examples=200, deadline=None)
@given(body=st.one_of(st.binary(max_size=120), _XMLISH.map(str.encode)))
def test_any_s3_body_parses_or_fails_as_a_service_error(body: bytes) -> None:
    try:
        assert isinstance(parse("s3", "PUT", "/bucket?tagging", body), dict)
    except ServiceError as error:
        assert error.status == 400


@settings(max_examples=200, deadline=None)
@given(body=st.one_of(st.binary(max_size=120), _FORMISH.map(str.encode)))
def test_any_query_body_parses_or_fails_as_a_service_error(body: bytes) -> None:
    try:
        assert isinstance(parse("cloudformation", "POST", "/", b"StackName=s&" + body), dict)
    except ServiceError as error:
        assert error.status == 400


@settings(max_examples=200, deadline=None)
@given(body=st.binary(max_size=120), query=_FORMISH)
def test_any_rest_json_request_parses_or_fails_as_a_service_error(body: bytes, query: str) -> None:
    try:
        result = parse("lambda", "POST", f"/2015-03-31/functions/f/invocations?{query}", body)
        assert isinstance(result, dict)
    except ServiceError as error:
        assert error.status == 400
