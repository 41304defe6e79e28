"""Distributed map runs on the durable driver, an in-memory store, a manual clock and a fake S3:
children as executions of their own, the ledger, tolerance, abort, UpdateMapRun, and a restart
that re-runs only the unfinished items."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from headwater.core.clock import ManualClock
from headwater.core.errors import ServiceError
from headwater.core.ids import SequentialIds
from headwater.services.stepfunctions.asl import parse_definition
from headwater.services.stepfunctions.distributed.maprun import MapRuns, child_program
from headwater.services.stepfunctions.distributed.store import MapRunStore
from headwater.services.stepfunctions.driver import Driver
from headwater.services.stepfunctions.execution import ExecutionInfo
from headwater.services.stepfunctions.integrations import Integrations
from headwater.services.stepfunctions.runner import TaskFailure, TaskRequest
from headwater.services.stepfunctions.store import ExecutionRow, SfnStore
from headwater.store import open_store

MACHINE = "arn:aws:states:us-east-1:000000000000:stateMachine:m"


class FakeS3:
    """GetObject / PutObject / ListObjectsV2 over a dict, the S3 adapter's member names."""

    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], bytes] = {}

    def __call__(self, operation: str, params: dict[str, Any]) -> Any:
        bucket = params["Bucket"]
        if operation == "PutObject":
            self.objects[(bucket, params["Key"])] = params["Body"]
            return {"ETag": '"x"'}
        if operation == "GetObject":
            body = self.objects.get((bucket, params["Key"]))
            if body is None:
                raise ServiceError("NoSuchKey", "The specified key does not exist.", 404)
            return {"Body": body}
        prefix = params.get("Prefix", "")
        keys = sorted(k for b, k in self.objects if b == bucket and k.startswith(prefix))
        return {"Contents": [{"Key": k, "ETag": '"e"', "Size": len(self.objects[(bucket, k)]),
                              "LastModified": 1_700_000_000.5, "StorageClass": "STANDARD"}
                             for k in keys], "IsTruncated": False}

    def json(self, bucket: str, key: str) -> Any:
        return orjson.loads(self.objects[(bucket, key)])


class World:
    """A store (and S3) that outlive drivers, the way the SQLite file outlives a process."""

    def __init__(self) -> None:
        self.raw = open_store(None)
        self.store = SfnStore(self.raw)
        self.clock = ManualClock(1_700_000_000.0)
        self.s3 = FakeS3()
        self.ids = SequentialIds()

    def driver(self) -> Driver:
        integrations = Integrations(self.clock, self.ids, "us-east-1", "000000000000")
        programs: dict[str, Any] = {}

        def program(sha: str) -> Any:
            if sha not in programs:
                base, _, location = sha.partition("#")
                parsed = parse_definition(self.store.definition(base))
                programs[sha] = child_program(parsed, location) if location else parsed
            return programs[sha]

        driver = Driver(self.store, self.clock, self.ids, integrations, program)
        driver.map_runs = MapRuns(driver, MapRunStore(self.raw), self.s3, self.clock, self.ids)
        return driver

    def start(self, driver: Driver, map_state: dict[str, Any], value: Any = None,
              name: str = "e1", then: dict[str, Any] | None = None) -> str:
        """Start a machine whose first state is this Map (ending there, or going on to the
        states ``then``, the first of them named "Then")."""
        map_state = {"Type": "Map", **map_state, **({"Next": "Then"} if then else
                                                    {"End": True})}
        definition = {"StartAt": "Map", "States": {"Map": map_state, **(then or {})}}
        text = orjson.dumps(definition).decode()
        sha = self.store.put_definition(text)
        arn = f"arn:aws:states:us-east-1:000000000000:execution:m:{name}"
        info = ExecutionInfo(arn, name, MACHINE, "m")
        raw = orjson.dumps(value if value is not None else {}).decode()
        row = ExecutionRow(0, arn, MACHINE, None, None, name, sha, info.role_arn, "RUNNING", raw,
                           None, None, None, 0.0, None, 0, None, None, None)
        driver.start_execution(info, parse_definition(text), row, orjson.loads(raw), raw)
        return arn

    def row(self, arn: str) -> ExecutionRow:
        found = self.store.execution(arn)
        assert found is not None
        return found

    def types(self, arn: str) -> list[str]:
        return [e.type for e in self.store.events(self.row(arn).id)]

    def run_arn(self, driver: Driver, arn: str) -> str:
        [run] = driver.map_runs.store.runs(arn)
        return run.arn

    def tick(self, driver: Driver, seconds: float) -> None:
        self.clock.advance(seconds)
        driver.scheduler.run_due()


