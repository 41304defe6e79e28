"""Restores and lifecycle rules on a manual clock."""

from __future__ import annotations

from typing import Any

import pytest
from s3_helpers import put, read

from headwater.core.clock import ManualClock
from headwater.core.errors import ServiceError
from headwater.services.s3 import lifecycle, lifecycle_rules, restore, store
from headwater.services.s3.model import S3, Bucket, Version
from headwater.services.s3.multipart import Multipart
from headwater.services.s3.names import successor
from headwater.services.s3.workers import S3Workers

DAY = 86400.0


def test_restore_runs_for_the_tier_time_then_expires(s3: S3, bucket: Bucket, clock: ManualClock) -> None:
    version = put(s3, bucket, "cold", b"ice", storage_class="DEEP_ARCHIVE").version
    assert not restore.is_readable(version, clock.now())
    with pytest.raises(ServiceError) as err:
        restore.restore_object(s3, version, {"Days": 1, "Tier": "Expedited"}, 1.0, DAY)
    assert err.value.code == "InvalidArgument"  # no Expedited tier for Deep Archive
    assert restore.restore_object(s3, version, {"Days": 2, "Tier": "Bulk"}, 1.0, DAY) == 202
    with pytest.raises(ServiceError) as err:
        restore.restore_object(s3, version, {"Days": 2}, 1.0, DAY)
    assert err.value.code == "RestoreAlreadyInProgress"
    clock.advance(47 * 3600)
    assert not restore.is_readable(version, clock.now())
    clock.advance(3600)
    assert restore.is_readable(version, clock.now())
    assert restore.settle(s3, version) == "completed"
    assert restore.restore_object(s3, version, {"Days": 1}, 1.0, DAY) == 200  # extends
    clock.advance(DAY)
    assert restore.is_readable(version, clock.now())  # until the next midnight UTC
    clock.advance(DAY)
    assert not restore.is_readable(version, clock.now())
    assert restore.settle(s3, version) == "expired"


def test_time_scale_shortens_restores(s3: S3, bucket: Bucket, clock: ManualClock) -> None:
    version = put(s3, bucket, "cold", b"ice", storage_class="GLACIER").version
    restore.restore_object(s3, version, {"Days": 1}, 0.001, DAY)  # Standard: 5 h -> 18 s
    clock.advance(17)
    assert not restore.is_readable(version, clock.now())
    clock.advance(2)
    assert restore.is_readable(version, clock.now())


def test_lifecycle_transitions_expires_and_filters(s3: S3, bucket: Bucket, clock: ManualClock) -> None:
    config = {"Rules": [
        {"ID": "big-logs", "Status": "Enabled",
         "Filter": {"And": {"Prefix": "logs/", "ObjectSizeGreaterThan": 10}},
         "Transitions": [{"Days": 2, "StorageClass": "GLACIER"}]},
        {"ID": "tmp", "Status": "Enabled", "Filter": {"Tag": {"Key": "tmp", "Value": "yes"}},
         "Expiration": {"Days": 1}},
    ]}
    lifecycle_rules.validate(config)
    s3.set_config(bucket, "lifecycle", config)
    put(s3, bucket, "logs/big", b"x" * 100)
    put(s3, bucket, "logs/small", b"x")
    put(s3, bucket, "scratch", b"x", tags={"tmp": "yes"})
    clock.advance(1.5 * DAY)
    outcome = lifecycle.apply(s3, DAY)
    assert [e[:3] for e in outcome.expired] == [("bucket", "scratch", "LifecycleExpiration:Delete")]
    assert [t[:3] for t in outcome.transitioned] == []
    clock.advance(DAY)
    outcome = lifecycle.apply(s3, DAY)
    assert [t[:3] for t in outcome.transitioned] == [("bucket", "logs/big", "GLACIER")]
    assert s3.resolve(bucket, "logs/small").storage_class == "STANDARD"
    assert read(s3, bucket, "logs/small") == b"x"


