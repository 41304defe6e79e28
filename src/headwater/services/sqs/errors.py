"""The errors SQS answers with: codes, HTTP statuses and the messages AWS words them with.

Every wire-visible SQS failure is a ``ServiceError`` built here, so codes and wording live in
one place.  ``code`` is the botocore error shape name for modeled errors (``QueueDoesNotExist``)
and AWS's documented code for the unmodeled ones (``InvalidParameterValue``,
``MissingParameter``).

SQS speaks the json protocol but is ``awsQueryCompatible``: the ``x-amzn-query-error`` header
carries the legacy query code, and botocore reports *that* as ``Error.Code`` (with the shape name
in ``Error.QueryErrorCode``).  ``QUERY_ERROR_CODES`` is that translation, from the ``awsQueryError``
traits of the SQS Smithy model (as generated into aws-sdk-go's ``service/sqs/errors.go``); shapes
missing from it keep their own name as the query code (``InvalidAddress``, ``Kms*``, ...).

Messages follow the wording AWS returns where it is documented or recorded
(https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/CommonErrors.html and the
per-action error lists); the rest are marked as ours in docs/sqs.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from headwater.core.errors import ServiceError

QUERY_ERROR_CODES: dict[str, str] = {
    "QueueDoesNotExist": "AWS.SimpleQueueService.NonExistentQueue",
    "QueueNameExists": "QueueAlreadyExists",
    "QueueDeletedRecently": "AWS.SimpleQueueService.QueueDeletedRecently",
    "BatchEntryIdsNotDistinct": "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
    "BatchRequestTooLong": "AWS.SimpleQueueService.BatchRequestTooLong",
    "EmptyBatchRequest": "AWS.SimpleQueueService.EmptyBatchRequest",
    "InvalidBatchEntryId": "AWS.SimpleQueueService.InvalidBatchEntryId",
    "TooManyEntriesInBatchRequest": "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
    "MessageNotInflight": "AWS.SimpleQueueService.MessageNotInflight",
    "PurgeQueueInProgress": "AWS.SimpleQueueService.PurgeQueueInProgress",
    "UnsupportedOperation": "AWS.SimpleQueueService.UnsupportedOperation",
}


def query_code(error: ServiceError) -> str:
    """The code a batch result entry carries for ``error`` (the query code, as the header has)."""
    return QUERY_ERROR_CODES.get(error.code, error.code)


# -- queues -------------------------------------------------------------------------------


def queue_does_not_exist() -> ServiceError:
    return ServiceError("QueueDoesNotExist", "The specified queue does not exist.")


def queue_name_exists(attribute: str) -> ServiceError:
    return ServiceError(
        "QueueNameExists",
        "A queue already exists with the same name and a different value for attribute "
        f"{attribute}",
    )


def invalid_address(url: str) -> ServiceError:
    return ServiceError("InvalidAddress", f"The address {url} is not valid for this endpoint.", 404)


def invalid_queue_name() -> ServiceError:
    return invalid_parameter(
        "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length"
    )


def invalid_fifo_queue_name() -> ServiceError:
    return invalid_parameter(
        "The name of a FIFO queue can only include alphanumeric characters, hyphens, or "
        "underscores, must end with .fifo suffix and be 1 to 80 in length."
    )


def invalid_attribute_name(name: str) -> ServiceError:
    return ServiceError("InvalidAttributeName", f"Unknown Attribute {name}.")


def invalid_attribute_value(name: str, reason: str = "") -> ServiceError:
    text = f"Invalid value for the parameter {name}."
    return ServiceError("InvalidAttributeValue", f"{text} Reason: {reason}" if reason else text)


def purge_in_progress(queue_name: str) -> ServiceError:
    return ServiceError(
        "PurgeQueueInProgress",
        f"Only one PurgeQueue operation on {queue_name} is allowed every 60 seconds.",
    )


# -- parameters ---------------------------------------------------------------------------


def invalid_parameter(message: str) -> ServiceError:
    return ServiceError("InvalidParameterValue", message)


def invalid_value(parameter: str, value: Any, reason: str) -> ServiceError:
    """AWS's usual shape: ``Value X for parameter P is invalid. Reason: R.``"""
    return invalid_parameter(
        f"Value {value} for parameter {parameter} is invalid. Reason: {reason}"
    )


