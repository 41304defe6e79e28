"""Run a state machine to completion in memory: the engine plus task handlers plus a clock.

This is what ``headwater sfn run`` and the tests use; the durable driver (persisting history,
resuming after a crash) comes with the Step Functions API. Task handlers are plain callables,
one per resource ARN (``local_lambda`` builds them for Python functions; Step Functions Local's
mock-config format can plug in the same way). With a :class:`ManualClock` (the default), Wait
states and retry back-offs finish by jumping the clock when nothing else is pending, so a
workflow that waits a day runs in microseconds.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from headwater.core.clock import Clock, ManualClock
from headwater.core.ids import DEFAULT_ACCOUNT_ID, DEFAULT_REGION, IdFactory, SequentialIds
from headwater.services.stepfunctions.asl.program import Program
from headwater.services.stepfunctions.asl.states.task import Resource
from headwater.services.stepfunctions.engine import Engine
from headwater.services.stepfunctions.execution import (
    CancelTask,
    CancelTimer,
    Effect,
    ExecutionInfo,
    ExecutionState,
    Input,
    InvokeTask,
    StartMapRun,
    StartTimer,
    TaskFailed,
    TaskStarted,
    TaskSucceeded,
    TimerFired,
)
from headwater.services.stepfunctions.history import HistoryEvent


class TaskFailure(Exception):
    """Raised by a task handler: the task failed with this error name and cause."""

    def __init__(self, error: str | None, cause: str | None = None) -> None:
        super().__init__(f"{error}: {cause}")
        self.error = error
        self.cause = cause


@dataclass(frozen=True, slots=True)
class TaskRequest:
    resource: Resource
    parameters: Any
    state_name: str
    timeout_seconds: int
    task_token: str | None = None
    credentials: Any = None


@dataclass(frozen=True, slots=True)
class Delayed:
    """A handler's outcome that arrives ``seconds`` later (on the runner's clock): a value, or
    a TaskFailure. Lets in-process handlers model slow work without sleeping."""

    seconds: float
    value: Any = None
    failure: TaskFailure | None = None


TaskHandler = Callable[[TaskRequest], Any]


@dataclass
class RunResult:
    status: str
    output: Any = None
    error: str | None = None
    cause: str | None = None
    history: list[HistoryEvent] = field(default_factory=list)
    transitions: int = 0
    state: ExecutionState | None = None


class NoHandler(Exception):
    pass


class Runner:
    """Drives executions of one program in memory."""

    def __init__(self, program: Program, handlers: Mapping[str, TaskHandler] | None = None, *,
                 clock: Clock | None = None, ids: IdFactory | None = None,
                 state_machine_name: str = "headwater-local",
                 region: str = DEFAULT_REGION, account: str = DEFAULT_ACCOUNT_ID,
                 record_history: bool = True) -> None:
        self.program = program
        self.handlers = dict(handlers or {})
        self.clock = clock if clock is not None else ManualClock()
        self.ids = ids if ids is not None else SequentialIds()
        self.engine = Engine(program, self.clock, self.ids)
        self.region, self.account = region, account
        self.state_machine_name = state_machine_name
        self.record_history = record_history

    def info(self, name: str | None = None, execution_type: str = "STANDARD") -> ExecutionInfo:
        name = name or self.ids.uuid()
        base = f"arn:aws:states:{self.region}:{self.account}"
        execution_arn = f"{base}:execution:{self.state_machine_name}:{name}"
        if execution_type == "EXPRESS":
            execution_arn = f"{base}:express:{self.state_machine_name}:{name}:{self.ids.uuid()}"
        return ExecutionInfo(
            execution_arn=execution_arn, name=name,
            state_machine_arn=f"{base}:stateMachine:{self.state_machine_name}",
            state_machine_name=self.state_machine_name,
            role_arn=f"arn:aws:iam::{self.account}:role/headwater-sfn", type=execution_type)

    def run(self, execution_input: Any, *, name: str | None = None,
            execution_type: str = "STANDARD") -> RunResult:
        st, step = self.engine.start(self.info(name, execution_type), execution_input,
                                     self.record_history)
        return self.drive(st, step.effects)

    def drive(self, st: ExecutionState, effects: list[Effect]) -> RunResult:
        """Perform ``effects`` and feed the engine until the execution ends (also used to
        continue a replayed execution with ``replay.resume_effects``)."""
        queue: list[tuple[float, int, Input]] = []
        counter = [0]
        cancelled_timers: set[int] = set()
        cancelled_tasks: set[int] = set()

        def push(at: float, event: Input) -> None:
            counter[0] += 1
            heapq.heappush(queue, (at, counter[0], event))

        def perform(effects: list[Effect]) -> None:
            for effect in effects:
                if isinstance(effect, InvokeTask):
                    self._invoke(st, effect, push, perform)
                elif isinstance(effect, StartTimer):
                    push(effect.fire_at, TimerFired(effect.timer_id))
                elif isinstance(effect, CancelTimer):
                    cancelled_timers.add(effect.timer_id)
                elif isinstance(effect, CancelTask):
                    cancelled_tasks.add(effect.task_id)
                elif isinstance(effect, StartMapRun):
                    from headwater.services.stepfunctions.distributed.local import run_map

                    push(self.clock.now(), run_map(self, st, effect))

        perform(effects)
        while not st.finished and queue:
            at, _, event = heapq.heappop(queue)
            if isinstance(event, TimerFired) and event.timer_id in cancelled_timers:
                continue
            if isinstance(event, (TaskSucceeded, TaskFailed)) and event.task_id in \
                    cancelled_tasks:
                continue
            self._wait_until(at)
            perform(self.engine.step(st, event).effects)
        if not st.finished:
            raise RuntimeError("the execution has nothing left to wait for but did not finish")
        return RunResult(st.status, st.output, st.error, st.cause, st.history.events,
                         st.transitions, st)

    def _wait_until(self, at: float) -> None:
        now = self.clock.now()
        if at <= now:
            return
        if isinstance(self.clock, ManualClock):
            self.clock.set(at)
        else:
            time.sleep(at - now)

    def _invoke(self, st: ExecutionState, effect: InvokeTask,
                push: Callable[[float, Input], None],
                perform: Callable[[list[Effect]], None]) -> None:
        perform(self.engine.step(st, TaskStarted(effect.task_id)).effects)
        request = TaskRequest(effect.resource, effect.parameters, effect.state_name,
                              effect.timeout_seconds, effect.task_token, effect.credentials)
        now = self.clock.now()
        try:
            outcome = self._handler(effect.resource)(request)
        except TaskFailure as failure:
            push(now, TaskFailed(effect.task_id, failure.error, failure.cause))
            return
        except NoHandler:
            push(now, TaskFailed(effect.task_id, "States.Runtime",
                                 f"No task handler for resource {effect.resource.arn}"))
            return
        if isinstance(outcome, Delayed):
            at = now + outcome.seconds
            if outcome.failure is not None:
                push(at, TaskFailed(effect.task_id, outcome.failure.error, outcome.failure.cause))
            else:
                push(at, TaskSucceeded(effect.task_id, outcome.value))
            return
        push(now, TaskSucceeded(effect.task_id, outcome))

    def _handler(self, resource: Resource) -> TaskHandler:
        arn = resource.arn
        handler = self.handlers.get(arn)
        if handler is None and resource.pattern != "request-response":
            # `...:lambda:invoke.waitForTaskToken` falls back to the plain integration's handler.
            handler = self.handlers.get(arn.rsplit(".", 1)[0])
        if handler is None and resource.kind == "lambda":
            handler = self.handlers.get(_unqualified(arn))
        if handler is None:
            handler = self.handlers.get("*")
        if handler is None:
            raise NoHandler(arn)
        return handler


def _unqualified(arn: str) -> str:
    parts = arn.split(":")
    return ":".join(parts[:7])
