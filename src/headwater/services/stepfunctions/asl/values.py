"""JSON values as Step Functions prints, sizes and names them.

Payloads are plain Python JSON values (dict, list, str, int, float, bool, None) that the engine
never mutates in place, so they are shared between states and history events without copying.

Not here: paths (``jsonpath``) or expressions (``jsonata_``).
"""

from __future__ import annotations

from typing import Any

import orjson

from headwater.services.stepfunctions.asl import errors


def to_json(value: Any) -> str:
    """Compact JSON as AWS writes it into history events and causes (no spaces)."""
    return orjson.dumps(value).decode()


def from_json(text: str | bytes) -> Any:
    return orjson.loads(text)


def payload_size(value: Any) -> int:
    return len(orjson.dumps(value))


def check_size(value: Any, what: str) -> None:
    """Raise ``States.DataLimitExceeded`` when ``value`` serialises to more than 256 KiB."""
    size = len(orjson.dumps(value))
    if size > errors.MAX_PAYLOAD_BYTES:
        raise errors.StatesError(
            errors.DATA_LIMIT_EXCEEDED,
            f"The state/task '{what}' returned a result with a size exceeding the maximum "
            f"number of bytes service limit.",
        )


def type_name(value: Any) -> str:
    """The JSON type name AWS uses in messages: object, array, string, number, boolean, null."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def java_string(value: Any) -> str:
    """``value`` as Java's ``toString`` shows it; States.Format renders its arguments so.

    # AWS quirk: States.Format shows an object argument as ``{a=1, b=[]}`` (a Java Map), not JSON.
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e7:
            return f"{value:.1f}"
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(java_string(v) for v in value) + "]"
    return "{" + ", ".join(f"{k}={java_string(v)}" for k, v in value.items()) + "}"


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