def processor(states: dict[str, Any], start: str, kind: str = "STANDARD") -> dict[str, Any]:
    return {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": kind},
            "StartAt": start, "States": states}


WAIT = processor({"W": {"Type": "Wait", "Seconds": 10, "End": True}}, "W")


@pytest.fixture
def world() -> World:
    return World()


def test_items_from_s3_selector_and_result_writer(world: World) -> None:
    world.s3.objects[("in", "items.json")] = orjson.dumps([{"v": 1}, {"v": 2}])
    driver = world.driver()
    arn = world.start(driver, {
        "ItemReader": {"Resource": "arn:aws:states:::s3:getObject",
                       "ReaderConfig": {"InputType": "JSON"},
                       "Parameters": {"Bucket": "in", "Key.$": "$.key"}},
        "ItemSelector": {"value.$": "$$.Map.Item.Value.v", "at.$": "$$.Map.Item.Index"},
        "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject",
                         "Parameters": {"Bucket": "out", "Prefix": "runs/"}},
        "Label": "L", "ItemProcessor": processor({"P": {"Type": "Pass", "End": True}}, "P")},
        {"key": "items.json"})
    row = world.row(arn)
    assert row.status == "SUCCEEDED"
    output = orjson.loads(row.output or "null")
    run_id = output["MapRunArn"].rsplit(":", 1)[1]
    assert output["MapRunArn"] == f"arn:aws:states:us-east-1:000000000000:mapRun:m/L:{run_id}"
    assert output["ResultWriterDetails"] == {"Bucket": "out",
                                             "Key": f"runs/{run_id}/manifest.json"}
    manifest = world.s3.json("out", f"runs/{run_id}/manifest.json")
    key = f"runs/{run_id}/SUCCEEDED_0.json"
    assert manifest["ResultFiles"]["SUCCEEDED"] == [
        {"Key": key, "Size": len(world.s3.objects[("out", key)])}]
    results = world.s3.json("out", key)
    assert [orjson.loads(r["Output"]) for r in results] == [{"value": 1, "at": 0},
                                                            {"value": 2, "at": 1}]
    assert results[0]["StateMachineArn"] == "arn:aws:states:us-east-1:000000000000:" \
                                            "stateMachine:m/L"
    assert results[0]["StartDate"] == "2023-11-14T22:13:20.000Z"
    child = world.row(results[0]["ExecutionArn"])  # a real, durable execution
    assert child.status == "SUCCEEDED" and child.machine_arn.endswith(":stateMachine:m/L")
    assert world.types(child.arn) == ["ExecutionStarted", "PassStateEntered",
                                      "PassStateExited", "ExecutionSucceeded"]


def test_item_reader_failure_is_a_failed_map_run(world: World) -> None:
    world.s3.objects[("in", "obj.json")] = b'{"not": "a list"}'
    driver = world.driver()
    arn = world.start(driver, {
        "ItemReader": {"Resource": "arn:aws:states:::s3:getObject",
                       "ReaderConfig": {"InputType": "JSON"},
                       "Parameters": {"Bucket": "in", "Key": "obj.json"}},
        "ItemProcessor": WAIT})
    row = world.row(arn)
    assert (row.status, row.error, row.cause) == (
        "FAILED", "States.ItemReaderFailed", "Attempting to map over non-iterable node.")
    assert world.types(arn)[-4:] == ["MapRunStarted", "MapRunFailed", "MapStateFailed",
                                     "ExecutionFailed"]
    assert driver.map_runs.store.run(world.run_arn(driver, arn)).status == "FAILED"


def test_a_restart_reruns_only_unfinished_items(world: World) -> None:
    first = world.driver()
    arn = world.start(first, {"ItemsPath": "$.items", "MaxConcurrency": 1,
                              "ItemProcessor": WAIT}, {"items": [1, 2, 3]})
    run_arn = world.run_arn(first, arn)
    world.tick(first, 10)  # item 0 done, item 1 waiting
    ledger = first.map_runs.store.items(run_arn)
    assert [i.status for i in ledger] == ["SUCCEEDED", "RUNNING", "PENDING"]
    started_second = ledger[1].child_arn
    world.clock.advance(4)
    del first  # the process dies

    second = world.driver()
    second.recover()
    assert second.scheduler.next_deadline() == world.row(started_second or "").started + 10
    world.tick(second, 6)  # item 1 ends at its original deadline; item 2 starts
    assert [i.status for i in second.map_runs.store.items(run_arn)] == [
        "SUCCEEDED", "SUCCEEDED", "RUNNING"]
    world.tick(second, 10)
    row = world.row(arn)
    assert row.status == "SUCCEEDED"
    assert orjson.loads(row.output or "null") == [1, 2, 3]
    ledger = second.map_runs.store.items(run_arn)
    assert ledger[1].child_arn == started_second  # resumed, not started again
    assert len({i.child_arn for i in ledger}) == 3
    assert world.types(arn).count("MapRunStarted") == 1
    assert second.map_runs.store.run(run_arn).status == "SUCCEEDED"


