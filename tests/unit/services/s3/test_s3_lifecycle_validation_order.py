"""PutBucketLifecycleConfiguration's checks of order inside a rule: transitions down S3's
waterfall, a colder class later and long enough after a warmer one (by Days, NoncurrentDays or
Date), expirations after the transitions, a size range that holds a size, and the actions a size
filter cannot serve.  Messages S3 is recorded giving are asserted as recorded; the others are
headwater's wording, listed in docs/s3.md."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from s3_helpers import adapter, ctx

from headwater.core.errors import ServiceError
from headwater.services.s3.model import S3, Bucket

_FILTER = "(prefix=logs/)"


def _day(month: int, day: int, year: int = 2030) -> datetime:
    return datetime(year, month, day, tzinfo=UTC)


def _put_rule(s3: S3, bucket: Bucket, **rule: Any) -> None:
    rule.setdefault("Filter", {"Prefix": "logs/"})
    adapter(s3).put_bucket_lifecycle_configuration(ctx(), {
        "Bucket": bucket.name,
        "LifecycleConfiguration": {"Rules": [{"ID": "r", "Status": "Enabled", **rule}]}})


def _later(field: str, action: str, colder: str, warmer: str) -> str:
    return (f"'{field}' in the '{action}' action for StorageClass '{colder}' for filter "
            f"'{_FILTER}' must be greater than '{field}' in the '{action}' action for "
            f"StorageClass '{warmer}' for filter '{_FILTER}'")


def _gap(field: str, action: str, colder: str, days: int, warmer: str) -> str:
    # As S3 writes it, the filter the second time in quotes of its own.
    return (f"'{field}' in the '{action}' action for StorageClass '{colder}' for filter "
            f"'{_FILTER}' must be {days} days more than 'filter '{_FILTER}'' in the '{action}' "
            f"action for StorageClass '{warmer}'")


def _steps(key: str, *steps: tuple[Any, str]) -> list[dict[str, Any]]:
    return [{key: when, "StorageClass": target} for when, target in steps]


_SIZED = {"And": {"Prefix": "logs/", "ObjectSizeGreaterThan": 1024}}


@pytest.mark.parametrize(("rule", "code", "message"), [
    # A colder class on an earlier day, or the same day, than a warmer one.
    ({"Transitions": _steps("Days", (60, "STANDARD_IA"), (30, "GLACIER"))},
     "InvalidArgument", _later("Days", "Transition", "GLACIER", "STANDARD_IA")),
    ({"Transitions": _steps("Days", (1, "DEEP_ARCHIVE"), (1, "GLACIER"))},
     "InvalidArgument", _later("Days", "Transition", "DEEP_ARCHIVE", "GLACIER")),
    # The minimum stay before the next class: S3's recorded answers to DEEP_ARCHIVE 60 days
    # after GLACIER, and to 30 -> 60 -> 90 days through STANDARD_IA and GLACIER_IR.
    ({"Transitions": _steps("Days", (30, "GLACIER"), (90, "DEEP_ARCHIVE"))},
     "InvalidArgument", _gap("Days", "Transition", "DEEP_ARCHIVE", 90, "GLACIER")),
    ({"Transitions": _steps("Days", (30, "STANDARD_IA"), (60, "GLACIER_IR"),
                            (90, "DEEP_ARCHIVE"))},
     "InvalidArgument", _gap("Days", "Transition", "DEEP_ARCHIVE", 90, "GLACIER_IR")),
    ({"Transitions": _steps("Days", (30, "STANDARD_IA"), (59, "INTELLIGENT_TIERING"))},
     "InvalidArgument", _gap("Days", "Transition", "INTELLIGENT_TIERING", 30, "STANDARD_IA")),
    ({"Transitions": _steps("Days", (30, "ONEZONE_IA"), (59, "GLACIER"))},
     "InvalidArgument", _gap("Days", "Transition", "GLACIER", 30, "ONEZONE_IA")),
    # Off the waterfall: ONEZONE_IA never moves on to GLACIER_IR.
    ({"Transitions": _steps("Days", (30, "ONEZONE_IA"), (120, "GLACIER_IR"))},
     "InvalidRequest", ("'StorageClass' 'GLACIER_IR' cannot follow 'ONEZONE_IA' for "
                        f"'Transition' actions in same 'Rule' with filter '{_FILTER}'")),
    # The same for noncurrent versions, by NoncurrentDays.
    ({"NoncurrentVersionTransitions": _steps("NoncurrentDays", (30, "GLACIER"),
                                             (60, "STANDARD_IA"))},
     "InvalidArgument", _later("NoncurrentDays", "NoncurrentVersionTransition", "GLACIER",
                               "STANDARD_IA")),
    ({"NoncurrentVersionTransitions": _steps("NoncurrentDays", (30, "GLACIER"),
                                             (60, "DEEP_ARCHIVE"))},
     "InvalidArgument", _gap("NoncurrentDays", "NoncurrentVersionTransition", "DEEP_ARCHIVE",
                             90, "GLACIER")),
    # A noncurrent expiration after the noncurrent transitions (S3's recorded message).
    ({"NoncurrentVersionTransitions": _steps("NoncurrentDays", (30, "GLACIER")),
      "NoncurrentVersionExpiration": {"NoncurrentDays": 30}},
     "InvalidArgument", (f"'NoncurrentDays' in the NoncurrentVersionExpiration action for filter "
                         f"'{_FILTER}' must be greater than 'NoncurrentDays' in the "
                         "NoncurrentVersionTransition action")),
    # By Date: the same order and the same stays, counted between the dates.
    ({"Transitions": _steps("Date", (_day(6, 1), "GLACIER"), (_day(3, 1), "DEEP_ARCHIVE"))},
     "InvalidArgument", _later("Date", "Transition", "DEEP_ARCHIVE", "GLACIER")),
    ({"Transitions": _steps("Date", (_day(1, 1), "GLACIER"), (_day(3, 31), "DEEP_ARCHIVE"))},
     "InvalidArgument", _gap("Date", "Transition", "DEEP_ARCHIVE", 90, "GLACIER")),
    # An Expiration Date after every Transition Date, not on the same day.
    ({"Transitions": _steps("Date", (_day(1, 1), "STANDARD_IA"), (_day(3, 1), "GLACIER")),
      "Expiration": {"Date": _day(2, 1)}},
     "InvalidArgument", (f"'Date' in the Expiration action for filter '{_FILTER}' must be "
                         "greater than 'Date' in the Transition action")),
    ({"Transitions": _steps("Date", (_day(1, 1), "GLACIER")), "Expiration": {"Date": _day(1, 1)}},
     "InvalidArgument", (f"'Date' in the Expiration action for filter '{_FILTER}' must be "
                         "greater than 'Date' in the Transition action")),
    # A size range that holds no size.
    ({"Filter": {"And": {"Prefix": "logs/", "ObjectSizeGreaterThan": 100,
                         "ObjectSizeLessThan": 100}}, "Expiration": {"Days": 1}},
     "InvalidRequest", "'ObjectSizeLessThan' has to be a value greater than 'ObjectSizeGreaterThan'."),
    ({"Filter": {"And": {"ObjectSizeGreaterThan": 500, "ObjectSizeLessThan": 200}},
      "Expiration": {"Days": 1}},
     "InvalidRequest", "'ObjectSizeLessThan' has to be a value greater than 'ObjectSizeGreaterThan'."),
    # Uploads and delete markers have no size to filter on.
    ({"Filter": _SIZED, "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7}},
     "InvalidRequest", "AbortIncompleteMultipartUpload cannot be specified with Object Size."),
    ({"Filter": {"ObjectSizeLessThan": 1}, "Expiration": {"ExpiredObjectDeleteMarker": True}},
     "InvalidRequest", "ExpiredObjectDeleteMarker cannot be specified with Object Size."),
    ({"Filter": _SIZED, "Expiration": {"ExpiredObjectDeleteMarker": False}},
     "InvalidRequest", "ExpiredObjectDeleteMarker cannot be specified with Object Size."),
])
def test_a_rule_out_of_order_is_refused_and_not_stored(
    s3: S3, bucket: Bucket, rule: dict[str, Any], code: str, message: str
) -> None:
    with pytest.raises(ServiceError) as err:
        _put_rule(s3, bucket, **rule)
    assert (err.value.code, err.value.status, err.value.message) == (code, 400, message)
    assert "lifecycle" not in s3.bucket(bucket.name).config


@pytest.mark.parametrize("rule", [
    # Every step down the waterfall, each the minimum stay after the one before, then expiry.
    {"Transitions": _steps("Days", (30, "STANDARD_IA"), (60, "INTELLIGENT_TIERING"),
                           (61, "ONEZONE_IA"), (91, "GLACIER"), (181, "DEEP_ARCHIVE")),
     "Expiration": {"Days": 182}},
    {"Transitions": _steps("Days", (30, "STANDARD_IA"), (60, "GLACIER_IR"), (150, "DEEP_ARCHIVE"))},
    {"Transitions": _steps("Days", (0, "GLACIER"), (90, "DEEP_ARCHIVE"))},
    {"Transitions": _steps("Days", (0, "INTELLIGENT_TIERING"), (1, "GLACIER"))},
    {"Transitions": _steps("Date", (_day(1, 1), "STANDARD_IA"), (_day(1, 31), "GLACIER"),
                           (_day(5, 1), "DEEP_ARCHIVE")),
     "Expiration": {"Date": _day(5, 2)}},
    {"NoncurrentVersionTransitions": _steps("NoncurrentDays", (30, "STANDARD_IA"),
                                            (60, "GLACIER")),
     "NoncurrentVersionExpiration": {"NoncurrentDays": 61}},
    # A size range of one size, with actions a size filter can serve.
    {"Filter": {"And": {"Prefix": "logs/", "ObjectSizeGreaterThan": 1, "ObjectSizeLessThan": 2}},
     "Expiration": {"Days": 1}, "NoncurrentVersionExpiration": {"NoncurrentDays": 1}},
])
def test_a_rule_in_order_is_stored_as_sent(s3: S3, bucket: Bucket, rule: dict[str, Any]) -> None:
    _put_rule(s3, bucket, **rule)
    got = adapter(s3).get_bucket_lifecycle_configuration(ctx(), {"Bucket": bucket.name})
    (stored,) = got["Rules"]
    for member in ("Transitions", "NoncurrentVersionTransitions"):
        assert [t["StorageClass"] for t in stored.get(member) or []] == \
            [t["StorageClass"] for t in rule.get(member) or []]
