"""How SQS reports model violations, and the query codes boto3 users see."""

from __future__ import annotations

from headwater.core.errors import ServiceError
from headwater.protocol.validate import Violation
from headwater.services.sqs import errors


def test_missing_member_is_missing_parameter() -> None:
    error = errors.from_violations(
        [Violation("queueUrl", "QueueUrl", None, "Member must not be null", "required")]
    )
    assert isinstance(error, ServiceError)
    assert (error.code, error.message) == (
        "MissingParameter",
        "The request must contain the parameter QueueUrl.",
    )


def test_enum_violations_are_left_to_the_domain() -> None:
    enum = Violation("attributeNames.1", "AttributeNames", "SentTimestamp", "enum", "enum")
    assert errors.from_violations([enum]) is None


def test_query_codes() -> None:
    assert (
        errors.query_code(errors.queue_does_not_exist())
        == "AWS.SimpleQueueService.NonExistentQueue"
    )
    assert errors.query_code(errors.queue_name_exists("x")) == "QueueAlreadyExists"
    assert errors.query_code(errors.receipt_handle_invalid("h")) == "ReceiptHandleIsInvalid"
    assert errors.query_code(errors.invalid_parameter("x")) == "InvalidParameterValue"
