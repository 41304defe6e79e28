"""Resource-based policies, evaluated for an AWS service acting on its own.

Where headwater checks a policy at all, the caller is an AWS service principal
(``s3.amazonaws.com`` delivering a notification), never a signed user: headwater serves one
account and lets every signed caller do everything, so user and role principals do not arise.
What matters then is what AWS checks before one service touches another's resource -- a
Lambda function's resource policy (AddPermission) or an SQS queue's ``Policy`` attribute.

Evaluation follows IAM's rules for one request: an explicit Deny wins, otherwise an Allow is
needed.  A statement applies when its principal (``Principal`` / ``NotPrincipal``), action
(``Action`` / ``NotAction``, ``*`` and ``?`` wildcards, case-insensitive), resource
(``Resource`` / ``NotResource``) and every condition match.  Conditions understood: the
String and Arn operator families (Equals, NotEquals, Like, NotLike; IgnoreCase for strings),
their ``...IfExists`` forms, ``Null``, and the ``ForAnyValue:`` / ``ForAllValues:`` prefixes
(the context holds single values, where both read as the plain operator).  Condition keys are
case-insensitive.  A condition with another operator never holds, so such a statement neither
allows nor denies, and a key the request does not carry fails every positive test.

Reference: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
and https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any


@lru_cache(maxsize=512)
def _wildcard(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(regex, re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def like(actual: str, pattern: str, *, ignore_case: bool = False) -> bool:
    """IAM's ``*`` / ``?`` wildcards over the whole value."""
    return _wildcard(pattern, ignore_case).fullmatch(actual) is not None


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


_Test = Callable[[str, str], bool]
_POSITIVE: dict[str, _Test] = {
    "stringequals": lambda actual, wanted: actual == wanted,
    "stringequalsignorecase": lambda actual, wanted: actual.lower() == wanted.lower(),
    "stringlike": like,
    "arnequals": lambda actual, wanted: actual == wanted,
    "arnlike": like,
}
_NEGATED = {
    "stringnotequals": "stringequals",
    "stringnotequalsignorecase": "stringequalsignorecase",
    "stringnotlike": "stringlike",
    "arnnotequals": "arnequals",
    "arnnotlike": "arnlike",
}


def _condition_holds(operator: str, key: str, wanted: Any, context: Mapping[str, str]) -> bool:
    name = operator.lower()
    for prefix in ("foranyvalue:", "forallvalues:"):
        name = name.removeprefix(prefix)
    actual = context.get(key.lower())
    if name == "null":
        return any(str(w).lower() == ("true" if actual is None else "false")
                   for w in _listed(wanted))
    if_exists = name.endswith("ifexists")
    name = name.removesuffix("ifexists")
    if actual is None and if_exists:
        return True
    values = [str(w) for w in _listed(wanted)]
    if name in _NEGATED:
        # A key the request lacks satisfies a negated test, as in IAM.
        test = _POSITIVE[_NEGATED[name]]
        return actual is None or not any(test(actual, w) for w in values)
    test_for = _POSITIVE.get(name)
    if test_for is None or actual is None:
        return False
    return any(test_for(actual, w) for w in values)


def _names_service(principal: Any, service: str) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, Mapping):
        return False
    if "*" in _listed(principal.get("AWS")):
        return True
    return service in _listed(principal.get("Service"))


def _matches_any(patterns: Any, value: str, *, ignore_case: bool) -> bool:
    return any(like(value, str(p), ignore_case=ignore_case) for p in _listed(patterns))


def _applies(statement: Mapping[str, Any], service: str, action: str, resource: str | None,
             context: Mapping[str, str]) -> bool:
    if "NotPrincipal" in statement:
        if _names_service(statement["NotPrincipal"], service):
            return False
    elif not _names_service(statement.get("Principal"), service):
        return False
    if "NotAction" in statement:
        if _matches_any(statement["NotAction"], action, ignore_case=True):
            return False
    elif not _matches_any(statement.get("Action"), action, ignore_case=True):
        return False
    if resource is not None:
        if "NotResource" in statement:
            if _matches_any(statement["NotResource"], resource, ignore_case=False):
                return False
        elif "Resource" in statement and not _matches_any(
                statement["Resource"], resource, ignore_case=False):
            return False
    conditions = statement.get("Condition") or {}
    if not isinstance(conditions, Mapping):
        return False
    for operator, tests in conditions.items():
        if not isinstance(tests, Mapping):
            return False
        for key, wanted in tests.items():
            if not _condition_holds(operator, key, wanted, context):
                return False
    return True


def service_allowed(
    statements: Any, *, service: str, action: str, resource: str | None,
    context: Mapping[str, str],
) -> bool:
    """Whether ``statements`` (a policy's ``Statement``: one statement or a list) let the AWS
    service principal ``service`` do ``action`` on ``resource`` (None: the policy is the
    resource's own and its ``Resource`` is not compared) in a request carrying ``context``
    (condition keys such as ``aws:SourceArn`` -> value)."""
    context = {key.lower(): value for key, value in context.items()}
    allowed = False
    for statement in _listed(statements):
        if not isinstance(statement, Mapping):
            continue
        if not _applies(statement, service, action, resource, context):
            continue
        effect = statement.get("Effect")
        if effect == "Deny":
            return False
        if effect == "Allow":
            allowed = True
    return allowed
