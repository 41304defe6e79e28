"""What a lifecycle configuration may say, and ``validate``, which refuses what S3 refuses.

The rule language is https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lifecycle-mgmt.html;
``lifecycle`` applies the rules.  Each check names its source: the schema's choices and a
rule with neither Filter nor Prefix (MalformedXML), counts that must be positive or not
negative, Dates not at midnight UTC, Days and Date mixed in a rule, two transitions to one
class, transitions out of the waterfall's order or too close together, expirations not after
the transitions, a size range that holds no size, rule IDs too long or repeated, and actions a
tag or size filter cannot serve (InvalidArgument / InvalidRequest).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from headwater.services.s3 import errors

_MIN_DAYS = {"STANDARD_IA": 30, "ONEZONE_IA": 30}
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
WATERFALL = {
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
        _check_schema(rule)
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


def _check_schema(rule: dict[str, Any]) -> None:
    """What S3's schema refuses as MalformedXML, and its answer to repeated tag keys, as
    recorded (LocalStack's AWS-validated test_put_bucket_lifecycle_conf_exc): a rule names a
    Filter (an empty one will do) or the older top-level Prefix; a Filter is a choice of one of
    Prefix, Tag, the two sizes or And; a NoncurrentVersionExpiration needs its NoncurrentDays.

    The recording's "missing-id" rule has neither ID nor Filter and "missing-filter" an ID but
    no Filter; both are MalformedXML.  The ID is optional (S3 assigns one), so it is the
    missing Filter both answers are taken to be about."""
    if rule.get("Filter") is None and rule.get("Prefix") is None:
        raise errors.malformed_xml()
    found = rule.get("Filter")
    if found:
        chosen = [m for m in ("Prefix", "Tag", "ObjectSizeGreaterThan", "ObjectSizeLessThan",
                              "And") if found.get(m) is not None]
        if len(chosen) > 1:
            raise errors.malformed_xml()
        keys = [t.get("Key") for t in (found.get("And") or {}).get("Tags") or []]
        if len(keys) != len(set(keys)):
            raise errors.invalid_request("Duplicate Tag Keys are not allowed.")
    noncurrent = rule.get("NoncurrentVersionExpiration")
    if noncurrent is not None and noncurrent.get("NoncurrentDays") is None:
        raise errors.malformed_xml()


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
    if expires is not None and any(moment(d) >= moment(expires) for d in dates):
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
    reachable from the warmer on S3's waterfall (``WATERFALL``), later, and at least the
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
            if colder not in WATERFALL[warmer]:
                raise errors.invalid_request(
                    f"'StorageClass' '{colder}' cannot follow '{warmer}' for '{action}' actions "
                    f"in same 'Rule' with filter '{where}'")
            if cold.get("Date") is not None:
                field, value = "Date", None
                gap = (moment(cold["Date"]) - moment(warm["Date"])) / 86400
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
    time is refused (aws/aws-cli#7677, reproduced by AWS), naming the Date and its value
    (LocalStack's AWS-validated test_put_bucket_lifecycle_conf_exc, "wrong-data-no-midnight",
    records an ArgumentValue whose text its snapshot replaces; here ``date_text``)."""
    if date is not None and moment(date) % 86400:
        raise errors.invalid_argument("'Date' must be at midnight GMT", "Date", date_text(date))


def date_text(date: Any) -> str:
    """A Date as ISO 8601 in UTC, as the SDKs send it (botocore: ``2023-01-01T02:02:00Z``,
    with ``.ffffffZ`` when there are microseconds); stored text is given back as it is."""
    if isinstance(date, str):
        return date
    when = date if isinstance(date, datetime) else datetime.fromtimestamp(float(date), UTC)
    if when.tzinfo is not None:
        when = when.astimezone(UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ" if when.microsecond else "%Y-%m-%dT%H:%M:%SZ")


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


def moment(date: Any) -> float:
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
