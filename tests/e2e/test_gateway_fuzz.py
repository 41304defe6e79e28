"""Bad input never crashes the gateway.

Hypothesis throws random methods, paths, query strings, headers (X-Amz-Target, Content-Type,
Authorization among them) and bodies at ``Gateway.handle`` in-process, once as they come and
once signed with the loopback credentials so they get past authentication into detection,
parsing and validation.  Every answer must be a success or a well-formed client error (4xx, or
501 for an operation headwater does not implement) whose body botocore-style clients can read
an error code from; never a 5xx of ours, and nothing logged as a failed request.

The targeted cases at the end pin what AWS answers for the common mistakes.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.utils import percent_encode_sequence
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from headwater.config import Settings
from headwater.gateway.app import Gateway, build_gateway
from headwater.protocol.http import HttpRequest, HttpResponse
from headwater.protocol.specs import KNOWN_SERVICES, get_spec
from headwater.services import ServiceHandle
from headwater.store import open_store

HOST = "127.0.0.1:4566"
CONTROL_REFERENCES = re.compile(rb"&#x(?:[0-8bcef]|1[0-9a-f]);")
TEST_CREDENTIALS = Credentials("test", "test")
FUZZ_SETTINGS = settings(
    max_examples=250,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


class _Failures(logging.Handler):
    """Collects what the gateway logs at ERROR: an unexpected exception is a bug."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


class Harness:
    def __init__(self, gateway: Gateway, loop: asyncio.AbstractEventLoop, failures: _Failures) -> None:
        self.gateway = gateway
        self.loop = loop
        self.failures = failures

    def send(self, request: HttpRequest) -> HttpResponse:
        # A long poll on a queue the fuzzer happened to create must not stall the run.
        return self.loop.run_until_complete(asyncio.wait_for(self.gateway.handle(request), 30))


class _AcceptingAdapter:
    """Stands in for a service headwater does not serve yet: every operation exists and
    returns an empty result, so requests for it still go through parsing, validation and
    serialization, which is what this file exercises."""

    def __getattr__(self, name: str) -> Callable[[Any, dict[str, Any]], dict[str, Any]]:
        if name.startswith("_"):
            raise AttributeError(name)
        return lambda ctx, params: {}


@pytest.fixture(scope="module")
def harness() -> Iterator[Harness]:
    failures = _Failures()
    logger = logging.getLogger("headwater")
    logger.addHandler(failures)
    loop = asyncio.new_event_loop()
    with tempfile.TemporaryDirectory(prefix="headwater-fuzz-") as tmp:
        gateway = build_gateway(Settings(data_dir=Path(tmp)), store=open_store(None))
        for name in KNOWN_SERVICES:
            if name not in gateway.services:
                gateway.add_service(ServiceHandle(name=name, adapter=_AcceptingAdapter()))
        loop.run_until_complete(gateway.startup())
        try:
            yield Harness(gateway, loop, failures)
        finally:
            loop.run_until_complete(gateway.shutdown())
            loop.close()
            logger.removeHandler(failures)


# -- what a response must look like --------------------------------------------------------------


def error_code(response: HttpResponse) -> str:
    """The error code a client reads from ``response`` (as botocore's parsers look for it)."""
    content_type = (response.header("content-type") or "").split(";")[0].strip()
    header_code = response.header("x-amzn-errortype") or response.header("x-amzn-query-error")
    if "json" in content_type:
        document = json.loads(response.body) if response.body else {}
        assert isinstance(document, dict), response.body
        code = header_code or document.get("__type") or document.get("code") or document.get("Code")
    else:
        assert "xml" in content_type, f"error with content type {content_type!r}: {response.body!r}"
        # A control character the request carried (a bucket name, a key) comes back as S3
        # writes it, a reference XML 1.0 has no place for; the rest must be well-formed.
        root = ET.fromstring(CONTROL_REFERENCES.sub(b"", response.body))
        code = root.findtext(".//{*}Code") or root.findtext(".//Code")
    assert code, f"no error code in {response.status} {response.body!r}"
    # "Code;Sender" (x-amzn-query-error) and "Code:namespace" (x-amzn-ErrorType) carry extras.
    return str(code).split(";")[0].split(":")[0]


def check(harness: Harness, request: HttpRequest) -> HttpResponse:
    before = len(harness.failures.records)
    response = harness.send(request)
    logged = harness.failures.records[before:]
    assert not logged, f"{request!r} logged {[r.getMessage() for r in logged]}"
    assert response.status < 500 or response.status == 501, (request, response)
    if response.status >= 400:
        error_code(response)
    return response


