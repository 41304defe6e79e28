"""The executor seam: how headwater runs a function's code, whatever runs it.

Every caller that needs compute (Lambda ``Invoke``, Step Functions task states, Distributed Map
children, event source mappings) goes through ``Executor.invoke``; ``LocalExecutor``
(``runtime/local.py``) runs handlers in warm worker processes on this machine and a Ray executor
can follow behind the same protocol without touching any caller.

This module holds only values and formats every implementation shares: what to run
(``FunctionSpec``), who is asking (``InvocationContext``), what came back (``InvocationResult``),
and the documents and log lines Lambda produces *outside* the function's own runtime (timeouts,
crashes, the START / END / REPORT lines).  What the Python runtime itself produces (handler
exceptions, marshal errors) lives in ``runtime/host.py``.  It is not the Lambda API: no HTTP,
no persistence, no versions or aliases, which belong to ``services/lambda_``.

AWS pages: https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html (the response and its
``X-Amz-Function-Error``), https://docs.aws.amazon.com/lambda/latest/dg/python-logging.html
(the log lines), https://docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import orjson

from headwater.core.ids import DEFAULT_REGION

# The reasons Lambda puts in a 429 TooManyRequestsException (``Reason`` member of the error).
THROTTLE_RESERVED = "ReservedFunctionConcurrentInvocationLimitExceeded"
THROTTLE_ACCOUNT = "ConcurrentInvocationLimitExceeded"


@dataclass(frozen=True, slots=True)
class FunctionSpec:
    """One function version as the executor needs it: the code, the handler, the settings.

    ``revision`` names the code and configuration the service deployed (for example the
    CodeSha256 plus a configuration counter): a spec with a new revision gets fresh workers,
    the old ones drain.  ``watch`` is the folder mode for local development: the executor looks
    for edits under ``code_dir`` and restarts workers when a file changed (see ``runtime/code.py``).
    ``concurrency`` is the function's reserved concurrency, shared by every version with the
    same ``function_arn``; None means the executor's default, per version.
    """

    function_name: str
    function_arn: str  # unqualified
    handler: str  # "module.function", the module path may use "/" or "."
    code_dir: Path
    version: str = "$LATEST"
    runtime: str = "python3.12"
    memory_size: int = 128  # MB
    timeout: float = 3.0  # seconds
    environment: Mapping[str, str] = field(default_factory=dict)
    region: str = DEFAULT_REGION
    # Where a handler's boto3 calls should go (headwater's own endpoint), and with what keys.
    endpoint_url: str | None = None
    access_key_id: str = "test"
    secret_access_key: str = "test"
    concurrency: int | None = None
    watch: bool = False
    revision: str = ""

    def pool_key(self) -> tuple[object, ...]:
        """Everything that shapes a worker process; two specs with the same key share workers.

        The timeout is deliberately absent: the server enforces it per invocation, so changing
        it does not need new processes.
        """
        return (
            self.function_arn,
            self.version,
            self.revision,
            self.handler,
            str(self.code_dir),
            self.runtime,
            self.memory_size,
            tuple(sorted(self.environment.items())),
            self.region,
            self.endpoint_url,
            self.access_key_id,
            self.secret_access_key,
            self.watch,
        )


@dataclass(frozen=True, slots=True)
class InvocationContext:
    """Per-invocation facts the service decides and the handler's ``context`` object reports."""

    request_id: str
    # The ARN the caller used, with its qualifier (alias or version); None: the unqualified ARN.
    invoked_function_arn: str | None = None
    client_context: str | None = None  # JSON text, already base64-decoded by the service
    cognito_identity: str | None = None  # JSON text
    trace_id: str | None = None  # becomes _X_AMZN_TRACE_ID in the worker


@dataclass(frozen=True, slots=True)
class FunctionError:
    """An error document as Lambda returns it in the Invoke payload."""

    error_type: str
    error_message: str
    stack_trace: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class InvocationResult:
    """What one invocation produced.

    ``payload`` is the Invoke response body byte for byte: the handler's JSON result, or the
    error document when ``error`` is set (the service then answers 200 with
    ``X-Amz-Function-Error: Unhandled``).  A throttled call ran nothing: ``throttled`` is set,
    ``throttle_reason`` names the limit, and the service answers 429 TooManyRequestsException.
    ``logs`` is the invocation's log text from START to REPORT, preceded on a cold start by what
    the function printed while it was being imported.
    """

    request_id: str
    payload: bytes = b""
    error: FunctionError | None = None
    logs: str = ""
    duration_ms: float = 0.0
    billed_duration_ms: int = 0
    init_duration_ms: float | None = None
    memory_size_mb: int = 0
    max_memory_used_mb: int = 0
    timed_out: bool = False
    worker_crashed: bool = False
    throttled: bool = False
    throttle_reason: str | None = None
    content_type: str = "application/json"

    @property
    def function_error(self) -> str | None:
        """The ``X-Amz-Function-Error`` header value.

        AWS quirk: current runtimes report every failure, handled in code or not, as
        ``Unhandled``; ``Handled`` only came from the retired Node.js callback style.
        """
        return "Unhandled" if self.error is not None else None

    @property
    def ok(self) -> bool:
        return self.error is None and not self.throttled


