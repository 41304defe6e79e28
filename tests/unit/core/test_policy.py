"""Resource policies evaluated for an AWS service principal (core/policy.py)."""

from __future__ import annotations

import fnmatch
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from headwater.core.policy import like, service_allowed

QUEUE = "arn:aws:sqs:us-east-1:000000000000:events"
BUCKET = "arn:aws:s3:::photos"
CONTEXT = {"aws:SourceArn": BUCKET, "aws:SourceAccount": "000000000000"}


def allowed(*statements: dict[str, Any], resource: str | None = QUEUE,
            context: dict[str, str] = CONTEXT) -> bool:
    return service_allowed(list(statements), service="s3.amazonaws.com",
                           action="sqs:SendMessage", resource=resource, context=context)


def statement(**overrides: Any) -> dict[str, Any]:
    """The statement a CDK or SAM template writes for S3 notifications to a queue."""
    base: dict[str, Any] = {
        "Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"},
        "Action": ["sqs:SendMessage", "sqs:GetQueueAttributes"], "Resource": QUEUE,
        "Condition": {"ArnLike": {"aws:SourceArn": "arn:aws:s3:*:*:photos"},
                      "StringEquals": {"aws:SourceAccount": "000000000000"}},
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def test_the_usual_template_statement_allows() -> None:
    assert allowed(statement())
    assert service_allowed(statement(), service="s3.amazonaws.com", action="sqs:SendMessage",
                           resource=QUEUE, context=CONTEXT)  # one statement, not a list


def test_no_statement_allows_nothing() -> None:
    assert not allowed()
    assert not service_allowed(None, service="s3.amazonaws.com", action="sqs:SendMessage",
                               resource=QUEUE, context=CONTEXT)


@pytest.mark.parametrize("overrides", [
    {"Principal": {"Service": "sns.amazonaws.com"}},
    {"Principal": {"AWS": "arn:aws:iam::000000000000:root"}},
    {"Action": "sqs:ReceiveMessage"},
    {"Resource": "arn:aws:sqs:us-east-1:000000000000:other"},
    {"Condition": {"ArnLike": {"aws:SourceArn": "arn:aws:s3:*:*:videos"}}},
    {"Condition": {"StringEquals": {"aws:SourceAccount": "111111111111"}}},
    {"Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-123"}}},  # not in the request
    {"Condition": {"NumericLessThan": {"aws:SourceAccount": "5"}}},  # not understood
    {"Effect": "Deny"},
])
def test_a_statement_that_does_not_fit_grants_nothing(overrides: dict[str, Any]) -> None:
    assert not allowed(statement(**overrides))


@pytest.mark.parametrize("overrides", [
    {"Principal": "*"},
    {"Principal": {"AWS": "*"}},
    {"Principal": {"Service": ["sns.amazonaws.com", "s3.amazonaws.com"]}},
    {"Action": "SQS:*"},
    {"Action": "*"},
    {"Action": "sqs:Send*"},
    {"Resource": "arn:aws:sqs:*:000000000000:*"},
    {"Resource": None},
    {"Condition": None},
    {"Condition": {"ArnEquals": {"AWS:SOURCEARN": BUCKET}}},  # keys are case-insensitive
    {"Condition": {"StringEqualsIgnoreCase": {"aws:SourceArn": BUCKET.upper()}}},
    {"Condition": {"StringNotEquals": {"aws:SourceAccount": "111111111111"}}},
    {"Condition": {"ArnNotLike": {"aws:SourceArn": "arn:aws:s3:::videos*"}}},
    {"Condition": {"StringEqualsIfExists": {"aws:PrincipalOrgID": "o-123"}}},
    {"Condition": {"Null": {"aws:SourceArn": "false", "aws:PrincipalOrgID": "true"}}},
    {"Condition": {"ForAnyValue:StringLike": {"aws:SourceArn": ["x", "arn:aws:s3:::pho*"]}}},
    {"NotAction": "sqs:DeleteQueue", "Action": None},
    {"NotResource": "arn:aws:sqs:*:*:other", "Resource": None},
    {"NotPrincipal": {"Service": "sns.amazonaws.com"}, "Principal": None},
])
def test_statements_that_fit_allow(overrides: dict[str, Any]) -> None:
    assert allowed(statement(**overrides))


def test_an_explicit_deny_wins_over_any_allow() -> None:
    deny = statement(Effect="Deny", Condition={"StringEquals": {"aws:SourceAccount": "000000000000"}})
    assert not allowed(statement(), deny)
    assert not allowed(deny, statement())
    other_account = statement(Effect="Deny", Condition={"StringEquals": {"aws:SourceAccount": "1"}})
    assert allowed(statement(), other_account)  # a deny that does not apply denies nothing


def test_without_a_resource_the_statement_resource_is_not_compared() -> None:
    assert allowed(statement(Resource="arn:aws:lambda:us-east-1:0:function:f"), resource=None)


def test_malformed_statements_are_skipped() -> None:
    assert not allowed("not a statement", {"Effect": "Allow"})  # type: ignore[arg-type]
    assert not allowed(statement(Condition=["ArnLike"]))
    assert not allowed(statement(Condition={"ArnLike": "aws:SourceArn"}))


@given(st.text(max_size=20), st.text(alphabet="ab*?", max_size=8))
def test_like_is_a_whole_value_wildcard_match(value: str, pattern: str) -> None:
    # fnmatch's * and ? mean the same; its [...] classes never occur in this alphabet.
    assert like(value, pattern) == (re.fullmatch(fnmatch.translate(pattern), value,
                                                 re.DOTALL) is not None)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource",
                         "NotResource", "Condition", "Service", "AWS", "StringEquals",
                         "ArnLike", "Null", "aws:SourceArn", "x"]), inner, max_size=4),
    max_leaves=12)


@given(_JSON)
def test_any_json_is_evaluated_without_an_exception(statements: Any) -> None:
    # A queue's Policy is whatever JSON the user set: the answer is a bool, never a crash.
    result = service_allowed(statements, service="s3.amazonaws.com", action="sqs:SendMessage",
                             resource=QUEUE, context=CONTEXT)
    assert isinstance(result, bool)
