"""What the Engine offers the mixins it is assembled from, declared once for the type checker.

``FanoutMixin`` (Parallel and inline Map) and ``DistributedMixin`` (Distributed Map) are parts
of ``engine.Engine`` kept in modules of their own; they call back into the engine for scopes,
state exits and failures.  At run time this class is empty.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from headwater.core.clock import Clock
    from headwater.services.stepfunctions.asl.errors import StatesError
    from headwater.services.stepfunctions.asl.states.base import State
    from headwater.services.stepfunctions.engine import _Runtime
    from headwater.services.stepfunctions.execution import Effect, ExecutionState, Frame
    from headwater.services.stepfunctions.scope import RunScope


class EngineMixin:
    if TYPE_CHECKING:
        clock: Clock
        runtime: _Runtime
        _effects: list[Effect]

        def scope(self, st: ExecutionState, f: Frame, state: State,
                  map_item: tuple[int, Any] | None = None) -> RunScope: ...

        def exit_state(self, st: ExecutionState, f: Frame, state: State, output: Any,
                       assigned: dict[str, Any] | None, target: str | None) -> bool: ...

        def handle_failure(self, st: ExecutionState, f: Frame, state: State, error: str,
                           cause: str | None) -> bool: ...

        def _state_error(self, st: ExecutionState, f: Frame, state: State,
                         err: StatesError) -> bool: ...
