"""Every operation of every served service, with inputs of the right shape and any values,
gets an answer the real service gives.

test_gateway_fuzz.py throws random bytes at the gateway; few of them get past parsing.  Here
hypothesis builds each operation's input from its botocore shape (structures with their
required members and a few optional ones, lists, maps, enums and their near misses, numbers
far out of range, odd timestamps, any text), botocore's own serializer turns it into the
request a client would send, and it is signed with the loopback pair: so the requests reach
the services' own validators (S3's lifecycle, CORS and notification rules, multipart
completion, conditions and checksums; SQS's attributes and batches; Lambda's function
configurations; Step Functions' definitions and executions), which is where a value nobody
thought of turns into a crash.

Each answer must be a success or a well-formed client error (or a 501 for what is not
served), never a 5xx of ours, and nothing may be logged as a failed request.  Before each
example the resources the inputs mostly name exist (an S3 bucket and object, an SQS queue, a
Lambda function, a Step Functions state machine), so operations on them get past "not found".

``HEADWATER_SHAPE_FUZZ_EXAMPLES`` sets the examples per operation (15 by default).
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import os
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import pytest
from botocore.exceptions import ParamValidationError
from botocore.model import OperationModel, Shape
from botocore.serialize import create_serializer
from botocore.utils import percent_encode_sequence
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from lambda_zip import zip_app
from test_gateway_fuzz import HOST, Harness, check, harness, signed

from headwater.protocol.http import HttpRequest
from headwater.protocol.specs import get_spec

__all__ = ["harness"]  # the fixture, shared with test_gateway_fuzz.py

EXAMPLES = int(os.environ.get("HEADWATER_SHAPE_FUZZ_EXAMPLES", "15"))
ACCOUNT = "000000000000"
NAME = "shape-fuzz"
KEY = "dir/object.txt"
SQS_URL = f"http://{HOST}/{ACCOUNT}/{NAME}"
STATE_MACHINE = f"arn:aws:states:us-east-1:{ACCOUNT}:stateMachine:{NAME}"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/{NAME}"
PASS_DEFINITION = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})

# Text as clients send it: mostly plain, sometimes anything Unicode has (surrogates aside,
# which no client can encode).
text = st.one_of(
    st.text(st.sampled_from("abcXYZ019-_./*:= "), max_size=12),
    st.text(st.characters(blacklist_categories=["Cs"]), max_size=12),
    st.sampled_from(["", "0", "-1", "true", "null", "${filename}", "a" * 1100]),
)
numbers = st.one_of(
    st.integers(min_value=-(2**40), max_value=2**40),
    st.sampled_from([0, 1, -1, 2**31 - 1, 2**31, 2**63 - 1, -(2**63)]),
)
timestamps = st.datetimes(
    min_value=datetime.datetime(1, 1, 1),
    max_value=datetime.datetime(9999, 12, 31),
    timezones=st.just(datetime.UTC),
)


@dataclass(frozen=True)
class Target:
    """A service under fuzzing: what its inputs mostly name, and what must exist first."""

    service: str
    # Members whose values come mostly from here (names of existing resources).
    likely: dict[str, st.SearchStrategy[Any]] = field(default_factory=dict)
    # Operations whose inputs get no such help (Invoke would run the function).
    aimless: frozenset[str] = frozenset()

    @property
    def spec(self) -> Any:
        return get_spec(self.service)

    def prepare(self, harness: Harness) -> None:
        """Make what the examples aim at exist (an earlier example may have removed it)."""

    def call(self, harness: Harness, operation: str, params: dict[str, Any]) -> Any:
        model = self.spec.model.operation_model(operation)
        return check(harness, request_for(self, model, params, with_md5=True))


class S3(Target):
    def prepare(self, harness: Harness) -> None:
        for method, path, query, body in (
            ("PUT", f"/{NAME}", "", b""),
            ("DELETE", f"/{NAME}", "publicAccessBlock", b""),
            ("PUT", f"/{NAME}/{quote(KEY)}", "", b"object body"),
        ):
            check(harness, signed(HttpRequest(method, path, query, {}, body, HOST), "s3"))


class SQS(Target):
    def prepare(self, harness: Harness) -> None:
        self.call(harness, "CreateQueue", {"QueueName": NAME})
        # An example may have set a long poll on the queue; receives must not wait.
        self.call(harness, "SetQueueAttributes", {
            "QueueUrl": SQS_URL, "Attributes": {"ReceiveMessageWaitTimeSeconds": "0"}})


class Lambda(Target):
    def prepare(self, harness: Harness) -> None:
        self.call(harness, "CreateFunction", {
            "FunctionName": NAME, "Runtime": "python3.12", "Role": ROLE,
            "Handler": "app.handler",
            "Code": {"ZipFile": zip_app("def handler(event, context):\n    return event\n")}})


class StepFunctions(Target):
    def prepare(self, harness: Harness) -> None:
        self.call(harness, "CreateStateMachine", {
            "name": NAME, "definition": PASS_DEFINITION, "roleArn": ROLE})


TARGETS = {
    "s3": S3("s3", {
        "Bucket": st.just(NAME),
        "Key": st.sampled_from([KEY, "new/key"]),
        "ExpectedBucketOwner": st.just(ACCOUNT),
    }),
    "sqs": SQS("sqs", {
        "QueueUrl": st.just(SQS_URL),
        "QueueName": st.just(NAME),
        # A long poll would hold every example up for as long as it asks.
        "WaitTimeSeconds": st.sampled_from([0, -1, 21]),
    }),
    "lambda": Lambda("lambda", {"FunctionName": st.just(NAME), "Role": st.just(ROLE)},
                     aimless=frozenset({"Invoke", "InvokeAsync", "InvokeWithResponseStream"})),
    "stepfunctions": StepFunctions("stepfunctions", {
        "stateMachineArn": st.just(STATE_MACHINE),
        "definition": st.just(PASS_DEFINITION),
        "roleArn": st.just(ROLE),
    }),
}


def values(target: Target, shape: Shape, depth: int = 0) -> st.SearchStrategy[Any]:
    """Any value of ``shape``'s type (not of its constraints: those are what is tested)."""
    kind = shape.type_name
    if kind == "structure":
        return st.just({}) if depth > 4 else structures(target, shape, depth)
    if kind == "list":
        return st.lists(values(target, shape.member, depth + 1), max_size=3)
    if kind == "map":
        return st.dictionaries(values(target, shape.key, depth + 1),
                               values(target, shape.value, depth + 1), max_size=3)
    if kind == "string":
        enum = shape.enum
        return st.sampled_from(enum) | text if enum else text
    if kind in ("integer", "long"):
        return numbers
    if kind == "boolean":
        return st.booleans()
    if kind in ("float", "double"):
        return st.floats(allow_nan=False, allow_infinity=False)
    if kind == "timestamp":
        return timestamps
    if kind == "blob":
        return st.binary(max_size=64)
    raise AssertionError(f"no strategy for {kind}")


