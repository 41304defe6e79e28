"""The facade other services call in-process (Step Functions' lambda:invoke, S3 notifications):
Invoke's output members, pacing instead of throttling, and Invoke's errors."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from lambda_helpers import ScriptedExecutor, create_params, ref

from headwater.config import Settings
from headwater.core.clock import ManualClock
from headwater.core.errors import ServiceError
from headwater.core.ids import SequentialIds
from headwater.runtime.executor import THROTTLE_ACCOUNT, FunctionError, InvocationResult
from headwater.services import ServiceEnv
from headwater.services.lambda_ import LambdaFacade
from headwater.services.lambda_.async_invoke import AsyncInvocations
from headwater.services.lambda_.functions import Functions
from headwater.services.lambda_.invoke import Invoker


@pytest.fixture
def facade(
    functions: Functions, invoker: Invoker, queue: AsyncInvocations, clock: ManualClock
) -> LambdaFacade:
    env = ServiceEnv(Settings(), functions.store.db, clock, SequentialIds())
    return LambdaFacade(invoker, queue, env)


def invoke(facade: LambdaFacade, *args: Any, **kwargs: Any) -> dict[str, Any]:
    return asyncio.run(facade.invoke(*args, **kwargs))


def test_a_result_is_invokes_output(
    functions: Functions, facade: LambdaFacade, executor: ScriptedExecutor
) -> None:
    functions.create(ref(), create_params())
    out = invoke(facade, "fn", b'{"a": 1}')
    assert out == {"StatusCode": 200, "Payload": b'{"a": 1}', "ExecutedVersion": "$LATEST"}
    [(_, _, _, wait)] = executor.calls
    assert wait  # in-process callers pace themselves instead of being throttled


def test_a_function_error_is_a_result_not_an_exception(
    functions: Functions, facade: LambdaFacade, executor: ScriptedExecutor
) -> None:
    functions.create(ref(), create_params())
    doc = b'{"errorMessage":"x","errorType":"ValueError"}'
    executor.respond = lambda spec, payload, ctx: InvocationResult(
        ctx.request_id, doc, FunctionError("ValueError", "x")
    )
    out = invoke(facade, "fn")
    assert (out["FunctionError"], out["Payload"]) == ("Unhandled", doc)


def test_a_throttle_and_a_missing_function_are_invokes_errors(
    functions: Functions, facade: LambdaFacade, executor: ScriptedExecutor
) -> None:
    functions.create(ref(), create_params())
    executor.respond = lambda spec, payload, ctx: InvocationResult(
        ctx.request_id, throttled=True, throttle_reason=THROTTLE_ACCOUNT
    )
    with pytest.raises(ServiceError) as throttled:
        invoke(facade, "fn", wait=False)
    assert (throttled.value.code, throttled.value.status) == ("TooManyRequestsException", 429)
    assert throttled.value.fields["Reason"] == THROTTLE_ACCOUNT
    with pytest.raises(ServiceError) as missing:
        invoke(facade, "nope")
    assert missing.value.code == "ResourceNotFoundException"


def test_an_event_is_queued_with_202(
    functions: Functions, facade: LambdaFacade, clock: ManualClock
) -> None:
    functions.create(ref(), create_params())
    assert invoke(facade, "fn", b"{}", invocation_type="Event") == {
        "StatusCode": 202,
        "Payload": b"",
    }
    [event] = functions.store.due_events(clock.now(), (), 10)
    assert event.payload == b"{}"
