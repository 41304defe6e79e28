"""Restores and lifecycle rules on a manual clock."""

from __future__ import annotations

import pytest
from s3_helpers import put, read

from headwater.core.clock import ManualClock
from headwater.core.errors import ServiceError
from headwater.services.s3 import lifecycle, restore
from headwater.services.s3.model import S3, Bucket

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
    lifecycle.validate(config)
    s3.set_config(bucket, "lifecycle", config)
    put(s3, bucket, "logs/big", b"x" * 100)
    put(s3, bucket, "logs/small", b"x")
    put(s3, bucket, "scratch", b"x", tags={"tmp": "yes"})
    clock.advance(1.5 * DAY)
    outcome = lifecycle.apply(s3, DAY)
    assert outcome.expired == [("bucket", "scratch")] and outcome.transitioned == []
    clock.advance(DAY)
    outcome = lifecycle.apply(s3, DAY)
    assert outcome.transitioned == [("bucket", "logs/big", "GLACIER")]
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


def test_minimum_transition_age() -> None:
    with pytest.raises(ServiceError) as err:
        lifecycle.validate({"Rules": [{"ID": "x", "Status": "Enabled", "Filter": {},
                                       "Transitions": [{"Days": 5, "StorageClass": "ONEZONE_IA"}]}]})
    assert err.value.code == "InvalidArgument"