def missing_parameter(name: str) -> ServiceError:
    return ServiceError("MissingParameter", f"The request must contain the parameter {name}.")


def message_too_long(limit: int) -> ServiceError:
    return invalid_parameter(
        f"One or more parameters are invalid. Reason: Message must be shorter than {limit} bytes."
    )


def invalid_message_contents() -> ServiceError:
    return ServiceError(
        "InvalidMessageContents",
        "Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to "
        "#xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF",
    )


def not_for_this_queue_type(parameter: str, value: Any) -> ServiceError:
    # AWS quirk: the recorded message really says "include", not "includes".
    return invalid_value(
        parameter, value, "The request include parameter that is not valid for this queue type."
    )


def fifo_needs_deduplication() -> ServiceError:
    return invalid_parameter(
        "The queue should either have ContentBasedDeduplication enabled or "
        "MessageDeduplicationId provided explicitly"
    )


# -- receipt handles ----------------------------------------------------------------------


def receipt_handle_invalid(handle: str) -> ServiceError:
    return ServiceError(
        "ReceiptHandleIsInvalid",
        f'The input receipt handle "{handle}" is not a valid receipt handle.',
    )


def receipt_handle_expired(handle: str) -> ServiceError:
    return invalid_value("ReceiptHandle", handle, "The receipt handle has expired.")


def not_available_for_visibility_change(handle: str) -> ServiceError:
    return invalid_value(
        "ReceiptHandle",
        handle,
        "Message does not exist or is not available for visibility timeout change.",
    )


def message_not_inflight() -> ServiceError:
    return ServiceError("MessageNotInflight", "The message referred to isn't in flight.")


# -- batches ------------------------------------------------------------------------------


def empty_batch(entry_shape: str) -> ServiceError:
    return ServiceError(
        "EmptyBatchRequest", f"There should be at least one {entry_shape} in the request."
    )


def too_many_entries(count: int) -> ServiceError:
    return ServiceError(
        "TooManyEntriesInBatchRequest",
        f"Maximum number of entries per request are 10. You have sent {count}.",
    )


def ids_not_distinct(entry_id: str) -> ServiceError:
    return ServiceError("BatchEntryIdsNotDistinct", f"Id {entry_id} repeated.")


def invalid_batch_entry_id() -> ServiceError:
    return ServiceError(
        "InvalidBatchEntryId",
        "A batch entry id can only contain alphanumeric characters, hyphens and underscores. "
        "It can be at most 80 letters long.",
    )


def batch_too_long(limit: int, size: int) -> ServiceError:
    return ServiceError(
        "BatchRequestTooLong",
        f"Batch requests cannot be longer than {limit} bytes. You have sent {size} bytes.",
    )


# -- message move tasks -------------------------------------------------------------------


def resource_not_found(parameter: str) -> ServiceError:
    return ServiceError(
        "ResourceNotFoundException",
        f"The resource that you specified for the {parameter} parameter doesn't exist.",
        404,
    )


def task_does_not_exist() -> ServiceError:
    return ServiceError("ResourceNotFoundException", "Task does not exist.", 404)


# -- request validation (the gateway's hook) ----------------------------------------------


def from_violations(violations: Sequence[Any]) -> ServiceError | None:
    """SQS's answer to constraint violations found by ``protocol.validate``.

    SQS reports a missing member as ``MissingParameter`` rather than the generic
    ``ValidationException``.  Enum violations are let through: the model types
    ``ReceiveMessage.AttributeNames`` with the *queue* attribute enum, yet clients rightly send
    message attribute names there, and the domain checks every name with SQS's own errors.
    """
    for violation in violations:
        if violation.kind == "required":
            return missing_parameter(violation.member)
    for violation in violations:
        if violation.kind != "enum":
            return invalid_value(violation.member, violation.value, violation.constraint)
    return None