def test_noncurrent_expiration_keeps_newer_versions(s3: S3, bucket: Bucket, clock: ManualClock) -> None:
    s3.set_versioning(bucket, "Enabled")
    s3.set_config(bucket, "lifecycle", {"Rules": [
        {"ID": "old", "Status": "Enabled", "Filter": {},
         "NoncurrentVersionExpiration": {"NoncurrentDays": 1, "NewerNoncurrentVersions": 1}}]})
    for i in range(4):
        put(s3, bucket, "k", bytes([i]))
        clock.advance(10)
    clock.advance(2 * DAY)
    lifecycle.apply(s3, DAY)
    assert len(s3.store.versions_of(bucket.id, "k")) == 2  # current + 1 newest noncurrent


def test_noncurrent_actions_honour_tag_and_size_filters(
    s3: S3, bucket: Bucket, clock: ManualClock
) -> None:
    """A rule filtered by tag (or size) expires and transitions only the noncurrent versions
    that match, as it would current ones."""
    s3.set_versioning(bucket, "Enabled")
    s3.set_config(bucket, "lifecycle", {"Rules": [
        {"ID": "tagged", "Status": "Enabled",
         "Filter": {"And": {"Prefix": "", "Tags": [{"Key": "tier", "Value": "scratch"}]}},
         "NoncurrentVersionExpiration": {"NoncurrentDays": 1}},
        {"ID": "big", "Status": "Enabled", "Filter": {"ObjectSizeGreaterThan": 3},
         "NoncurrentVersionTransitions": [{"NoncurrentDays": 1, "StorageClass": "GLACIER"}]}]})
    put(s3, bucket, "k", b"kept", tags={"tier": "gold"})
    put(s3, bucket, "k", b"gone", tags={"tier": "scratch"})
    put(s3, bucket, "k", b"xy")  # small
    put(s3, bucket, "k", b"current")
    clock.advance(2 * DAY)
    lifecycle.apply(s3, DAY)
    left = {read(s3, bucket, "k", row[2]): row[8] for row in s3.store.versions_of(bucket.id, "k")}
    assert left == {b"kept": "GLACIER", b"xy": "STANDARD", b"current": "STANDARD"}


@pytest.mark.parametrize(("setting", "target", "size_filter", "moved"), [
    (None, "GLACIER", False, {"big"}),  # the default: nothing under 128 KiB moves
    ("varies_by_storage_class", "GLACIER", False, {"big", "small"}),
    ("varies_by_storage_class", "GLACIER_IR", False, {"big"}),
    (None, "GLACIER", True, {"small"}),  # a rule's own size filter takes precedence
])
def test_small_objects_follow_the_default_minimum_size(
    s3: S3, bucket: Bucket, clock: ManualClock, setting: str | None, target: str,
    size_filter: bool, moved: set[str],
) -> None:
    condition: dict[str, Any] = {"ObjectSizeLessThan": 1024} if size_filter else {"Prefix": ""}
    config: dict[str, Any] = {"Rules": [{"ID": "r", "Status": "Enabled", "Filter": condition,
                                         "Transitions": [{"Days": 1, "StorageClass": target}]}]}
    if setting is not None:
        config[lifecycle.MINIMUM_SIZE_MEMBER] = setting
    s3.set_config(bucket, "lifecycle", config)
    put(s3, bucket, "small", b"x" * 100)
    put(s3, bucket, "big", b"x" * lifecycle.SMALL_OBJECT)
    clock.advance(2 * DAY)
    lifecycle.apply(s3, DAY)
    classes = {key: s3.find(s3.bucket(bucket.name), key).storage_class  # type: ignore[union-attr]
               for key in ("small", "big")}
    assert {key for key, found in classes.items() if found == target} == moved


def test_minimum_transition_age() -> None:
    with pytest.raises(ServiceError) as err:
        lifecycle_rules.validate({"Rules": [{"ID": "x", "Status": "Enabled", "Filter": {},
                                       "Transitions": [{"Days": 5, "StorageClass": "ONEZONE_IA"}]}]})
    assert err.value.code == "InvalidArgument"


