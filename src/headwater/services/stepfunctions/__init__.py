"""AWS Step Functions: the Amazon States Language engine, the API and the durable driver.

``create(env)`` builds the service for the gateway: the store, the driver (with its timer
scheduler), the integrations, the domain (``model.StepFunctions``), the wire adapter and the
facade other services and tests call in-process.

Layout:
    asl/             definitions -> immutable programs; validation diagnostics
    engine.py        the pure transition function (fanout.py: Map and Parallel)
    execution.py     inputs, effects and execution state; history.py: the history events
    replay.py        rebuilding an execution from its history
    driver.py        persists history before effects, resumes on boot, EXPRESS in memory
    workers.py       the timer scheduler (one heap, one asyncio task)
    distributed/     Distributed Map: the engine's side (mapstate), map runs and their
                     ledger (maprun, store), ItemReader, ItemBatcher, ResultWriter
    activities.py    activity tasks waiting for workers (GetActivityTask)
    integrations.py  Lambda, SQS, states:startExecution, aws-sdk:*; mocks.py: mocked responses
    model.py         state machines, versions, aliases, executions, activities, tags
    store.py         tables and statements; errors.py: the API's errors
    adapter.py       one method per Step Functions operation
    runner.py, local_lambda.py, local.py   in-process runs (``headwater sfn run``)

A mock configuration (Step Functions Local's format) is read at start from the file named by
``HEADWATER_SFN_MOCK_CONFIG`` (Step Functions Local reads ``SFN_MOCK_CONFIG``; both work).
See docs/stepfunctions.md.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

from headwater.core.errors import ServiceError
from headwater.services import ServiceEnv, ServiceHandle
from headwater.services.stepfunctions.adapter import SfnAdapter
from headwater.services.stepfunctions.distributed.maprun import MapRuns
from headwater.services.stepfunctions.distributed.store import MapRunStore
from headwater.services.stepfunctions.driver import Driver
from headwater.services.stepfunctions.integrations import Integrations
from headwater.services.stepfunctions.mocks import MockConfig
from headwater.services.stepfunctions.model import StepFunctions
from headwater.services.stepfunctions.runner import TaskHandler
from headwater.services.stepfunctions.store import SfnStore

__all__ = ["SfnFacade", "create"]

log = logging.getLogger(__name__)


class SfnFacade:
    """What other services, the CLI and tests use in-process."""

    def __init__(self, sfn: StepFunctions) -> None:
        self.sfn = sfn
        self.driver = sfn.driver

    def register_handlers(self, handlers: Mapping[str, TaskHandler]) -> None:
        """In-process task handlers by resource ARN (``runner.TaskHandler``); they take
        precedence over the real integrations (tests, conformance without Lambda)."""
        self.driver.integrations.handlers.update(handlers)

    def set_mock_config(self, document: Mapping[str, Any] | None) -> None:
        self.driver.integrations.mocks = MockConfig(document) if document is not None else None

    def start_execution(self, state_machine_arn: str, execution_input: str = "{}",
                        name: str | None = None) -> str:
        """StartExecution, in-process (EventBridge and Pipes targets); returns the ARN."""
        params: dict[str, Any] = {"stateMachineArn": state_machine_arn, "input": execution_input}
        if name:
            params["name"] = name
        return self.sfn.start(params).arn


class _Starter:
    """``states:startExecution`` for the integrations, on top of the domain and the driver."""

    def __init__(self, sfn: StepFunctions) -> None:
        self.sfn = sfn

    def start_child(self, params: Mapping[str, Any], parent_arn: str) -> dict[str, Any]:
        wire: dict[str, Any] = {"stateMachineArn": params.get("StateMachineArn", "")}
        if params.get("Name"):
            wire["name"] = params["Name"]
        raw = params.get("Input")
        if raw is not None:
            import orjson

            wire["input"] = raw if isinstance(raw, str) else orjson.dumps(raw).decode()
        live = self.sfn.start(wire)
        live.keep_result = True  # still in the driver's loop: it cannot have been flushed yet
        return {"executionArn": live.arn, "startDate": live.state.start_time}

    def wait_for(self, execution_arn: str) -> Any:
        return self.sfn.driver.wait_for(execution_arn)


def create(env: ServiceEnv) -> ServiceHandle:
    settings = env.settings
    store = SfnStore(env.store)
    integrations = Integrations(env.clock, env.ids, settings.region, settings.account_id,
                                env.facades, env.adapters, settings.endpoint)
    path = os.environ.get("HEADWATER_SFN_MOCK_CONFIG") or os.environ.get("SFN_MOCK_CONFIG")
    if path:
        integrations.mocks = MockConfig.load(path)
    holder: list[StepFunctions] = []
    driver = Driver(store, env.clock, env.ids, integrations, lambda sha: holder[0].program(sha))
    sfn = StepFunctions(store, driver, env.clock, env.ids, settings.region, settings.account_id)
    holder.append(sfn)
    integrations.starter = _Starter(sfn)

    def s3(operation: str, params: dict[str, Any]) -> Any:
        """S3 for the ItemReader and ResultWriter, the way ``aws-sdk:s3:*`` tasks reach it."""
        try:
            return integrations.call("s3", operation, params)
        except LookupError:
            raise ServiceError("ServiceUnavailable", "headwater's S3 service is not running",
                               503) from None

    driver.map_runs = MapRuns(driver, MapRunStore(env.store), s3, env.clock, env.ids)
    return ServiceHandle(
        name="stepfunctions",
        adapter=SfnAdapter(sfn),
        facade=SfnFacade(sfn),
        start=driver.start,
        stop=driver.stop,
    )