# -- strategies ------------------------------------------------------------------------------------

TARGETS = [
    "AmazonSQS.SendMessage",
    "AmazonSQS.ReceiveMessage",
    "AmazonSQS.CreateQueue",
    "AmazonSQS.ListQueues",
    "AmazonSQS.DeleteMessageBatch",
    "AmazonSQS.",
    "AmazonSQS.NoSuchOperation",
    "AWSStepFunctions.StartExecution",
    "AWSEvents.PutEvents",
    "Kinesis_20131202.PutRecord",
    ".",
    "NoDot",
    "Unknown.Thing",
]
CONTENT_TYPES = [
    "application/x-amz-json-1.0",
    "application/x-amz-json-1.1",
    "application/json",
    "application/x-www-form-urlencoded",
    "application/x-www-form-urlencoded; charset=utf-8",
    "application/xml",
    "text/plain",
    "multipart/form-data; boundary=x",
    "",
]
PATHS = [
    "/",
    "/000000000000/queue",
    "/2015-03-31/functions/fn/invocations",
    "/2015-03-31/functions/",
    "/2015-03-31/event-source-mappings/",
    "/bucket",
    "/bucket/key/with%20space",
    "/bucket?uploads",
    "/v1/pipes/p",
    "/%",
    "/%zz/..//./",
]
SIGNING_NAMES = ["sqs", "states", "events", "kinesis", "s3", "lambda", "cloudformation", "pipes"]
ACTIONS = ["SendMessage", "ListQueues", "ListStacks", "CreateStack", "DescribeStacks", "Nope", ""]

# Header text as an ASGI server hands it over: latin-1 decoded bytes.
latin1 = st.text(st.characters(min_codepoint=32, max_codepoint=255), max_size=40)
url_text = st.text(
    st.sampled_from("abcxyzABC0129-_.~/%+=&;:@!$'()*,[]ü日 "), max_size=40
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)
SQS_MEMBERS = [
    "QueueUrl", "QueueName", "MessageBody", "Entries", "Attributes", "MaxNumberOfMessages",
    "WaitTimeSeconds", "VisibilityTimeout", "ReceiptHandle", "DelaySeconds", "MessageAttributes",
    "AttributeNames", "tags", "Id", "name", "input", "stateMachineArn",
]
json_documents = st.dictionaries(st.sampled_from(SQS_MEMBERS), json_values, max_size=5).map(
    lambda d: json.dumps(d).encode()
)
form_bodies = st.lists(
    st.tuples(st.sampled_from(["Action", "Version", "StackName", "QueueName", "Tags.member.1.Key", "x"]), url_text),
    max_size=5,
).map(lambda pairs: percent_encode_sequence(pairs).encode())
xml_bodies = st.sampled_from(
    [b"<a>", b"<?xml version='1.0'?><Delete><Object><Key>k</Key></Object></Delete>", b"<!DOCTYPE x [<!ENTITY e 'x'>]><a>&e;</a>"]
)
bodies = st.one_of(
    st.binary(max_size=200),
    json_documents,
    form_bodies,
    xml_bodies,
    st.sampled_from([b"", b"{", b"[]", b"null", b"\xff\xfe", b'{"QueueName": ' + b"[" * 5000 + b"]" * 5000 + b"}"]),
)
methods = st.sampled_from(["GET", "POST", "PUT", "DELETE", "HEAD", "PATCH", "OPTIONS"]) | st.text(
    st.characters(min_codepoint=65, max_codepoint=90), min_size=1, max_size=8
)
authorizations = st.one_of(
    latin1,
    st.sampled_from(
        [
            "AWS4-HMAC-SHA256",
            "AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/sqs/aws4_request",
            "AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=0",
            "AWS4-HMAC-SHA256 Credential=test/x/y/lambda/aws4_request, SignedHeaders=, Signature=ü",
            "AWS4-HMAC-SHA256 Credential=, =, ,,",
            "AWS test:abc",
            "Bearer x",
        ]
    ),
    st.builds(
        "AWS4-HMAC-SHA256 Credential={}/{}/{}/{}/aws4_request, SignedHeaders={}, Signature={}".format,
        st.sampled_from(["test", "nobody", ""]),
        st.sampled_from(["20240101", "x", ""]),
        st.sampled_from(["us-east-1", ""]),
        st.sampled_from(SIGNING_NAMES + ["", "nope"]),
        st.sampled_from(["host", "host;x-amz-date", "", "host;;x"]),
        latin1,
    ),
)


