"""Lifecycle: applying a bucket's rules on the injected clock (``lifecycle_rules`` validates them).

What it is: the rule language of
https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lifecycle-mgmt.html — filters
(Prefix, Tag, ObjectSizeGreaterThan / LessThan, And), Transitions and Expiration (Days or
Date, ExpiredObjectDeleteMarker), NoncurrentVersionTransitions / NoncurrentVersionExpiration
(NoncurrentDays, NewerNoncurrentVersions), AbortIncompleteMultipartUpload — and ``apply``,
one pass over every bucket that has rules, run by the worker.  An expired object delete marker
(a key's only version) goes with ExpiredObjectDeleteMarker, or with an Expiration by Days or
Date once it is old enough, and is reported as LifecycleExpiration:Delete.

Differences (docs/s3.md): a "day" is ``lifecycle_day_seconds`` long and counted from the
object's creation (AWS rounds to the next midnight UTC).  A pass asks SQLite for the keys
under the rules' prefixes with a version some rule might act on now, so a bucket where little
is due costs one indexed scan inside SQLite, not a Python object per version.

Minimum ages (https://docs.aws.amazon.com/AmazonS3/latest/userguide/lifecycle-transition-general-considerations.html):
transitions to STANDARD_IA or ONEZONE_IA need at least 30 days.  Minimum size, the same page:
objects under 128 KiB transition nowhere by default, or only to GLACIER and DEEP_ARCHIVE with
the configuration's ``TransitionDefaultMinimumObjectSize`` set to ``varies_by_storage_class``;
a rule with its own size filter is not held back.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any
from urllib.parse import quote

import orjson

from headwater.services.s3.lifecycle_rules import TRANSITION_CLASSES, WATERFALL, moment
from headwater.services.s3.model import S3, Bucket, Version
from headwater.services.s3.multipart import Multipart
from headwater.services.s3.names import NULL_VERSION, successor
from headwater.services.s3.restore import expiry_after

log = logging.getLogger(__name__)

_SCAN_BATCH = 1000  # keys a lifecycle pass reads per query
SMALL_OBJECT = 128 * 1024  # bytes: below this, the default minimum size applies
# The stored configuration's member for x-amz-transition-default-minimum-object-size.
MINIMUM_SIZE_MEMBER = "TransitionDefaultMinimumObjectSize"
MINIMUM_SIZES = ("all_storage_classes_128K", "varies_by_storage_class")  # the first: default
# Which of several transitions due for one version at once wins, most wanted first
# (lifecycle-conflicts.html): "S3 Lifecycle transitions your objects to the lower-cost storage
# class", except that "S3 Intelligent-Tiering is favored by S3 Lifecycle over any storage class,
# aside from the S3 Glacier Flexible Retrieval and S3 Glacier Deep Archive storage classes".
_PREFERENCE = ["DEEP_ARCHIVE", "GLACIER", "INTELLIGENT_TIERING", "GLACIER_IR", "ONEZONE_IA",
               "STANDARD_IA"]


@dataclass
class Outcome:
    # bucket, key, class, and the version as it is now
    transitioned: list[tuple[str, str, str, Version]] = field(default_factory=list)
    # bucket, key, event name, the version removed or the delete marker added
    expired: list[tuple[str, str, str, Version | None]] = field(default_factory=list)
    aborted: list[tuple[str, str]] = field(default_factory=list)


def _matches(rule: dict[str, Any], version: Version) -> bool:
    if rule.get("Status") != "Enabled" or not _prefix_ok(rule, version.key):
        return False
    found = rule.get("Filter")
    if found is None:
        return True
    conditions = found.get("And") or found
    tags = version.meta.get("tags") or {}
    wanted = list(conditions.get("Tags") or [])
    if conditions.get("Tag"):
        wanted.append(conditions["Tag"])
    if any(tags.get(t["Key"]) != t["Value"] for t in wanted):
        return False
    greater = conditions.get("ObjectSizeGreaterThan")
    if greater is not None and not version.size > int(greater):
        return False
    less = conditions.get("ObjectSizeLessThan")
    return less is None or version.size < int(less)


def _due(action: dict[str, Any], since: float, now: float, day: float, days_key: str = "Days") -> bool:
    date = action.get("Date")
    if date is not None:
        return now >= moment(date)
    days = action.get(days_key)
    return days is not None and now >= since + int(days) * day


def apply(s3: S3, day: float) -> Outcome:
    """One lifecycle pass over every bucket with rules."""
    outcome = Outcome()
    now = s3.clock.now()
    for row in s3.store.db.query("SELECT name FROM s3_buckets"):
        bucket = s3.bucket(row[0])
        rules = (bucket.config.get("lifecycle") or {}).get("Rules") or []
        if not any(r.get("Status") == "Enabled" for r in rules):
            continue
        _apply_bucket(s3, bucket, rules, now, day, outcome)
    return outcome


def _apply_bucket(s3: S3, bucket: Bucket, rules: list[dict[str, Any]], now: float, day: float,
                  outcome: Outcome) -> None:
    where, values = _candidates_filter(rules, now, day)
    for prefix in _scanned_prefixes(rules):
        for key in _candidate_keys(s3, bucket, prefix, where, values):
            versions = [Version.from_row(r) for r in s3.store.versions_of(bucket.id, key)]
            if versions:
                _apply_key(s3, bucket, rules, versions, now, day, outcome)
    multipart = Multipart(s3)
    for rule in rules:
        abort = rule.get("AbortIncompleteMultipartUpload")
        if rule.get("Status") != "Enabled" or not abort:
            continue
        prefix = _rule_prefix(rule)
        high = successor(prefix) if prefix else None
        for upload_id, _, key, initiated, _, _ in s3.store.each_upload(bucket.id, prefix, high):
            if _due(abort, initiated, now, day, "DaysAfterInitiation"):
                multipart.abort(multipart.upload(bucket, key, upload_id))
                outcome.aborted.append((bucket.name, key))


def _scanned_prefixes(rules: list[dict[str, Any]]) -> list[str]:
    """The key ranges a pass must read: the enabled rules' prefixes, less those another one
    covers (so no key is read twice); [""] when a rule applies to every key."""
    prefixes = sorted({_rule_prefix(r) for r in rules if r.get("Status") == "Enabled"})
    kept: list[str] = []
    for prefix in prefixes:  # sorted: a covering prefix comes before what it covers
        if not any(prefix.startswith(k) for k in kept):
            kept.append(prefix)
    return kept


def _since_cutoff(action: dict[str, Any], now: float, day: float, days_key: str) -> float:
    """The latest start ("since") for which ``action`` is due now (see ``_due``); -inf when
    it is due for none, inf when for all (a Date that has passed)."""
    date = action.get("Date")
    if date is not None:
        return math.inf if now >= moment(date) else -math.inf
    days = action.get(days_key)
    return -math.inf if days is None else now - int(days) * day


def _candidates_filter(rules: list[dict[str, Any]], now: float, day: float) -> tuple[str, list[Any]]:
    """SQL over one object row, true for every row some enabled rule might act on now.

    A necessary condition only (tags, sizes and NewerNoncurrentVersions are judged on the
    key's versions): a current version written by the latest cutoff of the current-version
    actions, a lone delete marker when markers expire, a noncurrent version written by the
    latest noncurrent cutoff -- it became noncurrent after it was written, so no earlier."""
    latest = noncurrent = -math.inf
    markers = False
    for rule in rules:
        if rule.get("Status") != "Enabled":
            continue
        expiration = rule.get("Expiration") or {}
        for action in [*(rule.get("Transitions") or []), expiration]:
            latest = max(latest, _since_cutoff(action, now, day, "Days"))
        markers = markers or bool(expiration.get("ExpiredObjectDeleteMarker"))
        for action in [*(rule.get("NoncurrentVersionTransitions") or []),
                       rule.get("NoncurrentVersionExpiration") or {}]:
            noncurrent = max(noncurrent, _since_cutoff(action, now, day, "NoncurrentDays"))
    terms: list[str] = []
    values: list[Any] = []
    for cutoff, row in ((latest, "is_latest=1"), (noncurrent, "is_latest=0")):
        if cutoff == math.inf:
            terms.append(row)
        elif cutoff > -math.inf:
            terms.append(f"({row} AND last_modified<=?)")
            values.append(cutoff)
    if markers:
        terms.append("(is_latest=1 AND delete_marker=1)")
    return (" OR ".join(terms) or "0"), values


def _candidate_keys(s3: S3, bucket: Bucket, prefix: str, where: str,
                    values: list[Any]) -> Iterator[str]:
    """The keys under ``prefix`` with a row matching ``where``, in order, ``_SCAN_BATCH`` per
    query.  The filter runs inside SQLite, so a pass over a bucket where little is due reads
    few rows into Python; each batch starts past the last key handed out, so the caller may
    change the keys it has been given."""
    end = successor(prefix)
    after: str | None = None
    while True:
        bounds = "key >= ?" if after is None else "key > ?"
        params: list[Any] = [bucket.id, prefix if after is None else after]
        if end is not None:
            bounds += " AND key < ?"
            params.append(end)
        rows = s3.store.db.query(
            f"SELECT DISTINCT key FROM s3_objects WHERE bucket_id=? AND {bounds} AND ({where}) "
            "ORDER BY key LIMIT ?", (*params, *values, _SCAN_BATCH))
        for (key,) in rows:
            yield key
        if len(rows) < _SCAN_BATCH:
            return
        after = rows[-1][0]


def _apply_key(s3: S3, bucket: Bucket, rules: list[dict[str, Any]], versions: list[Version],
               now: float, day: float, outcome: Outcome) -> None:
    latest = versions[0] if versions and versions[0].is_latest else None
    noncurrent = [v for v in versions if not v.is_latest]
    # A version became noncurrent when the next newer one was written.
    since = {v.row_id: versions[i].last_modified for i, v in enumerate(versions[1:])}
    # Transitions first, each version's chosen over every rule at once (``_transition``).
    # "Permanent deletion takes precedence over transition" (lifecycle-conflicts.html): a
    # version this pass removes for good does not move first.
    if latest is not None and not latest.delete_marker:
        applies = [r for r in rules if _matches(r, latest)]
        # Expiring the current version removes it unless a delete marker keeps it: in a
        # Suspended bucket the null marker replaces the null version.
        kept = bucket.versioning == "Enabled" or (bucket.versioning == "Suspended"
                                                  and latest.version_id != NULL_VERSION)
        if kept or not any(_expires(r, latest, now, day) for r in applies):
            _transition(s3, bucket, latest, [(r, t) for r in applies
                                             for t in r.get("Transitions") or []],
                        latest.last_modified, now, day, outcome)
    for rank, v in enumerate(noncurrent):
        if v.delete_marker:
            continue
        # The rule's tag and size filters apply to each noncurrent version as to a current
        # one; NewerNoncurrentVersions counts every newer noncurrent version.
        applies = [r for r in rules if _matches(r, v)]
        if any(_noncurrent_expires(r, rank, since[v.row_id], now, day) for r in applies):
            continue
        _transition(s3, bucket, v, [(r, t) for r in applies
                                    for t in r.get("NoncurrentVersionTransitions") or []
                                    if rank >= int(t.get("NewerNoncurrentVersions") or 0)],
                    since[v.row_id], now, day, outcome, days_key="NoncurrentDays")
    for rule in rules:
        if latest is not None and not latest.delete_marker and _matches(rule, latest) \
                and _expires(rule, latest, now, day):
            # In a versioned (or suspended) bucket the current version becomes
            # noncurrent under a new delete marker; otherwise it is gone.
            changed = s3.delete(bucket, latest.key)
            event = ("LifecycleExpiration:DeleteMarkerCreated"
                     if changed is not None and changed.delete_marker
                     else "LifecycleExpiration:Delete")
            outcome.expired.append((bucket.name, latest.key, event, changed))
            return  # the rest is judged on the next pass, with the new state in place
        if (latest is not None and latest.delete_marker and len(versions) == 1
                and rule.get("Status") == "Enabled" and _prefix_ok(rule, latest.key)
                and _removes_marker(rule, latest, now, day)):
            # An expired object delete marker: a permanently deleted version, which S3
            # reports as LifecycleExpiration:Delete (DeleteMarkerCreated is for markers
            # lifecycle adds).
            removed = s3.delete(bucket, latest.key, latest.version_id)
            outcome.expired.append((bucket.name, latest.key, "LifecycleExpiration:Delete", removed))
            return
        if not noncurrent or not _prefix_ok(rule, noncurrent[0].key) or rule.get("Status") != "Enabled":
            continue
        expiration = rule.get("NoncurrentVersionExpiration")
        if expiration:
            keep = int(expiration.get("NewerNoncurrentVersions") or 0)
            for v in noncurrent[keep:]:
                if _matches(rule, v) and _due(expiration, since[v.row_id], now, day,
                                              "NoncurrentDays"):
                    removed = s3.delete(bucket, v.key, v.version_id)
                    outcome.expired.append(
                        (bucket.name, v.key, "LifecycleExpiration:Delete", removed))


def _expires(rule: dict[str, Any], version: Version, now: float, day: float) -> bool:
    """Whether ``rule``'s Expiration by Days or Date is due for ``version``, the current one."""
    expiration = rule.get("Expiration") or {}
    if expiration.get("Days") is None and expiration.get("Date") is None:
        return False
    return _due(expiration, version.last_modified, now, day)


def expiration_header(bucket: Bucket, version: Version, day: float) -> str | None:
    """The ``x-amz-expiration`` value S3 sends with ``version``, the current version of its key
    (PutObject, CopyObject, CompleteMultipartUpload, and GetObject / HeadObject without a
    versionId): ``expiry-date="Fri, 23 Dec 2012 00:00:00 GMT", rule-id="rule1"``, or None.

    Only an enabled Expiration by Days or Date whose filter takes the version counts, never a
    NoncurrentVersionExpiration (ceph/ceph#69642, minio/minio#11718 follow S3 so).  A Date
    expires on that date; Days count from the object's creation, rounded up to the next
    midnight UTC (intro-lifecycle-rules.html, "based on an object's age": created January 15
    10:30 UTC, 3 days, due January 19 00:00 UTC), as ``expiry_after`` rounds a restored
    copy's expiry.  Of several rules the earliest expiry wins, as ceph/s3-tests
    (#256, #299) expect; the first rule of those on the same date (not recorded).  The rule ID
    is URL-encoded (the API reference for the header)."""
    found = bucket.config.get("lifecycle")
    if not found:
        return None  # the common case, kept to one lookup: PUT and GET are hot paths
    best: tuple[float, str] | None = None
    for rule in found.get("Rules") or []:
        expiration = rule.get("Expiration")
        if not expiration or not _matches(rule, version):
            continue
        date, days = expiration.get("Date"), expiration.get("Days")
        if date is not None:
            expires = moment(date)
        elif days is not None:
            expires = expiry_after(version.last_modified + int(days) * day, day)
        else:
            continue  # ExpiredObjectDeleteMarker alone: nothing for a version to expire by
        if best is None or expires < best[0]:
            best = (expires, str(rule.get("ID") or ""))
    if best is None:
        return None
    return (f'expiry-date="{formatdate(best[0], usegmt=True)}", '
            f'rule-id="{quote(best[1], safe="")}"')


def _noncurrent_expires(rule: dict[str, Any], rank: int, since: float, now: float,
                        day: float) -> bool:
    """Whether ``rule``'s NoncurrentVersionExpiration is due for a noncurrent version with
    ``rank`` newer noncurrent versions, noncurrent since ``since``."""
    expiration = rule.get("NoncurrentVersionExpiration")
    if not expiration or rank < int(expiration.get("NewerNoncurrentVersions") or 0):
        return False
    return _due(expiration, since, now, day, "NoncurrentDays")


def _removes_marker(rule: dict[str, Any], marker: Version, now: float, day: float) -> bool:
    """Whether ``rule`` removes ``marker``, an expired object delete marker (the key's only
    version): at once with ExpiredObjectDeleteMarker; with an Expiration by Days or Date once
    the marker is as old as a current version must be to expire, as S3 does
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/lifecycle-configuration-examples.html,
    "Removing expired object delete markers")."""
    expiration = rule.get("Expiration") or {}
    if expiration.get("ExpiredObjectDeleteMarker"):
        return True
    if expiration.get("Days") is None and expiration.get("Date") is None:
        return False
    return _matches(rule, marker) and _due(expiration, marker.last_modified, now, day)


def _rule_prefix(rule: dict[str, Any]) -> str:
    found = rule.get("Filter")
    return ((found.get("And") or found).get("Prefix") if found is not None
            else rule.get("Prefix")) or ""


def _prefix_ok(rule: dict[str, Any], key: str) -> bool:
    return key.startswith(_rule_prefix(rule))


def _too_small(bucket: Bucket, rule: dict[str, Any], version: Version, target: str) -> bool:
    """Whether S3's default minimum size keeps ``version`` where it is: below 128 KiB an
    object transitions nowhere (``all_storage_classes_128K``, the default) or only to GLACIER
    and DEEP_ARCHIVE (``varies_by_storage_class``), unless the rule filters on size itself."""
    if version.size >= SMALL_OBJECT:
        return False
    found = rule.get("Filter") or {}
    conditions = found.get("And") or found
    if "ObjectSizeGreaterThan" in conditions or "ObjectSizeLessThan" in conditions:
        return False  # a custom size filter takes precedence over the default
    setting = (bucket.config.get("lifecycle") or {}).get(MINIMUM_SIZE_MEMBER)
    return not (setting == "varies_by_storage_class" and target in ("GLACIER", "DEEP_ARCHIVE"))


def _reachable(current: str, target: str) -> bool:
    """Whether a lifecycle transition may move an object in class ``current`` to ``target``:
    from STANDARD to any transition class ("Supported lifecycle transitions",
    lifecycle-transition-general-considerations.html), from a transition class only down S3's
    waterfall (``WATERFALL``: never ONEZONE_IA to GLACIER_IR, never back to a warmer class).
    REDUCED_REDUNDANCY, which no rule can name, moves as STANDARD does."""
    if current in ("STANDARD", "REDUCED_REDUNDANCY"):
        return target in TRANSITION_CLASSES
    return target in WATERFALL.get(current, set())


def _transition(s3: S3, bucket: Bucket, version: Version,
                due: list[tuple[dict[str, Any], dict[str, Any]]], since: float, now: float,
                day: float, outcome: Outcome, days_key: str = "Days") -> None:
    """Move ``version`` by one of the transitions ``due`` lists (each with its rule, from every
    rule that applies): of those due now, reachable from the version's class and not held back
    by the default minimum size, the class ``_PREFERENCE`` ranks first.  One move a pass, so
    transitions due together (a rule added late, or rules that overlap) make one
    LifecycleTransition, not a step through each class on the way."""
    targets: set[str] = set()
    for rule, transition in due:
        target = str(transition.get("StorageClass"))
        if (_reachable(version.storage_class, target)
                and not _too_small(bucket, rule, version, target)
                and _due(transition, since, now, day, days_key)):
            targets.add(target)
    target = next((c for c in _PREFERENCE if c in targets), "")
    if not target:
        return
    meta = dict(version.meta)
    meta.pop("restore", None)
    s3.store.update_class(version.row_id, target, orjson.dumps(meta).decode())
    version.storage_class = target
    outcome.transitioned.append((bucket.name, version.key, target, version))
