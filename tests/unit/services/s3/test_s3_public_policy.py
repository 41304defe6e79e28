"""S3's meaning of a public bucket policy (GetBucketPolicyStatus), statement by statement."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from headwater.core.errors import ServiceError
from headwater.services.s3 import buckets
from headwater.services.s3.public import is_public

ANYONE_READS = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::b/*"}


def policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def with_condition(condition: dict[str, Any]) -> dict[str, Any]:
    return {**ANYONE_READS, "Condition": condition}


@pytest.mark.parametrize(("statement", "public"), [
    (ANYONE_READS, True),
    ({**ANYONE_READS, "Principal": {"AWS": "*"}}, True),
    ({**ANYONE_READS, "Principal": {"AWS": ["arn:aws:iam::111122223333:root", "*"]}}, True),
    ({**ANYONE_READS, "Principal": {"AWS": "arn:aws:iam::111122223333:root"}}, False),
    ({**ANYONE_READS, "Principal": {"Service": "logging.s3.amazonaws.com"}}, False),
    ({**ANYONE_READS, "Effect": "Deny"}, False),
    ({key: v for key, v in ANYONE_READS.items() if key != "Principal"}
     | {"NotPrincipal": {"AWS": "arn:aws:iam::111122223333:root"}}, True),
    # Conditions that pin the request to fixed values make a wildcard principal non-public ...
    (with_condition({"IpAddress": {"aws:SourceIp": ["192.0.2.0/24"]}}), False),
    (with_condition({"StringEquals": {"aws:SourceAccount": "111122223333"}}), False),
    (with_condition({"ArnLike": {"aws:SourceArn": "arn:aws:sqs:us-east-1:111122223333:q"}}), False),
    (with_condition({"StringEqualsIfExists": {"AWS:SourceVpce": "vpce-1a2b3c4d"}}), False),
    (with_condition({"ForAnyValue:StringEquals": {"aws:SourceVpc": ["vpc-111bbb22"]}}), False),
    # ... and those that do not, do not.
    (with_condition({"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}), True),
    (with_condition({"NotIpAddress": {"aws:SourceIp": "192.0.2.0/24"}}), True),
    (with_condition({"StringNotEquals": {"aws:SourceAccount": "111122223333"}}), True),
    (with_condition({"StringLike": {"aws:SourceArn": "arn:aws:sqs:*"}}), True),
    (with_condition({"StringLike": {"aws:userid": "AROLEID:*"}}), True),
    (with_condition({"Null": {"aws:SourceArn": "false"}}), True),
    (with_condition({"Bool": {"aws:SecureTransport": "true"}}), True),
    (with_condition({"StringEquals": {"s3:prefix": "home/"}}), True),
])
def test_statement(statement: dict[str, Any], public: bool) -> None:
    assert is_public(policy(statement)) is public


def test_a_policy_is_public_when_any_statement_is() -> None:
    private = {**ANYONE_READS, "Principal": {"AWS": "arn:aws:iam::111122223333:root"}}
    assert is_public(policy(private, ANYONE_READS))
    assert not is_public(policy(private, private))
    assert is_public({"Statement": ANYONE_READS})  # a lone statement, not in a list


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12)
    | st.sampled_from(["*", "AWS", "Service", "CanonicalUser", "Allow", "Deny",
                       "arn:aws:iam::111122223333:root", "123456789012", "s3:GetObject"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["AWS", "Service", "Federated", "CanonicalUser", "Effect",
                         "Principal", "NotPrincipal", "Condition", "Statement", "x"]),
        inner, max_size=3),
    max_leaves=12)


@given(st.dictionaries(st.sampled_from(["Version", "Statement", "Id"]), _JSON, max_size=3))
def test_any_policy_document_is_stored_or_refused_with_s3s_answer(document: Any) -> None:
    # PutBucketPolicy's checks and the public test that follows them never crash on a
    # document of any shape: MalformedPolicy or a verdict.
    try:
        checked = buckets._check_policy(json.dumps(document))
    except ServiceError as refused:
        assert (refused.code, refused.status) == ("MalformedPolicy", 400)
        return
    assert isinstance(is_public(checked), bool)