@st.composite
def requests(draw: st.DrawFn) -> HttpRequest:
    headers: dict[str, str] = {}
    if draw(st.booleans()):
        headers["x-amz-target"] = draw(st.sampled_from(TARGETS) | latin1)
    if draw(st.booleans()):
        headers["content-type"] = draw(st.sampled_from(CONTENT_TYPES) | latin1)
    if draw(st.booleans()):
        headers["authorization"] = draw(authorizations)
    for name in draw(st.lists(st.sampled_from(["x-amz-date", "date", "x-amz-content-sha256", "content-md5", "range", "x-amz-meta-a", "expect"]), max_size=3)):
        headers[name] = draw(latin1)
    query = draw(
        st.one_of(
            latin1,
            st.lists(st.tuples(st.sampled_from(["Action", "X-Amz-Credential", "X-Amz-Signature", "X-Amz-Algorithm", "X-Amz-Date", "X-Amz-Expires", "uploads", "prefix", "a"]), url_text | st.sampled_from(ACTIONS)), max_size=6).map(percent_encode_sequence),
        )
    )
    path = draw(st.sampled_from(PATHS) | url_text.map(lambda p: "/" + p.replace("?", "").replace("#", "")))
    return HttpRequest(
        method=draw(methods),
        path=path,
        query_string=query,
        headers=headers,
        body=draw(bodies),
        host=HOST,
    )


def signed(request: HttpRequest, service: str) -> HttpRequest:
    """``request`` signed with the loopback pair for ``service``, as botocore would sign it."""
    url = f"http://{HOST}{request.path}" + (f"?{request.query_string}" if request.query_string else "")
    headers = {k: v for k, v in request.headers.items() if k != "authorization"}
    aws = AWSRequest(method=request.method, url=url, data=request.body, headers=headers)
    signer = S3SigV4Auth if service == "s3" else SigV4Auth
    signer(TEST_CREDENTIALS, service, "us-east-1").add_auth(aws)
    out = {k.lower(): (v.decode("latin-1") if isinstance(v, bytes) else v) for k, v in aws.headers.items()}
    out["host"] = HOST
    return HttpRequest(request.method, request.path, request.query_string, out, request.body, HOST)


# -- the properties --------------------------------------------------------------------------------


@FUZZ_SETTINGS
@given(request=requests())
def test_random_requests_never_crash(harness, request):
    check(harness, request)


@FUZZ_SETTINGS
@given(request=requests(), service=st.sampled_from(SIGNING_NAMES))
def test_random_signed_requests_never_crash(harness, request, service):
    check(harness, signed(request, service))


@st.composite
def model_requests(draw: st.DrawFn) -> HttpRequest:
    """A request for a real operation of a real service, shaped the way its protocol routes it,
    with members named as its input shape names them but random values: these reach the
    parsers, the validator and the adapters rather than stopping at routing."""
    spec = get_spec(draw(st.sampled_from(KNOWN_SERVICES)))
    operation = spec.model.operation_model(draw(st.sampled_from(sorted(spec.model.operation_names))))
    members = sorted(operation.input_shape.members) if operation.input_shape else []
    members = members or ["x"]
    document = draw(st.dictionaries(st.sampled_from(members), json_values, max_size=4))
    headers: dict[str, str] = {}
    method, path, query = "POST", "/", ""
    if spec.protocol == "json":
        headers["x-amz-target"] = f"{spec.target_prefix}.{operation.name}"
        headers["content-type"] = f"application/x-amz-json-{spec.model.metadata.get('jsonVersion', '1.0')}"
        body = json.dumps(document).encode()
    elif spec.protocol == "query":
        headers["content-type"] = "application/x-www-form-urlencoded"
        pairs = [("Action", operation.name), ("Version", spec.model.api_version)]
        pairs += [(k, json.dumps(v)) for k, v in document.items()]
        body = percent_encode_sequence(pairs).encode()
    else:
        method = operation.http["method"]
        uri, _, query = operation.http["requestUri"].partition("?")
        label = draw(url_text.map(lambda t: quote(t, safe="") or "x"))
        path = re.sub(r"\{[^}]+\}", label, uri)
        # Members bound to headers and query parameters get text of any sort: timestamps,
        # integers, booleans and enums parsed out of headers are where REST parsers break.
        bound = {
            name: member.serialization
            for name, member in (operation.input_shape.members.items() if operation.input_shape else [])
            if member.serialization.get("location") in ("header", "headers", "querystring")
        }
        pairs = [(query, "")] if query else []
        for name in draw(st.lists(st.sampled_from(sorted(bound)), max_size=4, unique=True)) if bound else []:
            where = bound[name]
            value = draw(latin1 | st.sampled_from(["1", "-1", "true", "2024-01-01T00:00:00Z", "Thu, 01 Jan 1970 00:00:00 GMT", "1e400", ""]))
            if where["location"] == "querystring":
                pairs.append((where.get("name", name), value))
            else:
                headers[(where.get("name", name) + ("a" if where["location"] == "headers" else "")).lower()] = value
        query = "&".join(k if not v else f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in pairs)
        if spec.protocol == "rest-json":
            headers["content-type"] = "application/json"
            body = json.dumps(document).encode()
        else:
            body = draw(xml_bodies | st.just(b""))
    return signed(HttpRequest(method, path, query, headers, body, HOST), spec.signing_name)


