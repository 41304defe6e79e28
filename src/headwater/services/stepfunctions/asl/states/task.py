"""The Task state: what it calls, with what, and for how long.

Implements https://docs.aws.amazon.com/step-functions/latest/dg/state-task.html (Resource,
Parameters/Arguments, TimeoutSeconds(Path), HeartbeatSeconds(Path), Credentials) and the
resource ARN forms of https://docs.aws.amazon.com/step-functions/latest/dg/integrate-services.html
(Lambda function ARNs, activities, ``arn:aws:states:::service:action[.sync|.waitForTaskToken]``
and ``aws-sdk:service:action``).

The state does not run anything: the engine turns it into an ``InvokeTask`` effect and the
driver (or the in-process runner) performs it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from headwater.services.stepfunctions.asl import errors
from headwater.services.stepfunctions.asl.errors import StatesError
from headwater.services.stepfunctions.asl.jsonpath import JsonPath, PathNotFound
from headwater.services.stepfunctions.asl.payload import EvalScope, Expr, Node
from headwater.services.stepfunctions.asl.states.base import State, evaluate_expression_field
from headwater.services.stepfunctions.asl.values import to_json

DEFAULT_TIMEOUT_SECONDS = 99_999_999
MAX_TIMEOUT_SECONDS = 99_999_999


@dataclass(frozen=True, slots=True)
class Resource:
    """A parsed Resource ARN and how history events name it."""

    arn: str
    kind: str  # "lambda" (a function ARN), "activity", "service"
    resource_type: str  # e.g. "lambda", "aws-sdk:s3", "states"
    resource: str  # e.g. "invoke", "listBuckets", "startExecution.sync"
    service: str = ""  # the integration: "lambda", "sqs", "aws-sdk:s3" ...
    action: str = ""  # "invoke", "sendMessage" ...
    pattern: str = "request-response"  # or "sync", "sync:2", "waitForTaskToken"
    region: str = "us-east-1"


def parse_resource(arn: str) -> Resource | None:
    parts = arn.split(":")
    if len(parts) < 6 or parts[0] != "arn":
        return None
    service, region = parts[2], parts[3]
    if service == "lambda" and parts[5] == "function" and len(parts) >= 7:
        return Resource(arn, "lambda", "lambda", arn, "lambda", "invoke", region=region or "us-east-1")
    if service != "states":
        return None
    if parts[5] == "activity" and len(parts) == 7:
        return Resource(arn, "activity", "activity", arn, region=region or "us-east-1")
    rest = parts[5:]
    if rest[0] == "aws-sdk" and len(rest) >= 3:
        integration, action = f"aws-sdk:{rest[1]}", ":".join(rest[2:])
    elif len(rest) >= 2:
        integration, action = rest[0], ":".join(rest[1:])
    else:
        return None
    pattern = "request-response"
    base = action
    for suffix, name in ((".sync:2", "sync:2"), (".sync", "sync"),
                         (".waitForTaskToken", "waitForTaskToken")):
        if action.endswith(suffix):
            pattern, base = name, action[: -len(suffix)]
            break
    if not base:
        return None
    return Resource(arn, "service", integration, action, integration, base, pattern,
                    region=region or "us-east-1")


@dataclass(eq=False)
class Task(State):
    TYPE: ClassVar[str] = "Task"
    resource: Resource | None = None
    timeout_seconds: Any = None  # int, a Node (JSONata) or None
    timeout_seconds_path: JsonPath | None = None
    heartbeat_seconds: Any = None
    heartbeat_seconds_path: JsonPath | None = None
    credentials: Node | None = None

    def timeouts(self, scope: EvalScope, raw: Any) -> tuple[int, int | None]:
        """(TimeoutSeconds, HeartbeatSeconds or None) for this run of the state."""
        scope.input = raw
        timeout = self._seconds(scope, self.timeout_seconds, self.timeout_seconds_path,
                                "TimeoutSeconds")
        heartbeat = self._seconds(scope, self.heartbeat_seconds, self.heartbeat_seconds_path,
                                  "HeartbeatSeconds")
        return (timeout if timeout is not None else DEFAULT_TIMEOUT_SECONDS), heartbeat

    def _seconds(self, scope: EvalScope, value: Any, path: JsonPath | None,
                 name: str) -> int | None:
        if path is not None:
            try:
                found = scope.resolve(path)
            except PathNotFound as exc:
                raise StatesError(
                    errors.RUNTIME, f"Invalid path '{path.text}' : {exc.jayway_message()}"
                ) from None
            if type(found) is not int or found <= 0:
                raise StatesError(
                    errors.RUNTIME,
                    f"The {name}Path field refers to value {to_json(found)} which is not a "
                    f"valid positive integer: {path.text}",
                )
            return int(found)
        if isinstance(value, Node):
            found = evaluate_expression_field(scope, value, name)
            if type(found) is not int or not 0 < found <= MAX_TIMEOUT_SECONDS:
                from headwater.services.stepfunctions.asl.jsonata_ import expected_type_error

                if isinstance(value, Expr):
                    raise expected_type_error(value.expression, name, "integer", found)
                raise StatesError(errors.QUERY_EVALUATION_ERROR, f"Invalid {name}",
                                  evaluation=True)
            return found
        return value  # type: ignore[no-any-return]

    def task_credentials(self, scope: EvalScope, raw: Any) -> Any:
        if self.credentials is None:
            return None
        scope.input = raw
        return self.credentials.evaluate(scope)
