"""Lifecycle actions and restores on a manual clock: Date-based actions, expired object delete
markers, NewerNoncurrentVersions on transitions, the transition targets S3 accepts, the
configurations PutBucketLifecycleConfiguration refuses, a restored copy's expiry and the
requests RestoreObject refuses; and the archive time scale reaching the S3 adapter from the
command line and the environment."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from click.testing import CliRunner
from s3_helpers import adapter, ctx, put

from headwater import cli
from headwater.core.clock import ManualClock
from headwater.core.errors import ServiceError
from headwater.gateway import server
from headwater.gateway.app import Gateway
from headwater.protocol.serialize.s3 import STATUS_KEY
from headwater.services.s3 import lifecycle
from headwater.services.s3.model import S3, Bucket, Version
from headwater.services.s3.workers import S3Workers

DAY = 86400.0


def _epoch(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def _classes(s3: S3, bucket: Bucket, key: str) -> list[str]:
    """The storage classes of ``key``'s versions, newest first."""
    return [row[8] for row in s3.store.versions_of(bucket.id, key)]


class _Recorder:
    """A Notifier stand-in that keeps what the worker emits."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str, Version | None]] = []

    def emit(self, bucket: Bucket, event: str, key: str, version: Version | None, **_: object) -> None:
        self.events.append((event, key, version))


def _notifying(s3: S3, bucket: Bucket) -> tuple[S3Workers, _Recorder]:
    s3.set_config(bucket, "notification", {"QueueConfigurations": [
        {"QueueArn": "arn:aws:sqs:us-east-1:000000000000:q", "Events": ["s3:*"]}]})
    recorder = _Recorder()
    return S3Workers(s3, DAY, recorder), recorder  # type: ignore[arg-type]


# -- Date-based actions -------------------------------------------------------------------------

def test_date_based_actions_apply_from_their_date(s3: S3, bucket: Bucket, clock: ManualClock) -> None:
    """A Date action does nothing before its date and applies to every matching object from
    then on.  The configuration goes through PutBucketLifecycleConfiguration, so the pass reads
    the dates back from the stored JSON."""
    clock.set(_epoch("2024-03-10T15:00:00"))
    adapter(s3).put_bucket_lifecycle_configuration(ctx(), {
        "Bucket": bucket.name,
        "TransitionDefaultMinimumObjectSize": "varies_by_storage_class",
        "LifecycleConfiguration": {"Rules": [
            {"ID": "archive", "Status": "Enabled", "Filter": {"Prefix": "logs/"},
             "Transitions": [{"Date": datetime(2024, 3, 12, tzinfo=UTC),
                              "StorageClass": "GLACIER"}]},
            {"ID": "expire", "Status": "Enabled", "Filter": {"Prefix": "tmp/"},
             "Expiration": {"Date": datetime(2024, 3, 12, tzinfo=UTC)}},
        ]}})
    put(s3, bucket, "logs/a", b"log")
    put(s3, bucket, "tmp/b", b"tmp")
    put(s3, bucket, "keep", b"keep")
    clock.set(_epoch("2024-03-11T23:59:59"))
    outcome = lifecycle.apply(s3, DAY)
    assert (outcome.transitioned, outcome.expired) == ([], [])
    assert _classes(s3, bucket, "logs/a") == ["STANDARD"] and _classes(s3, bucket, "tmp/b")
    clock.set(_epoch("2024-03-12T00:00:00"))
    outcome = lifecycle.apply(s3, DAY)
    assert [t[:3] for t in outcome.transitioned] == [(bucket.name, "logs/a", "GLACIER")]
    assert [e[:3] for e in outcome.expired] == [(bucket.name, "tmp/b", "LifecycleExpiration:Delete")]
    assert _classes(s3, bucket, "tmp/b") == []
    assert _classes(s3, bucket, "keep") == ["STANDARD"]
    # Not a one-time action: an object written after the date is acted on by the next pass.
    put(s3, bucket, "tmp/later", b"x")
    assert [e[1] for e in lifecycle.apply(s3, DAY).expired] == ["tmp/later"]


# -- expired object delete markers --------------------------------------------------------------

def _lone_marker(s3: S3, bucket: Bucket, key: str) -> None:
    """``key`` with a delete marker as its only version (an expired object delete marker)."""
    put(s3, bucket, key, b"x")
    s3.delete(s3.bucket(bucket.name), key)
    for row in s3.store.versions_of(bucket.id, key):
        if not row[4]:
            s3.delete(s3.bucket(bucket.name), key, row[2])


def test_expired_object_delete_marker_is_removed_and_reported(
    s3: S3, bucket: Bucket, clock: ManualClock
) -> None:
    s3.set_versioning(bucket, "Enabled")
    _lone_marker(s3, bucket, "lone")
    put(s3, bucket, "kept", b"x")
    s3.delete(s3.bucket(bucket.name), "kept")  # a delete marker over a noncurrent version
    marker_id = s3.store.versions_of(bucket.id, "lone")[0][2]
    s3.set_config(bucket, "lifecycle", {"Rules": [
        {"ID": "markers", "Status": "Enabled", "Filter": {},
         "Expiration": {"ExpiredObjectDeleteMarker": True}}]})
    workers, recorder = _notifying(s3, bucket)
    workers.run_once()
    assert s3.store.versions_of(bucket.id, "lone") == []
    assert [v[4] for v in s3.store.versions_of(bucket.id, "kept")] == [1, 0]  # untouched
    # The removal of the marker is a version permanently deleted by lifecycle.
    assert [(e, k, v.version_id if v else None, v.delete_marker if v else None)
            for e, k, v in recorder.events] == [
        ("LifecycleExpiration:Delete", "lone", marker_id, True)]


def test_an_expiration_by_days_removes_a_lone_marker_once_it_is_old_enough(
    s3: S3, bucket: Bucket, clock: ManualClock
) -> None:
    """With Days, S3 cleans up expired object delete markers "when the delete markers are old
    enough to satisfy the age criteria"; a tag filter the marker cannot match keeps it."""
    s3.set_versioning(bucket, "Enabled")
    _lone_marker(s3, bucket, "logs/gone")
    _lone_marker(s3, bucket, "tagged/gone")
    s3.set_config(bucket, "lifecycle", {"Rules": [
        {"ID": "logs", "Status": "Enabled", "Filter": {"Prefix": "logs/"},
         "Expiration": {"Days": 3}},
        {"ID": "tagged", "Status": "Enabled",
         "Filter": {"And": {"Prefix": "tagged/", "Tags": [{"Key": "t", "Value": "v"}]}},
         "Expiration": {"Days": 3}}]})
    clock.advance(2 * DAY)
    assert lifecycle.apply(s3, DAY).expired == []
    assert len(s3.store.versions_of(bucket.id, "logs/gone")) == 1
    clock.advance(DAY)
    outcome = lifecycle.apply(s3, DAY)
    assert [e[:3] for e in outcome.expired] == [
        (bucket.name, "logs/gone", "LifecycleExpiration:Delete")]
    assert s3.store.versions_of(bucket.id, "logs/gone") == []
    assert len(s3.store.versions_of(bucket.id, "tagged/gone")) == 1