@FUZZ_SETTINGS
@given(request=model_requests())
def test_random_operation_inputs_never_crash(harness, request):
    check(harness, request)


# -- targeted cases ----------------------------------------------------------------------------------


def sqs(harness: Harness, operation: str, body: bytes, content_type: str = "application/x-amz-json-1.0") -> HttpResponse:
    request = HttpRequest(
        "POST", "/", "", {"x-amz-target": f"AmazonSQS.{operation}", "content-type": content_type}, body, HOST
    )
    return check(harness, signed(request, "sqs"))


@pytest.mark.parametrize(
    "body",
    [b"{", b"not json", b"\xff\xfe\x00", b"[" * 100_000, b'{"QueueName": "a"', b"[]", b'"string"', b"3"],
)
def test_malformed_json_is_a_client_error(harness, body):
    response = sqs(harness, "CreateQueue", body)
    assert response.status == 400
    assert error_code(response)


def test_sqs_in_the_query_protocol_is_said_to_be_not_implemented(harness):
    # What an SDK release from before SQS's JSON protocol sends: a form with Action=.
    body = b"Action=CreateQueue&Version=2012-11-05&QueueName=q"
    request = HttpRequest("POST", "/", "", {"content-type": "application/x-www-form-urlencoded"},
                          body, HOST)
    response = check(harness, signed(request, "sqs"))
    assert response.status == 501
    assert error_code(response) == "NotImplemented"
    assert b"sqs:CreateQueue over the AWS query protocol" in response.body


def test_unknown_target_operation(harness):
    response = sqs(harness, "NoSuchOperation", b"{}")
    assert response.status == 400
    assert error_code(response).endswith("UnknownOperationException")


def test_unknown_target_prefix(harness):
    # What a DynamoDB client sends: the answer must be JSON, the only errors it can read.
    request = HttpRequest("POST", "/", "", {"x-amz-target": "DynamoDB_20120810.ListTables"}, b"{}", HOST)
    response = check(harness, signed(request, "dynamodb"))
    assert response.status == 400
    assert "json" in (response.header("content-type") or "")
    assert error_code(response).endswith("UnknownOperationException")


def test_missing_required_parameter(harness):
    response = sqs(harness, "CreateQueue", b"{}")
    assert response.status == 400
    assert "QueueName" in response.body.decode() or "queueName" in response.body.decode()


@pytest.mark.parametrize(
    "body",
    [
        b'{"QueueName": 5}',
        b'{"QueueName": ["a"]}',
        b'{"QueueName": {"a": 1}}',
        b'{"QueueName": "q", "Attributes": "not a map"}',
        b'{"QueueName": "q", "tags": [1, 2]}',
        b'{"QueueName": true}',
    ],
)
def test_mistyped_parameter(harness, body):
    response = sqs(harness, "CreateQueue", body)
    assert response.status == 400
    assert error_code(response)


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "", "application/x-www-form-urlencoded"])
def test_wrong_content_type_never_crashes(harness, content_type):
    response = sqs(harness, "ListQueues", b"{}", content_type)
    assert response.status < 500


def test_unsigned_request_is_refused_before_parsing(harness):
    request = HttpRequest("POST", "/", "", {"x-amz-target": "AmazonSQS.CreateQueue"}, b"{", HOST)
    response = check(harness, request)
    assert response.status == 403
    assert error_code(response) == "MissingAuthenticationToken"
