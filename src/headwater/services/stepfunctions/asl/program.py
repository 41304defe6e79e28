"""A parsed state machine: the immutable program the engine runs.

A :class:`Program` is the top-level :class:`Branch` plus what only the top level has
(TimeoutSeconds, the definition text). Parallel branches and Map item processors are
:class:`Branch` objects too, each with its own states and query language default.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from headwater.services.stepfunctions.asl.states.base import State


@dataclass(frozen=True, eq=False)
class Branch:
    start_at: str
    states: Mapping[str, State]
    query_language: str
    location: str = ""  # JSON pointer of this branch in the definition ("" for the top level)

    @property
    def start(self) -> State:
        return self.states[self.start_at]


@dataclass(frozen=True, eq=False)
class Program(Branch):
    timeout_seconds: int | None = None
    comment: str | None = None
    definition: Mapping[str, Any] = field(default_factory=dict)
