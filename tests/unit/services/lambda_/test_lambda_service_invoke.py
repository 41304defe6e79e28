"""What an AWS service (S3 notifications) gets from Lambda in-process: whether a function's
resource policy lets the service invoke it, and asynchronous invocations queued durably, from
the event loop or from a worker thread."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest
from lambda_helpers import ScriptedExecutor, create_params, ref

from headwater.config import Settings
from headwater.core.clock import ManualClock
from headwater.core.errors import ServiceError
from headwater.core.ids import SequentialIds
from headwater.runtime.executor import InvocationResult
from headwater.services import ServiceEnv
from headwater.services.lambda_ import LambdaFacade
from headwater.services.lambda_.aliases import Aliases
from headwater.services.lambda_.async_invoke import AsyncInvocations
from headwater.services.lambda_.functions import Functions
from headwater.services.lambda_.invoke import Invoker
from headwater.services.lambda_.policy import Policies

S3 = "s3.amazonaws.com"
BUCKET_ARN = "arn:aws:s3:::photos"
ACCOUNT = "000000000000"
FN_ARN = "arn:aws:lambda:us-east-1:000000000000:function:fn"


@pytest.fixture
def policies(functions: Functions, ids: SequentialIds) -> Policies:
    functions.create(ref(), create_params())
    return Policies(functions, ids)


@pytest.fixture
def facade(
    functions: Functions, invoker: Invoker, queue: AsyncInvocations, clock: ManualClock
) -> LambdaFacade:
    env = ServiceEnv(Settings(), functions.store.db, clock, SequentialIds())
    return LambdaFacade(invoker, queue, env)


def grant(policies: Policies, sid: str = "s3", qualifier: str | None = None, **extra: Any) -> None:
    params = {"StatementId": sid, "Action": "lambda:InvokeFunction", "Principal": S3, **extra}
    policies.add(ref(qualifier=qualifier), params)


def allowed(policies: Policies, qualifier: str | None = None, source: str = BUCKET_ARN) -> bool:
    return policies.allows_service(ref(qualifier=qualifier), S3, source, ACCOUNT)


def test_no_policy_means_no_service_may_invoke(policies: Policies) -> None:
    assert not allowed(policies)


def test_a_statement_for_the_service_allows_it(policies: Policies) -> None:
    grant(policies)
    assert allowed(policies)
    assert not policies.allows_service(ref(), "sns.amazonaws.com", BUCKET_ARN, ACCOUNT)


def test_source_arn_and_account_conditions(policies: Policies) -> None:
    grant(policies, SourceArn="arn:aws:s3:::photo*", SourceAccount=ACCOUNT)
    assert allowed(policies)
    assert not allowed(policies, source="arn:aws:s3:::videos")
    assert not policies.allows_service(ref(), S3, BUCKET_ARN, "111111111111")


def test_exact_source_arn(policies: Policies) -> None:
    grant(policies, SourceArn=BUCKET_ARN)
    assert allowed(policies)
    assert not allowed(policies, source="arn:aws:s3:::photos-2")


def test_a_condition_the_service_does_not_carry_never_holds(policies: Policies) -> None:
    grant(policies, PrincipalOrgID="o-abcdefghij")
    assert not allowed(policies)


def test_wildcard_principal_and_action(policies: Policies) -> None:
    policies.add(ref(), {"StatementId": "all", "Action": "lambda:*", "Principal": "*"})
    assert allowed(policies)


def test_other_actions_do_not_allow_invoking(policies: Policies) -> None:
    policies.add(ref(), {"StatementId": "get", "Action": "lambda:GetFunction", "Principal": S3})
    assert not allowed(policies)


def test_an_alias_has_a_policy_of_its_own(
    policies: Policies, functions: Functions, aliases: Aliases
) -> None:
    functions.publish(ref(), {})
    aliases.create(ref(), {"Name": "live", "FunctionVersion": "1"})
    grant(policies)
    assert not allowed(policies, qualifier="live")
    grant(policies, "alias", qualifier="live")
    assert allowed(policies, qualifier="live")


def test_a_missing_function_is_not_found(policies: Policies) -> None:
    with pytest.raises(ServiceError) as caught:
        policies.allows_service(ref("nope"), S3, BUCKET_ARN, ACCOUNT)
    assert caught.value.code == "ResourceNotFoundException"


def test_facade_answers_false_for_missing_functions_and_non_arns(
    policies: Policies, facade: LambdaFacade
) -> None:
    grant(policies)
    check = facade.service_may_invoke
    assert check(FN_ARN, S3, source_arn=BUCKET_ARN, source_account=ACCOUNT)
    assert not check(FN_ARN + "-gone", S3, source_arn=BUCKET_ARN, source_account=ACCOUNT)
    assert not check("fn", S3, source_arn=BUCKET_ARN, source_account=ACCOUNT)
    assert not check(f"{FN_ARN}:nope", S3, source_arn=BUCKET_ARN, source_account=ACCOUNT)


def test_invoke_event_is_committed_and_runs_later(
    policies: Policies,
    facade: LambdaFacade,
    queue: AsyncInvocations,
    functions: Functions,
    executor: ScriptedExecutor,
) -> None:
    request_id = facade.invoke_event(FN_ARN, b'{"Records": []}')
    assert executor.calls == []  # queued, not run
    [event] = functions.store.due_events(float("inf"), [], 10)
    assert (event.request_id, event.payload) == (request_id, b'{"Records": []}')
    assert asyncio.run(queue.run_due()) == 1
    [(_, payload, context, _)] = executor.calls
    assert (payload, context.request_id) == (b'{"Records": []}', request_id)


def test_invoke_event_refuses_a_missing_function(facade: LambdaFacade) -> None:
    with pytest.raises(ServiceError) as caught:
        facade.invoke_event(FN_ARN + "-gone", b"{}")
    assert caught.value.code == "ResourceNotFoundException"


def signal_runs(executor: ScriptedExecutor) -> asyncio.Event:
    """An event set each time the executor runs the function (which echoes its payload)."""
    ran = asyncio.Event()

    def respond(spec: Any, payload: bytes, context: Any) -> InvocationResult:
        ran.set()
        return InvocationResult(context.request_id, payload)

    executor.respond = respond
    return ran


def test_an_event_queued_from_a_worker_thread_wakes_the_loop(
    policies: Policies, facade: LambdaFacade, queue: AsyncInvocations, executor: ScriptedExecutor
) -> None:
    # S3's lifecycle pass runs on a worker thread; its events must not wait for the queue's
    # next timed look (up to a minute) while the loop sleeps.
    async def scenario() -> None:
        ran = signal_runs(executor)
        await queue.start()
        try:

            def later() -> None:
                time.sleep(0.1)  # the loop is asleep on an empty queue by now
                facade.invoke_event(FN_ARN, b"{}")

            thread = threading.Thread(target=later)
            thread.start()
            await asyncio.wait_for(ran.wait(), 5)
            thread.join()
        finally:
            await queue.stop()

    asyncio.run(scenario())
    assert len(executor.calls) == 1


def test_stop_returns_while_an_event_is_finishing(
    policies: Policies, facade: LambdaFacade, queue: AsyncInvocations, executor: ScriptedExecutor
) -> None:
    # A server shutting down with an event in flight: the finishing event wakes the loop in
    # the same step as its cancellation, which Python 3.11's wait_for can swallow.
    async def scenario() -> None:
        ran = signal_runs(executor)
        await queue.start()
        facade.invoke_event(FN_ARN, b"{}")
        await asyncio.wait_for(ran.wait(), 5)
        stopping = asyncio.create_task(queue.stop())
        done, _ = await asyncio.wait({stopping}, timeout=5)
        assert done == {stopping}

    asyncio.run(scenario())
