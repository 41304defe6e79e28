"""Map and Parallel at run time: starting children, collecting their results, tearing the rest
down when one fails.

Implements the run-time behaviour of
https://docs.aws.amazon.com/step-functions/latest/dg/state-parallel.html and state-map.html as
the history shows it: ``ParallelStateStarted``; ``MapStateStarted`` with the item count, one
``MapIterationStarted``/``Succeeded``/``Failed``/``Aborted`` per item (inline), at most
MaxConcurrency iterations in flight. A distributed map is handed to ``distributed.mapstate``
(its children are executions of their own, run by ``distributed.maprun``).

RedriveExecution (https://docs.aws.amazon.com/step-functions/latest/apireference/API_RedriveExecution.html):
"for an Inline Map or Parallel state, only the iterations and branches that failed or
aborted" run again.  When a Map or Parallel fails or is aborted, the frame keeps its children
(``Frame.kept``); a redrive that goes on from that state hands them back (``Frame.redriven``)
and the state, entered again, starts only the children that did not succeed and reuses the
others' results.  A retry or a later entry of the state runs every child, as before.  A
redriven child starts again at its branch's first state.

A mixin of :class:`~headwater.services.stepfunctions.engine.Engine`, split out because it is
its own concept.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from headwater.services.stepfunctions.asl import errors
from headwater.services.stepfunctions.asl.errors import StatesError
from headwater.services.stepfunctions.execution import CancelTask, ExecutionState, Fanout, Frame
from headwater.services.stepfunctions.history import History
from headwater.services.stepfunctions.mixin import EngineMixin
from headwater.services.stepfunctions.scope import Variables


class FanoutMixin(EngineMixin):
    if TYPE_CHECKING:
        # Provided by the Engine's other parts.
        def _cancel_timer(self, st: ExecutionState, timer_id: int) -> None: ...

        def _distributed_map(self, st: ExecutionState, f: Frame, state: Any) -> bool: ...

        def _abort_map_run(self, st: ExecutionState, f: Frame) -> None: ...

    # ----- Parallel ---------------------------------------------------------------------

    def _parallel(self, st: ExecutionState, f: Frame, state: Any) -> bool:
        effective = state.effective_input(self.scope(st, f, state), f.input)
        f.last_event = f.history.add("ParallelStateStarted", f.last_event, self.clock.now())
        branches = state.branches
        fan = Fanout(total=len(branches), results=[None] * len(branches))
        self._keep_succeeded(f, fan)
        f.children, f.waiting, f.effective = fan, "children", effective
        for i, branch in enumerate(branches):
            if i in fan.succeeded:
                continue
            child = self._child(st, f, branch, i, effective, Variables(f.variables), f.history)
            fan.running[i] = child
        if fan.finished == fan.total:
            return self._complete(st, f)
        return False

    def _keep_succeeded(self, f: Frame, fan: Fanout) -> None:
        """On a redrive, take over the children of the last attempt that succeeded."""
        before, f.redriven, f.kept = f.redriven, None, None
        if before is None or before.total != fan.total:
            return
        for index in sorted(before.succeeded):
            fan.results[index] = before.results[index]
        fan.succeeded = set(before.succeeded)
        fan.finished = len(fan.succeeded)

    # ----- Map --------------------------------------------------------------------------

    def _map(self, st: ExecutionState, f: Frame, state: Any) -> bool:
        if state.distributed:
            return self._distributed_map(st, f, state)
        scope = self.scope(st, f, state)
        effective = f.input if state.jsonata else state.apply_input_path(scope, f.input)
        items = state.select_items(scope, effective)
        concurrency = state.concurrency(scope, f.input)
        f.last_event = f.history.add("MapStateStarted", f.last_event, self.clock.now(),
                                     {"length": len(items)})
        fan = Fanout(total=len(items), inputs=items, results=[None] * len(items),
                     max_concurrency=concurrency)
        self._keep_succeeded(f, fan)
        f.children, f.waiting, f.effective = fan, "children", effective
        if fan.finished == fan.total:
            return self._complete(st, f)
        self._spawn(st, f)
        return False

    def _spawn(self, st: ExecutionState, f: Frame) -> None:
        """Start iterations until MaxConcurrency are in flight or none are left."""
        fan = f.children
        assert fan is not None and fan.inputs is not None
        state: Any = f.state
        limit = fan.max_concurrency or fan.total
        while fan.next_index < fan.total and len(fan.running) < limit:
            index = fan.next_index
            fan.next_index += 1
            if index in fan.succeeded:
                continue  # a redrive keeps what the last attempt's iteration returned
            scope = self.scope(st, f, state, map_item=(index, fan.inputs[index]))
            item_input = state.item_input(scope, f.effective)
            f.last_event = f.history.add("MapIterationStarted", f.last_event,
                                         self.clock.now(), {"name": state.name, "index": index})
            child = self._child(st, f, state.processor, index, item_input,
                                Variables(f.variables), f.history)
            child.iteration_of = state.name
            fan.running[index] = child

    def _child(self, st: ExecutionState, parent: Frame, branch: Any, slot: int,
               child_input: Any, variables: Variables, history: History) -> Frame:
        child = Frame(st.key(), branch, variables, history, parent, slot)
        child.input = child_input
        child.last_event = parent.last_event if history is parent.history else 0
        st.frames[child.id] = child
        st.ready.append(child)
        return child

    # ----- children ending --------------------------------------------------------------

    def child_succeeded(self, st: ExecutionState, parent: Frame, child: Frame,
                        output: Any) -> None:
        fan = parent.children
        if fan is None or parent.done:
            return
        st.frames.pop(child.id, None)
        fan.running.pop(child.slot, None)
        fan.results[child.slot] = output
        fan.succeeded.add(child.slot)
        fan.finished += 1
        if child.iteration_of is not None:
            parent.last_event = parent.history.add(
                "MapIterationSucceeded", child.last_event, self.clock.now(),
                {"name": child.iteration_of, "index": child.slot})
        self._next_or_complete(st, parent)

    def _next_or_complete(self, st: ExecutionState, parent: Frame) -> None:
        fan = parent.children
        assert fan is not None
        try:
            if fan.inputs is not None:
                self._spawn(st, parent)
            if fan.finished == fan.total and self._complete(st, parent):
                st.ready.append(parent)
        except StatesError as err:
            self._abort_children(st, parent)
            if self._state_error(st, parent, parent.state, err):
                st.ready.append(parent)

    def _complete(self, st: ExecutionState, f: Frame) -> bool:
        """All children done: the state's result is their outputs, in order."""
        fan = f.children
        assert fan is not None
        state: Any = f.state
        now = self.clock.now()
        if state.TYPE == "Map":
            f.last_event = f.history.add("MapStateSucceeded", f.last_event, now)
        f.children, f.waiting = None, None
        output, assigned = state.finish(self.scope(st, f, state), f.input, fan.results)
        return self.exit_state(st, f, state, output, assigned, state.next)

    def child_failed(self, st: ExecutionState, parent: Frame, child: Frame,
                     error: str | None, cause: str | None) -> None:
        fan = parent.children
        if fan is None or parent.done:
            return
        st.frames.pop(child.id, None)
        fan.running.pop(child.slot, None)
        fan.finished += 1
        state: Any = parent.state
        now = self.clock.now()
        if child.iteration_of is not None:
            parent.last_event = parent.history.add(
                "MapIterationFailed", child.last_event, now,
                {"name": child.iteration_of, "index": child.slot})
        self._abort_children(st, parent)
        parent.kept = (state.name, fan)
        if child.failed_in_task:
            # AWS quirk: the Task state whose error failed the branch is also recorded as
            # aborted when the Map/Parallel around it is torn down.
            parent.last_event = parent.history.add("TaskStateAborted", parent.last_event, now)
        parent.children, parent.waiting = None, None
        if self.handle_failure(st, parent, state, error or errors.BRANCH_FAILED, cause):
            st.ready.append(parent)

    # ----- tearing down -----------------------------------------------------------------

    def _abort_children(self, st: ExecutionState, parent: Frame) -> None:
        fan = parent.children
        if fan is None:
            return
        for index in sorted(fan.running):
            self.abort_frame(st, fan.running[index])
        fan.running.clear()

    def abort_frame(self, st: ExecutionState, f: Frame) -> None:
        """Stop a running branch: cancel what it waits on and record the aborts."""
        if f.done:
            return
        f.done = True
        st.frames.pop(f.id, None)
        now = self.clock.now()
        state: Any = f.state
        if f.waiting is not None:
            if f.waiting == "task":
                st.tasks.pop(f.task_id, None)
                st.invocations.pop(f.task_id, None)
                self._effects.append(CancelTask(f.task_id))
            if f.waiting == "children":
                if f.children is not None:
                    f.kept = (state.name, f.children)
                self._abort_children(st, f)
            if f.waiting == "maprun":
                self._abort_map_run(st, f)
            for timer in (f.timer_id, f.heartbeat_timer):
                if timer:
                    self._cancel_timer(st, timer)
            f.last_event = f.history.add(f"{state.TYPE}StateAborted", f.last_event, now)
        if f.iteration_of is not None and f.parent is not None:
            f.parent.last_event = f.parent.history.add(
                "MapIterationAborted", f.last_event, now,
                {"name": f.iteration_of, "index": f.slot})
