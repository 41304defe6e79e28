"""Which modeled error a ``ServiceError`` is, and the code each protocol puts on the wire.

Domain code raises ``ServiceError`` with the botocore shape name (``ChangeSetNotFoundException``)
or with the wire code itself (``ChangeSetNotFound``); both find the same error shape here.  The
shape's ``error.code`` (a query-era service's legacy code) is what goes on the wire, so boto3
maps the response back to the right exception class.

Reference: https://smithy.io/2.0/aws/protocols/aws-query-protocol.html#aws-protocols-awsqueryerror-trait
and, for S3's codes, https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html
"""

from __future__ import annotations

from botocore.model import NoShapeFoundError, ServiceModel, Shape

from headwater.core.errors import ServiceError, internal_failure


def error_shape(model: ServiceModel, code: str) -> Shape | None:
    shape = model.shape_for_error_code(code)
    if shape is not None:
        return shape
    try:
        shape = model.shape_for(code)
    except NoShapeFoundError:
        return None
    return shape if shape.metadata.get("exception") else None


def wire_code(shape: Shape | None, code: str) -> str:
    """The code to send: the shape's modeled ``error.code`` when it has one."""
    if shape is None:
        return code
    modeled = shape.metadata.get("error", {}).get("code")
    return str(modeled) if modeled else code


def error_message(error: ServiceError, shape: Shape | None) -> str:
    """The message, taken from a modeled ``message``/``Message`` field when none was given."""
    if error.message or shape is None:
        return error.message
    for key, item in error.fields.items():
        if key.lower() == "message" and isinstance(item, str):
            return item
    return ""


def unexpected_error(service: str, request_id: str) -> ServiceError:
    """What a request that failed on a bug answers, in the words of ``service``.

    AWS quirk: S3 reports its own failures as ``InternalError`` with one fixed message (its
    error reference lists no ``InternalFailure``); the services of the Coral stack say
    ``InternalFailure``.  The details stay in the log under the request id either way.
    """
    if service == "s3":
        return ServiceError(
            "InternalError",
            "We encountered an internal error. Please try again.",
            500,
            sender_fault=False,
        )
    return internal_failure(request_id)
