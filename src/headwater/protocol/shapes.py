"""Value conversions every protocol shares: timestamps, blobs, booleans.

The botocore model says a member is a ``timestamp``; each protocol says how it is written on the
wire (epoch seconds in json, ISO 8601 in xml and query, RFC 7231 in headers).  Parsed timestamps
become timezone-aware ``datetime`` objects; the domain may hand back ``datetime``, ``int`` or
``float`` epoch seconds, or an ISO string, and the serializers cope with each.

Reference: https://smithy.io/2.0/spec/protocol-traits.html#timestampformat-trait
"""

from __future__ import annotations

import base64
import binascii
import calendar
import math
import time
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from functools import lru_cache
from typing import Any

from headwater.core.errors import ServiceError

_YEAR_10000 = 253402300800  # 10000-01-01T00:00:00Z


def to_datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, tz=UTC)
    if isinstance(value, str):
        text = value.strip()
        try:
            return datetime.fromtimestamp(float(text), tz=UTC)
        except ValueError:
            pass
        try:
            return to_datetime(datetime.fromisoformat(text))  # 3.11+ reads a trailing "Z"
        except ValueError:
            pass
        try:
            return to_datetime(parsedate_to_datetime(text))
        except (TypeError, ValueError):
            pass
    raise ValueError(f"not a timestamp: {value!r}")


def epoch_seconds(value: Any) -> int | float:
    dt = to_datetime(value)
    seconds = calendar.timegm(dt.utctimetuple())
    if dt.microsecond:
        return round(seconds + dt.microsecond / 1e6, 3)
    return seconds


def iso8601(value: Any) -> str:
    if type(value) in (int, float) and 0 <= value < _YEAR_10000:
        # Epoch seconds (what domains hand back) without building a datetime: a listing of a
        # thousand keys formats a thousand of these.  Same rounding as datetime.fromtimestamp.
        frac, whole = math.modf(value)
        micro = round(frac * 1_000_000)
        if micro >= 1_000_000:
            whole += 1
            micro -= 1_000_000
        t = time.gmtime(int(whole))
        text = (f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}T"
                f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}")
        return f"{text}.{micro // 1000:03d}Z"
    # Always three digits of milliseconds, whole seconds too ("...:30.000Z"): what S3 writes
    # in every document (ListObjectsV2's LastModified, a lifecycle rule's midnight Date).
    dt = to_datetime(value).astimezone(UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def rfc7231(value: Any) -> str:
    if type(value) in (int, float) and 0 <= value < _YEAR_10000:
        # Epoch seconds (S3's Last-Modified on every GET and HEAD) without a datetime and
        # email.utils; the seconds round as datetime.fromtimestamp rounds them, then truncate.
        whole = int(value)
        if round((value - whole) * 1_000_000) >= 1_000_000:
            whole += 1
        return _http_date(whole)
    return format_datetime(to_datetime(value).astimezone(UTC), usegmt=True)


@lru_cache(maxsize=1024)
def _http_date(seconds: int) -> str:
    # Kept: the objects a client reads again and again keep their Last-Modified.
    t = time.gmtime(seconds)
    day, month = _DAYS[t.tm_wday], _MONTHS[t.tm_mon - 1]
    return "%s, %02d %s %04d %02d:%02d:%02d GMT" % (  # noqa: UP031 - the fastest spelling
        day, t.tm_mday, month, t.tm_year, t.tm_hour, t.tm_min, t.tm_sec
    )


def format_timestamp(value: Any, fmt: str) -> str | int | float:
    if fmt == "unixTimestamp":
        return epoch_seconds(value)
    if fmt == "rfc822":
        return rfc7231(value)
    return iso8601(value)


def b64decode(text: str, what: str = "blob") -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ServiceError("SerializationException", f"Invalid base64 in {what}") from exc


def b64encode(value: bytes | str) -> str:
    if isinstance(value, str):
        value = value.encode()
    return base64.b64encode(value).decode("ascii")
