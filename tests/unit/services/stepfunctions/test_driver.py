"""The durable driver on an in-memory store and a manual clock: history persisted before
effects, crash and resume by building a new driver on the same store, Wait deadlines kept,
in-flight tasks run again, timers on one scheduler."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from headwater.core.clock import ManualClock
from headwater.core.ids import SequentialIds
from headwater.services.stepfunctions.asl import parse_definition
from headwater.services.stepfunctions.driver import Driver
from headwater.services.stepfunctions.execution import ExecutionInfo
from headwater.services.stepfunctions.integrations import Integrations
from headwater.services.stepfunctions.runner import Delayed, TaskFailure, TaskRequest
from headwater.services.stepfunctions.store import ExecutionRow, SfnStore
from headwater.store import open_store

FN = "arn:aws:lambda:us-east-1:000000000000:function:work"
MACHINE = "arn:aws:states:us-east-1:000000000000:stateMachine:m"
WAIT_THEN_TASK = {"StartAt": "Sleep", "States": {
    "Sleep": {"Type": "Wait", "Seconds": 30, "Next": "Work"},
    "Work": {"Type": "Task", "Resource": FN, "End": True}}}


class World:
    """A store that outlives drivers, the way the SQLite file outlives a process."""

    def __init__(self) -> None:
        self.store = SfnStore(open_store(None))
        self.clock = ManualClock(1_700_000_000.0)
        self.calls: list[Any] = []
        self.outcome: Any = None

    def driver(self) -> Driver:
        integrations = Integrations(self.clock, SequentialIds(), "us-east-1", "000000000000")
        integrations.handlers[FN] = self._handler
        integrations.handlers["arn:aws:states:::lambda:invoke"] = self._handler
        programs: dict[str, Any] = {}

        def program(sha: str) -> Any:
            if sha not in programs:
                programs[sha] = parse_definition(self.store.definition(sha))
            return programs[sha]

        return Driver(self.store, self.clock, SequentialIds(), integrations, program)

    def _handler(self, request: TaskRequest) -> Any:
        self.calls.append(request.parameters)
        if callable(self.outcome):
            return self.outcome(request)
        return self.outcome

    def start(self, driver: Driver, definition: dict[str, Any], name: str = "e1",
              execution_input: Any = None) -> str:
        text = orjson.dumps(definition).decode()
        sha = self.store.put_definition(text)
        arn = f"arn:aws:states:us-east-1:000000000000:execution:m:{name}"
        info = ExecutionInfo(arn, name, MACHINE, "m")
        raw = orjson.dumps(execution_input or {}).decode()
        row = ExecutionRow(0, arn, MACHINE, None, None, name, sha, info.role_arn, "RUNNING", raw,
                           None, None, None, 0.0, None, 0, None, None, None)
        driver.start_execution(info, parse_definition(text), row, execution_input or {}, raw)
        return arn

    def row(self, arn: str) -> ExecutionRow:
        found = self.store.execution(arn)
        assert found is not None
        return found

    def types(self, arn: str) -> list[str]:
        return [e.type for e in self.store.events(self.row(arn).id)]


@pytest.fixture
def world() -> World:
    return World()


def test_history_is_committed_before_the_task_runs(world: World) -> None:
    seen: list[list[str]] = []
    arn = "arn:aws:states:us-east-1:000000000000:execution:m:e1"
    world.outcome = lambda request: seen.append(list(world.types(arn))) or {"ok": 1}
    driver = world.driver()
    assert arn == world.start(driver, {"StartAt": "Work", "States": {
        "Work": {"Type": "Task", "Resource": FN, "End": True}}})
    # The scheduling is durable before the call goes out.
    assert seen == [["ExecutionStarted", "TaskStateEntered", "LambdaFunctionScheduled"]]
    assert world.row(arn).status == "SUCCEEDED"
    assert orjson.loads(world.row(arn).output or "null") == {"ok": 1}


def test_a_wait_keeps_its_deadline_across_a_restart(world: World) -> None:
    world.outcome = {"done": True}
    first = world.driver()
    arn = world.start(first, WAIT_THEN_TASK)
    started = world.row(arn).started
    assert world.types(arn)[-1] == "WaitStateEntered"
    assert first.scheduler.next_deadline() == started + 30
    world.clock.advance(10)
    del first  # the process dies: nothing in memory survives

    second = world.driver()
    assert second.recover() == 1
    assert second.scheduler.next_deadline() == started + 30  # not restart time + 30
    world.clock.advance(19)
    second.scheduler.run_due()
    assert world.row(arn).status == "RUNNING"
    world.clock.advance(1)
    second.scheduler.run_due()
    assert world.row(arn).status == "SUCCEEDED"
    assert world.calls == [{}]
    assert world.types(arn) == ["ExecutionStarted", "WaitStateEntered", "WaitStateExited",
                                "TaskStateEntered", "LambdaFunctionScheduled",
                                "LambdaFunctionStarted", "LambdaFunctionSucceeded",
                                "TaskStateExited", "ExecutionSucceeded"]
    exited = [e for e in world.store.events(world.row(arn).id) if e.type == "WaitStateExited"]
    assert exited[0].timestamp == started + 30


def test_a_task_in_flight_runs_again_after_a_restart(world: World) -> None:
    world.outcome = Delayed(60, {"slow": True})  # still running when the process dies
    first = world.driver()
    arn = world.start(first, {"StartAt": "Work", "States": {
        "Work": {"Type": "Task", "Resource": FN, "End": True}}}, execution_input={"n": 1})
    assert world.calls == [{"n": 1}]
    del first

    world.outcome = {"fast": True}
    second = world.driver()
    second.recover()
    assert world.calls == [{"n": 1}, {"n": 1}]  # at-least-once
    row = world.row(arn)
    assert row.status == "SUCCEEDED" and orjson.loads(row.output or "null") == {"fast": True}
    types = world.types(arn)
    assert types.count("LambdaFunctionScheduled") == 1
    assert types.count("LambdaFunctionStarted") == 1


def test_retries_and_timeouts_use_the_scheduler(world: World) -> None:
    attempts: list[int] = []

    def flaky(request: TaskRequest) -> Any:
        attempts.append(1)
        if len(attempts) < 3:
            raise TaskFailure("Flaky", "try again")
        return "third time"

    world.outcome = flaky
    driver = world.driver()
    arn = world.start(driver, {"StartAt": "Work", "States": {"Work": {
        "Type": "Task", "Resource": FN, "End": True,
        "Retry": [{"ErrorEquals": ["Flaky"], "IntervalSeconds": 2, "MaxAttempts": 3}]}}})
    assert len(attempts) == 1
    world.clock.advance(2)
    driver.scheduler.run_due()
    assert len(attempts) == 2
    # A restart in the middle of the back-off keeps the retry's deadline.
    del driver
    resumed = world.driver()
    resumed.recover()
    world.clock.advance(4)
    resumed.scheduler.run_due()
    assert world.row(arn).status == "SUCCEEDED"
    assert len(attempts) == 3

    world.outcome = Delayed(100, "too late")
    timing = world.start(resumed, {"StartAt": "Work", "States": {"Work": {
        "Type": "Task", "Resource": FN, "TimeoutSeconds": 5, "End": True}}}, name="e2")
    world.clock.advance(5)
    resumed.scheduler.run_due()
    row = world.row(timing)
    assert (row.status, row.error) == ("FAILED", "States.Timeout")


def test_many_waiting_executions_share_one_heap(world: World) -> None:
    driver = world.driver()
    definition = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 1, "End": True}}}
    arns = [world.start(driver, definition, name=f"w{i}") for i in range(200)]
    assert len(driver.scheduler) == 200 and len(driver.live) == 200
    world.clock.advance(1)
    assert driver.scheduler.run_due() == 200
    assert not driver.live
    assert {world.row(arn).status for arn in arns} == {"SUCCEEDED"}


def test_stop_and_task_tokens(world: World) -> None:
    driver = world.driver()
    arn = world.start(driver, {"StartAt": "Ask", "States": {"Ask": {
        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "Parameters": {"FunctionName": FN, "Payload": {"token.$": "$$.Task.Token"}},
        "End": True}}})
    world.outcome = None
    token = world.calls[0]["Payload"]["token"]
    assert world.row(arn).status == "RUNNING"
    assert driver.task_success(token, {"answer": 42})
    assert orjson.loads(world.row(arn).output or "null") == {"answer": 42}
    assert not driver.task_success(token, {})  # the task is over

    waiting = world.start(driver, WAIT_THEN_TASK, name="e3")
    assert driver.stop_execution(waiting, "Halt", "test")
    row = world.row(waiting)
    assert (row.status, row.error, row.cause) == ("ABORTED", "Halt", "test")


def test_an_unreplayable_history_fails_that_execution_only(world: World) -> None:
    first = world.driver()
    good = world.start(first, WAIT_THEN_TASK, name="good")
    bad = world.start(first, WAIT_THEN_TASK, name="bad")
    # Corrupt one history: the program no longer matches what was recorded.
    world.store.store.execute("UPDATE sfn_events SET type='PassStateEntered' "
                              "WHERE execution_id=? AND id=2", (world.row(bad).id,))
    second = world.driver()
    second.recover()
    assert world.row(bad).status == "FAILED"
    assert "could not resume" in (world.row(bad).cause or "")
    assert good in second.live


def test_redrive_goes_on_from_the_failed_state(world: World) -> None:
    world.outcome = lambda request: (_ for _ in ()).throw(TaskFailure("Broken", "first run"))
    driver = world.driver()
    arn = world.start(driver, {"StartAt": "Prepare", "States": {
        "Prepare": {"Type": "Pass", "Result": {"n": 1}, "Next": "Work"},
        "Work": {"Type": "Task", "Resource": FN, "End": True}}})
    assert world.row(arn).status == "FAILED"
    world.outcome = lambda request: {"fixed": request.parameters}
    world.clock.advance(5)
    driver.redrive(world.row(arn))
    row = world.row(arn)
    assert (row.status, row.redrive_count) == ("SUCCEEDED", 1)
    assert orjson.loads(row.output or "null") == {"fixed": {"n": 1}}
    types = world.types(arn)
    assert types[types.index("ExecutionFailed") + 1:] == [
        "ExecutionRedriven", "TaskStateEntered", "LambdaFunctionScheduled",
        "LambdaFunctionStarted", "LambdaFunctionSucceeded", "TaskStateExited",
        "ExecutionSucceeded"]
    assert types.count("PassStateEntered") == 1  # Prepare did not run again
    # The redriven history replays like any other.
    world.store.store.execute("UPDATE sfn_executions SET status='RUNNING' WHERE id=?",
                              (row.id,))
    again = world.driver()
    again.recover()
    assert not again.live  # replay ends SUCCEEDED: nothing left to run


def _fail_when(flag: str) -> Any:
    def outcome(request: TaskRequest) -> Any:
        if request.parameters.get(flag):
            raise TaskFailure("Broken", f"{request.parameters} first run")
        return {"done": request.parameters}
    return outcome


def test_redrive_of_a_map_runs_only_the_iterations_that_did_not_succeed(world: World) -> None:
    world.outcome = _fail_when("bad")
    driver = world.driver()
    arn = world.start(driver, {"StartAt": "Each", "States": {"Each": {
        "Type": "Map", "MaxConcurrency": 1, "End": True,
        "ItemProcessor": {"StartAt": "Work", "States": {
            "Work": {"Type": "Task", "Resource": FN, "End": True}}}}}},
        execution_input=[{"i": 0}, {"i": 1, "bad": True}, {"i": 2}])
    assert world.row(arn).status == "FAILED"
    assert [c["i"] for c in world.calls] == [0, 1]  # item 2 never started
    world.calls.clear()
    world.outcome = _fail_when("never")
    driver.redrive(world.row(arn))
    row = world.row(arn)
    assert (row.status, row.redrive_count) == ("SUCCEEDED", 1)
    assert [c["i"] for c in world.calls] == [1, 2]  # item 0 kept its result
    assert orjson.loads(row.output or "null") == [
        {"done": {"i": 0}}, {"done": {"i": 1, "bad": True}}, {"done": {"i": 2}}]
    events = world.store.events(row.id)
    redriven = [e.type for e in events][[e.type for e in events].index("ExecutionRedriven"):]
    assert redriven[:3] == ["ExecutionRedriven", "MapStateEntered", "MapStateStarted"]
    started = [e.details["index"] for e in events[len(events) - len(redriven):]
               if e.type == "MapIterationStarted" and e.details]
    assert started == [1, 2]
    assert redriven[-3:] == ["MapStateSucceeded", "MapStateExited", "ExecutionSucceeded"]
    # Rebuilt from its history after a restart, the execution ends the same way.
    world.store.store.execute("UPDATE sfn_executions SET status='RUNNING' WHERE id=?",
                              (row.id,))
    again = world.driver()
    again.recover()
    assert not again.live and world.row(arn).status == "SUCCEEDED"


def test_redrive_of_a_parallel_runs_only_the_failed_branch(world: World) -> None:
    world.outcome = _fail_when("bad")
    driver = world.driver()

    def branch(name: str, bad: bool) -> dict[str, Any]:
        return {"StartAt": name, "States": {name: {
            "Type": "Task", "Resource": FN, "Parameters": {"b": name, "bad": bad},
            "End": True}}}

    arn = world.start(driver, {"StartAt": "Both", "States": {"Both": {
        "Type": "Parallel", "End": True,
        "Branches": [branch("Left", False), branch("Right", True)]}}})
    assert world.row(arn).status == "FAILED"
    world.calls.clear()
    world.outcome = lambda request: {"fixed": request.parameters["b"]}
    world.clock.advance(5)
    driver.redrive(world.row(arn))
    row = world.row(arn)
    assert (row.status, row.redrive_count) == ("SUCCEEDED", 1)
    assert [c["b"] for c in world.calls] == ["Right"]
    assert orjson.loads(row.output or "null") == [
        {"done": {"b": "Left", "bad": False}}, {"fixed": "Right"}]


def test_a_retried_map_runs_every_iteration_again(world: World) -> None:
    attempts: list[int] = []

    def outcome(request: TaskRequest) -> Any:
        attempts.append(request.parameters["i"])
        if request.parameters["i"] == 1 and attempts.count(1) == 1:
            raise TaskFailure("Broken", "once")
        return request.parameters["i"]

    world.outcome = outcome
    driver = world.driver()
    arn = world.start(driver, {"StartAt": "Each", "States": {"Each": {
        "Type": "Map", "MaxConcurrency": 1, "End": True,
        "Retry": [{"ErrorEquals": ["Broken"], "IntervalSeconds": 1}],
        "ItemProcessor": {"StartAt": "Work", "States": {
            "Work": {"Type": "Task", "Resource": FN, "End": True}}}}}},
        execution_input=[{"i": 0}, {"i": 1}])
    world.clock.advance(2)
    driver.scheduler.run_due()
    row = world.row(arn)
    assert (row.status, orjson.loads(row.output or "null")) == ("SUCCEEDED", [0, 1])
    assert attempts == [0, 1, 0, 1]  # only a redrive keeps the iterations that succeeded


def test_redrive_after_an_abort_keeps_the_iterations_that_had_succeeded(world: World) -> None:
    world.outcome = lambda request: (Delayed(60, "slow") if request.parameters["i"] == 1
                                     else request.parameters["i"])
    driver = world.driver()
    arn = world.start(driver, {"StartAt": "Each", "States": {"Each": {
        "Type": "Map", "MaxConcurrency": 1, "End": True,
        "ItemProcessor": {"StartAt": "Work", "States": {
            "Work": {"Type": "Task", "Resource": FN, "End": True}}}}}},
        execution_input=[{"i": 0}, {"i": 1}, {"i": 2}])
    assert driver.stop_execution(arn, "Halt", "test")
    assert world.row(arn).status == "ABORTED"
    assert "MapIterationAborted" in world.types(arn)
    world.calls.clear()
    world.outcome = lambda request: request.parameters["i"] * 10
    driver.redrive(world.row(arn))
    row = world.row(arn)
    assert (row.status, orjson.loads(row.output or "null")) == ("SUCCEEDED", [0, 10, 20])
    assert [c["i"] for c in world.calls] == [1, 2]


def test_a_caught_map_failure_is_not_reused_when_the_map_runs_again(world: World) -> None:
    failed_once: list[int] = []

    def outcome(request: TaskRequest) -> Any:
        i = request.parameters["i"]
        if i == 1 and not failed_once:
            failed_once.append(i)
            raise TaskFailure("Broken", "once")
        return i + 100 * len(world.calls)

    world.outcome = outcome
    driver = world.driver()
    arn = world.start(driver, {"StartAt": "Each", "States": {
        "Each": {"Type": "Map", "MaxConcurrency": 1, "Next": "Done",
                 "Catch": [{"ErrorEquals": ["Broken"], "ResultPath": "$.error",
                            "Next": "Again"}],
                 "ItemsPath": "$.items",
                 "ItemProcessor": {"StartAt": "Work", "States": {
                     "Work": {"Type": "Task", "Resource": FN, "End": True}}}},
        "Again": {"Type": "Pass", "Parameters": {"items.$": "$.items"}, "Next": "Each"},
        "Done": {"Type": "Succeed"}}},
        execution_input={"items": [{"i": 0}, {"i": 1}]})
    row = world.row(arn)
    assert row.status == "SUCCEEDED"
    # The second entry ran both items again: nothing kept from the caught attempt.
    assert [c["i"] for c in world.calls] == [0, 1, 0, 1]
