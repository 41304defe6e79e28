"""Which service and operation a request is for.

In order:
1. ``X-Amz-Target: Prefix.Operation`` -> the json-protocol service with that target prefix.
2. ``Action=`` in a form body or the query string -> a query-protocol operation of the
   service named by the SigV4 credential scope.
3. Otherwise a REST request: the service named by the credential scope (S3 when unsigned or
   addressed virtual-host style), and the operation whose ``requestUri`` matches.

The ``sync-`` host prefix botocore adds for some Step Functions calls needs no handling here:
routing never looks at the host name except for S3's virtual-hosted style.

References: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html
(credential scope), https://smithy.io/2.0/spec/http-bindings.html (REST request URIs).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from botocore.model import OperationModel

from headwater.core.errors import ServiceError
from headwater.protocol import specs
from headwater.protocol.http import HttpRequest
from headwater.protocol.sigv4 import credential_scope
from headwater.protocol.specs import ServiceSpec


@dataclass(slots=True)
class Route:
    spec: ServiceSpec
    operation_name: str
    operation: OperationModel | None
    uri_params: dict[str, str] = field(default_factory=dict)


RestMatcher = Callable[[ServiceSpec, HttpRequest], "tuple[OperationModel, dict[str, str]] | None"]


def detect(request: HttpRequest, rest_matcher: RestMatcher | None = None) -> Route:
    target = request.headers.get("x-amz-target")
    if target:
        prefix, _, op_name = target.rpartition(".")
        spec = specs.by_target_prefix().get(prefix)
        if spec is None or not op_name:
            raise ServiceError("UnknownOperationException", "", 400)
        op = spec.operation(op_name)
        if op is None:
            raise _unknown_operation(spec)
        return Route(spec, op_name, op)

    scope = credential_scope(request)
    scoped = specs.by_signing_name().get(scope.service) if scope else None

    action = _query_action(request)
    if action is not None and scoped is not None and "awsQueryCompatible" in scoped.model.metadata:
        # SQS spoke the query protocol until its model moved to JSON, and SDK releases from
        # before that still send Action=... forms; its model keeps no query traits (result
        # wrappers, flattened lists) to read or answer them with.  Said plainly, not "unknown".
        raise ServiceError(
            "NotImplemented",
            f"headwater does not implement {scoped.name}:{action} over the AWS query protocol; "
            f"it serves {scoped.name} in AWS JSON {scoped.model.metadata.get('jsonVersion')}, "
            "as current SDKs send it",
            501,
            sender_fault=False,
        )
    if action is not None and (scoped is None or scoped.protocol == "query"):
        spec = scoped or _query_service_by_version(request)
        if spec is None:
            raise ServiceError("InvalidAction", f"Could not find operation {action}", 400)
        op = spec.operation(action)
        if op is None:
            raise ServiceError("InvalidAction", f"Could not find operation {action} for version "
                               f"{spec.model.api_version}", 400)
        return Route(spec, action, op)

    spec = scoped if scoped is not None else specs.get_spec("s3")
    if spec.protocol in ("rest-json", "rest-xml") and rest_matcher is not None:
        matched = rest_matcher(spec, request)
        if matched is not None:
            op, params = matched
            return Route(spec, op.name, op, params)
    if spec.protocol == "json":
        raise ServiceError("UnknownOperationException", "", 400)
    raise _unknown_operation(spec)


def _unknown_operation(spec: ServiceSpec) -> ServiceError:
    if spec.protocol == "rest-xml":
        return ServiceError("MethodNotAllowed", "The specified method is not allowed against this resource.", 405)
    if spec.protocol == "rest-json":
        return ServiceError("UnknownOperationException", "Unknown operation", 404)
    return ServiceError("UnknownOperationException", "", 400)


def _query_action(request: HttpRequest) -> str | None:
    actions = request.query.get("Action")
    if actions:
        return actions[0]
    ctype = request.headers.get("content-type", "")
    if request.method == "POST" and ctype.startswith("application/x-www-form-urlencoded"):
        from urllib.parse import parse_qs

        form = parse_qs(request.body.decode("utf-8", "replace"), keep_blank_values=True)
        if "Action" in form:
            return form["Action"][0]
    return None


def _query_service_by_version(request: HttpRequest) -> ServiceSpec | None:
    """An unsigned query request: guess the service from ``Version=`` (only one today)."""
    for spec in map(specs.get_spec, specs.KNOWN_SERVICES):
        if spec.protocol == "query":
            return spec
    return None
