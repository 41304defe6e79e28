"""Restoring archived objects (GLACIER, DEEP_ARCHIVE): RestoreObject and the restore clock.

A restore is state in the version's ``meta["restore"]``: ``{"ongoing": true, "ready": t,
"days": n, "tier": ...}`` while it runs, ``{"ongoing": false, "expiry": t}`` once the copy is
readable.  Whether a restore has finished or expired is a pure function of that state and
the injected clock (``current``), so GET, HEAD and the lifecycle worker agree without a
timer; the worker only writes the outcome down (``settle``).

Durations are the upper ends of AWS's documented typical times
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/restoring-objects-retrieval-options.html):
Flexible Retrieval 1-5 minutes Expedited, 3-5 hours Standard, 5-12 hours Bulk; Deep Archive
12 hours Standard, 48 hours Bulk, no Expedited.  Each is multiplied by the configured
``archive_time_scale``.  The restored copy lasts ``Days`` lifecycle days from completion,
rounded up to the next midnight UTC as AWS does
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/archived-objects.html): restored on
October 15 10:30 UTC for 3 days, the copy expires on October 19 00:00 UTC.

Answers (https://docs.aws.amazon.com/AmazonS3/latest/API/API_RestoreObject.html): 202 when a
restore starts, 409 RestoreAlreadyInProgress while one runs, 200 when the object is already
restored (the expiry moves to ``Days`` from now, rounded the same way); 403
InvalidObjectState "Restore is not allowed for the object's current storage class" for an
object that is not archived; 400 MalformedXML for a request without ``Days`` (what S3
answers, https://github.com/aws/aws-sdk/issues/28) or with ``Days`` under 1 (undocumented;
the schema's answer).
"""

from __future__ import annotations

import math
from typing import Any

from headwater.core.errors import ServiceError
from headwater.services.s3 import errors
from headwater.services.s3.model import ARCHIVED, S3, Version

MINUTE = 60.0
HOUR = 3600.0
DURATIONS: dict[str, dict[str, float]] = {
    "GLACIER": {"Expedited": 5 * MINUTE, "Standard": 5 * HOUR, "Bulk": 12 * HOUR},
    "DEEP_ARCHIVE": {"Standard": 12 * HOUR, "Bulk": 48 * HOUR},
}


def current(restore: dict[str, Any] | None, now: float) -> dict[str, Any] | None:
    """The restore state as of ``now``: finished restores become readable copies, expired
    copies disappear."""
    if not restore:
        return None
    if restore.get("ongoing"):
        if now < float(restore["ready"]):
            return restore
        day = float(restore["day"])
        lasts = float(restore["days"]) * day
        restore = {"ongoing": False, "expiry": expiry_after(float(restore["ready"]) + lasts, day)}
    if now >= float(restore["expiry"]):
        return None
    return restore


def expiry_after(moment: float, day: float) -> float:
    """The first midnight UTC at or after ``moment``: a restored copy's expiry.  Midnight UTC
    is a multiple of 86,400 s since the epoch, so a shortened lifecycle day rounds to a
    multiple of its own length."""
    return math.ceil(moment / day) * day


def is_readable(version: Version, now: float) -> bool:
    if version.storage_class not in ARCHIVED:
        return True
    state = current(version.meta.get("restore"), now)
    return state is not None and not state.get("ongoing")


def restore_object(s3: S3, version: Version, request: dict[str, Any], scale: float,
                   day_seconds: float) -> int:
    """Start or extend a restore; returns the HTTP status S3 answers with."""
    if version.storage_class not in ARCHIVED:
        raise ServiceError("InvalidObjectState", "Restore is not allowed for the object's "
                           "current storage class", 403,
                           fields={"StorageClass": version.storage_class})
    days = request.get("Days")
    if days is None or int(days) < 1:
        raise errors.malformed_xml()
    tier = (request.get("GlacierJobParameters") or {}).get("Tier") or request.get("Tier") or "Standard"
    durations = DURATIONS[version.storage_class]
    if tier not in durations:
        raise errors.invalid_argument(
            f"The {tier} retrieval tier is not available for the {version.storage_class} "
            "storage class", "Tier", str(tier))
    now = s3.clock.now()
    state = current(version.meta.get("restore"), now)
    meta = dict(version.meta)
    if state is not None and state.get("ongoing"):
        raise errors.restore_in_progress()
    if state is not None:
        meta["restore"] = {"ongoing": False,
                           "expiry": expiry_after(now + int(days) * day_seconds, day_seconds)}
        s3.update_meta(version, meta)
        return 200
    meta["restore"] = {"ongoing": True, "ready": now + durations[tier] * scale,
                       "days": int(days), "day": day_seconds, "tier": tier}
    s3.update_meta(version, meta)
    return 202


def settle(s3: S3, version: Version) -> str | None:
    """Write down a restore that finished or expired; returns "completed" / "expired"."""
    stored = version.meta.get("restore")
    if not stored:
        return None
    state = current(stored, s3.clock.now())
    if state == stored:
        return None
    meta = dict(version.meta)
    if state is None:
        meta.pop("restore", None)
        s3.update_meta(version, meta)
        return "expired"
    meta["restore"] = state
    s3.update_meta(version, meta)
    return "completed"
