"""Python functions as Lambda functions for in-process runs: task handlers for a function's
ARN (``"Resource": "arn:aws:lambda:...:function:NAME"``) and for the
``arn:aws:states:::lambda:invoke`` integration, shaped as Step Functions sees Lambda.

Implements what a workflow observes of https://docs.aws.amazon.com/step-functions/latest/dg/connect-lambda.html :
the payload goes through JSON; ``lambda:invoke`` wraps the result (``Payload``, ``StatusCode``,
``ExecutedVersion``, ``SdkHttpMetadata``, ``SdkResponseMetadata``); an exception becomes an error
named after its class with the Python runtime's JSON error document as the cause; an unknown
function is ``Lambda.ResourceNotFoundException``.

This stands in until the Lambda service exists; then these handlers call its facade instead.
Functions can be given as source code, loaded as ``/var/task/handler.py`` the way the Python
runtime loads them (so tracebacks read as on AWS), with a virtual ``time.sleep`` that makes the
invocation take that long on the runner's clock instead of blocking.
"""

from __future__ import annotations

import json
import linecache
import traceback
import types
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import orjson

from headwater.core.clock import Clock
from headwater.core.ids import DEFAULT_ACCOUNT_ID, DEFAULT_REGION, IdFactory
from headwater.services.stepfunctions.runner import Delayed, TaskFailure, TaskHandler, TaskRequest

INVOKE_ARN = "arn:aws:states:::lambda:invoke"
HANDLER_FILE = "/var/task/handler.py"


class _Sleep:
    """Stands in for the ``time`` module inside loaded handlers: sleeping costs no real time."""

    def __init__(self) -> None:
        self.slept = 0.0

    def sleep(self, seconds: float) -> None:
        self.slept += seconds

    def time(self) -> float:
        import time

        return time.time() + self.slept


class _Context:
    def __init__(self, name: str, arn: str, request_id: str) -> None:
        self.function_name = name
        self.invoked_function_arn = arn
        self.aws_request_id = request_id
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = 128

    def get_remaining_time_in_millis(self) -> int:
        return 900_000


