"""ISO-8601 timestamps the way Step Functions reads them (Wait ``Timestamp``, Choice
``Timestamp*`` comparisons, ``IsTimestamp``) and writes them (the context object, $now()).

Implements the "Timestamps" rules of
https://docs.aws.amazon.com/step-functions/latest/dg/state-choice.html and
https://docs.aws.amazon.com/step-functions/latest/dg/state-wait.html : an RFC 3339 profile
with an uppercase ``T``, a mandatory offset (``Z`` or ``±hh:mm``) and up to nine fraction digits.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})\Z"
)


def parse(text: object) -> tuple[int, int] | None:
    """``(epoch seconds, nanoseconds)`` or None when ``text`` is not such a timestamp.

    A tuple rather than a float keeps nanosecond precision for equality comparisons.
    """
    if not isinstance(text, str):
        return None
    m = _RFC3339.match(text)
    if m is None:
        return None
    year, month, day, hour, minute, second = (int(m.group(i)) for i in range(1, 7))
    try:
        base = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError:
        return None
    offset = m.group(8)
    if offset != "Z":
        sign = 1 if offset[0] == "+" else -1
        hours, minutes = int(offset[1:3]), int(offset[4:6])
        if hours > 23 or minutes > 59:
            return None
        base -= sign * timedelta(hours=hours, minutes=minutes)
    nanos = int((m.group(7) or "0").ljust(9, "0"))
    return int(base.timestamp()), nanos


def to_epoch(text: object) -> float | None:
    parsed = parse(text)
    if parsed is None:
        return None
    return parsed[0] + parsed[1] / 1e9


def format_epoch(epoch: float) -> str:
    """``2024-01-02T03:04:05.678Z``: millisecond precision, as the context object shows it."""
    moment = datetime.fromtimestamp(epoch, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
