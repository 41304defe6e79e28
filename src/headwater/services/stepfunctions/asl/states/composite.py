"""The states that run other states: Parallel (fixed branches) and Map (one run per item).

Implements https://docs.aws.amazon.com/step-functions/latest/dg/state-parallel.html and
https://docs.aws.amazon.com/step-functions/latest/dg/state-map.html (inline: ItemsPath/Items,
ItemSelector or the older Parameters, ItemProcessor or the older Iterator, MaxConcurrency(Path);
distributed: ToleratedFailurePercentage/Count(Path), Label, ItemReader/ItemBatcher/ResultWriter
kept as given for the driver).

The child runs themselves are scheduled by the engine; this module only computes what goes in
(the items and each child's input) and what comes out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from headwater.services.stepfunctions.asl import errors
from headwater.services.stepfunctions.asl.errors import StatesError
from headwater.services.stepfunctions.asl.jsonata_ import expected_type_error
from headwater.services.stepfunctions.asl.jsonpath import JsonPath, PathNotFound
from headwater.services.stepfunctions.asl.payload import EvalScope, Expr, Node
from headwater.services.stepfunctions.asl.states.base import State, evaluate_expression_field
from headwater.services.stepfunctions.asl.values import is_number, to_json

if TYPE_CHECKING:
    from headwater.services.stepfunctions.asl.program import Branch


@dataclass(eq=False)
class Parallel(State):
    TYPE: ClassVar[str] = "Parallel"
    branches: tuple[Branch, ...] = ()


@dataclass(eq=False)
class Map(State):
    TYPE: ClassVar[str] = "Map"
    processor: Branch | None = None
    mode: str = "INLINE"  # or "DISTRIBUTED"
    execution_type: str = "STANDARD"
    items_path: JsonPath | None = None
    items: Node | None = None  # JSONata Items (expression or literal array)
    item_selector: Node | None = None
    max_concurrency: Any = 0  # int or Node
    max_concurrency_path: JsonPath | None = None
    tolerated_failure_percentage: Any = None
    tolerated_failure_percentage_path: JsonPath | None = None
    tolerated_failure_count: Any = None
    tolerated_failure_count_path: JsonPath | None = None
    label: str | None = None
    item_reader: Any = None
    item_batcher: Any = None
    result_writer: Any = None

    @property
    def distributed(self) -> bool:
        return self.mode == "DISTRIBUTED"

    def select_items(self, scope: EvalScope, effective: Any) -> list[Any]:
        """The array to iterate over (``effective`` is the input after InputPath)."""
        if self.jsonata:
            if self.items is None:
                value = effective
                if not isinstance(value, list):
                    raise StatesError(
                        errors.QUERY_EVALUATION_ERROR,
                        f"Map state input must be an array but was: {to_json(value)}",
                        evaluation=True,
                    )
                return value
            value = evaluate_expression_field(scope, self.items, "Items")
            if not isinstance(value, list):
                if isinstance(self.items, Expr):
                    raise expected_type_error(self.items.expression, "Items", "array", value)
                raise StatesError(errors.QUERY_EVALUATION_ERROR,
                                  "The field 'Items' must be an array", evaluation=True)
            return value
        value = effective
        if self.items_path is not None:
            scope.input = effective
            try:
                value = scope.resolve(self.items_path) if self.items_path.root != "$" else (
                    self.items_path.get(effective))
            except PathNotFound as exc:
                raise StatesError(
                    errors.RUNTIME,
                    f"Invalid path '{self.items_path.text}' : {exc.jayway_message()}",
                ) from None
        if not isinstance(value, list):
            raise StatesError(
                errors.RUNTIME,
                f"Map state input must be an array but was: {to_json(value)}",
            )
        return value

    def concurrency(self, scope: EvalScope, raw: Any) -> int:
        """0 means unbounded."""
        if self.max_concurrency_path is not None:
            scope.input = raw
            value = _lookup(scope, self.max_concurrency_path)
            if type(value) is not int or value < 0:
                raise StatesError(
                    errors.RUNTIME,
                    f"The MaxConcurrencyPath field refers to value {to_json(value)} which is "
                    f"not a valid integer: {self.max_concurrency_path.text}",
                )
            return value
        if isinstance(self.max_concurrency, Node):
            value = evaluate_expression_field(scope, self.max_concurrency, "MaxConcurrency")
            if type(value) is not int or value < 0:
                raise _expected(self.max_concurrency, "MaxConcurrency", "integer", value)
            return value
        return int(self.max_concurrency or 0)

    def tolerance(self, scope: EvalScope, raw: Any) -> tuple[float, int]:
        """(tolerated failure percentage, tolerated failure count) for a distributed map."""
        scope.input = raw
        percentage: Any = self.tolerated_failure_percentage
        count: Any = self.tolerated_failure_count
        if self.tolerated_failure_percentage_path is not None:
            path = self.tolerated_failure_percentage_path
            percentage = _lookup(scope, path)
            if not is_number(percentage):
                raise StatesError(
                    errors.RUNTIME,
                    f"The ToleratedFailurePercentagePath field refers to value "
                    f"\"{percentage if isinstance(percentage, str) else to_json(percentage)}\" "
                    f"which is not a valid float: {path.text}",
                )
        elif isinstance(percentage, Node):
            percentage = evaluate_expression_field(scope, percentage, "ToleratedFailurePercentage")
        if self.tolerated_failure_count_path is not None:
            path = self.tolerated_failure_count_path
            count = _lookup(scope, path)
            if type(count) is not int:
                raise StatesError(
                    errors.RUNTIME,
                    f"The ToleratedFailureCountPath field refers to value "
                    f"\"{count if isinstance(count, str) else to_json(count)}\" which is not a "
                    f"valid integer: {path.text}",
                )
        elif isinstance(count, Node):
            count = evaluate_expression_field(scope, count, "ToleratedFailureCount")
        percentage = 0.0 if percentage is None else percentage
        count = 0 if count is None else count
        if not is_number(percentage) or not 0 <= percentage <= 100:
            raise StatesError(errors.RUNTIME,
                              "ToleratedFailurePercentage must be between 0 and 100.")
        if type(count) is not int or count < 0:
            raise StatesError(errors.RUNTIME, "ToleratedFailureCount must be a non-negative "
                                              "integer.")
        return float(percentage), count

    def item_input(self, scope: EvalScope, effective: Any) -> Any:
        """One iteration's input; the caller has put the item in the scope's context."""
        if self.item_selector is None:
            return scope.map_item_value()
        scope.input = effective
        return self.item_selector.evaluate(scope)


def _lookup(scope: EvalScope, path: JsonPath) -> Any:
    try:
        return scope.resolve(path)
    except PathNotFound as exc:
        raise StatesError(
            errors.RUNTIME, f"Invalid path '{path.text}' : {exc.jayway_message()}"
        ) from None


def _expected(node: Node, field: str, want: str, got: Any) -> StatesError:
    if isinstance(node, Expr):
        return expected_type_error(node.expression, field, want, got)
    return StatesError(errors.QUERY_EVALUATION_ERROR, f"The field '{field}' must be a {want}",
                       evaluation=True)
