"""Map runs: the driver's side of a distributed map.

Implements https://docs.aws.amazon.com/step-functions/latest/dg/concepts-examine-map-run.html
and the ItemReader / ItemBatcher / tolerance / ResultWriter behaviour of
https://docs.aws.amazon.com/step-functions/latest/dg/state-map-distributed.html. On a
``StartMapRun`` effect :class:`MapRuns`:

1. reads the items (the effect's own, or from S3 through ``itemreader``), asks the parent's
   engine for each item's ItemSelector, groups them with ItemBatcher;
2. records the map run and its item ledger (``distributed.store``) in one commit;
3. starts children as executions of their own: STANDARD ones durable, listable and
   describable (``arn:aws:states:R:A:execution:MACHINE/LABEL:ID`` of the state machine
   ``MACHINE/LABEL``), EXPRESS ones in memory; at most MaxConcurrency at once (UpdateMapRun
   changes it, and the tolerance, while the run goes on);
4. records each child's end in the ledger, fails the run once the failures exceed the
   tolerance (``States.ExceedToleratedFailureThreshold``, stopping the children still
   running), writes the results (``resultwriter``) and tells the parent with ``MapRunEnded``.

A restart re-issues ``StartMapRun`` for every parent still waiting on one (``replay``); the
ledger then says which children finished, which are still running (a STANDARD child resumes
from its own history) and which never started: only those run again.

Not here: the evaluation of the Map's fields (``mapstate``, in the engine), the API
(``adapter``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

from headwater.core.clock import Clock
from headwater.core.ids import IdFactory
from headwater.services.stepfunctions.asl import errors
from headwater.services.stepfunctions.asl.errors import StatesError
from headwater.services.stepfunctions.asl.program import Branch, Program
from headwater.services.stepfunctions.distributed import itemreader, resultwriter
from headwater.services.stepfunctions.distributed.batching import batch_items, tolerance_exceeded
from headwater.services.stepfunctions.distributed.mapstate import TOLERANCE_EXCEEDED
from headwater.services.stepfunctions.distributed.store import ItemRow, MapRunRow, MapRunStore
from headwater.services.stepfunctions.execution import ExecutionInfo, MapRunEnded, StartMapRun
from headwater.services.stepfunctions.store import ExecutionRow

if TYPE_CHECKING:
    from headwater.services.stepfunctions.driver import Driver, Live

log = logging.getLogger(__name__)

_FINISHED = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")


@dataclass(eq=False)
class _Run:
    """A map run in memory while it runs."""

    row: MapRunRow
    parent_arn: str
    effect: StartMapRun
    items: list[ItemRow]
    machine_arn: str  # the children's state machine: ``...:stateMachine:MACHINE/LABEL``
    program: Program
    role_arn: str
    parent_sha: str
    running: dict[int, str] = field(default_factory=dict)  # item index -> child ARN
    done: bool = False
    cursor: int = 0  # items before it are no longer PENDING
    advancing: bool = False  # _advance is on the stack (a child can end while it starts)
    again: bool = False

    def failures(self) -> int:
        return sum(1 for i in self.items if i.status in ("FAILED", "TIMED_OUT", "ABORTED"))



def child_program(program: Program, location: str) -> Program:
    """The ItemProcessor at ``location`` as a program of its own (what a child runs)."""
    branch = _find(program, location)
    if branch is None:
        raise LookupError(location)
    return Program(branch.start_at, branch.states, branch.query_language, branch.location)


def _find(branch: Branch, location: str) -> Branch | None:
    if branch.location == location:
        return branch
    for state in branch.states.values():
        subs: list[Branch] = []
        processor = getattr(state, "processor", None)
        if processor is not None:
            subs.append(processor)
        subs.extend(getattr(state, "branches", ()) or ())
        for sub in subs:
            found = _find(sub, location)
            if found is not None:
                return found
    return None


class MapRuns:
    def __init__(self, driver: Driver, store: MapRunStore, s3: itemreader.S3Call,
                 clock: Clock, ids: IdFactory) -> None:
        self.driver = driver
        self.store = store
        self.s3 = s3
        self.clock = clock
        self.ids = ids
        self.active: dict[str, _Run] = {}
        self._tasks: set[asyncio.Task[Any]] = set()

    # -- effects from the engine --------------------------------------------------------

    def start(self, live: Live, effect: StartMapRun) -> None:
        existing = self.store.run(effect.map_run_arn)
        if (existing is not None and existing.status != "RUNNING"
                and effect.redrive_count > existing.redrive_count):
            # The parent was redriven: the same run goes on with the children that did not
            # succeed (the ones that did keep their results in the ledger).
            if not self.store.items(existing.arn):
                # It failed before it had a ledger (the ItemReader): it starts now, as AWS
                # starts a map run that did not start in the first attempt.
                with self.store.transaction():
                    self.store.forget(existing.arn)
                existing = None
            else:
                with self.store.transaction():
                    self.store.redriven(existing.arn, effect.redrive_count, self.clock.now())
                existing = self.store.run(existing.arn)
                assert existing is not None
        if existing is not None:
            self._resume(live, effect, existing)
        elif effect.reader is None:
            self._create(live, effect, effect.items or [])
        else:
            self._background(self._read_then_create(live, effect))

    def abort(self, map_run_arn: str) -> None:
        run = self.active.pop(map_run_arn, None)
        if run is None:
            return
        now = self.clock.now()
        with self.store.transaction():
            self.store.finish(map_run_arn, "ABORTED", None, None, None, now)
        self._stop_children(run)

    def _stop_children(self, run: _Run) -> None:
        """Stop what still runs; the ledger says ABORTED at once (their own ends, which come
        later, are no longer counted: the run is over)."""
        run.done = True
        running, run.running = dict(run.running), {}
        for index, child in sorted(running.items()):
            self._record(run, index, "ABORTED", None, None, None)
            self.driver.stop_execution(child, None, None)

    def output_of(self, map_run_arn: str) -> Any:
        """The output a finished run gave its Map (``replay`` asks for it)."""
        row = self.store.run(map_run_arn)
        return orjson.loads(row.output) if row is not None and row.output else None

    # -- starting -----------------------------------------------------------------------

    async def _read_then_create(self, live: Live, effect: StartMapRun) -> None:
        assert effect.reader is not None
        try:
            items = await itemreader.read_items(effect.reader, self.s3)
        except StatesError as err:
            self._end(live.arn, effect, None, err.error, err.cause)
            return
        self._create(live, effect, items)

    def _create(self, live: Live, effect: StartMapRun, items: list[Any]) -> None:
        if live.state.finished or effect.task_id not in live.state.map_runs:
            return  # the parent stopped waiting (aborted) while the items were read
        try:
            inputs = live.engine.map_item_inputs(live.state, effect.task_id, items)
            if effect.batcher is not None:
                inputs = batch_items(inputs, effect.batcher)
            parent = self.driver.store.execution(live.arn)
            sha = parent.sha if parent is not None else ""
            program = child_program(live.engine.program, effect.processor_location)
        except StatesError as err:
            self._end(live.arn, effect, None, err.error, err.cause)
            return
        now = self.clock.now()
        row = MapRunRow(effect.map_run_arn, live.arn, _spec(effect), "RUNNING",
                        effect.max_concurrency, effect.tolerated_percentage,
                        effect.tolerated_count, now, redrive_count=effect.redrive_count,
                        redrive_date=now if effect.redrive_count else None)
        with self.store.transaction():
            self.store.insert(row, inputs)
        run = _Run(row, live.arn, effect, [ItemRow(i, "PENDING", v) for i, v in
                                           enumerate(inputs)],
                   _machine_arn(effect.map_run_arn), program, live.info.role_arn, sha)
        self.active[row.arn] = run
        self._advance(run)

    def _resume(self, live: Live, effect: StartMapRun, row: MapRunRow) -> None:
        if row.status != "RUNNING":
            # The run ended but the parent had not recorded it yet: tell it again.
            output = orjson.loads(row.output) if row.output else None
            if row.status == "SUCCEEDED":
                self._tell(live.arn, effect, output, None, None)
            elif row.status == "FAILED":
                self._tell(live.arn, effect, None, row.error, row.cause)
            return
        parent = self.driver.store.execution(live.arn)
        run = _Run(row, live.arn, effect, self.store.items(row.arn),
                   _machine_arn(row.arn),
                   child_program(live.engine.program, effect.processor_location),
                   live.info.role_arn, parent.sha if parent is not None else "")
        self.active[row.arn] = run
        for item in run.items:
            if item.status != "RUNNING" or item.child_arn is None:
                continue
            child = self.driver.live.get(item.child_arn)
            if child is not None:
                run.running[item.index] = item.child_arn
                child.watchers.append(self._watcher(run, item.index))
                continue
            finished = self.driver.store.execution(item.child_arn)
            if finished is not None and finished.status in _FINISHED:
                output = orjson.loads(finished.output) if finished.output else None
                self._record(run, item.index, finished.status, output, finished.error,
                             finished.cause)
            else:  # never started (or EXPRESS, gone with the process): run it again
                item.status, item.child_arn = "PENDING", None
        self._advance(run)

    # -- children -----------------------------------------------------------------------

    def _advance(self, run: _Run) -> None:
        """Start children up to MaxConcurrency; end the run when nothing is left.

        A child can end while it is being started (the driver runs it at once when it is not
        busy), which calls back here: that inner call only asks the outer one to go round
        again, so no item is started twice."""
        if run.done:
            return
        if run.advancing:
            run.again = True
            return
        run.advancing = True
        try:
            while True:
                run.again = False
                limit = run.row.max_concurrency or len(run.items) or 1
                while run.cursor < len(run.items) and len(run.running) < limit:
                    item = run.items[run.cursor]
                    run.cursor += 1
                    if item.status == "PENDING":
                        self._launch(run, item)
                    if run.done:
                        return
                if not run.again:
                    break
        finally:
            run.advancing = False
        if not run.running and run.cursor >= len(run.items):
            self._complete(run)

    def _launch(self, run: _Run, item: ItemRow) -> None:
        name = self.ids.uuid()
        parts = run.row.arn.split(":")
        region, account, path = parts[3], parts[4], parts[6]
        arn = f"arn:aws:states:{region}:{account}:execution:{path}:{name}"
        now = self.clock.now()
        express = run.effect.execution_type == "EXPRESS"
        if express:
            arn = f"arn:aws:states:{region}:{account}:express:{path}:{name}:{self.ids.uuid()}"
        item.status, item.child_arn, item.started = "RUNNING", arn, now
        with self.store.transaction():
            self.store.item_started(run.row.arn, item.index, arn, now)
        info = ExecutionInfo(arn, name, run.machine_arn, path, run.role_arn,
                             run.effect.execution_type)
        text = orjson.dumps(item.input).decode()
        row = None
        if not express:
            row = ExecutionRow(0, arn, run.machine_arn, None, None, name,
                               f"{run.parent_sha}#{run.effect.processor_location}",
                               run.role_arn, "RUNNING", text, None, None, None, now, None, 0,
                               None, None, None)
        run.running[item.index] = arn
        self.driver.start_execution(info, run.program, row, item.input, text,
                                    on_end=self._watcher(run, item.index))

    def _watcher(self, run: _Run, index: int) -> Callable[[Live], None]:
        def ended(child: Live) -> None:
            self._child_ended(run, index, child)

        return ended

    def _child_ended(self, run: _Run, index: int, ended: Live) -> None:
        if run.done:
            return
        run.running.pop(index, None)
        st = ended.state
        self._record(run, index, st.status, st.output, st.error, st.cause)
        if tolerance_exceeded(run.failures(), len(run.items), run.row.tolerated_percentage,
                              run.row.tolerated_count):
            self._fail(run, errors.EXCEED_TOLERATED_FAILURE_THRESHOLD, TOLERANCE_EXCEEDED)
            return
        self._advance(run)

    def _record(self, run: _Run, index: int, status: str, output: Any, error: str | None,
                cause: str | None) -> None:
        item = run.items[index]
        now = self.clock.now()
        item.status, item.output, item.error, item.cause, item.stopped = (
            status, output, error, cause, now)
        with self.store.transaction():
            self.store.item_finished(run.row.arn, index, status, output, error, cause, now)

    # -- ending -------------------------------------------------------------------------

    def _fail(self, run: _Run, error: str, cause: str) -> None:
        self._stop_children(run)
        writer = run.effect.writer
        if resultwriter.writes_to_s3(writer):
            # AWS still exports what the children did when the run fails.
            async def write_then_fail() -> None:
                assert writer is not None
                try:
                    await resultwriter.write(writer, run.row.arn, self._results(run), self.s3)
                except StatesError:
                    log.warning("stepfunctions: could not write the results of %s", run.row.arn)
                self._end(run.parent_arn, run.effect, None, error, cause)
            self._background(write_then_fail())
            return
        self._end(run.parent_arn, run.effect, None, error, cause)

    def _complete(self, run: _Run) -> None:
        run.done = True
        writer = run.effect.writer
        if resultwriter.writes_to_s3(writer):
            async def write_then_end() -> None:
                assert writer is not None
                try:
                    output = await resultwriter.write(writer, run.row.arn, self._results(run),
                                                      self.s3)
                except StatesError as err:
                    self._end(run.parent_arn, run.effect, None, err.error, err.cause)
                    return
                self._end(run.parent_arn, run.effect, output, None, None)
            self._background(write_then_end())
            return
        if writer is not None:  # WriterConfig alone: the transformed results, in the output
            output = resultwriter.preview(writer, self._results(run))
        else:
            output = [_item_output(i) for i in run.items]
        self._end(run.parent_arn, run.effect, output, None, None)

    def _results(self, run: _Run) -> list[resultwriter.ChildResult]:
        out = []
        for item in run.items:
            arn = item.child_arn or ""
            name = arn.split(":")[7] if arn.count(":") >= 7 else ""
            status = item.status if item.status != "RUNNING" else "PENDING"
            out.append(resultwriter.ChildResult(arn, name, run.machine_arn, status, item.input,
                                                item.output, item.error, item.cause,
                                                item.started, item.stopped))
        return out

    def _end(self, parent_arn: str, effect: StartMapRun, output: Any, error: str | None,
             cause: str | None) -> None:
        self.active.pop(effect.map_run_arn, None)
        now = self.clock.now()
        status = "SUCCEEDED" if error is None else "FAILED"
        with self.store.transaction():
            if self.store.run(effect.map_run_arn) is None:
                # Failed before it had a ledger (ItemReader, ItemSelector): still a map run.
                self.store.insert(MapRunRow(effect.map_run_arn, parent_arn, _spec(effect),
                                            "RUNNING", effect.max_concurrency,
                                            effect.tolerated_percentage,
                                            effect.tolerated_count, now,
                                            redrive_count=effect.redrive_count,
                                            redrive_date=now if effect.redrive_count
                                            else None), [])
            self.store.finish(effect.map_run_arn, status, output, error, cause, now)
        self._tell(parent_arn, effect, output, error, cause)

    def _tell(self, parent_arn: str, effect: StartMapRun, output: Any, error: str | None,
              cause: str | None) -> None:
        self.driver.deliver(parent_arn, MapRunEnded(effect.task_id, output, error, cause))

    def _background(self, work: Coroutine[Any, Any, None]) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no event loop (a synchronous caller): run it to the end now
            asyncio.run(work)
            return
        task = loop.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- the API ------------------------------------------------------------------------

    def update(self, arn: str, max_concurrency: int | None, percentage: float | None,
               count: int | None) -> None:
        row = self.store.run(arn)
        if row is None:
            raise LookupError(arn)
        run = self.active.get(arn)
        target = run.row if run is not None else row
        if max_concurrency is not None:
            target.max_concurrency = max_concurrency
        if percentage is not None:
            target.tolerated_percentage = percentage
        if count is not None:
            target.tolerated_count = count
        with self.store.transaction():
            self.store.update_settings(arn, target.max_concurrency, target.tolerated_percentage,
                                       target.tolerated_count)
        if run is not None:
            self._advance(run)

    def counts(self, arn: str) -> tuple[dict[str, int], dict[str, int]]:
        """DescribeMapRun's itemCounts and executionCounts."""
        run = self.active.get(arn)
        items = run.items if run is not None else self.store.items(arn)
        executions = _zero_counts()
        item_counts = _zero_counts()
        key = {"PENDING": "pending", "RUNNING": "running", "SUCCEEDED": "succeeded",
               "FAILED": "failed", "TIMED_OUT": "timedOut", "ABORTED": "aborted"}
        for item in items:
            size = len(item.input["Items"]) if isinstance(item.input, dict) and isinstance(
                item.input.get("Items"), list) else 1
            name = key.get(item.status, "pending")
            executions[name] += 1
            item_counts[name] += size
            executions["total"] += 1
            item_counts["total"] += size
            if item.status in _FINISHED:
                executions["resultsWritten"] += 1
                item_counts["resultsWritten"] += size
        return item_counts, executions


def _zero_counts() -> dict[str, int]:
    return {k: 0 for k in ("pending", "running", "succeeded", "failed", "timedOut", "aborted",
                           "total", "resultsWritten", "failuresNotRedrivable",
                           "pendingRedrive")}


def _item_output(item: ItemRow) -> Any:
    if item.status == "SUCCEEDED":
        return item.output
    out: dict[str, Any] = {"Error": item.error}
    if item.cause is not None:
        out["Cause"] = item.cause
    return out


def _machine_arn(map_run_arn: str) -> str:
    parts = map_run_arn.split(":")
    return f"arn:aws:states:{parts[3]}:{parts[4]}:stateMachine:{parts[6]}"


def _spec(effect: StartMapRun) -> dict[str, Any]:
    return {"stateName": effect.state_name, "executionType": effect.execution_type,
            "writer": effect.writer, "batcher": effect.batcher, "reader": effect.reader}


__all__ = ["MapRuns", "child_program"]