class LocalFunctions:
    """A registry of functions by name, and the task handlers that invoke them."""

    def __init__(self, ids: IdFactory, clock: Clock, region: str = DEFAULT_REGION,
                 account: str = DEFAULT_ACCOUNT_ID) -> None:
        self.ids = ids
        self.clock = clock
        self.region = region
        self.account = account
        self._functions: dict[str, tuple[Callable[..., Any], _Sleep | None]] = {}

    def arn(self, name: str) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account}:function:{name}"

    def add(self, name: str, handler: Callable[..., Any]) -> str:
        self._functions[name] = (handler, None)
        return self.arn(name)

    def add_source(self, name: str, source: str, handler_name: str = "handler") -> str:
        """Load ``source`` as the function's ``handler.py`` (line numbers as written)."""
        clock = _Sleep()
        module = types.ModuleType("handler")
        module.__file__ = HANDLER_FILE
        module.__dict__["time"] = clock
        lines = source.splitlines(keepends=True)
        linecache.cache[HANDLER_FILE] = (len(source), None, lines, HANDLER_FILE)
        exec(compile(source, HANDLER_FILE, "exec"), module.__dict__)  # noqa: S102 - user code
        self._functions[name] = (module.__dict__[handler_name], clock)
        return self.arn(name)

    def handlers(self) -> dict[str, TaskHandler]:
        out: dict[str, TaskHandler] = {INVOKE_ARN: self._invoke_integration}
        for name in self._functions:
            out[self.arn(name)] = self._invoke_resource
        return out

    # ----- the two ways a workflow calls a function --------------------------------------

    def _invoke_resource(self, request: TaskRequest) -> Any:
        name = request.resource.arn.split(":")[6]
        outcome = self._call(name, request.parameters)
        return outcome

    def _invoke_integration(self, request: TaskRequest) -> Any:
        params = request.parameters if isinstance(request.parameters, dict) else {}
        function = str(params.get("FunctionName", ""))
        name = function.split(":")[6] if function.startswith("arn:") else function
        payload = params.get("Payload")
        if name not in self._functions:
            raise TaskFailure(
                "Lambda.ResourceNotFoundException",
                f"Function not found: {self.arn(name)}:$LATEST (Service: AWSLambda; Status Code: "
                f"404; Error Code: ResourceNotFoundException; Request ID: {self.ids.uuid()}; "
                f"Proxy: null)",
            )
        try:
            outcome = self._call(name, payload, wrap=True)
        except TaskFailure as failure:
            raise _compact(failure) from None
        if isinstance(outcome, Delayed) and outcome.failure is not None:
            return Delayed(outcome.seconds, None, _compact(outcome.failure))
        return outcome

    def _call(self, name: str, payload: Any, wrap: bool = False) -> Any:
        if name not in self._functions:
            raise TaskFailure(
                "Lambda.ResourceNotFoundException",
                f"Function not found: {self.arn(name)} (Service: AWSLambda; Status Code: 404; "
                f"Error Code: ResourceNotFoundException; Request ID: {self.ids.uuid()}; "
                f"Proxy: null)",
            )
        handler, sleeper = self._functions[name]
        request_id = self.ids.uuid()
        event = _event(payload) if wrap else orjson.loads(orjson.dumps(payload))
        before = sleeper.slept if sleeper is not None else 0.0
        try:
            value = handler(event, _Context(name, self.arn(name), request_id))
            failure = None
        except Exception as exc:  # noqa: BLE001 - the function's own failure
            failure = _function_error(exc, request_id)
            value = None
        took = (sleeper.slept - before) if sleeper is not None else 0.0
        if failure is None:
            # The Python runtime answers with json.dumps (spaces after separators), which is
            # what Content-Length counts.
            body = value if isinstance(value, (bytes, bytearray)) else json.dumps(value).encode()
            value = self._result(bytes(body), request_id, wrap)
        if took > 0:
            return Delayed(took, value, failure)
        if failure is not None:
            raise failure
        return value

    def _result(self, body: bytes, request_id: str, wrap: bool) -> Any:
        if len(body) > 256 * 1024:
            # Let the engine see the oversized payload and fail with States.DataLimitExceeded.
            return body.decode(errors="replace")
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError:
            payload = body.decode(errors="replace")
        if not wrap:
            return payload
        date = datetime.fromtimestamp(self.clock.now(), tz=UTC).strftime(
            "%a, %d %b %Y %H:%M:%S GMT")
        trace = f"Root=1-{self.ids.uuid()[:8]}-{self.ids.uuid().replace('-', '')[:24]}"
        headers = {
            "Connection": "keep-alive",
            "Content-Length": str(len(body)),
            "Content-Type": "application/json",
            "Date": date,
            "X-Amz-Executed-Version": "$LATEST",
            "X-Amzn-Trace-Id": trace,
            "x-amzn-Remapped-Content-Length": "0",
            "x-amzn-RequestId": request_id,
        }
        return {
            "ExecutedVersion": "$LATEST",
            "Payload": payload,
            "SdkHttpMetadata": {
                "AllHttpHeaders": {k: [v] for k, v in headers.items()},
                "HttpHeaders": headers,
                "HttpStatusCode": 200,
            },
            "SdkResponseMetadata": {"RequestId": request_id},
            "StatusCode": 200,
        }


def _function_error(exc: Exception, request_id: str) -> TaskFailure:
    """The Python runtime's error document: errorMessage, errorType, requestId, stackTrace."""
    frames = [fr for fr in traceback.extract_tb(exc.__traceback__)
              if fr.filename != __file__]
    document = {
        "errorMessage": str(exc),
        "errorType": type(exc).__name__,
        "requestId": request_id,
        "stackTrace": traceback.format_list(frames),
    }
    return TaskFailure(type(exc).__name__, json.dumps(document))


def _compact(failure: TaskFailure) -> TaskFailure:
    """# AWS quirk: through ``lambda:invoke`` the runtime's error document is re-serialised
    compactly; through a function ARN resource it keeps the runtime's own spacing."""
    try:
        document = orjson.loads(failure.cause or "")
    except orjson.JSONDecodeError:
        return failure
    return TaskFailure(failure.error, orjson.dumps(document).decode())


def _event(payload: Any) -> Any:
    """What the function receives from ``lambda:invoke``'s Payload.

    # AWS quirk: a string Payload is sent as the raw JSON text of the request (so the
    # function gets "0.0" as the number 0.0), and a missing/null Payload arrives as {}.
    """
    if payload is None:
        return {}
    if isinstance(payload, str):
        try:
            return orjson.loads(payload)
        except orjson.JSONDecodeError:
            raise TaskFailure(
                "Lambda.InvalidRequestContentException",
                "Could not parse request body into json: Unrecognized token (Service: Lambda, "
                "Status Code: 400)",
            ) from None
    return orjson.loads(orjson.dumps(payload))
