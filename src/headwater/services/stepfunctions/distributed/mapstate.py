"""A distributed Map state inside the engine: evaluate what the map run needs, hand it off,
take its outcome back.

Implements the parent's side of
https://docs.aws.amazon.com/step-functions/latest/dg/state-map-distributed.html as the
history shows it: ``MapStateStarted``, ``MapRunStarted`` (with the map run ARN), then, when
the run is over, ``MapRunSucceeded`` + ``MapStateSucceeded``, ``MapRunFailed`` (error and cause)
or ``MapRunAborted``. The children themselves are not frames of this execution: they are
executions of their own, started and counted by ``distributed.maprun`` (the driver's side)
through the :class:`~headwater.services.stepfunctions.execution.StartMapRun` effect, which
carries every field the engine evaluated (ItemReader Parameters, MaxItems, ItemBatcher,
ResultWriter Parameters, tolerance, MaxConcurrency). The only evaluation that happens later
is each item's ItemSelector, because the items may still have to be read from S3:
:meth:`DistributedMixin.map_item_inputs` does it, purely, when the driver asks.

RedriveExecution of the parent goes on with the same map run
(https://docs.aws.amazon.com/step-functions/latest/dg/redrive-map-run.html): the Map that
failed or was aborted remembers its run (``Frame.kept_run``); entered again by a redrive it
records ``MapRunRedriven`` (the run's ARN and redrive count) instead of ``MapRunStarted``, and
``distributed.maprun`` runs again only the children that did not succeed.

A mixin of :class:`~headwater.services.stepfunctions.engine.Engine`.
"""

from __future__ import annotations

from typing import Any

from headwater.services.stepfunctions.asl import errors
from headwater.services.stepfunctions.asl.errors import StatesError
from headwater.services.stepfunctions.asl.jsonata_ import is_expression
from headwater.services.stepfunctions.asl.jsonpath import InvalidPath, compile_path
from headwater.services.stepfunctions.asl.payload import (
    Node,
    TemplateError,
    compile_jsonata_template,
    compile_jsonpath_template,
)
from headwater.services.stepfunctions.asl.states.composite import _lookup
from headwater.services.stepfunctions.execution import (
    AbortMapRun,
    ExecutionState,
    Frame,
    MapRunEnded,
    StartMapRun,
)
from headwater.services.stepfunctions.mixin import EngineMixin

TOLERANCE_EXCEEDED = "The specified tolerance threshold for the Map Run was exceeded."


class DistributedMixin(EngineMixin):
    # ----- starting ---------------------------------------------------------------------

    def _distributed_map(self, st: ExecutionState, f: Frame, state: Any) -> bool:
        again, f.redriven_run, f.kept_run = f.redriven_run, None, None
        scope = self.scope(st, f, state)
        effective = f.input if state.jsonata else state.apply_input_path(scope, f.input)
        reader = None
        items: list[Any] | None = None
        if state.item_reader:
            # AWS ignores ItemsPath when an ItemReader gives the items (the conformance case
            # INVALID_ITEMS_PATH succeeds with the reader's items).
            reader = _evaluate_reader(scope, state, effective, f.input)
        else:
            items = state.select_items(scope, effective)
        concurrency = state.concurrency(scope, f.input)
        now = self.clock.now()
        f.last_event = f.history.add("MapStateStarted", f.last_event, now,
                                     {"length": len(items) if items is not None else 0})
        percentage, count = state.tolerance(scope, f.input)
        batcher = _evaluate_batcher(scope, state, effective, f.input) \
            if state.item_batcher else None
        writer = _evaluate_writer(scope, state, effective) if state.result_writer else None
        if again is None:
            arn, redrives = self._map_run_arn(st, state), 0
            f.last_event = f.history.add("MapRunStarted", f.last_event, now,
                                         {"mapRunArn": arn})
        else:
            arn, redrives = again[0], again[1] + 1
            f.last_event = f.history.add("MapRunRedriven", f.last_event, now,
                                         {"mapRunArn": arn, "redriveCount": redrives})
        task_id = st.key()
        effect = StartMapRun(task_id, arn, state.name, state.processor.location,
                             state.execution_type, items, reader, batcher, writer, concurrency,
                             percentage, count, redrives)
        f.waiting, f.task_id, f.effective = "maprun", task_id, effective
        st.map_runs[task_id] = (f, effect)
        st.frames[f.id] = f
        self._effects.append(effect)
        return False

    def _map_run_arn(self, st: ExecutionState, state: Any) -> str:
        parts = st.info.state_machine_arn.split(":")
        region, account = (parts[3], parts[4]) if len(parts) >= 6 else ("us-east-1", "0")
        label = state.label or state.name
        return (f"arn:aws:states:{region}:{account}:mapRun:{st.info.state_machine_name}/"
                f"{label}:{self.runtime.uuid()}")

    def map_item_inputs(self, st: ExecutionState, task_id: int, items: list[Any]) -> list[Any]:
        """Each item's input to its child (ItemSelector with ``$$.Map.Item``); raises
        ``StatesError`` as the state would."""
        found = st.map_runs.get(task_id)
        if found is None:
            raise StatesError(errors.RUNTIME, "the map run is no longer running")
        f, _ = found
        state: Any = f.state
        if state.item_selector is None:
            return list(items)
        out = []
        for index, item in enumerate(items):
            scope = self.scope(st, f, state, map_item=(index, item))
            out.append(state.item_input(scope, f.effective))
        return out

    # ----- ending -----------------------------------------------------------------------

    def _map_run_ended(self, st: ExecutionState, event: MapRunEnded) -> None:
        found = st.map_runs.pop(event.task_id, None)
        if found is None:
            return
        f, _ = found
        if f.done:
            return
        state: Any = f.state
        f.waiting, f.task_id = None, 0
        now = self.clock.now()
        if event.aborted:
            f.last_event = f.history.add("MapRunAborted", f.last_event, now)
            return
        if event.error is not None:
            run = found[1]
            f.kept_run = (state.name, run.map_run_arn, run.redrive_count)
            details: dict[str, Any] = {"error": event.error}
            if event.cause is not None:
                details["cause"] = event.cause
            f.last_event = f.history.add("MapRunFailed", f.last_event, now, details)
            if self.handle_failure(st, f, state, event.error, event.cause):
                st.ready.append(f)
            return
        f.last_event = f.history.add("MapRunSucceeded", f.last_event, now)
        f.last_event = f.history.add("MapStateSucceeded", f.last_event, now)
        try:
            output, assigned = state.finish(self.scope(st, f, state), f.input, event.output)
            go_on = self.exit_state(st, f, state, output, assigned, state.next)
        except StatesError as err:
            go_on = self._state_error(st, f, state, err)
        if go_on:
            st.ready.append(f)

    def _abort_map_run(self, st: ExecutionState, f: Frame) -> None:
        """The Map is torn down (the execution stopped, a sibling branch failed)."""
        found = st.map_runs.pop(f.task_id, None)
        if found is not None:
            run = found[1]
            f.kept_run = (run.state_name, run.map_run_arn, run.redrive_count)
            self._effects.append(AbortMapRun(f.task_id, run.map_run_arn))
            f.last_event = f.history.add("MapRunAborted", f.last_event, self.clock.now())


