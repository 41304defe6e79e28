"""Every error the Lambda service answers with: code, HTTP status and AWS's wording.

Codes are the botocore shape names (``ResourceNotFoundException`` ...) so boto3 raises its
modeled exception classes; the status comes from the model as well.  Lambda's rest-json errors
carry ``Type`` ("User" for caller faults, "Service" for ours) beside the message.

Wording follows what AWS returns (API reference pages under
https://docs.aws.amazon.com/lambda/latest/api/ and recorded responses); messages that are
headwater's own (features not yet built) say so and name the way around them.
"""

from __future__ import annotations

from headwater.core.errors import ServiceError

USER = {"Type": "User"}


def _user(code: str, message: str, status: int) -> ServiceError:
    return ServiceError(code, message, status, fields=dict(USER))


def invalid_parameter(message: str) -> ServiceError:
    return _user("InvalidParameterValueException", message, 400)


def not_found(message: str) -> ServiceError:
    return _user("ResourceNotFoundException", message, 404)


def function_not_found(arn: str) -> ServiceError:
    return not_found(f"Function not found: {arn}")


def alias_not_found(alias_arn: str) -> ServiceError:
    return not_found(f"Cannot find alias arn: {alias_arn}")


def conflict(message: str) -> ServiceError:
    return _user("ResourceConflictException", message, 409)


def precondition_failed() -> ServiceError:
    return _user(
        "PreconditionFailedException",
        "The Revision Id provided does not match the latest Revision Id. "
        "Call the GetFunction/GetAlias API to retrieve the latest Revision Id",
        412,
    )


def throttled(reason: str) -> ServiceError:
    # AWS quirk: the throttle message is the bare "Rate Exceeded." whatever the limit; the
    # Reason member says which one.
    return ServiceError(
        "TooManyRequestsException",
        "Rate Exceeded.",
        429,
        fields={"Type": "User", "Reason": reason},
    )


def request_too_large(limit: int, operation: str = "InvokeFunction") -> ServiceError:
    # AWS quirk: the wire code is RequestEntityTooLargeException although the model calls the
    # shape RequestTooLargeException; boto3 shows the wire code.
    return ServiceError(
        "RequestEntityTooLargeException",
        f"Request must be smaller than {limit} bytes for the {operation} operation",
        413,
        fields=dict(USER),
    )


def event_too_large(size: int, limit: int) -> ServiceError:
    return ServiceError(
        "RequestEntityTooLargeException",
        f"{size} byte payload is too large for the Event invocation type (limit {limit} bytes)",
        413,
        fields=dict(USER),
    )


def invalid_request_content(detail: str) -> ServiceError:
    return _user(
        "InvalidRequestContentException",
        f"Could not parse request body into json: Could not parse payload into json: {detail}",
        400,
    )


def service_error(message: str) -> ServiceError:
    return ServiceError(
        "ServiceException", message, 500, sender_fault=False, fields={"Type": "Service"}
    )


def not_supported(what: str, instead: str) -> ServiceError:
    """A feature headwater has not built yet (not an AWS error: AWS would accept the call)."""
    return invalid_parameter(f"headwater does not support {what} yet; {instead}")


def not_active(state: str) -> ServiceError:
    return conflict(
        "The operation cannot be performed at this time. "
        f"The function is currently in the following state: {state}"
    )
