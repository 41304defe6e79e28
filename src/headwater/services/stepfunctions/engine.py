"""The execution engine: a deterministic transition function over an execution's state.

``Engine.start`` and ``Engine.step`` take the program, the execution state and one input
(start, task started/succeeded/failed, timer fired, stop), advance every branch as far as it can
go without waiting, append the AWS history events this produced (``PassStateEntered``,
``TaskScheduled``, ``MapIterationStarted``, ``ExecutionSucceeded`` ...) and return the effects to
perform (invoke a task, start or cancel a timer). No clock, id or random source is read except
through the injected ``Clock`` and ``IdFactory``, so replaying the same inputs with the same
clock readings rebuilds the same state and history (``replay``).

Implements the state semantics of https://states-language.net/spec.html as Step Functions
runs them (see https://docs.aws.amazon.com/step-functions/latest/dg/concepts-states.html and
concepts-error-handling.html); the events match GetExecutionHistory's event types.

Map and Parallel children live in ``fanout``; what a state computes lives in ``asl.states``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import random
from dataclasses import dataclass
from typing import Any

from headwater.core.clock import Clock
from headwater.core.ids import IdFactory
from headwater.services.stepfunctions.asl import errors
from headwater.services.stepfunctions.asl.errors import StatesError, matches
from headwater.services.stepfunctions.asl.program import Program
from headwater.services.stepfunctions.asl.states.base import JSONATA, State, apply_result_path
from headwater.services.stepfunctions.asl.states.task import DEFAULT_TIMEOUT_SECONDS, Task
from headwater.services.stepfunctions.asl.timestamps import format_epoch
from headwater.services.stepfunctions.asl.values import check_size, payload_size
from headwater.services.stepfunctions.distributed.mapstate import DistributedMixin
from headwater.services.stepfunctions.execution import (
    ABORTED,
    FAILED,
    RUNNING,
    SUCCEEDED,
    TIMED_OUT,
    AbortMapRun,
    CancelTask,
    CancelTimer,
    Effect,
    ExecutionInfo,
    ExecutionState,
    Frame,
    Input,
    InvokeTask,
    MapRunEnded,
    Redrive,
    Start,
    StartTimer,
    Stop,
    TaskFailed,
    TaskHeartbeat,
    TaskStarted,
    TaskSucceeded,
    TimerFired,
)
from headwater.services.stepfunctions.fanout import FanoutMixin
from headwater.services.stepfunctions.history import HistoryEvent
from headwater.services.stepfunctions.scope import ContextInfo, RunScope, Variables

# Errors raised while a state processes its data carry where it happened, AWS-style.
_LOCATED = frozenset({errors.RUNTIME, errors.QUERY_EVALUATION_ERROR})


@dataclass(slots=True)
class Step:
    """What one input produced: effects to perform and the history events appended."""

    effects: list[Effect]
    events: list[HistoryEvent]


class _Runtime:
    """Clock and entropy for expressions and intrinsics, from the injected seams."""

    __slots__ = ("clock", "ids")

    def __init__(self, clock: Clock, ids: IdFactory) -> None:
        self.clock = clock
        self.ids = ids

    def now(self) -> float:
        return self.clock.now()

    def uuid(self) -> str:
        return self.ids.uuid()

    def _fraction(self) -> float:
        digest = hashlib.sha256(self.ids.uuid().encode()).digest()
        return int.from_bytes(digest[:7], "big") / float(1 << 56)

    def random_int(self, low: int, high: int, seed: int | None) -> int:
        if seed is not None:
            # A seeded generator is deterministic, so it is no hidden randomness.
            return random.Random(seed).randrange(low, high)
        return low + int(self._fraction() * (high - low))

    def random_float(self, seed: int | None) -> float:
        if seed is not None:
            return random.Random(seed).random()
        return self._fraction()


class Engine(DistributedMixin, FanoutMixin):
    """Runs one program. One engine serves any number of executions of that program."""

    def __init__(self, program: Program, clock: Clock, ids: IdFactory) -> None:
        self.program = program
        self.clock = clock
        self.runtime = _Runtime(clock, ids)
        self._effects: list[Effect] = []
        self._bodies = {
            "Pass": self._pass, "Task": self._task, "Choice": self._choice,
            "Wait": self._wait, "Succeed": self._succeed, "Fail": self._fail,
            "Parallel": self._parallel, "Map": self._map,
        }

    # ----- public API -------------------------------------------------------------------

    def start(self, info: ExecutionInfo, execution_input: Any,
              record_history: bool = True) -> tuple[ExecutionState, Step]:
        st = ExecutionState(info, record_history)
        return st, self.step(st, Start(execution_input))

    def step(self, st: ExecutionState, event: Input) -> Step:
        first = len(st.history.events)
        effects: list[Effect] = []
        self._effects = effects
        if st.status == RUNNING:
            self._apply(st, event)
            self._drain(st)
        elif isinstance(event, Redrive) and st.status in (FAILED, TIMED_OUT, ABORTED):
            self._redrive(st)
            self._drain(st)
        return Step(effects, st.history.events[first:])

    # ----- inputs -----------------------------------------------------------------------

    def _apply(self, st: ExecutionState, event: Input) -> None:
        if isinstance(event, Start):
            self._begin(st, event.input)
        elif isinstance(event, TimerFired):
            self._timer_fired(st, event.timer_id)
        elif isinstance(event, TaskStarted):
            self._task_started(st, event.task_id)
        elif isinstance(event, TaskSucceeded):
            self._task_succeeded(st, event.task_id, event.output)
        elif isinstance(event, TaskFailed):
            self._task_failed(st, event.task_id, event.error, event.cause)
        elif isinstance(event, TaskHeartbeat):
            self._task_heartbeat(st, event.task_id)
        elif isinstance(event, Stop):
            self._stop(st, ABORTED, "ExecutionAborted", event.error, event.cause)
        elif isinstance(event, MapRunEnded):
            self._map_run_ended(st, event)

    def _begin(self, st: ExecutionState, execution_input: Any) -> None:
        now = self.clock.now()
        info = st.info
        st.input, st.start_time = execution_input, now
        st.context_execution = {
            "Id": info.execution_arn, "Input": execution_input, "Name": info.name,
            "RoleArn": info.role_arn, "StartTime": format_epoch(now),
        }
        if info.type == "STANDARD":
            # AWS quirk: Express executions cannot be redriven and have no RedriveCount.
            st.context_execution["RedriveCount"] = info.redrive_count
        st.context_state_machine = {"Id": info.state_machine_arn, "Name": info.state_machine_name}
        started = st.history.add("ExecutionStarted", 0, now, {
            "input": execution_input, "roleArn": info.role_arn})
        root = Frame(0, self.program, Variables(), st.history)
        root.input = execution_input
        root.last_event = started
        st.frames[0] = st.root = root
        if payload_size(execution_input) > errors.MAX_PAYLOAD_BYTES:
            self._finish(st, FAILED, "ExecutionFailed", errors.DATA_LIMIT_EXCEEDED,
                         "The execution input exceeds the maximum size of 262144 bytes.")
            return
        if self.program.timeout_seconds is not None:
            self._timer(st, root, now + self.program.timeout_seconds, "execution")
        st.ready.append(root)

    def _redrive(self, st: ExecutionState) -> None:
        """Go on from the top-level state that did not succeed, with the input and variables
        it had (https://docs.aws.amazon.com/step-functions/latest/dg/redrive-executions.html).
        An inline Map or Parallel state runs again only the iterations and branches that did
        not succeed (``fanout``)."""
        root = st.root
        if root is None:
            return
        now = self.clock.now()
        count = st.info.redrive_count + 1
        st.info = dataclasses.replace(st.info, redrive_count=count)
        st.status, st.stop_time, st.error, st.cause, st.output = RUNNING, None, None, None, None
        st.context_execution["RedriveCount"] = count
        st.context_execution["RedriveTime"] = format_epoch(now)
        st.context_info = None
        root.last_event = st.history.add("ExecutionRedriven", root.last_event, now,
                                         {"redriveCount": count})
        root.done, root.waiting, root.children = False, None, None
        root.task_id = root.timer_id = root.heartbeat_timer = 0
        root.retry_counts = None
        kept, root.kept = root.kept, None
        root.redriven = kept[1] if kept is not None and kept[0] == root.state.name else None
        run, root.kept_run = root.kept_run, None
        root.redriven_run = (run[1], run[2]) if run is not None and run[0] == root.state.name \
            else None
        st.frames[root.id] = root
        st.ready.append(root)

    # ----- the run loop -----------------------------------------------------------------

    def _drain(self, st: ExecutionState) -> None:
        ready = st.ready
        while ready and st.status == RUNNING:
            frame = ready.popleft()
            if not frame.done and frame.waiting is None:
                self._advance(st, frame)

    def _advance(self, st: ExecutionState, f: Frame) -> None:
        """Run the frame's states until one waits or the branch ends."""
        bodies = self._bodies
        history = f.history
        clock = self.clock
        while True:
            state = f.state
            now = clock.now()
            st.transitions += 1
            f.entered_at = now
            f.entered_event = f.last_event = history.add(
                state.entered_type, f.last_event, now, {"name": state.name, "input": f.input})
            f.retry_counts = None
            try:
                go_on = bodies[state.TYPE](st, f, state)
            except StatesError as err:
                go_on = self._state_error(st, f, state, err)
            if not go_on or st.status != RUNNING:
                return

    def scope(self, st: ExecutionState, f: Frame, state: State,
              map_item: tuple[int, Any] | None = None) -> RunScope:
        retry = None
        if state.retriable:
            retry = sum(f.retry_counts) if f.retry_counts else 0
        info = st.context_info
        if info is None:
            info = st.context_info = ContextInfo(st.context_execution, st.context_state_machine)
        return RunScope(f.input, f.variables, self.runtime, info, state.name, f.entered_at,
                        retry, map_item)

    def exit_state(self, st: ExecutionState, f: Frame, state: State, output: Any,
                   assigned: dict[str, Any] | None, target: str | None) -> bool:
        """Record the StateExited event, assign variables, move on; False when the branch
        ended (the frame is finished)."""
        if output is not f.input and type(output) in (dict, list, str):
            check_size(output, state.name)
        details: dict[str, Any] = {"name": state.name, "output": output}
        if assigned:
            details["assignedVariables"] = assigned
            f.variables.assign(assigned)
        f.last_event = f.history.add(state.exited_type, f.last_event, self.clock.now(), details)
        if target is None:
            self._branch_succeeded(st, f, output)
            return False
        f.state = f.branch.states[target]
        f.input = output
        return True

    # ----- the simple states ------------------------------------------------------------

    def _pass(self, st: ExecutionState, f: Frame, state: Any) -> bool:
        if state.trivial_io and not state.has_result:
            return self.exit_state(st, f, state, f.input, None, state.next)
        output, assigned = state.run(self.scope(st, f, state), f.input)
        return self.exit_state(st, f, state, output, assigned, state.next)

    def _succeed(self, st: ExecutionState, f: Frame, state: Any) -> bool:
        output, assigned = state.run(self.scope(st, f, state), f.input)
        return self.exit_state(st, f, state, output, assigned, None)

    def _choice(self, st: ExecutionState, f: Frame, state: Any) -> bool:
        target, output, assigned = state.choose(self.scope(st, f, state), f.input)
        return self.exit_state(st, f, state, output, assigned, target)

    def _fail(self, st: ExecutionState, f: Frame, state: Any) -> bool:
        error, cause = state.error_and_cause(self.scope(st, f, state), f.input)
        self._branch_failed(st, f, error, cause)
        return False

    def _wait(self, st: ExecutionState, f: Frame, state: Any) -> bool:
        now = self.clock.now()
        deadline = state.deadline(self.scope(st, f, state), f.input, now)
        if deadline <= now:
            return self._wait_over(st, f, state)
        self._timer(st, f, deadline, "wait")
        f.waiting = "timer"
        return False

    def _wait_over(self, st: ExecutionState, f: Frame, state: Any) -> bool:
        output, assigned = state.run(self.scope(st, f, state), f.input)
        return self.exit_state(st, f, state, output, assigned, state.next)

    # ----- Task -------------------------------------------------------------------------

    def _task(self, st: ExecutionState, f: Frame, state: Any) -> bool:
        scope = self.scope(st, f, state)
        resource = state.resource
        token = None
        if resource.pattern == "waitForTaskToken":
            token = scope.task_token = self.runtime.uuid()
        params = state.effective_input(scope, f.input)
        timeout, heartbeat = state.timeouts(scope, f.input)
        credentials = state.task_credentials(scope, f.input)
        task_id = st.key()
        now = self.clock.now()
        explicit = timeout != DEFAULT_TIMEOUT_SECONDS
        if resource.kind == "lambda":
            kind, details = "LambdaFunctionScheduled", {"resource": resource.arn, "input": params}
            if explicit:
                details["timeoutInSeconds"] = timeout
        elif resource.kind == "activity":
            kind, details = "ActivityScheduled", {"resource": resource.arn, "input": params}
        else:
            kind, details = "TaskScheduled", {
                "resourceType": resource.resource_type, "resource": resource.resource,
                "region": resource.region, "parameters": params}
            if explicit:
                details["timeoutInSeconds"] = timeout
        if heartbeat is not None:
            details["heartbeatInSeconds"] = heartbeat
        f.last_event = f.history.add(kind, f.last_event, now, details)
        f.waiting, f.task_id, f.effective = "task", task_id, params
        st.tasks[task_id] = f
        if explicit:
            f.timer_id = self._timer(st, f, now + timeout, "timeout")
        invoke = InvokeTask(task_id, resource, params, timeout, heartbeat, state.name,
                            credentials, token)
        st.invocations[task_id] = invoke
        self._effects.append(invoke)
        return False

    def _task_frame(self, st: ExecutionState, task_id: int) -> Frame | None:
        f = st.tasks.get(task_id)
        return None if f is None or f.done else f

    def _task_started(self, st: ExecutionState, task_id: int) -> None:
        f = self._task_frame(st, task_id)
        if f is None:
            return
        resource = f.state.resource  # type: ignore[attr-defined]
        if resource.kind == "lambda":
            kind, details = "LambdaFunctionStarted", None
        elif resource.kind == "activity":
            kind, details = "ActivityStarted", {"workerName": "headwater"}
        else:
            kind, details = "TaskStarted", {"resourceType": resource.resource_type,
                                            "resource": resource.resource}
        f.last_event = f.history.add(kind, f.last_event, self.clock.now(), details)
        self._restart_heartbeat(st, f)

    def _task_heartbeat(self, st: ExecutionState, task_id: int) -> None:
        f = self._task_frame(st, task_id)
        if f is not None:
            self._restart_heartbeat(st, f)

    def _restart_heartbeat(self, st: ExecutionState, f: Frame) -> None:
        scope = self.scope(st, f, f.state)
        _, heartbeat = f.state.timeouts(scope, f.input)  # type: ignore[attr-defined]
        if heartbeat is None:
            return
        if f.heartbeat_timer:
            self._cancel_timer(st, f.heartbeat_timer)
        f.heartbeat_timer = self._timer(st, f, self.clock.now() + heartbeat, "heartbeat")

    def _task_succeeded(self, st: ExecutionState, task_id: int, output: Any) -> None:
        f = self._task_frame(st, task_id)
        if f is None:
            return
        state: Any = f.state
        resource = state.resource
        if payload_size(output) > errors.MAX_PAYLOAD_BYTES:
            self._task_failed(st, task_id, errors.DATA_LIMIT_EXCEEDED,
                              f"The state/task '{resource.resource_type}' returned a result with "
                              f"a size exceeding the maximum number of bytes service limit.")
            return
        self._end_task(st, f)
        if resource.kind == "lambda":
            kind, details = "LambdaFunctionSucceeded", {"output": output}
        elif resource.kind == "activity":
            kind, details = "ActivitySucceeded", {"output": output}
        else:
            kind, details = "TaskSucceeded", {"resourceType": resource.resource_type,
                                              "resource": resource.resource, "output": output}
        f.last_event = f.history.add(kind, f.last_event, self.clock.now(), details)
        try:
            result, assigned = state.finish(self.scope(st, f, state), f.input, output)
            go_on = self.exit_state(st, f, state, result, assigned, state.next)
        except StatesError as err:
            go_on = self._state_error(st, f, state, err)
        if go_on:
            st.ready.append(f)

    def _task_failed(self, st: ExecutionState, task_id: int, error: str | None,
                     cause: str | None, kind_suffix: str = "Failed") -> None:
        f = self._task_frame(st, task_id)
        if f is None:
            return
        self._end_task(st, f)
        resource = f.state.resource  # type: ignore[attr-defined]
        details: dict[str, Any] = {}
        if resource.kind == "lambda":
            kind = "LambdaFunction" + kind_suffix
        elif resource.kind == "activity":
            kind = "Activity" + kind_suffix
        else:
            kind = "Task" + kind_suffix
            details = {"resourceType": resource.resource_type, "resource": resource.resource}
        if error is not None:
            details["error"] = error
        if cause is not None:
            details["cause"] = cause
        f.last_event = f.history.add(kind, f.last_event, self.clock.now(), details)
        if kind_suffix == "TimedOut":
            self._effects.append(CancelTask(task_id))
        if self.handle_failure(st, f, f.state, error or errors.TASK_FAILED, cause):
            st.ready.append(f)

    def _end_task(self, st: ExecutionState, f: Frame) -> None:
        st.tasks.pop(f.task_id, None)
        st.invocations.pop(f.task_id, None)
        f.waiting = None
        for timer in (f.timer_id, f.heartbeat_timer):
            if timer:
                self._cancel_timer(st, timer)
        f.timer_id = f.heartbeat_timer = 0

    # ----- timers -----------------------------------------------------------------------

    def _timer(self, st: ExecutionState, f: Frame, fire_at: float, kind: str) -> int:
        timer_id = st.key()
        st.timers[timer_id] = (fire_at, f.id, kind)
        st.frames[f.id] = f
        if kind in ("wait", "retry"):
            f.timer_id = timer_id
        self._effects.append(StartTimer(timer_id, fire_at))
        return timer_id

    def _cancel_timer(self, st: ExecutionState, timer_id: int) -> None:
        if st.timers.pop(timer_id, None) is not None:
            self._effects.append(CancelTimer(timer_id))

    def _timer_fired(self, st: ExecutionState, timer_id: int) -> None:
        entry = st.timers.pop(timer_id, None)
        if entry is None:
            return  # cancelled, or fired twice: nothing to do
        _, frame_id, kind = entry
        f = st.frames.get(frame_id)
        if f is None or f.done:
            return
        if kind == "execution":
            self._stop(st, TIMED_OUT, "ExecutionTimedOut", errors.TIMEOUT, None)
            return
        if kind in ("timeout", "heartbeat"):
            error = errors.TIMEOUT if kind == "timeout" else errors.HEARTBEAT_TIMEOUT
            if kind == "timeout":
                f.timer_id = 0
            else:
                f.heartbeat_timer = 0
            self._task_failed(st, f.task_id, error, None, kind_suffix="TimedOut")
            return
        f.waiting = None
        f.timer_id = 0
        state: Any = f.state
        try:
            if kind == "wait":
                go_on = self._wait_over(st, f, state)
            else:  # a retry: run the state's body again, without entering it again
                go_on = self._bodies[state.TYPE](st, f, state)
        except StatesError as err:
            go_on = self._state_error(st, f, state, err)
        if go_on:
            st.ready.append(f)

    # ----- errors -----------------------------------------------------------------------

    def _state_error(self, st: ExecutionState, f: Frame, state: State, err: StatesError) -> bool:
        cause = err.cause
        if err.error in _LOCATED:
            cause = (f"An error occurred while executing the state '{state.name}' (entered at "
                     f"the event id #{f.entered_event}). {cause}")
        if err.evaluation:
            f.last_event = f.history.add("EvaluationFailed", f.last_event, self.clock.now(), {
                "error": err.error, "cause": cause, "state": state.name})
        return self.handle_failure(st, f, state, err.error, cause)

    def handle_failure(self, st: ExecutionState, f: Frame, state: State, error: str,
                       cause: str | None) -> bool:
        """Retry, catch, or fail the branch. True when the frame goes on to another state."""
        if state.retriers and error != errors.RUNTIME:
            for i, retrier in enumerate(state.retriers):
                if not matches(retrier.error_equals, error):
                    continue
                counts = f.retry_counts or [0] * len(state.retriers)
                f.retry_counts = counts
                if counts[i] < retrier.max_attempts:
                    counts[i] += 1
                    delay = retrier.delay(counts[i], self.runtime.random_float(None)
                                          if retrier.jitter == "FULL" else 1.0)
                    self._timer(st, f, self.clock.now() + delay, "retry")
                    f.waiting = "retry"
                    return False
                break
        if error != errors.RUNTIME:
            for catcher in state.catchers:
                if matches(catcher.error_equals, error):
                    try:
                        return self._catch(st, f, state, catcher, error, cause)
                    except StatesError as err:
                        return self._state_error(st, f, state, err)
        if state.TYPE in ("Map", "Parallel") and error != errors.RUNTIME:
            f.last_event = f.history.add(f"{state.TYPE}StateFailed", f.last_event,
                                         self.clock.now())
        f.failed_in_task = isinstance(state, Task)
        self._branch_failed(st, f, error, cause)
        return False

    def _catch(self, st: ExecutionState, f: Frame, state: State, catcher: Any, error: str,
               cause: str | None) -> bool:
        error_output: dict[str, Any] = {"Error": error}
        if cause is not None:
            error_output["Cause"] = cause
        scope = self.scope(st, f, state)
        assigned = None
        if state.query_language == JSONATA:
            scope.set_error_output(error_output)
            if catcher.assign is not None:
                assigned = catcher.assign.evaluate(scope)
            output = error_output if catcher.output is None else catcher.output.evaluate(scope)
        else:
            if catcher.assign is not None:
                scope.input = error_output
                assigned = catcher.assign.evaluate(scope)
            output = apply_result_path(catcher.result_path, f.input, error_output)
        return self.exit_state(st, f, state, output, assigned, catcher.next)

    # ----- branch ends ------------------------------------------------------------------

    def _branch_succeeded(self, st: ExecutionState, f: Frame, output: Any) -> None:
        f.done = True
        if f.parent is None:
            self._finish(st, SUCCEEDED, "ExecutionSucceeded", None, None, output)
        else:
            self.child_succeeded(st, f.parent, f, output)

    def _branch_failed(self, st: ExecutionState, f: Frame, error: str | None,
                       cause: str | None) -> None:
        f.done = True
        if f.parent is None:
            self._finish(st, FAILED, "ExecutionFailed", error, cause)
        else:
            self.child_failed(st, f.parent, f, error, cause)

    def _finish(self, st: ExecutionState, status: str, event: str, error: str | None,
                cause: str | None, output: Any = None) -> None:
        now = self.clock.now()
        st.status, st.stop_time = status, now
        root = st.root
        assert root is not None
        if status == SUCCEEDED:
            details: dict[str, Any] = {"output": output}
            st.output = output
        else:
            details = {}
            if error is not None:
                details["error"] = error
            if cause is not None:
                details["cause"] = cause
            st.error, st.cause = error, cause
        st.history.add(event, root.last_event, now, details)
        for timer_id in list(st.timers):
            self._cancel_timer(st, timer_id)
        for task_id in list(st.tasks):
            self._effects.append(CancelTask(task_id))
        for task_id, (_, run) in list(st.map_runs.items()):
            self._effects.append(AbortMapRun(task_id, run.map_run_arn))
        st.map_runs.clear()
        st.tasks.clear()
        st.invocations.clear()
        st.ready.clear()

    def _stop(self, st: ExecutionState, status: str, event: str, error: str | None,
              cause: str | None) -> None:
        root = st.root
        if root is not None and not root.done:
            self.abort_frame(st, root)
        self._finish(st, status, event, error, cause)
