"""Lifecycle configuration: validating rules on PUT and applying them on the injected clock.

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

``validate`` refuses what S3 refuses on PUT, each check naming its source: the schema's
choices (MalformedXML), counts that must be positive or not negative, Dates not at midnight UTC,
Days and Date mixed in a rule, two transitions to one class, transitions out of the waterfall's
order or too close together, expirations not after the transitions, a size range that holds no
size, and actions a tag or size filter cannot serve (InvalidArgument / InvalidRequest).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import formatdate
from typing import Any
from urllib.parse import quote

import orjson

from headwater.services.s3 import errors
from headwater.services.s3.model import S3, Bucket, Version
from headwater.services.s3.multipart import Multipart
from headwater.services.s3.names import NULL_VERSION, successor
from headwater.services.s3.restore import expiry_after

log = logging.getLogger(__name__)

_MIN_DAYS = {"STANDARD_IA": 30, "ONEZONE_IA": 30}
_SCAN_BATCH = 1000  # keys a lifecycle pass reads per query
SMALL_OBJECT = 128 * 1024  # bytes: below this, the default minimum size applies
# The stored configuration's member for x-amz-transition-default-minimum-object-size.
MINIMUM_SIZE_MEMBER = "TransitionDefaultMinimumObjectSize"
MINIMUM_SIZES = ("all_storage_classes_128K", "varies_by_storage_class")  # the first: default
# The classes from warmest to coldest: the order ``validate`` takes a rule's transitions in.
# The worker moves an object as ``_reachable`` and ``_PREFERENCE`` say, not by this list.
_ORDER = ["STANDARD", "REDUCED_REDUNDANCY", "STANDARD_IA", "INTELLIGENT_TIERING", "ONEZONE_IA",
          "GLACIER_IR", "GLACIER", "DEEP_ARCHIVE"]
# The schema's TransitionStorageClass: what a Transition or NoncurrentVersionTransition may name
# (not STANDARD, not REDUCED_REDUNDANCY).  Any other value fails S3's schema: MalformedXML.
TRANSITION_CLASSES = frozenset({"GLACIER", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING",
                                "DEEP_ARCHIVE", "GLACIER_IR"})
# S3's waterfall ("Supported lifecycle transitions", lifecycle-transition-general-considerations
# .html): the classes a rule may move an object on to from each transition target.  ONEZONE_IA
# to GLACIER_IR is on the page's list of unsupported transitions, so it is missing here.
_WATERFALL = {
    "STANDARD_IA": {"INTELLIGENT_TIERING", "ONEZONE_IA", "GLACIER_IR", "GLACIER", "DEEP_ARCHIVE"},
    "INTELLIGENT_TIERING": {"ONEZONE_IA", "GLACIER_IR", "GLACIER", "DEEP_ARCHIVE"},
    "ONEZONE_IA": {"GLACIER", "DEEP_ARCHIVE"},
    "GLACIER_IR": {"GLACIER", "DEEP_ARCHIVE"},
    "GLACIER": {"DEEP_ARCHIVE"},
    "DEEP_ARCHIVE": set(),
}
# Days an object stays in a class before the same rule may move it on: 30 in STANDARD_IA
# ("objects that are in the S3 Standard-IA storage class must be in this class for 30 days
# before they transition to S3 Glacier", knowledge-center/s3-lifecycle-rule-glacier-storage) and
# in ONEZONE_IA, which has the same 30-day minimum storage duration; 90 in GLACIER and GLACIER_IR
# (S3's answers to DEEP_ARCHIVE 60 and 30 days after them, recorded in deployment logs: "must be
# 90 days more than ...").  INTELLIGENT_TIERING has no minimum: a later class needs a later day.
_MIN_STAY = {"STANDARD_IA": 30, "ONEZONE_IA": 30, "GLACIER_IR": 90, "GLACIER": 90}
# Which of several transitions due for one version at once wins, most wanted first
# (lifecycle-conflicts.html): "S3 Lifecycle transitions your objects to the lower-cost storage
# class", except that "S3 Intelligent-Tiering is favored by S3 Lifecycle over any storage class,
# aside from the S3 Glacier Flexible Retrieval and S3 Glacier Deep Archive storage classes".
_PREFERENCE = ["DEEP_ARCHIVE", "GLACIER", "INTELLIGENT_TIERING", "GLACIER_IR", "ONEZONE_IA",
               "STANDARD_IA"]


MAX_RULE_ID = 255  # characters in a rule's ID


def validate(config: dict[str, Any]) -> None:
    rules = config.get("Rules") or []
    if not rules or len(rules) > 1000:
        raise errors.malformed_xml()
    ids = [str(r["ID"]) for r in rules if r.get("ID")]
    # LifecycleRule.ID: "The value cannot be longer than 255 characters."  The messages are
    # those S3-compatible servers give as S3's (apache/ozone, minio, Tencent COS's docs); no
    # capture from AWS itself was found.
    if any(len(rule_id) > MAX_RULE_ID for rule_id in ids):
        raise errors.invalid_argument(
            f"ID length should not exceed allowed limit of {MAX_RULE_ID}", "ID")
    if len(ids) != len(set(ids)):
        raise errors.invalid_argument("Rule ID must be unique. Found same ID for more than one "
                                      "rule", "ID")
    for rule in rules:
        if rule.get("Status") not in ("Enabled", "Disabled"):
            raise errors.malformed_xml()
        actions = ("Expiration", "Transitions", "NoncurrentVersionTransitions",
                   "NoncurrentVersionExpiration", "AbortIncompleteMultipartUpload")
        if not any(rule.get(a) for a in actions):
            raise errors.invalid_request("At least one action needs to be specified in a rule")
        for transition in [*(rule.get("Transitions") or []),
                           *(rule.get("NoncurrentVersionTransitions") or [])]:
            if transition.get("StorageClass") not in TRANSITION_CLASSES:
                raise errors.malformed_xml()
        _check_sizes(rule)
        _check_expiration(rule)
        _check_transitions(rule, "Transitions", "Transition", "Days")
        _check_transitions(rule, "NoncurrentVersionTransitions", "NoncurrentVersionTransition",
                           "NoncurrentDays")
        _check_whole_days(rule)
        _check_order(rule)
        _check_filter(rule)


def _check_expiration(rule: dict[str, Any]) -> None:
    """Expiration is a choice in S3's schema: Days, Date or ExpiredObjectDeleteMarker.
    API_LifecycleExpiration: ExpiredObjectDeleteMarker "cannot be specified with Days or Date";
    S3 answers that MalformedXML (aws/aws-sdk-ruby#2350, minio/minio-java#1285, both against
    AWS), and so Days with Date, the same choice."""
    expiration = rule.get("Expiration")
    if not expiration:
        return
    given = [m for m in ("Days", "Date", "ExpiredObjectDeleteMarker")
             if expiration.get(m) is not None]
    if len(given) > 1:
        raise errors.malformed_xml()
    days = expiration.get("Days")
    if days is not None and int(days) <= 0:
        # API_LifecycleExpiration: "The value must be a non-zero positive integer."
        raise errors.invalid_argument("'Days' for Expiration action must be a positive integer",
                                      "Days", str(days))
    _check_midnight(expiration.get("Date"))


def _check_transitions(rule: dict[str, Any], member: str, action: str, days_key: str) -> None:
    """One rule's Transitions (or NoncurrentVersionTransitions): Days not negative (API_Transition:
    "0 or positive integers"), at least 30 days before STANDARD_IA or ONEZONE_IA
    (lifecycle-transition-general-considerations.html, for current and noncurrent versions alike),
    a Date at midnight UTC, one action per class, and Days or Date throughout the rule
    (lifecycle-configuration-examples.html: "you can't use both Date and Days in the same rule").
    The InvalidRequest messages, naming the rule's filter, are S3's as NooBaa recorded them
    (noobaa/noobaa-core#9969)."""
    transitions = rule.get(member) or []
    classes: set[str] = set()
    for transition in transitions:
        target = str(transition.get("StorageClass"))
        days = transition.get(days_key)
        if days is not None and transition.get("Date") is not None:
            raise errors.malformed_xml()  # a choice in the schema, as in Expiration
        if days is not None and int(days) < 0:
            raise errors.invalid_argument(f"'{days_key}' in {action} action must be nonnegative",
                                          days_key, str(days))
        minimum = _MIN_DAYS.get(target)
        if minimum is not None and days is not None and int(days) < minimum:
            raise errors.invalid_argument(
                f"'{days_key}' in {action} action must be greater than or equal to {minimum} "
                f"for storageClass '{target}'", days_key, str(days))
        _check_midnight(transition.get("Date"))
        if target in classes:
            raise errors.invalid_request(
                f"'StorageClass' must be different for '{action}' actions in same 'Rule' with "
                f"filter '{_filter_text(rule)}'")
        classes.add(target)
    if member != "Transitions" or not transitions:
        return
    dated = {t.get("Date") is not None for t in transitions}
    if len(dated) > 1:
        raise errors.invalid_request("Found mixed 'Date' and 'Days' based Transition actions in "
                                     f"lifecycle rule for filter '{_filter_text(rule)}'")
    other = "Days" if True in dated else "Date"  # what the Expiration must not use
    if (rule.get("Expiration") or {}).get(other) is not None:
        raise errors.invalid_request(
            "Found mixed 'Date' and 'Days' based Expiration and Transition actions in lifecycle "
            f"rule for filter '{_filter_text(rule)}'")
    expires = (rule.get("Expiration") or {}).get("Days")
    if expires is not None and any(int(t.get("Days") or 0) >= int(expires) for t in transitions):
        # An object must transition before it expires; S3's answer as CloudFormation
        # deployments recorded it in 2021-2025 (aws/aws-sdk-ruby#178 has older wording).
        raise errors.invalid_argument(
            f"'Days' in the Expiration action for filter '{_filter_text(rule)}' must be greater "
            "than 'Days' in the Transition action", "Days", str(expires))


def _check_whole_days(rule: dict[str, Any]) -> None:
    """The counts S3 wants positive: NoncurrentDays of a NoncurrentVersionExpiration
    (API_NoncurrentVersionExpiration: "a non-zero positive integer") and DaysAfterInitiation."""
    for member, key in (("NoncurrentVersionExpiration", "NoncurrentDays"),
                        ("AbortIncompleteMultipartUpload", "DaysAfterInitiation")):
        days = (rule.get(member) or {}).get(key)
        if days is not None and int(days) <= 0:
            raise errors.invalid_argument(
                f"'{key}' for {member} action must be a positive integer", key, str(days))


def _check_sizes(rule: dict[str, Any]) -> None:
    """A filter's size range must hold some size: S3 answers ObjectSizeGreaterThan not below
    ObjectSizeLessThan with this message (recorded through CloudFormation, 2026; the code as for
    S3's other size-filter faults, InvalidRequest)."""
    found = rule.get("Filter") or {}
    conditions = found.get("And") or found
    greater = conditions.get("ObjectSizeGreaterThan")
    less = conditions.get("ObjectSizeLessThan")
    if greater is not None and less is not None and int(greater) >= int(less):
        raise errors.invalid_request(
            "'ObjectSizeLessThan' has to be a value greater than 'ObjectSizeGreaterThan'.")


def _check_order(rule: dict[str, Any]) -> None:
    """Each rule's actions in time order: its transitions down the waterfall, a later class on a
    later day, and its expirations after its transitions.  The NoncurrentDays message is S3's as
    a Terraform apply recorded it.  The Date one is not recorded: it is S3's newer answer for an
    Expiration's Days ("'Days' in the Expiration action for filter '(prefix=)' must be greater than
    'Days' in the Transition action", CloudFormation deployments 2021-2025) with 'Date'."""
    _check_waterfall(rule, "Transitions", "Transition", "Days")
    _check_waterfall(rule, "NoncurrentVersionTransitions", "NoncurrentVersionTransition",
                     "NoncurrentDays")
    where = _filter_text(rule)
    expires = (rule.get("Expiration") or {}).get("Date")
    dates = [t["Date"] for t in rule.get("Transitions") or [] if t.get("Date") is not None]
    if expires is not None and any(_moment(d) >= _moment(expires) for d in dates):
        raise errors.invalid_argument(
            f"'Date' in the Expiration action for filter '{where}' must be greater than 'Date' in "
            "the Transition action", "Date")
    noncurrent = (rule.get("NoncurrentVersionExpiration") or {}).get("NoncurrentDays")
    days = [t["NoncurrentDays"] for t in rule.get("NoncurrentVersionTransitions") or []
            if t.get("NoncurrentDays") is not None]
    if noncurrent is not None and any(int(d) >= int(noncurrent) for d in days):
        raise errors.invalid_argument(
            f"'NoncurrentDays' in the NoncurrentVersionExpiration action for filter '{where}' must "
            "be greater than 'NoncurrentDays' in the NoncurrentVersionTransition action",
            "NoncurrentDays", str(noncurrent))


def _check_waterfall(rule: dict[str, Any], member: str, action: str, days_key: str) -> None:
    """Every two transitions of one rule, taken warmer class first: the colder one must be
    reachable from the warmer on S3's waterfall (``_WATERFALL``), later, and at least the
    warmer class's ``_MIN_STAY`` days later.  Run after the checks that leave each transition
    with one class of its own and the rule with Days or Dates throughout.

    AWS quirk: the recorded answer to a gap that is too short names the filter twice, the
    second time as ``'filter '(prefix=)''``; it is copied as S3 wrote it.  S3's answer to a
    colder class on the same or an earlier day, and to ONEZONE_IA with GLACIER_IR, are not
    recorded: worded here like S3's others (docs/s3.md)."""
    timed = [t for t in rule.get(member) or []
             if t.get(days_key) is not None or t.get("Date") is not None]
    timed.sort(key=lambda t: _ORDER.index(str(t["StorageClass"])))
    where = _filter_text(rule)
    for i, warm in enumerate(timed):
        for cold in timed[i + 1:]:
            warmer, colder = str(warm["StorageClass"]), str(cold["StorageClass"])
            if colder not in _WATERFALL[warmer]:
                raise errors.invalid_request(
                    f"'StorageClass' '{colder}' cannot follow '{warmer}' for '{action}' actions "
                    f"in same 'Rule' with filter '{where}'")
            if cold.get("Date") is not None:
                field, value = "Date", None
                gap = (_moment(cold["Date"]) - _moment(warm["Date"])) / 86400
            else:
                field, value = days_key, str(cold[days_key])
                gap = int(cold[days_key]) - int(warm[days_key])
            if gap <= 0:
                raise errors.invalid_argument(
                    f"'{field}' in the '{action}' action for StorageClass '{colder}' for filter "
                    f"'{where}' must be greater than '{field}' in the '{action}' action for "
                    f"StorageClass '{warmer}' for filter '{where}'", field, value)
            minimum = _MIN_STAY.get(warmer, 0)
            if gap < minimum:
                raise errors.invalid_argument(
                    f"'{field}' in the '{action}' action for StorageClass '{colder}' for filter "
                    f"'{where}' must be {minimum} days more than 'filter '{where}'' in the "
                    f"'{action}' action for StorageClass '{warmer}'", field, value)


def _check_filter(rule: dict[str, Any]) -> None:
    """AbortIncompleteMultipartUpload and ExpiredObjectDeleteMarker act on uploads and delete
    markers, which have no tags and no size: "You cannot specify this lifecycle action in a rule
    that specifies a filter based on object tags" (intro-lifecycle-rules.html).  S3's messages:
    with Tags, recorded for the first (terraform-aws-modules/terraform-aws-s3-bucket#109), the
    second worded the same way; with a size, recorded for both (aws-cloudformation/cfn-lint#3554;
    cloudposse/terraform-aws-s3-bucket, 2022, ExpiredObjectDeleteMarker false too)."""
    found = rule.get("Filter") or {}
    conditions = found.get("And") or found
    tagged = bool(conditions.get("Tag") or conditions.get("Tags"))
    sized = (conditions.get("ObjectSizeGreaterThan") is not None
             or conditions.get("ObjectSizeLessThan") is not None)
    for applies, what in ((tagged, "Tags"), (sized, "Object Size")):
        if not applies:
            continue
        if rule.get("AbortIncompleteMultipartUpload"):
            raise errors.invalid_request(
                f"AbortIncompleteMultipartUpload cannot be specified with {what}.")
        if (rule.get("Expiration") or {}).get("ExpiredObjectDeleteMarker") is not None:
            raise errors.invalid_request(
                f"ExpiredObjectDeleteMarker cannot be specified with {what}.")


def _check_midnight(date: Any) -> None:
    """API_LifecycleExpiration / API_Transition: "The time is always midnight UTC"; any other
    time is refused (aws/aws-cli#7677, reproduced by AWS)."""
    if date is not None and _moment(date) % 86400:
        raise errors.invalid_argument("'Date' must be at midnight GMT", "Date")


def _filter_text(rule: dict[str, Any]) -> str:
    """A rule's filter as S3 writes it in a lifecycle error: ``(prefix=logs/ and
    tag={key=k, value=v})``, ``(prefix=)`` for every key."""
    if rule.get("Filter") is None and rule.get("Prefix") is not None:
        return f"(prefix={rule['Prefix']})"
    found = rule.get("Filter") or {}
    conditions = found.get("And") or found
    parts = [f"prefix={conditions['Prefix']}"] if conditions.get("Prefix") else []
    tags = list(conditions.get("Tags") or [])
    if conditions.get("Tag"):
        tags.append(conditions["Tag"])
    parts += [f"tag={{key={t.get('Key', '')}, value={t.get('Value', '')}}}" for t in tags]
    for member in ("ObjectSizeGreaterThan", "ObjectSizeLessThan"):
        if conditions.get(member) is not None:
            parts.append(f"{member.lower()}={conditions[member]}")
    return f"({' and '.join(parts)})" if parts else "(prefix=)"


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


def _moment(date: Any) -> float:
    """An action's Date as epoch seconds: a ``datetime`` as parsed from the request, or, once
    stored (the configuration is kept as JSON), its ISO 8601 text or a number."""
    if isinstance(date, datetime):
        return date.timestamp()
    if isinstance(date, str):
        try:
            return float(date)
        except ValueError:
            return datetime.fromisoformat(date).timestamp()
    return float(date)


def _due(action: dict[str, Any], since: float, now: float, day: float, days_key: str = "Days") -> bool:
    date = action.get("Date")
    if date is not None:
        return now >= _moment(date)
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
        return math.inf if now >= _moment(date) else -math.inf
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
            moment = _moment(date)
        elif days is not None:
            moment = expiry_after(version.last_modified + int(days) * day, day)
        else:
            continue  # ExpiredObjectDeleteMarker alone: nothing for a version to expire by
        if best is None or moment < best[0]:
            best = (moment, str(rule.get("ID") or ""))
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
    waterfall (``_WATERFALL``: never ONEZONE_IA to GLACIER_IR, never back to a warmer class).
    REDUCED_REDUNDANCY, which no rule can name, moves as STANDARD does; OUTPOSTS, SNOW and
    EXPRESS_ONEZONE objects never move."""
    if current in ("STANDARD", "REDUCED_REDUNDANCY"):
        return target in TRANSITION_CLASSES
    return target in _WATERFALL.get(current, set())


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
