"""Resource-based policies: AddPermission, RemovePermission, GetPolicy.

Statements are stored and returned in the form Lambda writes them.  Signed callers are not
checked against them (headwater serves one account, and every signed caller may invoke), which
docs/lambda.md lists among the differences; the one place they count is an AWS service that
invokes a function on its own (S3 notifications), which needs a statement naming it, as on
AWS (``allows_service``).  A qualified request (``Qualifier``) has a policy of its own, as on
AWS.

AWS pages: https://docs.aws.amazon.com/lambda/latest/api/API_AddPermission.html,
https://docs.aws.amazon.com/lambda/latest/dg/access-control-resource-based.html
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

import orjson

from headwater.core.ids import IdFactory
from headwater.services.lambda_ import errors
from headwater.services.lambda_.functions import Functions
from headwater.services.lambda_.names import FunctionRef


class Policies:
    def __init__(self, functions: Functions, ids: IdFactory) -> None:
        self.functions = functions
        self.store = functions.store
        self.ids = ids

    def _target(self, ref: FunctionRef) -> str:
        """The qualifier the policy belongs to ('' for the function itself), checked to exist."""
        self.functions.resolve_version(ref)
        return ref.qualifier or ""

    def add(self, ref: FunctionRef, params: Mapping[str, Any]) -> dict[str, Any]:
        qualifier = self._target(ref)
        key = Functions.key(ref)
        statements, revision = self.store.policy(key, qualifier) or ([], "")
        wanted = params.get("RevisionId")
        if wanted and wanted != revision:
            raise errors.precondition_failed()
        sid = params["StatementId"]
        if any(s.get("Sid") == sid for s in statements):
            raise errors.conflict(
                f"The statement id ({sid}) provided already exists. Please choose a new statement "
                "id, or remove the existing statement."
            )
        statement = _statement(ref, params)
        self.store.put_policy(key, qualifier, [*statements, statement], self.ids.uuid())
        return statement

    def remove(self, ref: FunctionRef, sid: str, revision_id: str | None) -> None:
        qualifier = self._target(ref)
        key = Functions.key(ref)
        statements, revision = self.store.policy(key, qualifier) or ([], "")
        if revision_id and revision_id != revision:
            raise errors.precondition_failed()
        kept = [s for s in statements if s.get("Sid") != sid]
        if len(kept) == len(statements):
            raise errors.not_found(f"Statement {sid} is not found in resource policy.")
        self.store.put_policy(key, qualifier, kept, self.ids.uuid())

    def get(self, ref: FunctionRef) -> tuple[str, str]:
        """The policy document (JSON text) and its revision id."""
        qualifier = self._target(ref)
        found = self.store.policy(Functions.key(ref), qualifier)
        if found is None:
            raise errors.not_found("The resource you requested does not exist.")
        statements, revision = found
        document = {"Version": "2012-10-17", "Id": "default", "Statement": statements}
        return orjson.dumps(document).decode(), revision

    def allows_service(
        self, ref: FunctionRef, service: str, source_arn: str, source_account: str
    ) -> bool:
        """Whether the policy of ``ref`` (the version or alias it names has its own) lets the
        AWS service principal ``service`` invoke it for a request from ``source_arn`` owned by
        ``source_account``.  ``ResourceNotFoundException`` when the function or qualifier does
        not exist.

        Only what AddPermission writes is understood: Allow statements, a service or ``*``
        principal, an invoke action, and conditions on ``aws:SourceArn`` and
        ``aws:SourceAccount``.  A condition on any other key (``aws:PrincipalOrgID``,
        ``lambda:EventSourceToken``) is one a service's request does not carry, so it never
        holds, as in IAM.
        """
        qualifier = self._target(ref)
        found = self.store.policy(Functions.key(ref), qualifier)
        if found is None:
            return False
        context = {"aws:sourcearn": source_arn, "aws:sourceaccount": source_account}
        return any(_grants(statement, service, context) for statement in found[0])


def _statement(ref: FunctionRef, params: Mapping[str, Any]) -> dict[str, Any]:
    principal = params["Principal"]
    if principal == "*":
        who: Any = "*"
    elif principal.endswith(".amazonaws.com"):
        who = {"Service": principal}
    elif principal.isdigit():
        who = {"AWS": f"arn:aws:iam::{principal}:root"}
    else:
        who = {"AWS": principal}
    statement: dict[str, Any] = {
        "Sid": params["StatementId"],
        "Effect": "Allow",
        "Principal": who,
        "Action": params["Action"],
        "Resource": ref.qualified_arn,
    }
    condition: dict[str, dict[str, str]] = {}
    if params.get("SourceArn"):
        condition.setdefault("ArnLike", {})["AWS:SourceArn"] = params["SourceArn"]
    if params.get("SourceAccount"):
        condition.setdefault("StringEquals", {})["AWS:SourceAccount"] = params["SourceAccount"]
    if params.get("PrincipalOrgID"):
        condition.setdefault("StringEquals", {})["aws:PrincipalOrgID"] = params["PrincipalOrgID"]
    if params.get("EventSourceToken"):
        condition.setdefault("StringEquals", {})["lambda:EventSourceToken"] = params[
            "EventSourceToken"
        ]
    if params.get("FunctionUrlAuthType"):
        condition.setdefault("StringEquals", {})["lambda:FunctionUrlAuthType"] = params[
            "FunctionUrlAuthType"
        ]
    if condition:
        statement["Condition"] = condition
    return statement


_INVOKE_ACTIONS = {"lambda:invokefunction", "lambda:*", "*"}


def _like(actual: str, pattern: str) -> bool:
    """IAM's ``*`` / ``?`` wildcards over the whole value."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, actual, re.DOTALL) is not None


def _equals(actual: str, wanted: str) -> bool:
    return actual == wanted


_OPERATORS: dict[str, Callable[[str, str], bool]] = {
    "ArnLike": _like,
    "ArnEquals": _equals,
    "StringLike": _like,
    "StringEquals": _equals,
}


def _names_service(principal: Any, service: str) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, Mapping):
        return False
    named = principal.get("Service")
    services = named if isinstance(named, list) else [named]
    return service in services or principal.get("AWS") == "*"


def _grants(statement: Mapping[str, Any], service: str, context: Mapping[str, str]) -> bool:
    if statement.get("Effect") != "Allow":
        return False
    if not _names_service(statement.get("Principal"), service):
        return False
    actions = statement.get("Action")
    listed = actions if isinstance(actions, list) else [actions]
    if not any(str(action).lower() in _INVOKE_ACTIONS for action in listed):
        return False
    for operator, tests in (statement.get("Condition") or {}).items():
        compare = _OPERATORS.get(operator)
        if compare is None:
            return False
        for key, wanted in tests.items():
            actual = context.get(key.lower())
            values = wanted if isinstance(wanted, list) else [wanted]
            if actual is None or not any(compare(actual, str(value)) for value in values):
                return False
    return True
