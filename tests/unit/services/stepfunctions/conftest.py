"""Helpers shared by the Step Functions unit tests."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pytest

from headwater.core.clock import ManualClock
from headwater.core.ids import SequentialIds
from headwater.services.stepfunctions.asl import parse_definition
from headwater.services.stepfunctions.runner import Runner, RunResult, TaskHandler

RunSfn = Callable[..., RunResult]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(1_700_000_000.0)


@pytest.fixture
def run_sfn(clock: ManualClock) -> RunSfn:
    """run_sfn(definition, input={}, handlers=None) -> RunResult, on a manual clock."""

    def run(definition: dict[str, Any], execution_input: Any = None,
            handlers: Mapping[str, TaskHandler] | None = None, **kwargs: Any) -> RunResult:
        runner = Runner(parse_definition(definition), handlers, clock=clock,
                        ids=SequentialIds())
        return runner.run({} if execution_input is None else execution_input, **kwargs)

    return run

