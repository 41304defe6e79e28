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

from collections.abc import Mapping
from typing import Any

import orjson

from headwater.core.ids import IdFactory
from headwater.core.policy import service_allowed
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

        Evaluated by ``core.policy`` with ``aws:SourceArn`` and ``aws:SourceAccount`` in the
        context; a condition on any other key (``aws:PrincipalOrgID``,
        ``lambda:EventSourceToken``) is one a service's request does not carry, so it never
        holds, as in IAM.
        """
        qualifier = self._target(ref)
        found = self.store.policy(Functions.key(ref), qualifier)
        if found is None:
            return False
        # The policy is this function's (or qualifier's) own: its Resource names it.
        return service_allowed(
            found[0], service=service, action="lambda:InvokeFunction", resource=None,
            context={"aws:SourceArn": source_arn, "aws:SourceAccount": source_account})


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