def test_a_restart_after_the_map_run_succeeded_replays_its_output(world: World) -> None:
    first = world.driver()
    arn = world.start(first, {"ItemsPath": "$.items", "ResultPath": "$.out",
                              "ItemSelector": {"doubled.$": "States.MathAdd($$.Map.Item.Value, "
                                                            "$$.Map.Item.Value)"},
                              "ItemProcessor": processor({"P": {"Type": "Pass", "End": True}},
                                                         "P")},
                      {"items": [7]}, then={"Then": {"Type": "Wait", "Seconds": 5,
                                                     "End": True}})
    assert world.types(arn)[-1] == "WaitStateEntered"  # the map run is over, recorded
    del first
    second = world.driver()
    second.recover()
    world.tick(second, 5)
    row = world.row(arn)
    assert row.status == "SUCCEEDED"
    # The Map's result came back from the map run's record: the history holds only
    # MapRunSucceeded.
    assert orjson.loads(row.output or "null") == {"items": [7], "out": [{"doubled": 14}]}


def test_tolerance_exceeded_stops_the_running_children(world: World) -> None:
    driver = world.driver()
    mixed = processor({
        "C": {"Type": "Choice", "Choices": [{"Variable": "$", "NumericEquals": 0, "Next": "F"}],
              "Default": "W"},
        "W": {"Type": "Wait", "Seconds": 10, "End": True},
        "F": {"Type": "Fail", "Error": "Zero"}}, "C")
    arn = world.start(driver, {"ItemsPath": "$", "MaxConcurrency": 2, "ItemProcessor": mixed},
                      [5, 0, 6, 7])
    row = world.row(arn)
    assert (row.status, row.error) == ("FAILED", "States.ExceedToleratedFailureThreshold")
    assert row.cause == "The specified tolerance threshold for the Map Run was exceeded."
    run_arn = world.run_arn(driver, arn)
    _, executions = driver.map_runs.counts(run_arn)
    assert executions["failed"] == 1 and executions["aborted"] == 1
    assert executions["pending"] == 2 and executions["total"] == 4
    assert world.types(arn)[-3:] == ["MapRunFailed", "MapStateFailed", "ExecutionFailed"]


def test_tolerated_failures_give_error_objects_in_the_output(world: World) -> None:
    driver = world.driver()
    failing = processor({"C": {"Type": "Choice", "Choices": [
        {"Variable": "$", "NumericEquals": 2, "Next": "F"}], "Default": "P"},
        "P": {"Type": "Pass", "End": True}, "F": {"Type": "Fail", "Error": "Two",
                                                  "Cause": "why"}}, "C")
    arn = world.start(driver, {"ItemsPath": "$", "ToleratedFailurePercentage": 50,
                               "ItemProcessor": failing}, [1, 2, 3])
    assert orjson.loads(world.row(arn).output or "null") == [
        1, {"Error": "Two", "Cause": "why"}, 3]


def test_stopping_the_parent_aborts_the_map_run(world: World) -> None:
    driver = world.driver()
    arn = world.start(driver, {"ItemsPath": "$", "ItemProcessor": WAIT}, [1, 2])
    run_arn = world.run_arn(driver, arn)
    children = [i.child_arn for i in driver.map_runs.store.items(run_arn)]
    driver.stop_execution(arn, "Stop", "by test")
    assert world.row(arn).status == "ABORTED"
    assert world.types(arn)[-3:] == ["MapRunAborted", "MapStateAborted", "ExecutionAborted"]
    assert driver.map_runs.store.run(run_arn).status == "ABORTED"
    assert [world.row(c or "").status for c in children] == ["ABORTED", "ABORTED"]


def test_update_map_run_raises_the_concurrency(world: World) -> None:
    driver = world.driver()
    arn = world.start(driver, {"ItemsPath": "$", "MaxConcurrency": 1, "ItemProcessor": WAIT},
                      [1, 2, 3])
    run_arn = world.run_arn(driver, arn)
    assert driver.map_runs.counts(run_arn)[1]["running"] == 1
    driver.map_runs.update(run_arn, 3, None, None)
    assert driver.map_runs.counts(run_arn)[1]["running"] == 3
    assert driver.map_runs.store.run(run_arn).max_concurrency == 3
    world.tick(driver, 10)
    assert world.row(arn).status == "SUCCEEDED"