# -- NewerNoncurrentVersions on transitions -----------------------------------------------------

def test_newer_noncurrent_versions_hold_back_noncurrent_transitions(
    s3: S3, bucket: Bucket, clock: ManualClock
) -> None:
    s3.set_versioning(bucket, "Enabled")
    s3.set_config(bucket, "lifecycle", {
        lifecycle.MINIMUM_SIZE_MEMBER: "varies_by_storage_class",
        "Rules": [{"ID": "cold", "Status": "Enabled", "Filter": {"Prefix": ""},
                   "NoncurrentVersionTransitions": [
                       {"NoncurrentDays": 1, "StorageClass": "GLACIER",
                        "NewerNoncurrentVersions": 2}]}]})
    for i in range(5):
        put(s3, bucket, "k", bytes([i]))
        clock.advance(10)
    clock.advance(2 * DAY)
    outcome = lifecycle.apply(s3, DAY)
    # The current version and the two newest noncurrent ones stay where they are.
    assert _classes(s3, bucket, "k") == ["STANDARD", "STANDARD", "STANDARD", "GLACIER", "GLACIER"]
    assert [t[:3] for t in outcome.transitioned] == [(bucket.name, "k", "GLACIER")] * 2


# -- which transition targets a configuration may name ------------------------------------------

