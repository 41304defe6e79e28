"""The Choice state: picks the next state from the first rule that matches.

Implements https://docs.aws.amazon.com/step-functions/latest/dg/state-choice.html (Choices,
Default, and per-rule Assign/Output in both query languages); the rules themselves are
compiled in ``asl.choice``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from headwater.services.stepfunctions.asl import errors
from headwater.services.stepfunctions.asl.choice import Test
from headwater.services.stepfunctions.asl.errors import StatesError
from headwater.services.stepfunctions.asl.payload import EvalScope, Node
from headwater.services.stepfunctions.asl.states.base import State


@dataclass(frozen=True, slots=True)
class ChoiceRule:
    test: Test
    next: str
    assign: Node | None = None
    output: Node | None = None  # JSONata


@dataclass(eq=False)
class Choice(State):
    TYPE: ClassVar[str] = "Choice"
    choices: tuple[ChoiceRule, ...] = ()
    default: str | None = None

    def choose(self, scope: EvalScope, raw: Any) -> tuple[str, Any, dict[str, Any] | None]:
        """(next state, output, variables to assign)."""
        if self.jsonata:
            scope.input = raw
            for rule in self.choices:
                if rule.test(scope):
                    return rule.next, *self._jsonata_out(scope, raw, rule.output, rule.assign)
            if self.default is None:
                raise _no_match()
            return self.default, *self._jsonata_out(scope, raw, self.output, self.assign)
        value = self.apply_input_path(scope, raw)
        scope.input = value
        for rule in self.choices:
            if rule.test(scope):
                return rule.next, *self._jsonpath_out(scope, value, rule.assign)
        if self.default is None:
            raise _no_match()
        return self.default, *self._jsonpath_out(scope, value, self.assign)

    def _jsonpath_out(self, scope: EvalScope, value: Any,
                      assign: Node | None) -> tuple[Any, dict[str, Any] | None]:
        assigned = None
        if assign is not None:
            scope.input = value
            assigned = assign.evaluate(scope)
        return self.apply_output_path(scope, value), assigned

    def _jsonata_out(self, scope: EvalScope, raw: Any, output: Node | None,
                     assign: Node | None) -> tuple[Any, dict[str, Any] | None]:
        assigned = None if assign is None else assign.evaluate(scope)
        return (raw if output is None else output.evaluate(scope)), assigned


def _no_match() -> StatesError:
    return StatesError(errors.NO_CHOICE_MATCHED, "No Matches!")
