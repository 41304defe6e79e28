"""Crash and resume: an execution rebuilt from any prefix of its history finishes exactly as
the uninterrupted run did."""

from __future__ import annotations

from typing import Any

import pytest

from headwater.core.clock import ManualClock
from headwater.services.stepfunctions.asl import parse_definition
from headwater.services.stepfunctions.replay import (
    ReplayMismatch,
    SeededIds,
    replay,
    resume_effects,
)
from headwater.services.stepfunctions.runner import Delayed, Runner, TaskFailure, TaskRequest

FN = "arn:aws:lambda:us-east-1:000000000000:function:work"
DEFINITION = {"StartAt": "Init", "States": {
    "Init": {"Type": "Pass", "Parameters": {"id.$": "States.UUID()", "items.$": "$.items"},
             "Next": "Wait"},
    "Wait": {"Type": "Wait", "Seconds": 30, "Next": "Each"},
    "Each": {"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 2, "ResultPath": "$.out",
             "ItemProcessor": {"StartAt": "Work", "States": {"Work": {
                 "Type": "Task", "Resource": FN, "End": True,
                 "Retry": [{"ErrorEquals": ["Flaky"], "IntervalSeconds": 5}]}}},
             "Next": "Done"},
    "Done": {"Type": "Succeed"}}}


class Work:
    """Fails once for item 2, and takes item * 10 seconds."""

    def __init__(self) -> None:
        self.failed: set[int] = set()

    def __call__(self, request: TaskRequest) -> Any:
        item = request.parameters
        if item == 2 and item not in self.failed:
            self.failed.add(item)
            raise TaskFailure("Flaky", "first try")
        return Delayed(item * 10, item * item)


def fresh_runner(clock: ManualClock) -> Runner:
    return Runner(parse_definition(DEFINITION), {FN: Work()}, clock=clock,
                  ids=SeededIds("arn:execution:1"))


def test_replay_from_every_prefix_resumes_to_the_same_end() -> None:
    clock = ManualClock()
    runner = fresh_runner(clock)
    info = runner.info("exec-1")
    full = runner.drive(*_started(runner, info))
    assert full.status == "SUCCEEDED"
    assert full.output["out"] == [1, 4, 9]
    for cut in range(2, len(full.history)):
        clock = ManualClock()
        again = fresh_runner(clock)
        state = replay(again.engine, info, full.history[:cut], clock)
        assert [e.type for e in state.history.events[:cut]] == \
            [e.type for e in full.history[:cut]]
        resumed = again.drive(state, resume_effects(state))
        assert (resumed.status, resumed.output) == (full.status, full.output)
        # A task in flight at the cut runs again (at-least-once), so only the prefix is fixed.
        assert [e.type for e in resumed.history[:cut]] == [e.type for e in full.history[:cut]]


def test_a_wait_keeps_its_deadline() -> None:
    clock = ManualClock()
    runner = fresh_runner(clock)
    info = runner.info("exec-1")
    full = runner.drive(*_started(runner, info))
    cut = next(i for i, e in enumerate(full.history) if e.type == "WaitStateEntered") + 1
    clock2 = ManualClock()
    again = fresh_runner(clock2)
    state = replay(again.engine, info, full.history[:cut], clock2)
    [timer] = [e for e in resume_effects(state)]
    assert timer.fire_at == full.history[cut - 1].timestamp + 30  # type: ignore[union-attr]


def test_a_history_from_another_definition_is_refused() -> None:
    clock = ManualClock()
    runner = fresh_runner(clock)
    info = runner.info("exec-1")
    full = runner.drive(*_started(runner, info))
    other = Runner(parse_definition({"StartAt": "X", "States": {"X": {"Type": "Succeed"}}}),
                   clock=clock, ids=SeededIds("x"))
    with pytest.raises(ReplayMismatch):
        replay(other.engine, info, full.history, clock)


def _started(runner: Runner, info: Any) -> Any:
    state, step = runner.engine.start(info, {"items": [1, 2, 3]})
    return state, step.effects
