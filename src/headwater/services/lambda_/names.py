"""Function names, qualifiers and ARNs as the Lambda API reads and writes them.

A function may be named four ways wherever the API takes ``FunctionName``: ``my-function``,
``my-function:v1`` (name and qualifier), the partial ARN ``123456789012:function:my-function``
and the full ARN ``arn:aws:lambda:us-west-2:123456789012:function:my-function[:qualifier]``.
A qualifier is ``$LATEST``, a version number or an alias name.  This module only parses and
formats; whether the function exists is the domain's business.

AWS page: https://docs.aws.amazon.com/lambda/latest/api/API_GetFunction.html#API_GetFunction_RequestSyntax
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from headwater.services.lambda_ import errors

LATEST = "$LATEST"
# Alias names: letters, digits, - and _, and never all digits (that would read as a version).
ALIAS_NAME = re.compile(r"^(?!^[0-9]+$)[a-zA-Z0-9-_]{1,128}$")
FUNCTION_NAME = re.compile(r"^[a-zA-Z0-9-_]{1,64}$")
_FULL_ARN = re.compile(
    r"^arn:(?P<partition>aws[a-zA-Z-]*):lambda:(?P<region>[a-z]{2}(?:-gov)?-[a-z]+-\d{1}):"
    r"(?P<account>\d{12}):function:(?P<name>[a-zA-Z0-9-_]+)(?::(?P<qualifier>\$LATEST|[a-zA-Z0-9-_]+))?$"
)
_PARTIAL_ARN = re.compile(
    r"^(?P<account>\d{12}):function:(?P<name>[a-zA-Z0-9-_]+)(?::(?P<qualifier>\$LATEST|[a-zA-Z0-9-_]+))?$"
)
_NAME_QUALIFIER = re.compile(
    r"^(?P<name>[a-zA-Z0-9-_]+)(?::(?P<qualifier>\$LATEST|[a-zA-Z0-9-_]+))?$"
)


@dataclass(frozen=True, slots=True)
class FunctionRef:
    """Where a request points: the function's home and name, and the qualifier if any."""

    account: str
    region: str
    name: str
    qualifier: str | None = None

    @property
    def arn(self) -> str:
        return function_arn(self.region, self.account, self.name)

    @property
    def qualified_arn(self) -> str:
        return qualified_arn(self.arn, self.qualifier)


def function_arn(region: str, account: str, name: str) -> str:
    return f"arn:aws:lambda:{region}:{account}:function:{name}"


def qualified_arn(arn: str, qualifier: str | None) -> str:
    return f"{arn}:{qualifier}" if qualifier else arn


def parse_function(
    value: str, account: str, region: str, qualifier: str | None = None
) -> FunctionRef:
    """Read a ``FunctionName`` (plus the separate ``Qualifier`` parameter, when given)."""
    found = _FULL_ARN.match(value) or _PARTIAL_ARN.match(value) or _NAME_QUALIFIER.match(value)
    if found is None:
        raise errors.invalid_parameter(f"Invalid function name or ARN: {value}")
    parts = found.groupdict()
    name = parts["name"]
    if len(name) > 64:
        raise errors.invalid_parameter(f"Invalid function name or ARN: {value}")
    if parts.get("account") and parts["account"] != account:
        # Cross-account access needs a resource policy AWS would evaluate; headwater serves
        # one account, so another account's function simply does not exist here.
        raise errors.function_not_found(value)
    if parts.get("region") and parts["region"] != region:
        region = parts["region"]
    derived = parts.get("qualifier")
    if derived is not None and qualifier is not None and derived != qualifier:
        raise errors.invalid_parameter(
            "The derived qualifier from the function name does not match the specified qualifier."
        )
    return FunctionRef(account, region, name, qualifier if qualifier is not None else derived)


def parse_resource_arn(value: str) -> FunctionRef | None:
    """A full function ARN (tagging operations take nothing else); None when it is not one."""
    found = _FULL_ARN.match(value)
    if found is None:
        return None
    return FunctionRef(found["account"], found["region"], found["name"], found["qualifier"])


def is_version(qualifier: str) -> bool:
    return qualifier.isdigit()


def timestamp(epoch: float) -> str:
    """``LastModified`` of functions and aliases: ``2019-09-24T18:20:13.000+0000``."""
    moment = datetime.fromtimestamp(epoch, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def iso_millis(epoch: float) -> str:
    """Destination records' ``timestamp``: ``2019-11-14T18:16:05.568Z``."""
    moment = datetime.fromtimestamp(epoch, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
