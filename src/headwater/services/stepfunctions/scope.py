"""What a state reads while it runs: variables, the context object and the ``$states`` of
JSONata, behind the ``EvalScope`` protocol of ``asl.payload``.

Implements the scoping rules of
https://docs.aws.amazon.com/step-functions/latest/dg/workflow-variables.html (a Map iteration or
Parallel branch reads the variables of the states around it, and its own assignments stay
inside it) and the context object of
https://docs.aws.amazon.com/step-functions/latest/dg/input-output-contextobject.html .
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from headwater.services.stepfunctions.asl.jsonata_ import Expression
from headwater.services.stepfunctions.asl.jsonpath import JsonPath, PathNotFound
from headwater.services.stepfunctions.asl.timestamps import format_epoch

_MISSING = object()


class Variables:
    """One scope of workflow variables, chained to the scope around it."""

    __slots__ = ("_visible", "parent", "values")

    def __init__(self, parent: Variables | None = None,
                 values: dict[str, Any] | None = None) -> None:
        self.values: dict[str, Any] = values if values is not None else {}
        self.parent = parent
        self._visible: dict[str, Any] | None = None

    def lookup(self, name: str) -> Any:
        scope: Variables | None = self
        while scope is not None:
            value = scope.values.get(name, _MISSING)
            if value is not _MISSING:
                return value
            scope = scope.parent
        return _MISSING

    def assign(self, assigned: dict[str, Any]) -> None:
        self.values.update(assigned)
        self._visible = None

    def visible(self) -> dict[str, Any]:
        """Every variable this scope can read (inner names shadow outer ones)."""
        if self.parent is None:
            return self.values
        if self._visible is None:
            merged = dict(self.parent.visible())
            merged.update(self.values)
            self._visible = merged
            return merged
        # The parent may have changed since (it cannot while this scope runs, but be safe).
        return {**self.parent.visible(), **self.values}


class Runtime(Protocol):
    """Clock and entropy, injected into the engine."""

    def now(self) -> float: ...

    def uuid(self) -> str: ...

    def random_int(self, low: int, high: int, seed: int | None) -> int: ...

    def random_float(self, seed: int | None) -> float: ...


@dataclass(slots=True)
class ContextInfo:
    """The parts of the context object that do not change while a state runs."""

    execution: dict[str, Any]
    state_machine: dict[str, Any]


class RunScope:
    """The EvalScope for one state evaluation.

    ``input`` is what ``$`` means right now (it moves from the raw input to the effective
    input to the result as processing goes on); ``raw`` stays the state's input, which is
    what JSONata's ``$states.input`` reads.
    """

    __slots__ = (
        "_context",
        "_error_output",
        "_result",
        "entered_at",
        "info",
        "input",
        "map_item",
        "raw",
        "retry_count",
        "runtime",
        "state_name",
        "task_token",
        "variables",
    )

    def __init__(self, raw: Any, variables: Variables, runtime: Runtime, info: ContextInfo,
                 state_name: str, entered_at: float, retry_count: int | None = None,
                 map_item: tuple[int, Any] | None = None) -> None:
        self.input = raw
        self.raw = raw
        self.variables = variables
        self.runtime = runtime
        self.info = info
        self.state_name = state_name
        self.entered_at = entered_at
        self.retry_count = retry_count
        self.map_item = map_item
        self.task_token: str | None = None
        self._result: Any = _MISSING
        self._error_output: Any = _MISSING
        self._context: dict[str, Any] | None = None

    # ----- EvalScope --------------------------------------------------------------------

    def resolve(self, path: JsonPath) -> Any:
        root = path.root
        if root == "$":
            return path.get(self.input)
        if root == "$$":
            return path.get(self.context())
        value = self.variables.lookup(root)
        if value is _MISSING:
            raise PathNotFound(path, -1)
        return path.get(value)

    def jsonata(self, expression: Expression, field: str | None = None) -> Any:
        bindings = dict(self.variables.visible())
        states: dict[str, Any] = {"input": self.raw, "context": self.context()}
        if self._result is not _MISSING:
            states["result"] = self._result
        if self._error_output is not _MISSING:
            states["errorOutput"] = self._error_output
        bindings["states"] = states
        return expression.evaluate(bindings, self.runtime, field)

    def set_result(self, result: Any) -> None:
        self._result = result

    def set_error_output(self, error_output: Any) -> None:
        self._error_output = error_output

    def map_item_value(self) -> Any:
        assert self.map_item is not None
        return self.map_item[1]

    def uuid(self) -> str:
        return self.runtime.uuid()

    def random_int(self, low: int, high: int, seed: int | None) -> int:
        return self.runtime.random_int(low, high, seed)

    # ----- the context object ($$) ------------------------------------------------------

    def context(self) -> dict[str, Any]:
        if self._context is None:
            state: dict[str, Any] = {"EnteredTime": format_epoch(self.entered_at),
                                     "Name": self.state_name}
            if self.retry_count is not None:
                state["RetryCount"] = self.retry_count
            ctx: dict[str, Any] = {
                "Execution": self.info.execution,
                "State": state,
                "StateMachine": self.info.state_machine,
            }
            if self.task_token is not None:
                ctx["Task"] = {"Token": self.task_token}
            if self.map_item is not None:
                ctx["Map"] = {"Item": {"Index": self.map_item[0], "Value": self.map_item[1]}}
            self._context = ctx
        return self._context
