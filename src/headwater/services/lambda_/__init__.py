"""AWS Lambda: Python functions in warm worker processes, versions, aliases, asynchronous
invocation with retries and destinations, and SQS event source mappings.

``create(env)`` builds the service for the gateway: the domain objects, the executor (a
``LocalExecutor``: handlers run in worker processes, never in the server), the asynchronous
queue and the SQS pollers (started and stopped with the app), the wire adapter, and the facade
other services (Step Functions, S3 notifications, EventBridge) call in-process.

Layout:
    names.py          function names, qualifiers, ARNs, timestamps
    configuration.py  a version's configuration and code, checks, FunctionConfiguration
    functions.py      create / update / delete / publish, code folders, concurrency, tags
    aliases.py        aliases and weighted routing
    policy.py         resource policies (stored, returned; evaluated for AWS services)
    eventconfig.py    event invoke configs (retries, age, destinations)
    invoke.py         running a version through the executor; Invoke's HTTP mapping
    async_invoke.py   the durable asynchronous queue, retries, destinations, DLQ
    mappings.py       event source mapping configuration
    pollers.py        the SQS pollers behind enabled mappings
    logs.py           reading stored invocation logs (``headwater logs``)
    store.py          tables and statements
    adapter.py        one method per Lambda operation
    errors.py         every error Lambda answers with

See docs/lambda.md for what is implemented and where headwater differs from AWS.

API reference: https://docs.aws.amazon.com/lambda/latest/api/API_Operations.html
"""

from __future__ import annotations

import random
from typing import Any

from headwater.core.errors import ServiceError
from headwater.runtime.local import LocalExecutor
from headwater.services import ServiceEnv, ServiceHandle
from headwater.services.lambda_.adapter import LambdaAdapter
from headwater.services.lambda_.aliases import Aliases
from headwater.services.lambda_.async_invoke import AsyncInvocations
from headwater.services.lambda_.eventconfig import EventConfigs
from headwater.services.lambda_.functions import MAX_S3_PACKAGE_BYTES, Functions, ObjectFetcher
from headwater.services.lambda_.invoke import Invoker, Tuning, check_payload
from headwater.services.lambda_.mappings import Mappings
from headwater.services.lambda_.names import parse_function, parse_resource_arn
from headwater.services.lambda_.policy import Policies
from headwater.services.lambda_.pollers import Pollers
from headwater.services.lambda_.store import LambdaStore

__all__ = ["LambdaFacade", "create"]


class LambdaFacade:
    """What other services use in-process: invoke a function as the Invoke API would."""

    def __init__(
        self,
        invoker: Invoker,
        queue: AsyncInvocations,
        env: ServiceEnv,
        policies: Policies | None = None,
    ) -> None:
        self._invoker = invoker
        self._queue = queue
        self._env = env
        self._policies = policies or Policies(invoker.functions, env.ids)

    def function_arn(self, function: str) -> str:
        settings = self._env.settings
        return parse_function(function, settings.account_id, settings.region).arn

    def service_may_invoke(
        self, function_arn: str, service: str, *, source_arn: str, source_account: str
    ) -> bool:
        """Whether the function a full ARN names (with its version or alias, if any) exists
        and its resource policy lets the AWS service principal ``service``
        (``s3.amazonaws.com``) invoke it on behalf of ``source_arn``, as AddPermission grants."""
        ref = parse_resource_arn(function_arn)
        if ref is None:
            return False
        try:
            return self._policies.allows_service(ref, service, source_arn, source_account)
        except ServiceError:
            return False

    def invoke_event(self, function: str, payload: bytes) -> str:
        """Queue an asynchronous invocation (``InvocationType=Event``); returns its request id.

        The event is committed to the store before this returns and runs later on the
        service's worker loop, so the caller never waits for the function.  Safe to call from
        the event loop or from a worker thread.  Errors are Invoke's ``ServiceError``s (the
        function does not exist, the payload is over 256 KB)."""
        settings = self._env.settings
        ref = parse_function(function, settings.account_id, settings.region)
        return self._queue.enqueue(ref, check_payload(payload))

    async def invoke(
        self,
        function: str,
        payload: bytes = b"{}",
        *,
        qualifier: str | None = None,
        invocation_type: str = "RequestResponse",
        wait: bool = True,
    ) -> dict[str, Any]:
        """Invoke's output members (``StatusCode``, ``Payload``, ``FunctionError``,
        ``ExecutedVersion``).  ``wait=True`` queues for a free worker instead of being
        throttled, as service integrations pace themselves; errors are ``ServiceError``s."""
        settings = self._env.settings
        ref = parse_function(function, settings.account_id, settings.region, qualifier)
        body = check_payload(payload)
        if invocation_type == "Event":
            self._queue.enqueue(ref, body)
            return {"StatusCode": 202, "Payload": b""}
        return await self._invoker.invoke_sync(self._invoker.target(ref), body, wait=wait)


def _s3_fetcher(env: ServiceEnv) -> ObjectFetcher | None:
    """Code.S3Bucket/S3Key read through the S3 facade, when S3 is served."""
    s3 = env.facades.get("s3")
    if s3 is None:
        return None

    def fetch(bucket: str, key: str, version_id: str | None) -> bytes:
        data: bytes = s3.get_object_bytes(bucket, key, version_id, limit=MAX_S3_PACKAGE_BYTES)
        return data

    return fetch


def create(env: ServiceEnv) -> ServiceHandle:
    settings = env.settings
    tuning = Tuning.from_environment()
    store = LambdaStore(env.store)
    # Absolute: workers start in the code folder and import from LAMBDA_TASK_ROOT.
    code_root = (settings.data_dir / "lambda" / "code").absolute()
    functions = Functions(store, env.clock, env.ids, code_root, _s3_fetcher(env))
    aliases = Aliases(functions, env.ids, random.Random().random)
    executor = LocalExecutor(
        concurrency_per_function=tuning.concurrency, idle_timeout=tuning.idle_timeout
    )
    credentials = next(iter(settings.accepted_credentials().items()))
    invoker = Invoker(
        functions, aliases, executor, env.clock, env.ids, lambda: settings.endpoint, credentials
    )
    configs = EventConfigs(functions, env.clock)
    queue = AsyncInvocations(store, invoker, configs, env.clock, env.ids, env.facades, tuning)
    mappings = Mappings(functions, env.clock, env.ids, env.facades)
    pollers = Pollers(store, invoker, env.facades, tuning)

    async def start() -> None:
        await executor.start()
        await queue.start()
        await pollers.start()

    async def stop() -> None:
        await pollers.stop()
        await queue.stop()
        await executor.stop()

    policies = Policies(functions, env.ids)
    adapter = LambdaAdapter(
        functions,
        aliases,
        policies,
        configs,
        mappings,
        invoker,
        queue,
        executor,
        on_mappings_changed=pollers.poke,
    )
    return ServiceHandle(
        name="lambda",
        adapter=adapter,
        facade=LambdaFacade(invoker, queue, env, policies),
        start=start,
        stop=stop,
    )