class Executor(Protocol):
    """Runs function code.  Implementations: ``LocalExecutor``; later a Ray executor.

    ``invoke`` never raises for anything the function does (exceptions, timeouts, crashes and
    throttling are all results); it raises only for executor failures (for example a worker
    that cannot be spawned at all), which the service reports as a ServiceException.
    """

    async def start(self) -> None:
        """Start background work (idle reaping, monitors).  Idempotent."""
        ...

    async def stop(self) -> None:
        """Stop every worker and background task; pending invocations end as crashes."""
        ...

    async def invoke(
        self,
        spec: FunctionSpec,
        payload: bytes,
        context: InvocationContext,
        *,
        timeout: float | None = None,
        wait: bool = False,
    ) -> InvocationResult:
        """Run ``spec``'s handler on ``payload`` (the exact event bytes the runtime receives;
        it must be JSON, so a caller with no payload decides what to send, such as ``{}``).

        ``timeout`` overrides ``spec.timeout``.  When the function is at its concurrency limit
        the call returns a throttled result at once, as a synchronous Invoke does; with
        ``wait=True`` it waits for a free worker instead (Step Functions, Distributed Map and
        event source mappings, which pace themselves).
        """
        ...

    async def warm(self, spec: FunctionSpec, count: int = 1) -> None:
        """Start up to ``count`` workers ahead of the first call (provisioned concurrency)."""
        ...

    async def discard(self, function_arn: str) -> None:
        """Stop every worker of a function (all versions): after DeleteFunction or an update."""
        ...


# -- what Lambda itself (not the runtime) writes ----------------------------------------------


def billed_ms(duration_ms: float) -> int:
    """Lambda bills per started millisecond, with a minimum of one."""
    return max(1, math.ceil(duration_ms))


def timeout_message(timeout: float) -> str:
    return f"Task timed out after {timeout:.2f} seconds"


def timeout_error(request_id: str, timeout: float) -> FunctionError:
    # AWS quirk: the platform (not the runtime) writes this one, so it has no stackTrace or
    # requestId member and the message itself carries the request id.
    return FunctionError(
        "Sandbox.Timedout", f"RequestId: {request_id} Error: {timeout_message(timeout)}"
    )


def exit_reason(returncode: int, signal_name: str | None) -> str:
    """Describe a process end the way Lambda's Go supervisor does (``os.ProcessState``)."""
    if signal_name is not None:
        return f"Runtime exited with error: signal: {signal_name}"
    if returncode == 0:
        return "Runtime exited without providing a reason"
    return f"Runtime exited with error: exit status {returncode}"


def exit_error(request_id: str, reason: str, *, out_of_memory: bool = False) -> FunctionError:
    kind = "Runtime.OutOfMemory" if out_of_memory else "Runtime.ExitError"
    return FunctionError(kind, f"RequestId: {request_id} Error: {reason}")


def platform_error_payload(error: FunctionError) -> bytes:
    """The document Lambda's platform returns for errors it detects itself (compact JSON)."""
    return orjson.dumps({"errorMessage": error.error_message, "errorType": error.error_type})


def parse_error_payload(payload: bytes) -> FunctionError:
    """Read an error document the runtime returned; tolerate anything a handler could produce."""
    try:
        doc = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return FunctionError("Runtime.Unknown", payload.decode("utf-8", "replace"))
    if not isinstance(doc, dict):
        return FunctionError("Runtime.Unknown", str(doc))
    trace = doc.get("stackTrace") or ()
    return FunctionError(
        str(doc.get("errorType") or ""),
        str(doc.get("errorMessage") or ""),
        tuple(str(line) for line in trace) if isinstance(trace, list) else (),
    )


def start_line(request_id: str, version: str) -> str:
    return f"START RequestId: {request_id} Version: {version}\n"


def end_line(request_id: str) -> str:
    return f"END RequestId: {request_id}\n"


def report_line(
    request_id: str,
    duration_ms: float,
    memory_size_mb: int,
    max_memory_used_mb: int,
    *,
    init_duration_ms: float | None = None,
    status: str | None = None,
    error_type: str | None = None,
) -> str:
    """The REPORT line, tab separated, with the trailing tab Lambda leaves after each field."""
    line = (
        f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\t"
        f"Billed Duration: {billed_ms(duration_ms)} ms\tMemory Size: {memory_size_mb} MB\t"
        f"Max Memory Used: {max_memory_used_mb} MB\t"
    )
    if init_duration_ms is not None:
        line += f"Init Duration: {init_duration_ms:.2f} ms\t"
    if status is not None:
        line += f"Status: {status}\t"
    if error_type is not None:
        line += f"Error Type: {error_type}\t"
    return line + "\n"


def log_stream_name(date: str, version: str, instance_id: str) -> str:
    """``2025/08/31/[$LATEST]3893...``: one stream per execution environment (worker)."""
    return f"{date}/[{version}]{instance_id}"


def log_group_name(function_name: str) -> str:
    return f"/aws/lambda/{function_name}"
