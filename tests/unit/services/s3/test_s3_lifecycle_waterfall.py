"""Which transition the lifecycle worker makes, on a manual clock.

S3's waterfall ("Supported lifecycle transitions", lifecycle-transition-general-considerations
.html): an object moves on only to a class it can reach from the one it is in, never ONEZONE_IA
to GLACIER_IR.  Several transitions due at once (a rule added late, rules that overlap) make one
move, to the class S3 prefers (lifecycle-conflicts.html): the lower-cost class, S3
Intelligent-Tiering before any but Glacier Flexible Retrieval and Deep Archive.  And
"Permanent deletion takes precedence over transition": a version about to be removed for good
does not move first.
"""

from __future__ import annotations

from typing import Any

import pytest
from s3_helpers import put

from headwater.core.clock import ManualClock
from headwater.services.s3 import lifecycle, lifecycle_rules
from headwater.services.s3.model import S3, Bucket

DAY = 86400.0
BIG = b"x" * lifecycle.SMALL_OBJECT  # no default minimum size holds it back


def _rule(name: str, **actions: Any) -> dict[str, Any]:
    return {"ID": name, "Status": "Enabled", "Filter": {}, **actions}


def _configure(s3: S3, bucket: Bucket, *rules: dict[str, Any]) -> None:
    """Store ``rules`` as PutBucketLifecycleConfiguration would: each configuration here is
    one S3 accepts."""
    config = {"Rules": list(rules)}
    lifecycle_rules.validate(config)
    s3.set_config(bucket, "lifecycle", config)


def _to(*classes: str) -> list[tuple[str, str, str]]:
    return [("bucket", "k", c) for c in classes]


def _moves(s3: S3) -> list[tuple[str, str, str]]:
    """One lifecycle pass: the transitions it made (bucket, key, class)."""
    return [t[:3] for t in lifecycle.apply(s3, DAY).transitioned]


def _class(s3: S3, bucket: Bucket, key: str = "k") -> str:
    found = s3.find(s3.bucket(bucket.name), key)
    assert found is not None
    return found.storage_class


# -- the waterfall ------------------------------------------------------------------------------

def test_an_object_in_onezone_ia_never_moves_to_glacier_ir(
    s3: S3, bucket: Bucket, clock: ManualClock
) -> None:
    """Two rules S3 accepts, each on its own: ONEZONE_IA at 30 days, GLACIER_IR at 60.  Once in
    ONEZONE_IA the object cannot reach GLACIER_IR; a third rule's GLACIER it can."""
    _configure(s3, bucket,
               _rule("onezone", Transitions=[{"Days": 30, "StorageClass": "ONEZONE_IA"}]),
               _rule("instant", Transitions=[{"Days": 60, "StorageClass": "GLACIER_IR"}]),
               _rule("archive", Transitions=[{"Days": 90, "StorageClass": "GLACIER"}]))
    put(s3, bucket, "k", BIG)
    clock.advance(31 * DAY)
    assert _moves(s3) == _to("ONEZONE_IA")
    clock.advance(30 * DAY)
    assert _moves(s3) == []
    assert _class(s3, bucket) == "ONEZONE_IA"
    clock.advance(30 * DAY)
    assert _moves(s3) == _to("GLACIER")


def test_an_object_stored_as_onezone_ia_stays_out_of_glacier_ir(
    s3: S3, bucket: Bucket, clock: ManualClock
) -> None:
    """Written to ONEZONE_IA by PutObject, with a rule for every object to GLACIER_IR."""
    _configure(s3, bucket, _rule("instant", Transitions=[{"Days": 1, "StorageClass": "GLACIER_IR"}]))
    put(s3, bucket, "k", BIG, storage_class="ONEZONE_IA")
    put(s3, bucket, "standard", BIG)
    clock.advance(2 * DAY)
    assert _moves(s3) == [("bucket", "standard", "GLACIER_IR")]
    assert _class(s3, bucket) == "ONEZONE_IA"


def test_a_noncurrent_version_in_onezone_ia_never_moves_to_glacier_ir(
    s3: S3, bucket: Bucket, clock: ManualClock
) -> None:
    s3.set_versioning(bucket, "Enabled")
    _configure(s3, bucket, _rule("instant", NoncurrentVersionTransitions=[
        {"NoncurrentDays": 1, "StorageClass": "GLACIER_IR"}]))
    put(s3, bucket, "k", BIG, storage_class="ONEZONE_IA")
    put(s3, bucket, "k", BIG)
    clock.advance(2 * DAY)
    assert _moves(s3) == []
    assert [row[8] for row in s3.store.versions_of(bucket.id, "k")] == ["STANDARD", "ONEZONE_IA"]


# -- several transitions due at once --------------------------------------------------------------

def test_a_rules_transitions_due_together_make_one_move_to_the_coldest(
    s3: S3, bucket: Bucket, clock: ManualClock
) -> None:
    """A rule whose STANDARD_IA and GLACIER days have both passed when it first runs (added to
    a bucket of old objects) moves each object once, straight to GLACIER: one
    LifecycleTransition, not a stop in STANDARD_IA on the way."""
    put(s3, bucket, "k", BIG)
    clock.advance(200 * DAY)
    _configure(s3, bucket, _rule("tiers", Transitions=[
        {"Days": 30, "StorageClass": "STANDARD_IA"}, {"Days": 120, "StorageClass": "GLACIER"}]))
    assert _moves(s3) == _to("GLACIER")
    assert _moves(s3) == []


