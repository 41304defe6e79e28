"""The exception tree of headwater.

    HeadwaterError                 root of everything headwater raises on purpose
     +-- ConfigError               bad settings; the server refuses to start
     +-- ServiceError              an AWS-visible failure: code, message, HTTP status, fault
          +-- (raised by the domain of each service and by the gateway; the protocol
               serializer renders it in the wire format of the service that was called)

Domain code raises ``ServiceError`` with the error code AWS uses (for modeled errors, the
botocore shape name such as ``QueueDoesNotExist``); it never returns error dicts.  Anything
else that escapes a request is a bug: the gateway logs it and answers ``InternalFailure``
(S3: ``InternalError``, its own code for the same thing).
"""

from __future__ import annotations

from typing import Any


class HeadwaterError(Exception):
    """Root of all deliberate headwater errors."""


class ConfigError(HeadwaterError):
    """Settings that cannot work (for example a public bind address without credentials)."""


class ServiceError(HeadwaterError):
    """A failure the caller sees, shaped the way the AWS service shapes it.

    ``code`` is the AWS error code (for json protocols the ``__type``; for modeled errors the
    botocore shape name).  ``fields`` carries extra members of the modeled error shape.
    ``headers`` carries extra response headers some errors need (for example ``Allow``).
    """

    def __init__(
        self,
        code: str,
        message: str = "",
        status: int = 400,
        *,
        sender_fault: bool = True,
        fields: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.sender_fault = sender_fault
        self.fields = fields or {}
        self.headers = headers or {}

    def __repr__(self) -> str:
        return f"ServiceError({self.code!r}, {self.message!r}, {self.status})"


def validation_error(message: str) -> ServiceError:
    """The generic ``ValidationException`` most modern AWS services use for bad parameters."""
    return ServiceError("ValidationException", message, 400)


def internal_failure(request_id: str) -> ServiceError:
    return ServiceError(
        "InternalFailure",
        f"The request processing has failed because of an unknown error (request {request_id}).",
        500,
        sender_fault=False,
    )
