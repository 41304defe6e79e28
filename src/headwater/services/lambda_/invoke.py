"""Running a function version: from an Invoke request to the executor and back to HTTP.

``Invoker`` resolves the qualifier (an alias draws its version by routing weight), builds the
executor's ``FunctionSpec`` (environment pointing back at headwater, reserved concurrency,
folder mode), runs the call through the ``Executor`` seam, stores the invocation's log text,
and maps the result onto Invoke's response the way Lambda does:

- a function error is still HTTP 200, with ``X-Amz-Function-Error: Unhandled`` and the error
  document as the payload;
- a throttled call is HTTP 429 ``TooManyRequestsException`` with the limit in ``Reason``;
- ``LogType=Tail`` returns the last 4 KB of the log text, base64, in ``X-Amz-Log-Result``;
- request payloads are limited to 6 MB (synchronous) and 256 KB (``Event``), responses to
  6 MB, with AWS's errors.

Asynchronous invocations are queued by ``async_invoke.AsyncInvocations``; event source mappings
call ``run`` directly.  AWS page: https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from headwater.core.clock import Clock
from headwater.core.ids import IdFactory
from headwater.runtime.executor import (
    THROTTLE_ACCOUNT,
    THROTTLE_RESERVED,
    Executor,
    FunctionError,
    FunctionSpec,
    InvocationContext,
    InvocationResult,
)
from headwater.services.lambda_ import errors
from headwater.services.lambda_.aliases import Aliases
from headwater.services.lambda_.configuration import Version
from headwater.services.lambda_.functions import Functions
from headwater.services.lambda_.names import LATEST, FunctionRef, is_version

SYNC_REQUEST_LIMIT = 6_291_456
# AWS quirk: the response limit is 100 bytes above the request limit.
SYNC_RESPONSE_LIMIT = 6_291_556
ASYNC_REQUEST_LIMIT = 262_144
TAIL_BYTES = 4096


@dataclass(frozen=True, slots=True)
class Tuning:
    """Knobs for local runs and tests, read from ``HEADWATER_LAMBDA_*`` variables at start.

    ``retry_delay``: seconds before the first retry of a failed asynchronous event (Lambda
    waits about a minute, then about two); ``poll_interval``: how often idle SQS pollers and
    the asynchronous queue look again; ``concurrency``: workers per function version without
    reserved concurrency (None: the executor's default); ``idle_timeout``: seconds a warm
    worker waits for its next call.
    """

    retry_delay: float = 60.0
    poll_interval: float = 0.5
    concurrency: int | None = None
    idle_timeout: float = 600.0

    @staticmethod
    def from_environment(env: Mapping[str, str] | None = None) -> Tuning:
        source = os.environ if env is None else env
        concurrency = source.get("HEADWATER_LAMBDA_CONCURRENCY")
        return Tuning(
            float(source.get("HEADWATER_LAMBDA_RETRY_DELAY", 60.0)),
            float(source.get("HEADWATER_LAMBDA_POLL_INTERVAL", 0.5)),
            int(concurrency) if concurrency else None,
            float(source.get("HEADWATER_LAMBDA_IDLE_TIMEOUT", 600.0)),
        )


@dataclass(frozen=True, slots=True)
class Target:
    """One invocation's function version, and the ARN the handler sees it was invoked by."""

    ref: FunctionRef
    version: Version
    invoked_arn: str


class Invoker:
    def __init__(
        self,
        functions: Functions,
        aliases: Aliases,
        executor: Executor,
        clock: Clock,
        ids: IdFactory,
        endpoint: Callable[[], str],
        credentials: tuple[str, str],
    ) -> None:
        self.functions = functions
        self.aliases = aliases
        self.executor = executor
        self.clock = clock
        self.ids = ids
        self.endpoint = endpoint
        self.credentials = credentials
        self._specs: dict[tuple[str, str, str, int | None], FunctionSpec] = {}

    # -- resolving ------------------------------------------------------------------------

    def target(self, ref: FunctionRef) -> Target:
        row = self.functions.function(ref)
        qualifier = ref.qualifier or LATEST
        if qualifier == LATEST or is_version(qualifier):
            version = self.functions.version(ref, qualifier)
        else:
            if self.functions.store.alias(row.key, qualifier) is None:
                raise errors.function_not_found(ref.qualified_arn)
            version = self.functions.version(ref, self.aliases.pick(ref, qualifier))
        return Target(ref, version, ref.qualified_arn)

    def spec(self, ref: FunctionRef, version: Version) -> FunctionSpec:
        row = self.functions.function(ref)
        # Built once per deployed revision: a warm invoke then allocates no new spec (and the
        # executor finds its pool by the same key).
        cache_key = (ref.arn, version.version, version.revision_id, row.concurrency)
        spec = self._specs.get(cache_key)
        if spec is None:
            if len(self._specs) > 4096:
                self._specs.clear()
            spec = self._specs[cache_key] = self._build_spec(ref, version, row.concurrency)
        return spec

    def _build_spec(
        self, ref: FunctionRef, version: Version, concurrency: int | None
    ) -> FunctionSpec:
        config = version.config
        key, secret = self.credentials
        return FunctionSpec(
            function_name=ref.name,
            function_arn=ref.arn,
            handler=config.handler,
            code_dir=self.functions.code_dir(ref, version.code),
            version=version.version,
            runtime=config.runtime,
            memory_size=config.memory_size,
            timeout=float(config.timeout),
            environment=dict(config.environment),
            region=ref.region,
            endpoint_url=self.endpoint(),
            access_key_id=key,
            secret_access_key=secret,
            concurrency=concurrency,
            watch=version.code.folder is not None,
            revision=version.revision_id,
        )

    # -- running --------------------------------------------------------------------------

    async def run(
        self,
        target: Target,
        payload: bytes,
        *,
        request_id: str | None = None,
        wait: bool = False,
        client_context: str | None = None,
    ) -> InvocationResult:
        """Run ``target`` once and keep its logs; every outcome is a result, never an error
        (apart from the executor failing, which is a ServiceException)."""
        spec = self.spec(target.ref, target.version)
        context = InvocationContext(
            request_id or self.ids.uuid(),
            invoked_function_arn=target.invoked_arn,
            client_context=client_context,
        )
        if wait and spec.concurrency == 0:
            # Waiting for a worker of a function that may have none would wait forever.
            return InvocationResult(
                context.request_id, throttled=True, throttle_reason=THROTTLE_RESERVED
            )
        try:
            result = await self.executor.invoke(spec, payload, context, wait=wait)
        except Exception as exc:  # the executor itself failed: not the function's doing
            raise errors.service_error(f"headwater could not run the function: {exc}") from exc
        if len(result.payload) > SYNC_RESPONSE_LIMIT and result.error is None:
            result = _too_large(result)
        if result.logs:
            self.functions.store.append_log(
                Functions.key(target.ref), self.clock.now(), context.request_id, result.logs
            )
        return result

    async def invoke_sync(
        self,
        target: Target,
        payload: bytes,
        *,
        tail: bool = False,
        client_context: str | None = None,
        wait: bool = False,
    ) -> dict[str, Any]:
        """A RequestResponse Invoke: the response members of Invoke's output shape.

        ``wait=True`` queues for a worker instead of being throttled (in-process callers that
        pace themselves); a throttled call is the 429 ``TooManyRequestsException``."""
        if len(payload) > SYNC_REQUEST_LIMIT:
            raise errors.request_too_large(SYNC_REQUEST_LIMIT)
        result = await self.run(target, payload, client_context=client_context, wait=wait)
        if result.throttled:
            raise errors.throttled(result.throttle_reason or THROTTLE_ACCOUNT)
        out: dict[str, Any] = {
            "StatusCode": 200,
            "Payload": result.payload,
            "ExecutedVersion": target.version.version,
        }
        if result.function_error:
            out["FunctionError"] = result.function_error
        if tail:
            out["LogResult"] = tail_of(result.logs)
        return out


def check_payload(payload: bytes | None) -> bytes:
    """The event bytes the handler gets: no body means ``{}``; anything else must be JSON."""
    if not payload:
        return b"{}"
    try:
        orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise errors.invalid_request_content(str(exc)) from None
    return bytes(payload)


def tail_of(logs: str) -> str:
    """``X-Amz-Log-Result``: the last 4 KB of the log text, base64."""
    return base64.b64encode(logs.encode("utf-8")[-TAIL_BYTES:]).decode("ascii")


def _too_large(result: InvocationResult) -> InvocationResult:
    message = f"Response payload size exceeded maximum allowed payload size ({SYNC_RESPONSE_LIMIT} bytes)."
    error = FunctionError("Function.ResponseSizeTooLarge", message)
    payload = orjson.dumps({"errorMessage": message, "errorType": error.error_type})
    return InvocationResult(
        result.request_id,
        payload,
        error,
        result.logs,
        result.duration_ms,
        result.billed_duration_ms,
        result.init_duration_ms,
        result.memory_size_mb,
        result.max_memory_used_mb,
    )
