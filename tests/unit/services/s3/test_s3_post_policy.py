"""Browser POST policies: any policy document a form carries is either satisfied or refused
with S3's answer (InvalidPolicyDocument, AccessDenied, EntityTooSmall/Large), never an
unexpected exception, and the form parser takes any body."""

from __future__ import annotations

import base64
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from headwater.core.errors import ServiceError
from headwater.services.s3.post import check_policy, parse_form

NOW = 1_800_000_000.0
LATER = "2030-01-01T00:00:00.000Z"

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 10**12) | st.floats(allow_nan=False)
    | st.sampled_from(["eq", "starts-with", "content-length-range", "$key", "$bucket", "key",
                       "b", "", "x", LATER, "10", "-1"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["key", "bucket", "acl", "expiration", "conditions", "x"]), inner,
        max_size=3),
    max_leaves=12,
)


def form(policy: Any) -> dict[str, str]:
    encoded = base64.b64encode(orjson.dumps(policy)).decode()
    return {"policy": encoded, "key": "k", "x-amz-signature": "s"}


def refused(fields: dict[str, str], size: int = 5) -> ServiceError | None:
    try:
        check_policy(fields, "b", size, NOW)
    except ServiceError as error:
        return error
    return None


@settings(max_examples=400, deadline=None)
@given(conditions=_JSON, expiration=_JSON, size=st.integers(0, 100))
def test_any_policy_is_satisfied_or_refused_with_s3s_answer(
    conditions: Any, expiration: Any, size: int
) -> None:
    for policy in ({"expiration": LATER, "conditions": conditions},
                   {"expiration": expiration, "conditions": [{"key": "k"}]}, conditions):
        error = refused(form(policy), size)
        if error is not None:
            assert error.code in ("InvalidPolicyDocument", "AccessDenied", "EntityTooSmall",
                                  "EntityTooLarge"), error.code
            assert error.status in (400, 403)


@pytest.mark.parametrize("condition", [
    ["eq"], ["eq", "$key"], ["starts-with", 5, "k"], ["eq", "$key", 5], ["nope", "$key", "k"],
    ["content-length-range", "a", 10], ["content-length-range", 1], 5, "eq", None, [],
])
def test_a_condition_s3_cannot_read_fails(condition: Any) -> None:
    error = refused(form({"expiration": LATER, "conditions": [{"key": "k"}, condition]}))
    assert error is not None and (error.code, error.status) == ("AccessDenied", 403)
    assert error.message.startswith("Invalid according to Policy: Policy Condition failed: ")


def test_a_simple_condition_needs_a_string_value() -> None:
    error = refused(form({"expiration": LATER, "conditions": [{"key": 5}]}))
    assert error is not None and (error.code, error.message) == (
        "InvalidPolicyDocument", "Invalid Policy: Invalid Simple-Condition: Value Must Be A String")


@pytest.mark.parametrize("condition", [{"key": "k", "bucket": "b"}, {}])
def test_a_simple_condition_names_one_field(condition: dict[str, str]) -> None:
    error = refused(form({"expiration": LATER, "conditions": [condition]}))
    one = ("Invalid Policy: Invalid Simple-Condition: Simple-Conditions must have exactly one "
           "property specified.")
    assert error is not None and (error.code, error.message) == ("InvalidPolicyDocument", one)


@pytest.mark.parametrize("policy", [
    {"expiration": LATER, "conditions": "key"},
    {"expiration": "0001-01-01T00:00:00"},
    {"expiration": "9999-12-31T23:59:59.999Z", "conditions": {"key": "k"}},
])
def test_a_policy_s3_cannot_read_is_an_invalid_document(policy: Any) -> None:
    error = refused(form(policy))
    assert error is not None and error.code in ("InvalidPolicyDocument", "AccessDenied")


@settings(max_examples=300, deadline=None)
@given(body=st.binary(max_size=200), boundary=st.text(max_size=8))
def test_any_form_body_parses_or_is_malformed(body: bytes, boundary: str) -> None:
    try:
        fields, data, name = parse_form(body, f"multipart/form-data; boundary={boundary}")
    except ServiceError as error:
        assert error.code == "MalformedPOSTRequest"
        return
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in fields.items())
    assert (data is None and name == "") or isinstance(data, bytes)
