"""The durable driver: runs executions on the engine, persisting history before effects.

For a STANDARD execution every input (start, task started/succeeded/failed, timer fired, stop)
goes through the engine; the history events it appends are written to the store in one
transaction per batch of inputs, and only after that commit are the effects performed (invoke a
task, arm a timer).  A crash between the two re-performs an effect on restart and never loses
one: :meth:`Driver.recover` rebuilds every RUNNING execution from its history (``replay``), a
Wait keeps its deadline and a task that was in flight runs again (at-least-once, as
https://docs.aws.amazon.com/step-functions/latest/dg/concepts-standard-vs-express.html
documents for Standard workflows).  EXPRESS executions run the same way, in memory only.

Determinism is what makes replay work, so the engine of an execution never reads the wall
clock: it runs on ``StepClock``, which the driver sets to the time of each input, and a timer
fires at its deadline (not at the moment the scheduler got round to it), exactly as ``replay``
fires it.  Before any input the execution's overdue timers fire first, again as in ``replay``.
Ids come from ``SeededIds`` seeded with the execution ARN.

Not here: the API's validation and naming (``model``), the integrations (``integrations``).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

from headwater.core.clock import Clock, ManualClock
from headwater.core.ids import IdFactory
from headwater.services.stepfunctions.activities import ActivityQueues
from headwater.services.stepfunctions.asl import errors as asl_errors
from headwater.services.stepfunctions.asl.program import Program
from headwater.services.stepfunctions.engine import Engine, Step
from headwater.services.stepfunctions.execution import (
    AbortMapRun,
    CancelTask,
    Effect,
    ExecutionInfo,
    ExecutionState,
    Input,
    InvokeTask,
    MapRunEnded,
    Redrive,
    StartMapRun,
    StartTimer,
    Stop,
    TaskFailed,
    TaskHeartbeat,
    TaskStarted,
    TaskSucceeded,
    TimerFired,
)
from headwater.services.stepfunctions.history import HistoryEvent
from headwater.services.stepfunctions.integrations import Integrations, TaskCall
from headwater.services.stepfunctions.replay import SeededIds, replay, resume_effects
from headwater.services.stepfunctions.runner import Delayed, TaskFailure, TaskRequest
from headwater.services.stepfunctions.store import ExecutionRow, SfnStore
from headwater.services.stepfunctions.workers import Scheduler

if TYPE_CHECKING:
    from headwater.services.stepfunctions.distributed.maprun import MapRuns

log = logging.getLogger(__name__)

_STARTED = {"TaskStarted", "LambdaFunctionStarted", "ActivityStarted"}


class StepClock:
    """The engine's clock: the time of the input being processed, set by the driver."""

    __slots__ = ("t",)

    def __init__(self, t: float = 0.0) -> None:
        self.t = t

    def now(self) -> float:
        return self.t

    def monotonic(self) -> float:
        return self.t


@dataclass(eq=False)
class Live:
    """An execution the driver is running (in memory while it runs)."""

    info: ExecutionInfo
    engine: Engine
    state: ExecutionState
    row_id: int  # 0 for EXPRESS: nothing persisted
    input_text: str
    test_case: str | None = None
    trace_header: str | None = None
    version_arn: str | None = None
    alias_arn: str | None = None
    tasks: dict[int, asyncio.Future[Any]] = field(default_factory=dict)
    attempts: dict[str, int] = field(default_factory=dict)
    watchers: list[Callable[[Live], None]] = field(default_factory=list)
    keep_result: bool = False  # an EXPRESS child of states:startExecution.sync: remember it
    # TestState: the events kept in memory, and tasks answered without being called.
    history: list[HistoryEvent] | None = None
    overrides: dict[str, Any] = field(default_factory=dict)

    @property
    def arn(self) -> str:
        return self.info.execution_arn

    @property
    def express(self) -> bool:
        return self.row_id == 0


