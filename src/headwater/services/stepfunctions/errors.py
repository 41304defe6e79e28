"""The errors the Step Functions API answers with: codes (botocore's shape names) and the
messages AWS words them with (``State Machine Does Not Exist: '<arn>'`` and so on, as
recorded against AWS by localstack's snapshot tests and seen in AWS SDK error reports).

All are HTTP 400 client faults, as in
https://docs.aws.amazon.com/step-functions/latest/apireference/CommonErrors.html and each
action's Errors section.
"""

from __future__ import annotations

from headwater.core.errors import ServiceError


def state_machine_does_not_exist(arn: str) -> ServiceError:
    return ServiceError("StateMachineDoesNotExist", f"State Machine Does Not Exist: '{arn}'")


def state_machine_already_exists(arn: str) -> ServiceError:
    return ServiceError("StateMachineAlreadyExists", f"State Machine Already Exists: '{arn}'")


def execution_does_not_exist(arn: str) -> ServiceError:
    return ServiceError("ExecutionDoesNotExist", f"Execution Does Not Exist: '{arn}'")


def execution_already_exists(arn: str) -> ServiceError:
    return ServiceError("ExecutionAlreadyExists", f"Execution Already Exists: '{arn}'")


def activity_does_not_exist(arn: str) -> ServiceError:
    return ServiceError("ActivityDoesNotExist", f"Activity Does Not Exist: '{arn}'")


def invalid_arn(arn: str, reason: str | None = None) -> ServiceError:
    return ServiceError("InvalidArn", f"Invalid Arn: '{reason or arn}'")


def wrong_resource_type(kind: str) -> ServiceError:
    return invalid_arn("", f"Resource type not valid in this context: {kind}")


def invalid_name(name: str) -> ServiceError:
    return ServiceError("InvalidName", f"Invalid Name: '{name}'")


def invalid_execution_input(detail: str) -> ServiceError:
    return ServiceError("InvalidExecutionInput", f"Invalid State Machine Execution Input: "
                                                 f"'{detail}'")


def invalid_output(detail: str) -> ServiceError:
    return ServiceError("InvalidOutput", f"Invalid Output: '{detail}'")


def invalid_token(detail: str = "Invalid token") -> ServiceError:
    return ServiceError("InvalidToken", f"Invalid Token: '{detail}'")


def task_does_not_exist() -> ServiceError:
    return ServiceError("TaskDoesNotExist", "Task Does Not Exist: 'Provided task does not exist "
                                            "anymore'")


def task_timed_out() -> ServiceError:
    return ServiceError("TaskTimedOut", "Task Timed Out: 'Provided task does not exist anymore'")


def type_not_supported(message: str) -> ServiceError:
    return ServiceError("StateMachineTypeNotSupported", message)


def resource_not_found(arn: str) -> ServiceError:
    return ServiceError("ResourceNotFound", f"Resource not found: '{arn}'")


def validation(message: str) -> ServiceError:
    return ServiceError("ValidationException", message)


def conflict(message: str) -> ServiceError:
    return ServiceError("ConflictException", message)


def not_redrivable(arn: str, reason: str) -> ServiceError:
    return ServiceError("ExecutionNotRedrivable",
                        f"Execution is not redrivable: '{arn}'. {reason}")


def too_many_tags(arn: str) -> ServiceError:
    return ServiceError("TooManyTags", f"Too many tags for resource: '{arn}'",
                        fields={"resourceName": arn})


def missing_required_parameter() -> ServiceError:
    return ServiceError("MissingRequiredParameter", "Either the definition, the role ARN, the "
                        "LoggingConfiguration, the EncryptionConfiguration or the "
                        "TracingConfiguration must be specified")