def test_express_children_and_batches(world: World) -> None:
    driver = world.driver()
    arn = world.start(driver, {
        "ItemsPath": "$.items", "ItemBatcher": {"MaxItemsPerBatch": 2,
                                                "BatchInput": {"t.$": "$.t"}},
        "ItemProcessor": processor({"P": {"Type": "Pass", "End": True}}, "P", "EXPRESS")},
        {"items": [1, 2, 3], "t": "x"})
    assert orjson.loads(world.row(arn).output or "null") == [
        {"BatchInput": {"t": "x"}, "Items": [1, 2]}, {"BatchInput": {"t": "x"}, "Items": [3]}]
    items, executions = driver.map_runs.counts(world.run_arn(driver, arn))
    assert items["succeeded"] == 3 and executions["succeeded"] == 2


def test_redriving_the_parent_reruns_only_the_children_that_did_not_succeed(
        world: World) -> None:
    fn = "arn:aws:lambda:us-east-1:000000000000:function:work"
    calls: list[Any] = []
    fixed: list[bool] = []

    def work(request: TaskRequest) -> Any:
        calls.append(request.parameters)
        if request.parameters == 0 and not fixed:
            raise TaskFailure("Zero", "not yet")
        return request.parameters * 10

    driver = world.driver()
    driver.integrations.handlers[fn] = work
    arn = world.start(driver, {"ItemsPath": "$", "MaxConcurrency": 1, "ItemProcessor": processor(
        {"T": {"Type": "Task", "Resource": fn, "End": True}}, "T")}, [5, 0, 6])
    assert (world.row(arn).status, world.row(arn).error) == (
        "FAILED", "States.ExceedToleratedFailureThreshold")
    run_arn = world.run_arn(driver, arn)
    assert [i.status for i in driver.map_runs.store.items(run_arn)] == [
        "SUCCEEDED", "FAILED", "PENDING"]
    first_child = driver.map_runs.store.items(run_arn)[0].child_arn
    calls.clear()
    fixed.append(True)
    world.clock.advance(3)
    driver.redrive(world.row(arn))
    row = world.row(arn)
    assert (row.status, row.redrive_count) == ("SUCCEEDED", 1)
    assert orjson.loads(row.output or "null") == [50, 0, 60]
    assert calls == [0, 6]  # item 5 kept its result
    run = driver.map_runs.store.run(run_arn)
    assert run is not None and (run.status, run.redrive_count) == ("SUCCEEDED", 1)
    assert run.redrive_date == world.clock.now()
    assert driver.map_runs.store.runs(arn) == [run]  # the same map run, not a new one
    assert driver.map_runs.store.items(run_arn)[0].child_arn == first_child
    types = world.types(arn)
    assert types[types.index("ExecutionRedriven"):][:4] == [
        "ExecutionRedriven", "MapStateEntered", "MapStateStarted", "MapRunRedriven"]
    assert types.count("MapRunStarted") == 1 and types[-1] == "ExecutionSucceeded"
    # Rebuilt from its history after a restart, it ends with the same output.
    world.raw.execute("UPDATE sfn_executions SET status='RUNNING' WHERE id=?", (row.id,))
    again = world.driver()
    again.recover()
    assert not again.live and world.row(arn).status == "SUCCEEDED"
    assert orjson.loads(world.row(arn).output or "null") == [50, 0, 60]


def test_a_map_run_whose_items_could_not_be_read_starts_on_redrive(world: World) -> None:
    world.s3.objects[("in", "obj.json")] = b'{"not": "a list"}'
    driver = world.driver()
    arn = world.start(driver, {
        "ItemReader": {"Resource": "arn:aws:states:::s3:getObject",
                       "ReaderConfig": {"InputType": "JSON"},
                       "Parameters": {"Bucket": "in", "Key": "obj.json"}},
        "ItemProcessor": processor({"P": {"Type": "Pass", "End": True}}, "P")})
    assert world.row(arn).status == "FAILED"
    world.s3.objects[("in", "obj.json")] = b'[1, 2]'
    driver.redrive(world.row(arn))
    row = world.row(arn)
    assert (row.status, orjson.loads(row.output or "null")) == ("SUCCEEDED", [1, 2])
    [run] = driver.map_runs.store.runs(arn)
    assert (run.status, run.redrive_count) == ("SUCCEEDED", 1)