class Driver:
    def __init__(self, store: SfnStore, clock: Clock, ids: IdFactory,
                 integrations: Integrations, programs: Callable[[str], Program]) -> None:
        self.store = store
        self.clock = clock
        self.ids = ids
        self.integrations = integrations
        self.programs = programs  # definition sha -> compiled program (cached by the caller)
        self.live: dict[str, Live] = {}
        self.tokens: dict[str, tuple[str, int]] = {}
        self.activities = ActivityQueues(self._activity_picked, self._token_valid)
        self.scheduler = Scheduler(clock, self._due)
        self._clock = StepClock(clock.now())
        self._inbox: deque[tuple[str, Input, float | None]] = deque()
        self._events: list[tuple[Live, list[HistoryEvent]]] = []
        self._effects: list[tuple[Live, list[Effect]]] = []
        self._finished: list[Live] = []
        self._running = False
        # Activity tasks re-issued after a restart whose ActivityStarted is already recorded.
        self._started_tokens: set[str] = set()
        # What recently ended EXPRESS executions looked like (they have no row to read).
        self._express_ended: dict[str, dict[str, Any]] = {}
        # Distributed map runs (``distributed.maprun.MapRuns``), wired by the service.
        self.map_runs: MapRuns | None = None

    # -- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        await self.scheduler.start()
        self.recover()

    async def stop(self) -> None:
        await self.scheduler.stop()
        for live in list(self.live.values()):
            for task in live.tasks.values():
                task.cancel()

    def recover(self) -> int:
        """Rebuild every RUNNING execution from its history and resume it."""
        rows = self.store.running()
        for row in rows:
            if row.arn in self.live:
                continue
            try:
                self._resume(row)
            except Exception as exc:  # a history we cannot follow must not stop the others
                log.exception("stepfunctions: cannot resume %s", row.arn)
                with self.store.transaction():
                    self.store.finish_execution(
                        row.id, "FAILED", None, asl_errors.RUNTIME,
                        f"headwater could not resume this execution after a restart: {exc}",
                        self.clock.now())
        self._run()
        return len(rows)

    def _rebuild(self, row: ExecutionRow) -> tuple[Live, list[HistoryEvent]]:
        """The execution as its history left it, ready to go on."""
        program = self.programs(row.sha)
        machine_name = row.machine_arn.split(":")[6]
        # Redrive count 0: the recorded ExecutionRedriven events count the redrives again.
        info = ExecutionInfo(row.arn, row.name, row.version_arn or row.machine_arn, machine_name,
                             row.role_arn, "STANDARD", 0)
        recorded = self.store.events(row.id)
        ids = SeededIds(row.arn)
        replay_clock = ManualClock(0.0)
        outputs = self.map_runs.output_of if self.map_runs is not None else None
        state = replay(Engine(program, replay_clock, ids), info, recorded, replay_clock,
                       map_output=outputs)
        state.history.events.clear()  # persisted already; only new events are kept
        live = Live(state.info, Engine(program, self._clock, ids), state, row.id, row.input,
                    row.test_case, row.trace_header, row.version_arn, row.alias_arn)
        return live, recorded

    def redrive(self, row: ExecutionRow) -> Live:
        """RedriveExecution of a STANDARD execution that FAILED, TIMED_OUT or was ABORTED."""
        live, _ = self._rebuild(row)
        live.info = live.state.info
        now = self.clock.now()
        self._clock.t = now
        with self.store.transaction():
            self.store.redriven(row.id, now)
            self._collect(live, live.engine.step(live.state, Redrive()))
            self._flush_events()
        live.info = live.state.info
        self.live[row.arn] = live
        self._run()
        return live

    def _resume(self, row: ExecutionRow) -> None:
        live, recorded = self._rebuild(row)
        state = live.state
        if state.finished:  # the history already ends: only the summary row lagged behind
            self._finished.append(live)
            return
        self.live[row.arn] = live
        types = {e.id: e.type for e in recorded}
        effects: list[Effect] = []
        for effect in resume_effects(state):
            if isinstance(effect, InvokeTask):
                frame = state.tasks.get(effect.task_id)
                started = frame is not None and types.get(frame.last_event) in _STARTED
                # A task that had started runs again without a second *Started event.
                effect = _Reissue(effect) if started else effect  # type: ignore[assignment]
            effects.append(effect)
        self._effects.append((live, effects))

    # -- starting and stopping ----------------------------------------------------------

    def start_execution(self, info: ExecutionInfo, program: Program, row: ExecutionRow | None,
                        execution_input: Any, input_text: str, *, test_case: str | None = None,
                        trace_header: str | None = None,
                        overrides: dict[str, Any] | None = None,
                        on_end: Callable[[Live], None] | None = None) -> Live:
        """Start an execution: STANDARD when ``row`` is given (it is inserted, with the first
        events, in one commit), EXPRESS in memory otherwise. ``on_end`` is called once it
        ends (a distributed map's child; set before anything runs, so it cannot be missed)."""
        now = self.clock.now()
        self._clock.t = now
        ids = SeededIds(info.execution_arn) if row is not None else self.ids
        engine = Engine(program, self._clock, ids)
        keep = row is not None or overrides is not None
        state, step = engine.start(info, execution_input, record_history=keep)
        live = Live(info, engine, state, 0, input_text, test_case, trace_header,
                    row.version_arn if row else None, row.alias_arn if row else None)
        if overrides is not None:
            live.history, live.overrides = [], overrides
        if on_end is not None:
            live.watchers.append(on_end)
        if row is not None:
            row.started = now
            with self.store.transaction():
                live.row_id = self.store.insert_execution(row)
                self._collect(live, step)
                self._flush_events()
        else:
            self._collect(live, step)
        self.live[info.execution_arn] = live
        self._run()
        return live

    def stop_execution(self, arn: str, error: str | None, cause: str | None) -> bool:
        live = self.live.get(arn)
        if live is None or live.state.finished:
            return False
        self.deliver(arn, Stop(error, cause))
        return True

    def deliver(self, arn: str, event: Input, at: float | None = None) -> None:
        """Feed one input to a running execution (and everything it leads to)."""
        self._inbox.append((arn, event, at))
        self._run()

    def wait_for(self, arn: str) -> Awaitable[dict[str, Any]]:
        """A future resolved with the execution's DescribeExecution members when it ends."""
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        live = self.live.get(arn)
        if live is None:
            ended = self._express_ended.get(arn)
            future.set_result(ended if ended is not None else self.describe_finished(arn))
            return future

        def done(ended: Live) -> None:
            if not future.done():
                future.set_result(describe_live(ended))

        live.watchers.append(done)
        return future

    def describe_finished(self, arn: str) -> dict[str, Any]:
        row = self.store.execution(arn)
        if row is None:
            return {"executionArn": arn, "status": "FAILED"}
        out = {"executionArn": row.arn, "stateMachineArn": row.machine_arn, "name": row.name,
               "status": row.status, "startDate": row.started, "stopDate": row.stopped,
               "input": row.input, "output": row.output, "error": row.error, "cause": row.cause}
        return {k: v for k, v in out.items() if v is not None}

    # -- task tokens --------------------------------------------------------------------

    def token_task(self, token: str) -> tuple[Live, int] | None:
        found = self.tokens.get(token)
        if found is None:
            return None
        live = self.live.get(found[0])
        if live is None or found[1] not in live.state.tasks:
            self.tokens.pop(token, None)
            return None
        return live, found[1]

    def _token_valid(self, token: str) -> bool:
        return self.token_task(token) is not None

    def _activity_picked(self, token: str) -> None:
        found = self.token_task(token)
        if token in self._started_tokens:
            self._started_tokens.discard(token)
        elif found is not None:
            self.deliver(found[0].arn, TaskStarted(found[1]))

    # -- the loop -----------------------------------------------------------------------

    def _due(self, keys: list[Any]) -> None:
        """Scheduler callback: timers and delayed task outcomes that came due."""
        now = self.clock.now()
        for key in keys:
            kind, arn, value = key
            live = self.live.get(arn)
            if live is None or live.state.finished:
                continue
            if kind == "timer":
                entry = live.state.timers.get(value)
                if entry is not None:
                    self._guarded_step(live, TimerFired(value), entry[0])
            else:
                self._guarded_step(live, value, now)
        self._run()

    def _run(self) -> None:
        """Commit what was produced, perform effects, feed inputs, until nothing is left."""
        if self._running:
            return
        self._running = True
        try:
            while True:
                self._flush()
                if not self._inbox:
                    if self._effects or self._events or self._finished:
                        continue  # work started from an effect (a child execution)
                    break
                now = self.clock.now()
                inbox, self._inbox = self._inbox, deque()
                for arn, event, at in inbox:
                    live = self.live.get(arn)
                    if live is not None:
                        self._guarded_step(live, event, now if at is None else at)
        finally:
            self._running = False

    def _guarded_step(self, live: Live, event: Input, at: float) -> None:
        """``_step``, but an engine bug fails this execution instead of every other one."""
        try:
            self._step(live, event, at)
        except Exception as exc:
            log.exception("stepfunctions: %s failed on %r", live.arn, event)
            st = live.state
            st.status, st.error = "FAILED", asl_errors.RUNTIME
            st.cause = f"headwater failed internally while running this execution: {exc!r}"
            st.stop_time = self.clock.now()
            if live not in self._finished:
                self._finished.append(live)

    def _step(self, live: Live, event: Input, at: float) -> None:
        state = live.state
        if state.finished:
            return
        engine = live.engine
        clock = self._clock
        # Overdue timers fire first, at their deadlines, as replay fires them.
        due = state.next_timer()
        while due is not None and due[0] <= at and not state.finished:
            clock.t = due[0]
            self._collect(live, engine.step(state, TimerFired(due[1])))
            due = state.next_timer()
        if state.finished:
            return
        clock.t = max(at, clock.t) if isinstance(event, TimerFired) else at
        self._collect(live, engine.step(state, event))

    def _collect(self, live: Live, step: Step) -> None:
        if step.events:
            if live.row_id:
                self._events.append((live, step.events))
            elif live.history is not None:
                live.history.extend(step.events)
            # Written at the next flush (or never, for EXPRESS): keep the memory flat.
            del live.state.history.events[:]
        if step.effects:
            self._effects.append((live, step.effects))
        if live.state.finished and live not in self._finished:
            self._finished.append(live)

    def _flush_events(self) -> None:
        store = self.store
        for live, events in self._events:
            if live.row_id:
                store.append_events(live.row_id, events)
        self._events = []
        for live in self._finished:
            if live.row_id:
                st = live.state
                output = orjson.dumps(st.output).decode() if st.status == "SUCCEEDED" else None
                store.finish_execution(live.row_id, st.status, output, st.error, st.cause,
                                       st.stop_time or self.clock.now())

    def _flush(self) -> None:
        if self._events or any(live.row_id for live in self._finished):
            with self.store.transaction():
                self._flush_events()
        self._events = []
        effects, self._effects = self._effects, []
        for live, batch in effects:
            self._perform(live, batch)
        finished, self._finished = self._finished, []
        for live in finished:
            self.live.pop(live.arn, None)
            if live.express and live.keep_result:
                if len(self._express_ended) >= 1000:
                    self._express_ended.pop(next(iter(self._express_ended)))
                self._express_ended[live.arn] = describe_live(live)
            for task in live.tasks.values():
                task.cancel()
            for watcher in live.watchers:
                try:
                    watcher(live)
                except Exception:
                    log.exception("stepfunctions: a watcher of %s failed", live.arn)

    # -- effects ------------------------------------------------------------------------

    def _perform(self, live: Live, effects: list[Effect]) -> None:
        for effect in effects:
            if isinstance(effect, (InvokeTask, _Reissue)):
                self._invoke(live, effect)
            elif isinstance(effect, StartTimer):
                self.scheduler.add(effect.fire_at, ("timer", live.arn, effect.timer_id))
            elif isinstance(effect, CancelTask):
                task = live.tasks.pop(effect.task_id, None)
                if task is not None:
                    task.cancel()
            elif isinstance(effect, StartMapRun):
                self._start_map_run(live, effect)
            elif isinstance(effect, AbortMapRun) and self.map_runs is not None:
                self.map_runs.abort(effect.map_run_arn)
            # CancelTimer: nothing to do; the engine ignores a timer it no longer has.

    def _start_map_run(self, live: Live, effect: StartMapRun) -> None:
        if self.map_runs is None:
            self._inbox.append((live.arn, MapRunEnded(
                effect.task_id, None, asl_errors.RUNTIME,
                "headwater runs distributed maps only inside its Step Functions service"), None))
            return
        try:
            self.map_runs.start(live, effect)
        except Exception as exc:  # a bug in the map run must fail this map, not the driver
            log.exception("stepfunctions: map run %s of %s failed", effect.map_run_arn, live.arn)
            self._inbox.append((live.arn, MapRunEnded(
                effect.task_id, None, asl_errors.RUNTIME,
                f"headwater failed internally while running the map run: {exc!r}"), None))

    def _invoke(self, live: Live, effect: InvokeTask | _Reissue) -> None:
        reissued = isinstance(effect, _Reissue)
        invoke = effect.invoke if isinstance(effect, _Reissue) else effect
        resource = invoke.resource
        arn, task_id = live.arn, invoke.task_id
        if resource.kind == "activity":
            token = invoke.task_token or self.ids.token(48)
            self.tokens[token] = (arn, task_id)
            if reissued:
                self._started_tokens.add(token)
            self.activities.push(resource.arn, token, orjson.dumps(invoke.parameters).decode())
            return  # ActivityStarted when a worker picks the task up
        if not reissued:
            self._inbox.append((arn, TaskStarted(task_id), None))
        if invoke.task_token:
            self.tokens[invoke.task_token] = (arn, task_id)
        attempt = live.attempts.get(invoke.state_name, 0)
        live.attempts[invoke.state_name] = attempt + 1
        call = TaskCall(
            TaskRequest(resource, invoke.parameters, invoke.state_name, invoke.timeout_seconds,
                        invoke.task_token, invoke.credentials),
            arn, live.info.state_machine_name, live.test_case, attempt)
        try:
            if invoke.state_name in live.overrides:
                outcome = live.overrides[invoke.state_name](call.request)
            else:
                outcome = self.integrations.perform(call)
        except TaskFailure as failure:
            self._outcome(live, invoke, None, failure)
            return
        except Exception as exc:
            log.exception("stepfunctions: task %s of %s failed to start", resource.arn, arn)
            self._outcome(live, invoke, None, TaskFailure(asl_errors.TASK_FAILED, str(exc)))
            return
        if inspect.isawaitable(outcome):
            live.tasks[task_id] = asyncio.ensure_future(self._finish_task(live, invoke, outcome))
        elif isinstance(outcome, Delayed):
            result: Input = (TaskFailed(task_id, outcome.failure.error, outcome.failure.cause)
                             if outcome.failure is not None
                             else TaskSucceeded(task_id, outcome.value))
            if invoke.task_token and outcome.failure is None:
                return
            self.scheduler.add(self.clock.now() + outcome.seconds, ("result", arn, result))
        else:
            self._outcome(live, invoke, outcome, None)

    async def _finish_task(self, live: Live, invoke: InvokeTask, outcome: Awaitable[Any]) -> None:
        try:
            value = await outcome
        except TaskFailure as failure:
            self._outcome(live, invoke, None, failure)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("stepfunctions: task %s failed", invoke.resource.arn)
            self._outcome(live, invoke, None, TaskFailure(asl_errors.TASK_FAILED, str(exc)))
        else:
            self._outcome(live, invoke, value, None)
        finally:
            live.tasks.pop(invoke.task_id, None)
        self._run()

    def _outcome(self, live: Live, invoke: InvokeTask, value: Any,
                 failure: TaskFailure | None) -> None:
        if failure is not None:
            self._inbox.append((live.arn, TaskFailed(invoke.task_id, failure.error,
                                                     failure.cause), None))
        elif invoke.task_token is None:
            self._inbox.append((live.arn, TaskSucceeded(invoke.task_id, value), None))
        # .waitForTaskToken: the call went out; the result comes with SendTaskSuccess.

    # -- callbacks (SendTaskSuccess / Failure / Heartbeat) ------------------------------

    def task_success(self, token: str, output: Any) -> bool:
        found = self.token_task(token)
        if found is None:
            return False
        self.tokens.pop(token, None)
        self.deliver(found[0].arn, TaskSucceeded(found[1], output))
        return True

    def task_failure(self, token: str, error: str | None, cause: str | None) -> bool:
        found = self.token_task(token)
        if found is None:
            return False
        self.tokens.pop(token, None)
        self.deliver(found[0].arn, TaskFailed(found[1], error, cause))
        return True

    def task_heartbeat(self, token: str) -> bool:
        found = self.token_task(token)
        if found is None:
            return False
        self.deliver(found[0].arn, TaskHeartbeat(found[1]))
        return True


@dataclass(frozen=True, slots=True)
class _Reissue:
    """A task re-run after a restart whose *Started event is already in the history."""

    invoke: InvokeTask


def describe_live(live: Live) -> dict[str, Any]:
    """DescribeExecution's members for an execution held in memory."""
    st = live.state
    info = live.info
    out: dict[str, Any] = {
        "executionArn": info.execution_arn, "stateMachineArn": info.state_machine_arn,
        "name": info.name, "status": st.status, "startDate": st.start_time,
        "input": live.input_text, "inputDetails": {"included": True},
    }
    if st.stop_time is not None:
        out["stopDate"] = st.stop_time
    if st.status == "SUCCEEDED":
        out["output"] = orjson.dumps(st.output).decode()
        out["outputDetails"] = {"included": True}
    if st.error is not None:
        out["error"] = st.error
    if st.cause is not None:
        out["cause"] = st.cause
    if live.trace_header:
        out["traceHeader"] = live.trace_header
    return out


__all__ = ["Driver", "Live", "StepClock", "describe_live"]
