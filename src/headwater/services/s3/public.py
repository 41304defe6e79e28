"""Whether a bucket policy is public, as GetBucketPolicyStatus reports it.

S3 "considers a bucket policy public unless" it limits access to a set of CIDRs with
``aws:SourceIp``, or grants only to fixed values of: an AWS principal, user, role or service
principal; ``aws:SourceArn``, ``aws:SourceVpc``, ``aws:SourceVpce``, ``aws:SourceOwner``,
``aws:SourceAccount``; ``s3:x-amz-server-side-encryption-aws-kms-key-id``; ``aws:userid``
outside the pattern ``AROLEID:*`` (The meaning of "public", S3 User Guide, repeated in the
API reference's PublicAccessBlockConfiguration).

Read here statement by statement: an ``Allow`` is public when its principal is a wildcard
(``"*"``, ``{"AWS": "*"}``) or it names ``NotPrincipal``, unless one of its conditions fixes
one of those keys -- with an operator that pins values (``StringEquals``, ``ArnLike``,
``IpAddress``, ...; not a ``Not...`` one, ``Null`` or ``Bool``) and values without wildcards
(for ``aws:SourceIp``, CIDRs other than the whole address space).  A policy is public when
any statement is.  Which of the "bad actions" a statement allows is not considered.
"""

from __future__ import annotations

from typing import Any

# Condition keys whose fixed values make a wildcard principal non-public (lower case: IAM
# condition keys are case-insensitive).
_FIXING_KEYS = frozenset({
    "aws:sourcearn", "aws:sourcevpc", "aws:sourcevpce", "aws:sourceowner", "aws:sourceaccount",
    "s3:x-amz-server-side-encryption-aws-kms-key-id", "aws:userid",
})
_SOURCE_IP = "aws:sourceip"
# Operators that pin a key to the listed values (their Not... forms, Null and Bool do not).
_FIXING_OPERATORS = frozenset({"stringequals", "stringequalsignorecase", "stringlike",
                               "arnequals", "arnlike", "ipaddress"})
_EVERYWHERE = frozenset({"0.0.0.0/0", "::/0"})


def is_public(document: Any) -> bool:
    """Whether the parsed policy ``document`` grants public access."""
    found = document.get("Statement") if isinstance(document, dict) else None
    statements = found if isinstance(found, list) else [found]
    return any(_public_statement(s) for s in statements if isinstance(s, dict))


def _public_statement(statement: dict[str, Any]) -> bool:
    if statement.get("Effect") != "Allow":
        return False
    if "NotPrincipal" not in statement and not _wildcard(statement.get("Principal")):
        return False
    return not _fixed_by_condition(statement.get("Condition"))


def _wildcard(principal: Any) -> bool:
    if principal == "*":
        return True
    if isinstance(principal, dict):
        return any(value == "*" or (isinstance(value, list) and "*" in value)
                   for value in principal.values())
    return False


def _fixed_by_condition(condition: Any) -> bool:
    if not isinstance(condition, dict):
        return False
    for operator, tests in condition.items():
        # ForAnyValue:StringEquals, StringEqualsIfExists and the like read as their operator.
        name = str(operator).split(":")[-1].lower().removesuffix("ifexists")
        if name not in _FIXING_OPERATORS or not isinstance(tests, dict):
            continue
        for key, values in tests.items():
            texts = [str(v) for v in (values if isinstance(values, list) else [values])]
            if not texts or any("*" in t or "?" in t for t in texts):
                continue  # not a fixed value ("AROLEID:*" among them)
            key = str(key).lower()
            if key == _SOURCE_IP:
                if not _EVERYWHERE.intersection(texts):
                    return True
            elif key in _FIXING_KEYS:
                return True
    return False