def test_a_pass_reads_in_batches_and_sees_every_key_once(
    s3: S3, bucket: Bucket, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lifecycle, "_SCAN_BATCH", 2)
    s3.set_versioning(bucket, "Enabled")
    rules = [
        {"ID": "a", "Status": "Enabled", "Filter": {"Prefix": "a/"}, "Expiration": {"Days": 1}},
        {"ID": "ab", "Status": "Enabled", "Filter": {"Prefix": "a/b"},
         "NoncurrentVersionExpiration": {"NoncurrentDays": 1}},
        {"ID": "off", "Status": "Disabled", "Filter": {}, "Expiration": {"Days": 1}},
    ]
    s3.set_config(bucket, "lifecycle", {"Rules": rules})
    for key in ["0", "a/1", "a/2", "a/b/many", "a/c", "a0", "b/1"]:
        for i in range(3 if key == "a/b/many" else 1):
            put(s3, bucket, key, bytes([i]))
    assert lifecycle._scanned_prefixes(rules) == ["a/"]
    clock.advance(2 * DAY)
    outcome = lifecycle.apply(s3, DAY)
    # Each current version under a/ expired once: a delete marker on top.  The versions that
    # became noncurrent are judged by the next pass.
    assert [e[:3] for e in outcome.expired] == [
        (bucket.name, k, "LifecycleExpiration:DeleteMarkerCreated")
        for k in ("a/1", "a/2", "a/b/many", "a/c")]
    assert all(e[3] is not None and e[3].delete_marker for e in outcome.expired)
    clock.advance(2 * DAY)
    outcome = lifecycle.apply(s3, DAY)
    assert [e[:3] for e in outcome.expired] == [
        (bucket.name, "a/b/many", "LifecycleExpiration:Delete")] * 3
    assert [v[4] for v in s3.store.versions_of(bucket.id, "a/b/many")] == [1]  # a delete marker
    assert len(s3.store.versions_of(bucket.id, "a/1")) == 2  # the a/ rule keeps noncurrent ones
    for untouched in ("0", "a0", "b/1"):
        assert len(s3.store.versions_of(bucket.id, untouched)) == 1


