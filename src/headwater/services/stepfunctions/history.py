"""Execution history events: what the engine appends, and their GetExecutionHistory wire form.

Implements the ``HistoryEvent`` shape of
https://docs.aws.amazon.com/step-functions/latest/apireference/API_GetExecutionHistory.html :
an id, the previous event's id in the same branch, a timestamp, a type
(``PassStateEntered``, ``TaskScheduled``, ``MapIterationStarted`` ...) and one
``<type>EventDetails`` member whose payload fields (``input``, ``output``, ``parameters``) are
JSON *strings* on the wire.

In memory, details keep the Python values (payloads are never mutated, so nothing is copied);
:meth:`HistoryEvent.to_wire` serialises them when somebody asks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

# Fields that hold a JSON document, and the "...Details" flag AWS puts beside each.
_PAYLOAD_FIELDS = {"input": "inputDetails", "output": "outputDetails", "parameters": None}


@dataclass(slots=True)
class HistoryEvent:
    id: int
    previous_event_id: int
    timestamp: float
    type: str
    details: dict[str, Any] | None = None

    def to_wire(self, include_data: bool = True) -> dict[str, Any]:
        """The event as GetExecutionHistory returns it (botocore's HistoryEvent shape)."""
        out: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(self.timestamp, tz=UTC),
            "type": self.type,
            "id": self.id,
            "previousEventId": self.previous_event_id,
        }
        if self.details is not None:
            out[details_key(self.type)] = _wire_details(self.details, include_data)
        return out


def _wire_details(details: dict[str, Any], include_data: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in details.items():
        if key in _PAYLOAD_FIELDS:
            flag = _PAYLOAD_FIELDS[key]
            if include_data:
                out[key] = orjson.dumps(value).decode()
            if flag is not None:
                out[flag] = {"truncated": False}
        elif key == "assignedVariables":
            out[key] = {k: orjson.dumps(v).decode() for k, v in value.items()}
            out["assignedVariablesDetails"] = {"truncated": False}
        else:
            out[key] = value
    return out


_SPECIAL_KEYS = {
    "Entered": "stateEnteredEventDetails",
    "Exited": "stateExitedEventDetails",
}


def details_key(event_type: str) -> str:
    """``PassStateEntered`` -> ``stateEnteredEventDetails``; ``TaskFailed`` ->
    ``taskFailedEventDetails``; ``MapIterationStarted`` -> ``mapIterationStartedEventDetails``."""
    for suffix, key in _SPECIAL_KEYS.items():
        if event_type.endswith("State" + suffix):
            return key
    return event_type[0].lower() + event_type[1:] + "EventDetails"


class History:
    """The events of one execution (or of one distributed-map child run), in order.

    ``record=False`` keeps ids counting but drops the events (EXPRESS executions, whose
    history AWS does not keep).
    """

    __slots__ = ("events", "next_id", "record")

    def __init__(self, record: bool = True) -> None:
        self.events: list[HistoryEvent] = []
        self.next_id = 1
        self.record = record

    def add(self, event_type: str, previous: int, timestamp: float,
            details: dict[str, Any] | None = None) -> int:
        event_id = self.next_id
        self.next_id = event_id + 1
        if self.record:
            self.events.append(HistoryEvent(event_id, previous, timestamp, event_type, details))
        return event_id

    def types(self) -> list[str]:
        return [e.type for e in self.events]