@st.composite
def structures(draw: st.DrawFn, target: Target, shape: Shape, depth: int,
               aimed: bool = True) -> dict[str, Any]:
    """The required members and a few optional ones: with all of an operation's optional
    members at once (five checksums, an expected owner, conditions ...) nearly every request
    would fail on the first of them, and the checks behind it would never be reached."""
    members = shape.members
    required = [name for name in shape.required_members if name in members]
    optional = sorted(set(members) - set(required))
    chosen = draw(st.lists(st.sampled_from(optional), max_size=3, unique=True)) if optional else []
    out = {}
    for name in required + chosen:
        member = members[name]
        strategy = values(target, member, depth + 1)
        likely = target.likely.get(name)
        if aimed and likely is not None and member.type_name not in ("structure", "list", "map"):
            strategy = likely | strategy
        out[name] = draw(strategy)
    return out


def request_for(target: Target, operation: OperationModel, params: dict[str, Any],
                with_md5: bool) -> HttpRequest:
    """What botocore sends for ``params``, unvalidated, signed with the loopback pair."""
    spec = target.spec
    serializer = create_serializer(spec.protocol, include_validation=False)
    try:
        serialized = serializer.serialize_to_request(params, operation)
    except (ParamValidationError, ValueError, TypeError, KeyError, UnicodeError):
        assume(False)  # botocore itself cannot express these values
        raise
    # An operation's own part of the query ("?acl", "?uploads") comes in the path.
    path, _, own_query = serialized["url_path"].partition("?")
    # Labels botocore left as they are (an empty key, "..") make paths no client sends.
    assume(path.startswith("/") and "//" not in path)
    query = serialized["query_string"]
    query_string = percent_encode_sequence(query) if isinstance(query, dict) else str(query or "")
    query_string = "&".join(part for part in (own_query, query_string) if part)
    body = serialized["body"]
    headers = {k.lower(): str(v) for k, v in serialized["headers"].items()}
    if isinstance(body, str):
        body = body.encode("utf-8")
    elif not isinstance(body, bytes):
        body = b"" if body is None else bytes(body)
    headers = {k: v for k, v in headers.items() if _latin1(k) and _latin1(v)}
    if body and with_md5 and target.service == "s3":
        # Several S3 operations refuse a body without Content-MD5 (or a checksum), which would
        # stop the request before its document is read.
        headers["content-md5"] = base64.b64encode(hashlib.md5(body).digest()).decode()
    request = HttpRequest(serialized["method"], path, query_string, headers, body, HOST)
    return signed(request, spec.signing_name)


def _latin1(value: str) -> bool:
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return "\r" not in value and "\n" not in value


CASES = [(key, name) for key, target in TARGETS.items()
         for name in sorted(target.spec.model.operation_names)]


@pytest.mark.parametrize(("service", "name"), CASES)
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_any_input_of_the_right_shape_gets_an_answer_the_service_gives(
    harness: Harness, service: str, name: str, data: st.DataObject
) -> None:
    target = TARGETS[service]
    operation = target.spec.model.operation_model(name)
    shape = operation.input_shape
    aimed = name not in target.aimless
    params = data.draw(structures(target, shape, 0, aimed)) if shape is not None else {}
    with_md5 = data.draw(st.sampled_from([True, True, True, False]), label="content-md5")
    target.prepare(harness)
    check(harness, request_for(target, operation, params, with_md5))
