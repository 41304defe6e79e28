"""Task integrations: what a Task state's Resource calls, and how the answer comes back.

Implements what a workflow observes of
https://docs.aws.amazon.com/step-functions/latest/dg/integrate-services.html for the services
headwater has:

- Lambda: a function ARN (the result is the function's JSON) and ``arn:aws:states:::lambda:invoke``
  (the result wrapped in ``Payload``/``StatusCode``/``SdkHttpMetadata``); a function error is
  named after its ``errorType`` with the runtime's error document as the cause
  (https://docs.aws.amazon.com/step-functions/latest/dg/connect-lambda.html).
- SQS ``sendMessage`` (request-response and ``.waitForTaskToken``), through the SQS facade.
- ``states:startExecution`` (async, ``.sync``, ``.sync:2``), through the driver itself.
- ``aws-sdk:<service>:<action>`` for every service headwater serves: the action goes to that
  service's adapter with the API's own member names, and a failure is named
  ``<Service>.<Code>Exception`` (``Sqs.QueueDoesNotExistException``) with AWS SDK's cause format
  (https://docs.aws.amazon.com/step-functions/latest/dg/supported-services-awssdk.html).

Anything else fails the task with ``Headwater.UnsupportedIntegration`` naming what is missing.
In front of all of them: task handlers registered in-process (tests, ``sfn run --function``)
and mocked responses (``mocks``).  A call returns the value, raises ``TaskFailure``, or returns
an awaitable of the value (the driver awaits it as an asyncio task).
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import orjson
from botocore import xform_name

from headwater.core.clock import Clock
from headwater.core.errors import ServiceError
from headwater.core.ids import IdFactory
from headwater.protocol.context import RequestContext
from headwater.protocol.http import HttpRequest
from headwater.services.stepfunctions.local_lambda import INVOKE_ARN, _event
from headwater.services.stepfunctions.mocks import MockConfig, returned
from headwater.services.stepfunctions.runner import TaskFailure, TaskHandler, TaskRequest

UNSUPPORTED = "Headwater.UnsupportedIntegration"

# aws-sdk service names whose error prefix or botocore name differs from the plain rule.
_SDK_PREFIX = {"sqs": "Sqs", "s3": "S3", "sfn": "Sfn", "dynamodb": "DynamoDb", "sns": "Sns",
               "lambda": "Lambda", "eventbridge": "EventBridge", "kinesis": "Kinesis"}
_SDK_SERVICE = {"sfn": "stepfunctions", "eventbridge": "events"}


@dataclass(frozen=True, slots=True)
class TaskCall:
    """One task to perform, with the execution it belongs to."""

    request: TaskRequest
    execution_arn: str
    machine_name: str
    test_case: str | None
    attempt: int  # how many times this state's task ran before in this execution


class ExecutionStarter(Protocol):
    """What ``states:startExecution`` needs from the driver."""

    def start_child(self, params: Mapping[str, Any], parent_arn: str) -> dict[str, Any]: ...

    def wait_for(self, execution_arn: str) -> Awaitable[dict[str, Any]]: ...


class Integrations:
    def __init__(self, clock: Clock, ids: IdFactory, region: str, account: str,
                 facades: Mapping[str, Any] | None = None,
                 adapters: Mapping[str, Any] | None = None,
                 endpoint: str = "http://127.0.0.1:4566") -> None:
        self.clock = clock
        self.ids = ids
        self.region = region
        self.account = account
        self.facades: Mapping[str, Any] = facades if facades is not None else {}
        self.adapters: Mapping[str, Any] = adapters if adapters is not None else {}
        self.endpoint = endpoint
        self.handlers: dict[str, TaskHandler] = {}
        self.mocks: MockConfig | None = None
        self.starter: ExecutionStarter | None = None

    # -- the entry point ----------------------------------------------------------------

    def perform(self, call: TaskCall) -> Any:
        request = call.request
        resource = request.resource
        if call.test_case and self.mocks is not None:
            mocked = self.mocks.response(call.machine_name, call.test_case, request.state_name,
                                         call.attempt)
            if mocked is not None:
                return returned(mocked)
        handler = self._handler(resource.arn, resource.kind == "lambda")
        if handler is not None:
            return handler(request)
        if resource.kind == "lambda":
            return self._lambda(resource.arn, orjson.dumps(request.parameters), wrap=False)
        service, action = resource.service, resource.action
        if service == "lambda" and action == "invoke":
            return self._lambda_invoke(request.parameters)
        if service == "sqs" and action == "sendMessage":
            return self._sqs_send(request.parameters)
        if service == "states" and action == "startExecution":
            return self._start_execution(request, call.execution_arn)
        if service.startswith("aws-sdk:"):
            return self._aws_sdk(service[len("aws-sdk:"):], action, request.parameters)
        raise TaskFailure(UNSUPPORTED, f"headwater does not implement the {resource.arn} "
                                       f"integration ({service}:{action}) yet")

    def _handler(self, arn: str, is_function: bool) -> TaskHandler | None:
        found = self.handlers.get(arn)
        if found is None and "." in arn.rsplit(":", 1)[-1]:
            found = self.handlers.get(arn.rsplit(".", 1)[0])  # `.waitForTaskToken` and friends
        if found is None and is_function:
            found = self.handlers.get(":".join(arn.split(":")[:7]))
        return found

    # -- calling another service's adapter ----------------------------------------------

    def call(self, service: str, operation: str, params: dict[str, Any]) -> Any:
        """Call ``service``'s adapter for ``operation`` (a dict, or an awaitable of one)."""
        adapter = self.adapters.get(service)
        method = getattr(adapter, xform_name(operation), None) if adapter is not None else None
        if method is None:
            raise LookupError(service)
        ctx = RequestContext(
            request_id=self.ids.uuid(), service=service, operation=operation,
            region=self.region, account_id=self.account, access_key="",
            endpoint=self.endpoint,
            request=HttpRequest("POST", "/", "", {}),
        )
        return method(ctx, params)

    # -- Lambda -------------------------------------------------------------------------

    def _lambda(self, function: str, payload: bytes, wrap: bool) -> Any:
        facade = self.facades.get("lambda")
        if facade is None:
            raise TaskFailure(UNSUPPORTED, f"headwater has no Lambda service to invoke "
                                           f"{function} (the lambda service is not running)")
        try:
            # wait=True: a workflow queues for a free worker rather than being throttled.
            reply = facade.invoke(function, payload, wait=True)
        except ServiceError as error:
            raise _lambda_failure(error, self.ids.uuid()) from None
        return _then(reply, lambda out: self._lambda_result(out, wrap),
                     lambda e: _lambda_failure(_qualified(e, wrap), self.ids.uuid()))

    def _lambda_invoke(self, parameters: Any) -> Any:
        params = parameters if isinstance(parameters, dict) else {}
        payload = orjson.dumps(_event(params.get("Payload")))
        function = str(params.get("FunctionName", ""))
        if params.get("Qualifier"):
            function = f"{function}:{params['Qualifier']}"
        return self._lambda(function, payload, wrap=True)

    def _lambda_result(self, out: Mapping[str, Any], wrap: bool) -> Any:
        body = out.get("Payload") or b""
        if hasattr(body, "read"):
            body = body.read()
        body = bytes(body) if not isinstance(body, str) else body.encode()
        if out.get("FunctionError"):
            try:
                document = orjson.loads(body)
            except orjson.JSONDecodeError:
                document = {"errorMessage": body.decode(errors="replace")}
            error = document.get("errorType") if isinstance(document, dict) else None
            # AWS quirk: through lambda:invoke the error document is re-serialised compactly;
            # through a function ARN the runtime's own spacing stays.
            cause = orjson.dumps(document).decode() if wrap else json.dumps(document)
            raise TaskFailure(error or "Lambda.Unknown", cause)
        try:
            payload = orjson.loads(body) if body else None
        except orjson.JSONDecodeError:
            payload = body.decode(errors="replace")
        if not wrap:
            return payload
        request_id = self.ids.uuid()
        version = out.get("ExecutedVersion", "$LATEST")
        headers = {
            "Connection": "keep-alive", "Content-Length": str(len(body)),
            "Content-Type": "application/json",
            "Date": datetime.fromtimestamp(self.clock.now(), tz=UTC).strftime(
                "%a, %d %b %Y %H:%M:%S GMT"),
            "X-Amz-Executed-Version": version,
            "X-Amzn-Trace-Id": f"Root=1-{self.ids.uuid()[:8]}-"
                               f"{self.ids.uuid().replace('-', '')[:24]}",
            "x-amzn-Remapped-Content-Length": "0", "x-amzn-RequestId": request_id,
        }
        return {
            "ExecutedVersion": version,
            "Payload": payload,
            "SdkHttpMetadata": {"AllHttpHeaders": {k: [v] for k, v in headers.items()},
                                "HttpHeaders": headers, "HttpStatusCode": 200},
            "SdkResponseMetadata": {"RequestId": request_id},
            "StatusCode": out.get("StatusCode", 200),
        }

    # -- SQS ----------------------------------------------------------------------------

    def _sqs_send(self, parameters: Any) -> Any:
        sqs = self.facades.get("sqs")
        if sqs is None:
            raise TaskFailure(UNSUPPORTED, "headwater has no SQS service (sqs:sendMessage)")
        params = parameters if isinstance(parameters, dict) else {}
        body = params.get("MessageBody")
        if not isinstance(body, str):
            body = orjson.dumps(body).decode()  # AWS serialises a JSON MessageBody
        try:
            out = sqs.send_message(
                str(params.get("QueueUrl", "")), body,
                attributes=params.get("MessageAttributes"),
                group_id=params.get("MessageGroupId"),
                dedup_id=params.get("MessageDeduplicationId"),
                delay_seconds=params.get("DelaySeconds"),
            )
        except ServiceError as error:
            # AWS quirk: the optimized SQS integration names every service error after the
            # SDK v1 exception class, not after the error code.
            raise TaskFailure("SQS.AmazonSQSException", _sdk_cause(
                error, "AmazonSQS", self.ids.uuid(), v1=True)) from None
        request_id = self.ids.uuid()
        return {**out, "SdkHttpMetadata": {"HttpStatusCode": 200, "HttpHeaders": {
            "Content-Type": "text/xml", "x-amzn-RequestId": request_id}},
            "SdkResponseMetadata": {"RequestId": request_id}}

    # -- Step Functions -----------------------------------------------------------------

    def _start_execution(self, request: TaskRequest, parent_arn: str) -> Any:
        if self.starter is None:
            raise TaskFailure(UNSUPPORTED, "states:startExecution needs the Step Functions "
                                           "service (not available in this run)")
        params = request.parameters if isinstance(request.parameters, dict) else {}
        try:
            started = self.starter.start_child(params, parent_arn)
        except ServiceError as error:
            raise TaskFailure(f"StepFunctions.{_exception(error.code)}",
                              _sdk_cause(error, "AWSStepFunctions", self.ids.uuid(), v1=True)
                              ) from None
        pattern = request.resource.pattern
        if pattern == "request-response" or pattern == "waitForTaskToken":
            return {"ExecutionArn": started["executionArn"],
                    "StartDate": _millis(started["startDate"])}
        return self._await_child(started["executionArn"], as_json=pattern == "sync:2")

    async def _await_child(self, arn: str, as_json: bool) -> Any:
        assert self.starter is not None
        described = await self.starter.wait_for(arn)
        out: dict[str, Any] = {}
        for key in ("ExecutionArn", "Input", "InputDetails", "Name", "Output", "OutputDetails",
                    "StartDate", "StateMachineArn", "Status", "StopDate", "Error", "Cause",
                    "RedriveCount", "RedriveStatus"):
            value = described.get(key[0].lower() + key[1:])
            if value is None:
                continue
            if key in ("StartDate", "StopDate"):
                value = _millis(value)
            elif as_json and key in ("Input", "Output"):
                value = orjson.loads(value)
            out[key] = value
        if described["status"] != "SUCCEEDED":
            # AWS: a failed child fails the task with States.TaskFailed and its description.
            raise TaskFailure("States.TaskFailed", orjson.dumps(out).decode())
        return out

    # -- aws-sdk:* ----------------------------------------------------------------------

    def _aws_sdk(self, sdk_service: str, action: str, parameters: Any) -> Any:
        service = _SDK_SERVICE.get(sdk_service, sdk_service)
        operation = action[:1].upper() + action[1:]
        prefix = _SDK_PREFIX.get(sdk_service, sdk_service[:1].upper() + sdk_service[1:])
        params = dict(parameters) if isinstance(parameters, dict) else {}
        try:
            reply = self.call(service, operation, params)
        except LookupError:
            raise TaskFailure(UNSUPPORTED, f"headwater does not implement the aws-sdk:"
                              f"{sdk_service}:{action} integration (no {service} service or "
                              f"no {operation} operation)") from None
        except ServiceError as error:
            raise _sdk_failure(error, prefix, self.ids.uuid()) from None
        return _then(reply, lambda out: orjson.loads(orjson.dumps(out, default=_json_default)),
                     lambda e: _sdk_failure(e, prefix, self.ids.uuid()))