@pytest.mark.parametrize("action", ["Transitions", "NoncurrentVersionTransitions"])
@pytest.mark.parametrize("target", ["STANDARD", "REDUCED_REDUNDANCY", "FROZEN", None])
def test_a_transition_to_a_class_that_is_no_transition_target_is_malformed(
    s3: S3, bucket: Bucket, action: str, target: str | None
) -> None:
    days = "Days" if action == "Transitions" else "NoncurrentDays"
    transition: dict[str, Any] = {days: 30}
    if target is not None:
        transition["StorageClass"] = target
    with pytest.raises(ServiceError) as err:
        adapter(s3).put_bucket_lifecycle_configuration(ctx(), {
            "Bucket": bucket.name, "LifecycleConfiguration": {"Rules": [
                {"ID": "r", "Status": "Enabled", "Filter": {}, action: [transition]}]}})
    assert (err.value.code, err.value.status) == ("MalformedXML", 400)
    assert "lifecycle" not in s3.bucket(bucket.name).config


# What the S3 model lets a transition name.
_TRANSITION_TARGETS = botocore.session.get_session().get_service_model("s3").shape_for(
    "TransitionStorageClass").enum


@pytest.mark.parametrize("target", _TRANSITION_TARGETS)
def test_every_transition_storage_class_is_accepted(s3: S3, bucket: Bucket, target: str) -> None:
    adapter(s3).put_bucket_lifecycle_configuration(ctx(), {
        "Bucket": bucket.name, "LifecycleConfiguration": {"Rules": [
            {"ID": "r", "Status": "Enabled", "Filter": {},
             "Transitions": [{"Days": 30, "StorageClass": target}],
             "NoncurrentVersionTransitions": [{"NoncurrentDays": 30, "StorageClass": target}]}]}})
    assert s3.bucket(bucket.name).config["lifecycle"]["Rules"][0]["Transitions"][0][
        "StorageClass"] == target


# -- what PutBucketLifecycleConfiguration refuses -----------------------------------------------

_MIDNIGHT = datetime(2030, 1, 1, tzinfo=UTC)
_NOON = datetime(2030, 1, 1, 12, tzinfo=UTC)
_TAGGED = {"And": {"Prefix": "logs/", "Tags": [{"Key": "k", "Value": "v"}]}}
_MIXED = ("Found mixed 'Date' and 'Days' based {} actions in lifecycle rule for filter "
          "'(prefix=logs/)'")


def _put_rule(s3: S3, bucket: Bucket, **rule: Any) -> None:
    rule.setdefault("Filter", {"Prefix": "logs/"})
    adapter(s3).put_bucket_lifecycle_configuration(ctx(), {
        "Bucket": bucket.name,
        "LifecycleConfiguration": {"Rules": [{"ID": "r", "Status": "Enabled", **rule}]}})


