"""A distributed map run inside the in-process runner (``headwater sfn run``, TestState-less
tests, the conformance lane ``inprocess``): children run one after the other, each as a run of
its own on the same clock and handlers, with the same ItemSelector, ItemBatcher, tolerance and
WriterConfig rules as the server's map runs (``maprun``).

What needs S3 (an ItemReader, a ResultWriter with a Resource) fails with AWS's error names:
the in-process runner has no S3. Not here: map run records, DescribeMapRun, durability.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from headwater.services.stepfunctions.asl import errors
from headwater.services.stepfunctions.asl.errors import StatesError
from headwater.services.stepfunctions.distributed import resultwriter
from headwater.services.stepfunctions.distributed.batching import batch_items, tolerance_exceeded
from headwater.services.stepfunctions.distributed.maprun import child_program
from headwater.services.stepfunctions.distributed.mapstate import TOLERANCE_EXCEEDED
from headwater.services.stepfunctions.execution import ExecutionState, MapRunEnded, StartMapRun

if TYPE_CHECKING:
    from headwater.services.stepfunctions.runner import Runner

_NO_S3 = "headwater's in-process runner has no S3; run the state machine on a server"


def run_map(runner: Runner, st: ExecutionState, effect: StartMapRun) -> MapRunEnded:
    """Run every child to its end; the outcome the parent's Map gets."""
    if effect.reader is not None:
        return MapRunEnded(effect.task_id, None, errors.ITEM_READER_FAILED, _NO_S3)
    try:
        inputs = runner.engine.map_item_inputs(st, effect.task_id, effect.items or [])
    except StatesError as err:
        return MapRunEnded(effect.task_id, None, err.error, err.cause)
    if effect.batcher is not None:
        inputs = batch_items(inputs, effect.batcher)
    from headwater.services.stepfunctions.runner import Runner as _Runner

    path = effect.map_run_arn.split(":")[6]
    child = _Runner(child_program(runner.program, effect.processor_location), runner.handlers,
                    clock=runner.clock, ids=runner.ids, state_machine_name=path,
                    region=runner.region, account=runner.account, record_history=False)
    children: list[resultwriter.ChildResult] = []
    failures = 0
    for value in inputs:
        start = runner.clock.now()
        result = child.run(value, execution_type=effect.execution_type)
        children.append(resultwriter.ChildResult(
            "", "", "", result.status, value, result.output, result.error, result.cause, start,
            runner.clock.now()))
        if result.status != "SUCCEEDED":
            failures += 1
            if tolerance_exceeded(failures, len(inputs), effect.tolerated_percentage,
                                  effect.tolerated_count):
                return MapRunEnded(effect.task_id, None,
                                   errors.EXCEED_TOLERATED_FAILURE_THRESHOLD, TOLERANCE_EXCEEDED)
    writer = effect.writer
    if resultwriter.writes_to_s3(writer):
        return MapRunEnded(effect.task_id, None, errors.RESULT_WRITER_FAILED, _NO_S3)
    if writer is not None:
        return MapRunEnded(effect.task_id, resultwriter.preview(writer, children))
    return MapRunEnded(effect.task_id, [_output(c) for c in children])


def _output(child: resultwriter.ChildResult) -> Any:
    if child.status == "SUCCEEDED":
        return child.output
    out: dict[str, Any] = {"Error": child.error}
    if child.cause is not None:
        out["Cause"] = child.cause
    return out


__all__ = ["run_map"]