def _then(reply: Any, done: Callable[[Any], Any],
          failed: Callable[[ServiceError], TaskFailure]) -> Any:
    """Apply ``done`` to a reply that may still be an awaitable; map service errors."""
    if not inspect.isawaitable(reply):
        return done(reply)

    async def finish() -> Any:
        try:
            out = await reply
        except ServiceError as error:
            raise failed(error) from None
        return done(out)

    return finish()


def _exception(code: str) -> str:
    return code if code.endswith("Exception") else code + "Exception"


def _sdk_cause(error: ServiceError, service: str, request_id: str, v1: bool = False) -> str:
    if v1:
        return (f"{error.message} (Service: {service}; Status Code: {error.status}; Error Code: "
                f"{error.code}; Request ID: {request_id}; Proxy: null)")
    return f"{error.message} (Service: {service}, Status Code: {error.status}, " \
           f"Request ID: {request_id})"


def _sdk_failure(error: ServiceError, prefix: str, request_id: str) -> TaskFailure:
    cause = _sdk_cause(error, prefix, request_id)
    if prefix == "S3":
        # AWS quirk: S3's SDK v2 exceptions also carry the extended request id.
        cause = cause[:-1] + f", Extended Request ID: {request_id.replace('-', '')})"
    return TaskFailure(f"{prefix}.{_exception(error.code)}", cause)


def _lambda_failure(error: ServiceError, request_id: str) -> TaskFailure:
    return TaskFailure(f"Lambda.{_exception(error.code)}",
                       _sdk_cause(error, "AWSLambda", request_id, v1=True))


def _qualified(error: ServiceError, wrap: bool) -> ServiceError:
    """# AWS quirk: through lambda:invoke an unknown function is reported with ``:$LATEST``
    after its ARN (the integration always names a version); through a function ARN it is not."""
    if wrap and error.code == "ResourceNotFoundException" and error.message.startswith(
            "Function not found: ") and error.message.count(":") == 7:
        return ServiceError(error.code, error.message + ":$LATEST", error.status)
    return error


def _millis(value: Any) -> Any:
    if isinstance(value, datetime):
        return int(value.timestamp() * 1000)
    if isinstance(value, (int, float)):
        return int(value * 1000)
    return value


def _json_default(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray)):
        return value.decode(errors="replace")
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(type(value).__name__)


__all__ = ["INVOKE_ARN", "UNSUPPORTED", "Integrations", "TaskCall"]