@pytest.mark.parametrize(("rule", "code", "message"), [
    # ExpiredObjectDeleteMarker is a choice beside Days and Date (API_LifecycleExpiration).
    ({"Expiration": {"Days": 5, "ExpiredObjectDeleteMarker": True}}, "MalformedXML", None),
    ({"Expiration": {"Date": _MIDNIGHT, "ExpiredObjectDeleteMarker": False}}, "MalformedXML",
     None),
    ({"Filter": _TAGGED, "Expiration": {"ExpiredObjectDeleteMarker": True}},
     "InvalidRequest", "ExpiredObjectDeleteMarker cannot be specified with Tags."),
    ({"Filter": {"Tag": {"Key": "k", "Value": "v"}},
      "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7}},
     "InvalidRequest", "AbortIncompleteMultipartUpload cannot be specified with Tags."),
    # "The time is always midnight UTC."
    ({"Expiration": {"Date": _NOON}}, "InvalidArgument", "'Date' must be at midnight GMT"),
    ({"Transitions": [{"Date": datetime(2030, 1, 1, 0, 0, 1, tzinfo=UTC),
                       "StorageClass": "GLACIER"}]},
     "InvalidArgument", "'Date' must be at midnight GMT"),
    # 30 days before the infrequent-access classes, for noncurrent versions too.
    ({"NoncurrentVersionTransitions": [{"NoncurrentDays": 29, "StorageClass": "ONEZONE_IA"}]},
     "InvalidArgument", ("'NoncurrentDays' in NoncurrentVersionTransition action must be "
                         "greater than or equal to 30 for storageClass 'ONEZONE_IA'")),
    ({"Transitions": [{"Days": 29, "StorageClass": "STANDARD_IA"}]}, "InvalidArgument",
     ("'Days' in Transition action must be greater than or equal to 30 for storageClass "
      "'STANDARD_IA'")),
    # One transition per class; Days or Date throughout a rule.
    ({"Transitions": [{"Days": 30, "StorageClass": "GLACIER"},
                      {"Days": 60, "StorageClass": "GLACIER"}]}, "InvalidRequest",
     ("'StorageClass' must be different for 'Transition' actions in same 'Rule' with filter "
      "'(prefix=logs/)'")),
    ({"Filter": _TAGGED,
      "NoncurrentVersionTransitions": [{"NoncurrentDays": 30, "StorageClass": "GLACIER"},
                                       {"NoncurrentDays": 90, "StorageClass": "GLACIER"}]},
     "InvalidRequest", ("'StorageClass' must be different for 'NoncurrentVersionTransition' "
                        "actions in same 'Rule' with filter '(prefix=logs/ and tag={key=k, "
                        "value=v})'")),
    ({"Transitions": [{"Days": 30, "StorageClass": "GLACIER"},
                      {"Date": _MIDNIGHT, "StorageClass": "DEEP_ARCHIVE"}]},
     "InvalidRequest", _MIXED.format("Transition")),
    ({"Transitions": [{"Date": _MIDNIGHT, "StorageClass": "GLACIER"}],
      "Expiration": {"Days": 365}}, "InvalidRequest", _MIXED.format("Expiration and Transition")),
    ({"Transitions": [{"Days": 1, "Date": _MIDNIGHT, "StorageClass": "GLACIER"}]},
     "MalformedXML", None),
    # An object transitions before it expires (S3's current wording).
    ({"Transitions": [{"Days": 30, "StorageClass": "GLACIER"}], "Expiration": {"Days": 30}},
     "InvalidArgument", ("'Days' in the Expiration action for filter '(prefix=logs/)' must be greater "
                         "than 'Days' in the Transition action")),
    # Counts that must be positive, or not negative.
    ({"Expiration": {"Days": 0}}, "InvalidArgument",
     "'Days' for Expiration action must be a positive integer"),
    ({"NoncurrentVersionExpiration": {"NoncurrentDays": 0}}, "InvalidArgument",
     "'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive integer"),
    ({"AbortIncompleteMultipartUpload": {"DaysAfterInitiation": -1}}, "InvalidArgument",
     ("'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must be a positive "
      "integer")),
    ({"Transitions": [{"Days": -1, "StorageClass": "GLACIER"}]}, "InvalidArgument",
     "'Days' in Transition action must be nonnegative"),
    ({"NoncurrentVersionTransitions": [{"NoncurrentDays": -1, "StorageClass": "GLACIER"}]},
     "InvalidArgument", ("'NoncurrentDays' in NoncurrentVersionTransition action must be "
                         "nonnegative")),
])
def test_a_configuration_s3_refuses_is_not_stored(
    s3: S3, bucket: Bucket, rule: dict[str, Any], code: str, message: str | None
) -> None:
    with pytest.raises(ServiceError) as err:
        _put_rule(s3, bucket, **rule)
    assert (err.value.code, err.value.status) == (code, 400)
    if message is not None:
        assert err.value.message == message
    assert "lifecycle" not in s3.bucket(bucket.name).config


@pytest.mark.parametrize("rule", [
    {"Transitions": [{"Days": 30, "StorageClass": "STANDARD_IA"},
                     {"Days": 60, "StorageClass": "GLACIER"}],
     "Expiration": {"Days": 365}},
    {"Transitions": [{"Date": _MIDNIGHT, "StorageClass": "GLACIER"}],
     "Expiration": {"Date": datetime(2031, 1, 1, tzinfo=UTC)}},
    {"Filter": {}, "Expiration": {"ExpiredObjectDeleteMarker": True},
     "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
     "NoncurrentVersionExpiration": {"NoncurrentDays": 1}},
    {"Filter": _TAGGED, "Expiration": {"Days": 1},
     "NoncurrentVersionTransitions": [{"NoncurrentDays": 0, "StorageClass": "INTELLIGENT_TIERING"},
                                      {"NoncurrentDays": 30, "StorageClass": "ONEZONE_IA"}]},
])
def test_the_edges_s3_accepts_are_stored(s3: S3, bucket: Bucket, rule: dict[str, Any]) -> None:
    """Zero days before INTELLIGENT_TIERING, exactly 30 before an infrequent-access class and
    30 in it before the next (S3 refuses a warmer class after a colder one), a midnight
    Date, and ExpiredObjectDeleteMarker and AbortIncompleteMultipartUpload without tags."""
    _put_rule(s3, bucket, **rule)
    assert len(s3.bucket(bucket.name).config["lifecycle"]["Rules"]) == 1


# -- restores -----------------------------------------------------------------------------------

def test_a_restored_copy_expires_at_the_midnight_after_its_days(
    s3: S3, bucket: Bucket, clock: ManualClock
) -> None:
    """x-amz-restore's expiry-date is the first midnight UTC after completion + Days, in RFC
    1123 form; extending a restored copy rounds the same way."""
    ops = adapter(s3)
    clock.set(_epoch("2024-12-17T10:30:00"))
    put(s3, bucket, "cold", b"ice", storage_class="GLACIER")
    started = ops.restore_object(ctx(), {"Bucket": bucket.name, "Key": "cold", "RestoreRequest": {
        "Days": 3, "GlacierJobParameters": {"Tier": "Expedited"}}})
    assert started == {STATUS_KEY: 202}
    head = {"Bucket": bucket.name, "Key": "cold"}
    assert ops.head_object(ctx(), head)["Restore"] == 'ongoing-request="true"'
    clock.advance(5 * 60)  # Expedited: done at 10:35, so 3 days later is Dec 20 10:35
    assert ops.head_object(ctx(), head)["Restore"] == (
        'ongoing-request="false", expiry-date="Sat, 21 Dec 2024 00:00:00 GMT"')
    clock.set(_epoch("2024-12-20T23:59:59"))
    assert ops.get_object(ctx(), head)["Body"] == b"ice"
    # Extended on Dec 20 23:59:59 for 1 day: Dec 21 23:59:59, rounded to Dec 22 00:00.
    ops.restore_object(ctx(), {**head, "RestoreRequest": {"Days": 1}})
    assert ops.head_object(ctx(), head)["Restore"] == (
        'ongoing-request="false", expiry-date="Sun, 22 Dec 2024 00:00:00 GMT"')
    clock.set(_epoch("2024-12-22T00:00:00"))
    assert "Restore" not in ops.head_object(ctx(), head)
    with pytest.raises(ServiceError) as err:
        ops.get_object(ctx(), head)
    assert err.value.code == "InvalidObjectState"


@pytest.mark.parametrize("request_", [{}, {"Days": 0}, {"GlacierJobParameters": {"Tier": "Bulk"}}])
def test_a_restore_without_days_is_malformed(
    s3: S3, bucket: Bucket, request_: dict[str, Any]
) -> None:
    put(s3, bucket, "cold", b"ice", storage_class="DEEP_ARCHIVE")
    with pytest.raises(ServiceError) as err:
        adapter(s3).restore_object(ctx(), {"Bucket": bucket.name, "Key": "cold",
                                           "RestoreRequest": request_})
    assert (err.value.code, err.value.status) == ("MalformedXML", 400)
    assert "restore" not in s3.resolve(s3.bucket(bucket.name), "cold").meta


# -- the archive time scale from the command line -----------------------------------------------

@pytest.mark.parametrize(("flag", "variable", "scale"), [
    (None, None, 1.0),
    ("0.001", None, 0.001),
    (None, "0.01", 0.01),
    ("0.5", "0.01", 0.5),  # the flag wins over the environment
])
def test_the_archive_time_scale_reaches_the_s3_adapter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, flag: str | None, variable: str | None,
    scale: float,
) -> None:
    """``headwater serve --archive-time-scale`` / ``HEADWATER_ARCHIVE_TIME_SCALE`` end up in
    the settings RestoreObject reads (the server itself is not started)."""
    served: list[Gateway] = []
    monkeypatch.setattr(server, "serve", served.append)
    monkeypatch.delenv("HEADWATER_ARCHIVE_TIME_SCALE", raising=False)
    args = ["serve", "--data-dir", str(tmp_path)]
    if flag is not None:
        args += ["--archive-time-scale", flag]
    env = {"HEADWATER_ARCHIVE_TIME_SCALE": variable} if variable is not None else {}
    result = CliRunner().invoke(cli.main, args, env=env)
    assert result.exit_code == 0, result.output
    (gateway,) = served
    try:
        assert gateway.env is not None
        s3_adapter = gateway.env.adapters["s3"]
        assert s3_adapter.settings.archive_time_scale == scale
    finally:
        gateway.store.close()
