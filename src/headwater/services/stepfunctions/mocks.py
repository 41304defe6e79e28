"""Mocked service integrations, in Step Functions Local's mock configuration format.

Implements https://docs.aws.amazon.com/step-functions/latest/dg/sfn-local-mock-cfg-file.html :

    {"StateMachines": {"<machine name>": {"TestCases": {"<test case>": {"<state name>":
        "<mocked response name>"}}}},
     "MockedResponses": {"<mocked response name>": {"0": {"Return": {...}},
                                                   "1-2": {"Throw": {"Error": "...", "Cause": "..."}}}}}

A test case is chosen per execution (Step Functions Local: ``StartExecution`` on
``<state machine ARN>#<test case>``; here also ``headwater sfn run --mock-config --test-case``).
Each time a mocked state's task runs (retries included) it takes the response for its
invocation count (``"0"``, ``"1-2"`` ranges); past the last one the last response repeats,
as Step Functions Local does.  States the test case does not name call the real integration.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson

from headwater.core.errors import ServiceError
from headwater.services.stepfunctions.runner import TaskFailure


class MockConfig:
    """A parsed mock configuration file."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        if not isinstance(document, Mapping):
            raise TypeError("a mock configuration is a JSON object")
        self.machines: Mapping[str, Any] = document.get("StateMachines") or {}
        self.responses: Mapping[str, Any] = document.get("MockedResponses") or {}
        for machine, spec in self.machines.items():
            for case, states in (spec.get("TestCases") or {}).items():
                for state, response in states.items():
                    if response not in self.responses:
                        raise ValueError(f"test case {machine}#{case}, state {state}: no mocked "
                                         f"response named {response!r}")

    @classmethod
    def load(cls, path: str | Path) -> MockConfig:
        return cls(orjson.loads(Path(path).read_bytes()))

    def has_case(self, machine: str, test_case: str) -> bool:
        return test_case in ((self.machines.get(machine) or {}).get("TestCases") or {})

    def response(self, machine: str, test_case: str, state: str, attempt: int) -> Any:
        """The mocked outcome of the ``attempt``-th call (from 0) of ``state``: its return
        value, a raised :class:`TaskFailure`, or ``None`` when the state is not mocked."""
        cases = (self.machines.get(machine) or {}).get("TestCases") or {}
        name = (cases.get(test_case) or {}).get(state)
        if name is None:
            return None
        steps = self.responses[name]
        chosen = None
        last_end = -1
        for key, step in steps.items():
            low, _, high = str(key).partition("-")
            start, end = int(low), int(high or low)
            if start <= attempt <= end:
                chosen = step
                break
            if end > last_end:
                last_end, chosen_last = end, step
        if chosen is None:
            chosen = chosen_last
        if "Throw" in chosen:
            throw = chosen["Throw"]
            raise TaskFailure(throw.get("Error"), throw.get("Cause"))
        return _Returned(chosen.get("Return"))


class _Returned:
    """A mocked return value (distinct from None, which means "not mocked")."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


def returned(outcome: Any) -> Any:
    return outcome.value if isinstance(outcome, _Returned) else outcome


def invalid_test_case(arn: str) -> ServiceError:
    return ServiceError("InvalidArn", f"Invalid Arn: 'No mocked test case found for {arn}'")
