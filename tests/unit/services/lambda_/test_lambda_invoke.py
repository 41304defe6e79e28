"""The Invoker: what the executor is asked to run and how its results become Invoke's HTTP."""

from __future__ import annotations

import asyncio
import base64

import orjson
import pytest
from lambda_helpers import ScriptedExecutor, create_params, ref

from headwater.core.errors import ServiceError
from headwater.runtime.executor import (
    FunctionError,
    FunctionSpec,
    InvocationContext,
    InvocationResult,
)
from headwater.services.lambda_.aliases import Aliases
from headwater.services.lambda_.functions import Functions
from headwater.services.lambda_.invoke import SYNC_RESPONSE_LIMIT, Invoker, check_payload, tail_of


def run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)


def test_the_spec_points_back_at_headwater(functions: Functions, invoker: Invoker) -> None:
    functions.create(ref(), create_params(Environment={"Variables": {"A": "1"}}, Timeout=7))
    functions.put_concurrency(ref(), 4)
    target = invoker.target(ref())
    spec = invoker.spec(ref(), target.version)
    assert spec.endpoint_url == "http://127.0.0.1:4566"
    assert (spec.access_key_id, spec.secret_access_key) == ("test", "test")
    assert (spec.timeout, spec.concurrency, dict(spec.environment)) == (7.0, 4, {"A": "1"})
    assert spec.revision == target.version.revision_id
    assert spec.function_arn == "arn:aws:lambda:us-east-1:000000000000:function:fn"
    assert (spec.code_dir / "app.py").exists()


def test_success_and_stored_logs(functions: Functions, invoker: Invoker) -> None:
    functions.create(ref(), create_params())
    out = run(
        invoker.invoke_sync(invoker.target(ref()), b'{"a": 1}', tail=True, client_context=None)
    )
    assert out["StatusCode"] == 200 and out["Payload"] == b'{"a": 1}'
    assert out["ExecutedVersion"] == "$LATEST" and "FunctionError" not in out
    assert base64.b64decode(out["LogResult"]).startswith(b"START ")
    [(_, _, text)] = functions.store.logs("fn", 0, 10)
    assert text.startswith("START ")


def test_function_errors_are_200_with_the_header(
    functions: Functions, invoker: Invoker, executor: ScriptedExecutor
) -> None:
    functions.create(ref(), create_params())
    doc = b'{"errorMessage":"x","errorType":"ValueError"}'
    executor.respond = lambda spec, payload, ctx: InvocationResult(
        ctx.request_id, doc, FunctionError("ValueError", "x")
    )
    out = run(invoker.invoke_sync(invoker.target(ref()), b"{}", tail=False, client_context=None))
    assert (out["StatusCode"], out["FunctionError"], out["Payload"]) == (200, "Unhandled", doc)


def test_throttles_are_429_with_a_reason(
    functions: Functions, invoker: Invoker, executor: ScriptedExecutor
) -> None:
    functions.create(ref(), create_params())
    executor.respond = lambda spec, payload, ctx: InvocationResult(
        ctx.request_id,
        throttled=True,
        throttle_reason="ReservedFunctionConcurrentInvocationLimitExceeded",
    )
    with pytest.raises(ServiceError) as caught:
        run(invoker.invoke_sync(invoker.target(ref()), b"{}", tail=False, client_context=None))
    error = caught.value
    assert (error.code, error.status, error.message) == (
        "TooManyRequestsException",
        429,
        "Rate Exceeded.",
    )
    assert error.fields["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"


def test_responses_over_6_mb_become_function_errors(
    functions: Functions, invoker: Invoker, executor: ScriptedExecutor
) -> None:
    functions.create(ref(), create_params())
    executor.respond = lambda spec, payload, ctx: InvocationResult(
        ctx.request_id, b'"' + b"x" * SYNC_RESPONSE_LIMIT + b'"'
    )
    out = run(invoker.invoke_sync(invoker.target(ref()), b"{}", tail=False, client_context=None))
    assert out["FunctionError"] == "Unhandled"
    assert orjson.loads(out["Payload"])["errorType"] == "Function.ResponseSizeTooLarge"


def test_requests_over_6_mb_are_refused(functions: Functions, invoker: Invoker) -> None:
    functions.create(ref(), create_params())
    with pytest.raises(ServiceError) as caught:
        run(
            invoker.invoke_sync(
                invoker.target(ref()), b"1" * 6_291_457, tail=False, client_context=None
            )
        )
    assert (caught.value.code, caught.value.status) == ("RequestEntityTooLargeException", 413)


def test_aliases_run_the_version_they_draw(
    functions: Functions,
    aliases: Aliases,
    invoker: Invoker,
    executor: ScriptedExecutor,
    draws: list[float],
) -> None:
    functions.create(ref(), create_params())
    functions.publish(ref(), {})
    functions.update_config(ref(), {"Timeout": 9})
    functions.publish(ref(), {})
    aliases.create(
        ref(),
        {
            "Name": "live",
            "FunctionVersion": "1",
            "RoutingConfig": {"AdditionalVersionWeights": {"2": 0.5}},
        },
    )
    draws.extend([0.1, 0.9])
    first = invoker.target(ref(qualifier="live"))
    second = invoker.target(ref(qualifier="live"))
    assert (first.version.version, second.version.version) == ("2", "1")
    assert first.invoked_arn.endswith(":function:fn:live")
    with pytest.raises(ServiceError) as caught:
        invoker.target(ref(qualifier="nope"))
    assert caught.value.message.endswith(":function:fn:nope")


def test_payload_rules() -> None:
    assert check_payload(None) == b"{}"
    assert check_payload(b"[1]") == b"[1]"
    with pytest.raises(ServiceError) as caught:
        check_payload(b"{nope")
    assert caught.value.code == "InvalidRequestContentException"


def test_tail_is_the_last_4_kb() -> None:
    text = "a" * 5000 + "END"
    tail = base64.b64decode(tail_of(text))
    assert len(tail) == 4096 and tail.endswith(b"END")


def test_executor_failures_are_service_exceptions(
    functions: Functions, invoker: Invoker, executor: ScriptedExecutor
) -> None:
    functions.create(ref(), create_params())

    def broken(spec: FunctionSpec, payload: bytes, ctx: InvocationContext) -> InvocationResult:
        raise RuntimeError("no workers")

    executor.respond = broken
    with pytest.raises(ServiceError) as caught:
        run(invoker.run(invoker.target(ref()), b"{}"))
    assert (caught.value.code, caught.value.status) == ("ServiceException", 500)


def test_waiting_callers_of_a_function_with_no_concurrency_are_throttled(
    functions: Functions, invoker: Invoker, executor: ScriptedExecutor
) -> None:
    functions.create(ref(), create_params())
    functions.put_concurrency(ref(), 0)
    result = run(invoker.run(invoker.target(ref()), b"{}", wait=True))
    assert result.throttled and executor.calls == []
