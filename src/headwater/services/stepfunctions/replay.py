"""Rebuilding an execution from its recorded history, for the driver's restart after a crash.

The history is the execution's state: the engine is deterministic, so feeding it the inputs
the history records (the start, each task's start and outcome, a stop), at the recorded
times, with timers firing when they fall due, re-creates the same events and leaves the state
where the execution was. What was in flight then is re-issued by :func:`resume_effects`: a
task that had been scheduled runs again (at-least-once, as AWS documents for Standard
workflows) and a Wait keeps its original deadline.

The engine must get the same ids on replay as on the first run, so a driver gives each
execution :class:`SeededIds` seeded with its ARN.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable, Iterable
from typing import Any

from headwater.core.clock import ManualClock
from headwater.services.stepfunctions.engine import Engine
from headwater.services.stepfunctions.execution import (
    Effect,
    ExecutionInfo,
    ExecutionState,
    Input,
    InvokeTask,
    MapRunEnded,
    Redrive,
    Start,
    StartMapRun,
    StartTimer,
    Stop,
    TaskFailed,
    TaskStarted,
    TaskSucceeded,
    TimerFired,
)
from headwater.services.stepfunctions.history import HistoryEvent

_SCHEDULED = {"TaskScheduled", "LambdaFunctionScheduled", "ActivityScheduled"}
_STARTED = {"TaskStarted", "LambdaFunctionStarted", "ActivityStarted"}
_SUCCEEDED = {"TaskSucceeded", "LambdaFunctionSucceeded", "ActivitySucceeded"}
_FAILED = {"TaskFailed", "LambdaFunctionFailed", "ActivityFailed"}
_INPUTS = _STARTED | _SUCCEEDED | _FAILED | {"ExecutionAborted", "ExecutionRedriven",
                                              "MapRunSucceeded", "MapRunFailed"}


class SeededIds:
    """Ids derived from a seed and a counter: random-looking, but the same on every replay."""

    def __init__(self, seed: str) -> None:
        self.seed = seed
        self._n = itertools.count(1)

    def _digest(self) -> str:
        return hashlib.sha256(f"{self.seed}/{next(self._n)}".encode()).hexdigest()

    def uuid(self) -> str:
        h = self._digest()
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-8{h[17:20]}-{h[20:32]}"

    def token(self, nbytes: int = 32) -> str:
        return (self._digest() * 2)[: nbytes * 2]


class ReplayMismatch(Exception):
    """The history does not match what the program does (another definition, or corrupted)."""


def replay(engine: Engine, info: ExecutionInfo, history: Iterable[HistoryEvent],
           clock: ManualClock,
           map_output: Callable[[str], Any] | None = None) -> ExecutionState:
    """Rebuild the state of an execution from its recorded events. ``engine`` must run on
    ``clock`` and with the same kind of seeded ids as the original run. ``map_output`` gives
    the output of a finished distributed map run by its ARN (the history says only
    ``MapRunSucceeded``; the map run's record holds the results)."""
    recorded = list(history)
    by_id = {e.id: e for e in recorded}
    state: ExecutionState | None = None
    task_of_scheduled: dict[int, int] = {}
    for event in recorded:
        if state is None:
            if event.type != "ExecutionStarted":
                raise ReplayMismatch("the history does not begin with ExecutionStarted")
            clock.set(event.timestamp)
            state, step = engine.start(info, (event.details or {}).get("input"))
            _note_tasks(step.events, step.effects, task_of_scheduled)
            continue
        if event.type not in _INPUTS:
            continue
        # Timers that fell due before this event fired first (they may schedule tasks that
        # this very event reports on).
        _fire_due_timers(engine, state, clock, event.timestamp, task_of_scheduled)
        incoming = _input(event, by_id, task_of_scheduled, map_output)
        if incoming is None:
            continue
        clock.set(event.timestamp)
        step = engine.step(state, incoming)
        _note_tasks(step.events, step.effects, task_of_scheduled)
    if state is None:
        raise ReplayMismatch("the history is empty")
    if recorded:
        _fire_due_timers(engine, state, clock, recorded[-1].timestamp, task_of_scheduled)
    _check(state.history.events, recorded)
    return state


def resume_effects(state: ExecutionState) -> list[Effect]:
    """What to (re)start after a replay: every task in flight, every pending timer."""
    effects: list[Effect] = []
    for task_id in sorted(state.invocations):
        effects.append(state.invocations[task_id])
    for timer_id, (fire_at, _, _) in sorted(state.timers.items()):
        effects.append(StartTimer(timer_id, fire_at))
    for task_id in sorted(state.map_runs):
        effects.append(state.map_runs[task_id][1])
    return effects


def _input(event: HistoryEvent, by_id: dict[int, HistoryEvent],
           task_of_scheduled: dict[int, int],
           map_output: Callable[[str], Any] | None = None) -> Input | None:
    details = event.details or {}
    if event.type in ("MapRunSucceeded", "MapRunFailed"):
        started = _map_run_started(event, by_id)
        if started is None:
            return None
        arn = (started.details or {}).get("mapRunArn", "")
        task_id = task_of_scheduled.get(started.id)
        if task_id is None:
            return None
        if event.type == "MapRunFailed":
            return MapRunEnded(task_id, None, details.get("error"), details.get("cause"))
        return MapRunEnded(task_id, map_output(arn) if map_output is not None else None)
    if event.type == "ExecutionStarted":
        return Start(details.get("input"))
    if event.type == "ExecutionAborted":
        return Stop(details.get("error"), details.get("cause"))
    if event.type == "ExecutionRedriven":
        return Redrive()
    if event.type in _STARTED or event.type in _SUCCEEDED or event.type in _FAILED:
        task_id = _task_id(event, by_id, task_of_scheduled)
        if task_id is None:
            return None
        if event.type in _STARTED:
            return TaskStarted(task_id)
        if event.type in _SUCCEEDED:
            return TaskSucceeded(task_id, details.get("output"))
        if details.get("error") == "States.DataLimitExceeded":
            return None  # the engine produces this one itself from an oversized result
        return TaskFailed(task_id, details.get("error"), details.get("cause"))
    return None


def _task_id(event: HistoryEvent, by_id: dict[int, HistoryEvent],
             task_of_scheduled: dict[int, int]) -> int | None:
    current: HistoryEvent | None = event
    while current is not None and current.type not in _SCHEDULED:
        current = by_id.get(current.previous_event_id)
    return None if current is None else task_of_scheduled.get(current.id)


def _map_run_started(event: HistoryEvent, by_id: dict[int, HistoryEvent]) -> HistoryEvent | None:
    current: HistoryEvent | None = event
    while current is not None and current.type not in ("MapRunStarted", "MapRunRedriven"):
        current = by_id.get(current.previous_event_id)
    return current


def _note_tasks(events: list[HistoryEvent], effects: list[Effect],
                task_of_scheduled: dict[int, int]) -> None:
    scheduled = [e.id for e in events if e.type in _SCHEDULED]
    invokes = [e.task_id for e in effects if isinstance(e, InvokeTask)]
    task_of_scheduled.update(zip(scheduled, invokes))
    # A map run is keyed by its MapRunStarted (or MapRunRedriven) event, like a task by its
    # *Scheduled one.
    started = [e.id for e in events if e.type in ("MapRunStarted", "MapRunRedriven")]
    runs = [e.task_id for e in effects if isinstance(e, StartMapRun)]
    task_of_scheduled.update(zip(started, runs))


def _fire_due_timers(engine: Engine, state: ExecutionState, clock: ManualClock, until: float,
                     task_of_scheduled: dict[int, int]) -> None:
    while not state.finished:
        due = state.next_timer()
        if due is None or due[0] > until:
            return
        clock.set(due[0])
        step = engine.step(state, TimerFired(due[1]))
        _note_tasks(step.events, step.effects, task_of_scheduled)


def _check(rebuilt: list[HistoryEvent], recorded: list[HistoryEvent]) -> None:
    got = [(e.id, e.type) for e in rebuilt]
    want = [(e.id, e.type) for e in recorded]
    for index, expected in enumerate(want):
        if index >= len(got) or got[index] != expected:
            raise ReplayMismatch(f"replay diverged from the recorded history at event "
                                 f"{index + 1}: {expected[1]} was recorded")