def test_incomplete_uploads_are_aborted_after_their_days(
    s3: S3, bucket: Bucket, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store, "UPLOAD_BATCH", 2)  # batch ends inside the prefix's uploads
    config = {"Rules": [{"ID": "tmp", "Status": "Enabled", "Filter": {"Prefix": "tmp/"},
                         "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 2}}]}
    lifecycle_rules.validate(config)
    s3.set_config(bucket, "lifecycle", config)
    multipart = Multipart(s3)
    old = [multipart.create(bucket, key, "STANDARD", {})
           for key in ("tmp/a", "tmp/a", "tmp/b", "tmp/c/d", "tmp/e")]
    outside = [multipart.create(bucket, key, "STANDARD", {}) for key in ("a", "tmp", "tmq")]
    clock.advance(1.5 * DAY)
    young = multipart.create(bucket, "tmp/young", "STANDARD", {})
    assert lifecycle.apply(s3, DAY).aborted == []
    clock.advance(DAY)
    outcome = lifecycle.apply(s3, DAY)
    assert outcome.aborted == [(bucket.name, u.key) for u in old]
    left = [row[0] for row in s3.store.each_upload(bucket.id, "", None)]
    assert left == [u.upload_id for u in (outside[0], outside[1], young, outside[2])]
    with pytest.raises(ServiceError):  # NoSuchUpload
        multipart.upload(bucket, "tmp/a", old[0].upload_id)


def test_candidates_are_what_some_rule_might_act_on_now() -> None:
    now, day = 100 * DAY, DAY
    where, values = lifecycle._candidates_filter([
        {"Status": "Enabled", "Transitions": [{"Days": 30, "StorageClass": "GLACIER"}],
         "Expiration": {"Days": 90}},
        {"Status": "Enabled", "NoncurrentVersionExpiration": {"NoncurrentDays": 7}},
        {"Status": "Disabled", "Expiration": {"Days": 1}},
    ], now, day)
    assert where == "(is_latest=1 AND last_modified<=?) OR (is_latest=0 AND last_modified<=?)"
    assert values == [70 * DAY, 93 * DAY]  # the youngest age at which anything can be due
    passed = {"Status": "Enabled", "Expiration": {"Date": 50 * DAY, "ExpiredObjectDeleteMarker": True}}
    assert lifecycle._candidates_filter([passed], now, day) == (
        "is_latest=1 OR (is_latest=1 AND delete_marker=1)", [])
    future = {"Status": "Enabled", "Expiration": {"Date": 150 * DAY}}
    assert lifecycle._candidates_filter([future], now, day) == ("0", [])
    assert successor("logs/") == "logs0"
    assert successor("a\U0010ffff") == "b"
    assert successor("") is None
    assert successor("a\ud7ff") == "a\ue000"  # no surrogate in between


def test_a_disabled_rule_removes_no_delete_marker(s3: S3, bucket: Bucket, clock: ManualClock) -> None:
    s3.set_versioning(bucket, "Enabled")
    put(s3, bucket, "gone", b"x")
    s3.delete(s3.bucket(bucket.name), "gone")  # a delete marker on top
    for row in s3.store.versions_of(bucket.id, "gone"):
        if not row[4]:  # the version under it goes: only the marker is left
            s3.delete(s3.bucket(bucket.name), "gone", row[2])
    s3.set_config(bucket, "lifecycle", {"Rules": [
        {"ID": "off", "Status": "Disabled", "Filter": {},
         "Expiration": {"ExpiredObjectDeleteMarker": True}},
        # Enabled, over every key, but its tag filter keeps it off the marker (an Expiration
        # by Days removes old enough expired object delete markers it matches).
        {"ID": "on", "Status": "Enabled", "Filter": {"Tag": {"Key": "t", "Value": "v"}},
         "Expiration": {"Days": 1}},
    ]})
    clock.advance(2 * DAY)
    lifecycle.apply(s3, DAY)
    assert len(s3.store.versions_of(bucket.id, "gone")) == 1  # the lone marker stays


class _Recorder:
    """A Notifier stand-in that keeps what the worker emits."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str, str | None]] = []

    def emit(self, bucket: Bucket, event: str, key: str, version: Version | None, **_: object) -> None:
        self.events.append((event, key, version.version_id if version is not None else None))


def test_the_worker_emits_lifecycle_and_restore_events(
    s3: S3, bucket: Bucket, clock: ManualClock
) -> None:
    s3.set_versioning(bucket, "Enabled")
    s3.set_config(bucket, "notification", {"QueueConfigurations": [
        {"QueueArn": "arn:aws:sqs:us-east-1:000000000000:q", "Events": ["s3:*"]}]})
    s3.set_config(bucket, "lifecycle", {"Rules": [
        {"ID": "x", "Status": "Enabled", "Filter": {"Prefix": "tmp/"}, "Expiration": {"Days": 1},
         "NoncurrentVersionExpiration": {"NoncurrentDays": 1}}]})
    put(s3, bucket, "tmp/a", b"x")
    cold = put(s3, bucket, "cold", b"ice", storage_class="GLACIER").version
    restore.restore_object(s3, cold, {"Days": 1, "Tier": "Expedited"}, 1.0, DAY)
    recorder = _Recorder()
    workers = S3Workers(s3, DAY, recorder)  # type: ignore[arg-type]
    clock.advance(DAY + 60)
    workers.run_once()
    marker = s3.store.versions_of(bucket.id, "tmp/a")[0]
    assert ("LifecycleExpiration:DeleteMarkerCreated", "tmp/a", marker[2]) in recorder.events
    assert ("ObjectRestore:Completed", "cold", cold.version_id) in recorder.events
    recorder.events.clear()
    clock.advance(2 * DAY)
    workers.run_once()
    assert ("ObjectRestore:Delete", "cold", cold.version_id) in recorder.events
    assert [e[0] for e in recorder.events if e[1] == "tmp/a"] == ["LifecycleExpiration:Delete"]