# ----- evaluating the ItemReader, ItemBatcher and ResultWriter fields --------------------

def _template(raw: Any, jsonata: bool, field: str) -> Node:
    try:
        if jsonata:
            return compile_jsonata_template(raw, field)
        return compile_jsonpath_template(raw, field)
    except TemplateError as exc:
        raise StatesError(errors.RUNTIME, str(exc)) from None


def _arguments(scope: Any, state: Any, block: dict[str, Any], effective: Any,
               field: str) -> Any:
    key = "Arguments" if state.jsonata else "Parameters"
    raw = block.get(key)
    if raw is None:
        return {}
    scope.input = effective
    return _template(raw, state.jsonata, f"{field}/{key}").evaluate(scope)


def _number(scope: Any, state: Any, block: dict[str, Any], name: str, raw_input: Any,
            field: str) -> int | None:
    """``name`` or ``namePath`` of ``block`` as a non-negative integer (None when absent)."""
    value = block.get(name)
    path = block.get(name + "Path")
    if path is not None and not state.jsonata:
        try:
            compiled = compile_path(path)
        except InvalidPath:
            raise StatesError(errors.RUNTIME, f"Invalid path '{path}'") from None
        scope.input = raw_input
        value = _lookup(scope, compiled)
        if type(value) is not int or value < 0:
            raise StatesError(errors.RUNTIME, f"The {name}Path field refers to value "
                              f"{value!r} which is not a valid integer: {path}")
        return value
    if isinstance(value, str) and is_expression(value):
        scope.input = raw_input
        value = _template(value, True, f"{field}/{name}").evaluate(scope)
    if value is None:
        return None
    if type(value) is not int or value < 0:
        raise StatesError(errors.RUNTIME, f"The field '{name}' must be a non-negative integer")
    return value


def _evaluate_reader(scope: Any, state: Any, effective: Any, raw_input: Any) -> dict[str, Any]:
    block = state.item_reader
    config = dict(block.get("ReaderConfig") or {})
    max_items = _number(scope, state, config, "MaxItems", raw_input, "ItemReader/ReaderConfig")
    config.pop("MaxItemsPath", None)
    if max_items is not None:
        config["MaxItems"] = max_items
    return {"Resource": block.get("Resource", ""),
            "Parameters": _arguments(scope, state, block, effective, "ItemReader"),
            "ReaderConfig": config}


def _evaluate_batcher(scope: Any, state: Any, effective: Any, raw_input: Any) -> dict[str, Any]:
    block = state.item_batcher
    out: dict[str, Any] = {}
    for name in ("MaxItemsPerBatch", "MaxInputBytesPerBatch"):
        value = _number(scope, state, block, name, raw_input, "ItemBatcher")
        if value is not None:
            out[name] = value
    if "BatchInput" in block:
        scope.input = effective
        out["BatchInput"] = _template(block["BatchInput"], state.jsonata,
                                      "ItemBatcher/BatchInput").evaluate(scope)
    return out


def _evaluate_writer(scope: Any, state: Any, effective: Any) -> dict[str, Any]:
    block = state.result_writer
    out: dict[str, Any] = {"Resource": block.get("Resource"),
                           "Parameters": _arguments(scope, state, block, effective,
                                                    "ResultWriter")}
    if "WriterConfig" in block:
        out["WriterConfig"] = dict(block["WriterConfig"] or {})
    return out


__all__ = ["TOLERANCE_EXCEEDED", "DistributedMixin"]