def test_overlapping_rules_due_together_move_to_the_lower_cost_class(
    s3: S3, bucket: Bucket, clock: ManualClock
) -> None:
    """ONEZONE_IA from one rule, GLACIER_IR from another, both due: GLACIER_IR, the lower-cost
    class, in one move (through ONEZONE_IA it could not be reached at all)."""
    put(s3, bucket, "k", BIG)
    clock.advance(61 * DAY)
    _configure(s3, bucket,
               _rule("onezone", Transitions=[{"Days": 30, "StorageClass": "ONEZONE_IA"}]),
               _rule("instant", Transitions=[{"Days": 60, "StorageClass": "GLACIER_IR"}]))
    assert _moves(s3) == _to("GLACIER_IR")


def test_intelligent_tiering_wins_over_all_but_the_archive_classes(
    s3: S3, bucket: Bucket, clock: ManualClock
) -> None:
    """AWS's exception to the lower-cost rule: INTELLIGENT_TIERING before GLACIER_IR, GLACIER
    before INTELLIGENT_TIERING."""
    put(s3, bucket, "k", BIG)
    put(s3, bucket, "other", BIG)
    _configure(s3, bucket,
               _rule("tiering", Transitions=[{"Days": 0, "StorageClass": "INTELLIGENT_TIERING"}]),
               {**_rule("instant", Transitions=[{"Days": 0, "StorageClass": "GLACIER_IR"}]),
                "Filter": {"Prefix": "k"}},
               {**_rule("archive", Transitions=[{"Days": 0, "StorageClass": "GLACIER"}]),
                "Filter": {"Prefix": "other"}})
    assert _moves(s3) == [*_to("INTELLIGENT_TIERING"), ("bucket", "other", "GLACIER")]


def test_noncurrent_transitions_due_together_make_one_move(
    s3: S3, bucket: Bucket, clock: ManualClock
) -> None:
    s3.set_versioning(bucket, "Enabled")
    put(s3, bucket, "k", BIG)
    put(s3, bucket, "k", BIG)
    clock.advance(200 * DAY)
    _configure(s3, bucket, _rule("tiers", NoncurrentVersionTransitions=[
        {"NoncurrentDays": 30, "StorageClass": "STANDARD_IA"},
        {"NoncurrentDays": 120, "StorageClass": "DEEP_ARCHIVE"}]))
    assert _moves(s3) == _to("DEEP_ARCHIVE")
    assert [row[8] for row in s3.store.versions_of(bucket.id, "k")] == ["STANDARD", "DEEP_ARCHIVE"]


# -- deletion before transition ---------------------------------------------------------------

def test_an_object_that_expires_does_not_transition_first(
    s3: S3, bucket: Bucket, clock: ManualClock
) -> None:
    """Unversioned: the expiration removes the object for good, so no LifecycleTransition
    comes before its LifecycleExpiration:Delete."""
    put(s3, bucket, "k", BIG)
    clock.advance(100 * DAY)
    _configure(s3, bucket, _rule("archive", Transitions=[{"Days": 1, "StorageClass": "GLACIER"}],
                                 Expiration={"Days": 90}))
    outcome = lifecycle.apply(s3, DAY)
    assert ([t[:3] for t in outcome.transitioned], [e[:3] for e in outcome.expired]) == (
        [], [("bucket", "k", "LifecycleExpiration:Delete")])


def test_a_null_version_that_expires_in_a_suspended_bucket_does_not_transition_first(
    s3: S3, bucket: Bucket, clock: ManualClock
) -> None:
    """Versioning Suspended: the expiration's null delete marker replaces the null version,
    which is gone for good; a version with an id stays (noncurrent) and moves first, since
    "Transition takes precedence over creation of delete markers"."""
    s3.set_versioning(bucket, "Enabled")
    put(s3, bucket, "kept", BIG)
    s3.set_versioning(bucket, "Suspended")
    put(s3, bucket, "k", BIG)
    clock.advance(100 * DAY)
    _configure(s3, bucket, _rule("archive", Transitions=[{"Days": 1, "StorageClass": "GLACIER"}],
                                 Expiration={"Days": 90}))
    outcome = lifecycle.apply(s3, DAY)
    assert [t[:3] for t in outcome.transitioned] == [("bucket", "kept", "GLACIER")]
    assert [e[:3] for e in outcome.expired] == [
        ("bucket", "k", "LifecycleExpiration:DeleteMarkerCreated"),
        ("bucket", "kept", "LifecycleExpiration:DeleteMarkerCreated")]
    assert [row[8] for row in s3.store.versions_of(bucket.id, "k")] == ["STANDARD"]  # the marker


@pytest.mark.parametrize("expire_first", [True, False])
def test_a_noncurrent_version_that_expires_does_not_transition_first(
    s3: S3, bucket: Bucket, clock: ManualClock, expire_first: bool
) -> None:
    """The rules in either order: the version about to be removed is not moved first (nor is a
    removed version reported moved)."""
    s3.set_versioning(bucket, "Enabled")
    put(s3, bucket, "k", BIG)
    put(s3, bucket, "k", BIG)
    clock.advance(100 * DAY)
    expire = _rule("expire", NoncurrentVersionExpiration={"NoncurrentDays": 90})
    archive = _rule("archive", NoncurrentVersionTransitions=[
        {"NoncurrentDays": 1, "StorageClass": "GLACIER"}])
    _configure(s3, bucket, *((expire, archive) if expire_first else (archive, expire)))
    outcome = lifecycle.apply(s3, DAY)
    assert ([t[:3] for t in outcome.transitioned], [e[:3] for e in outcome.expired]) == (
        [], [("bucket", "k", "LifecycleExpiration:Delete")])
    assert [row[8] for row in s3.store.versions_of(bucket.id, "k")] == ["STANDARD"]
