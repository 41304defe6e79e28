"""Any lifecycle configuration PutBucketLifecycleConfiguration takes, the lifecycle worker can
apply, at any age of the objects, without failing.

The worker runs in the background long after the configuration was accepted, so a rule that
validates but that the worker cannot handle would fail silently, every pass, for as long as
the bucket exists.  Hypothesis builds configurations of every kind of rule (filters by
prefix, tag, size and ``And``; expirations and transitions by days or date; noncurrent
actions with ``NewerNoncurrentVersions``; expired delete markers; aborts of multipart
uploads), the adapter keeps or refuses each, and a kept one is applied over a versioned
bucket of current and noncurrent versions, a delete marker, tagged, sized and archived
objects and an upload in progress, days and years apart.  Afterwards every version left
still reads whole.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from s3_helpers import adapter, ctx, new_s3, put

from headwater.core.errors import ServiceError
from headwater.services.s3 import lifecycle
from headwater.services.s3.model import S3
from headwater.services.s3.multipart import Multipart

DAY = 86400.0
CLASSES = ["STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER_IR", "GLACIER",
           "DEEP_ARCHIVE", "STANDARD", "COLD"]
# Mostly values S3 takes, with the edges it refuses now and then: the point is to reach the
# worker with as many kinds of accepted rule as possible.
days = st.integers(min_value=1, max_value=400) | st.sampled_from([0, -1, 1, 30, 90])
dates = st.sampled_from(["2023-11-15T00:00:00Z", "2030-01-01T00:00:00Z", "2023-11-14T00:00:00Z",
                         "2023-11-15T12:00:00Z"])
sizes = st.integers(min_value=-1, max_value=5000)
tag = st.fixed_dictionaries({"Key": st.sampled_from(["team", "tier"]),
                             "Value": st.sampled_from(["a", "b", ""])})
storage_class = st.sampled_from(CLASSES)


def one_of_members(**members: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """A structure holding exactly one of ``members`` (S3's "exactly one" elements)."""
    return st.one_of(*(value.map(lambda v, name=name: {name: v})
                       for name, value in members.items()))


def optional(**members: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({}, optional=members)


filters = one_of_members(
    Prefix=st.sampled_from(["", "logs/", "a"]),
    Tag=tag,
    ObjectSizeGreaterThan=sizes,
    ObjectSizeLessThan=sizes,
    And=optional(Prefix=st.sampled_from(["", "logs/"]),
                 Tags=st.lists(tag, max_size=2, unique_by=lambda t: t["Key"]),
                 ObjectSizeGreaterThan=sizes, ObjectSizeLessThan=sizes),
)
ACTIONS = {
    "Expiration": one_of_members(Days=days, Date=dates, ExpiredObjectDeleteMarker=st.booleans()),
    "Transitions": st.lists(st.one_of(
        st.fixed_dictionaries({"Days": days, "StorageClass": storage_class}),
        st.fixed_dictionaries({"Date": dates, "StorageClass": storage_class})),
        min_size=1, max_size=2),
    "NoncurrentVersionTransitions": st.lists(st.fixed_dictionaries(
        {"NoncurrentDays": days, "StorageClass": storage_class},
        optional={"NewerNoncurrentVersions": st.integers(min_value=0, max_value=3)}),
        min_size=1, max_size=2),
    "NoncurrentVersionExpiration": st.fixed_dictionaries(
        {"NoncurrentDays": days},
        optional={"NewerNoncurrentVersions": st.integers(min_value=0, max_value=3)}),
    "AbortIncompleteMultipartUpload": st.fixed_dictionaries({"DaysAfterInitiation": days}),
}
# At least one action (a rule without any is refused before anything else is looked at).
actions = st.sampled_from(sorted(ACTIONS)).flatmap(
    lambda first: st.fixed_dictionaries({first: ACTIONS[first]}, optional={
        name: value for name, value in ACTIONS.items() if name != first}))


@st.composite
def rules(draw: st.DrawFn, number: int) -> dict[str, Any]:
    rule = {"ID": f"rule-{number}", "Status": draw(st.sampled_from(["Enabled", "Enabled",
                                                                       "Disabled"]))}
    rule.update(draw(one_of_members(Filter=filters, Prefix=st.sampled_from(["", "logs/"]))))
    rule.update(draw(actions))
    return rule


configurations = st.integers(min_value=1, max_value=3).flatmap(
    lambda count: st.tuples(*(rules(n) for n in range(count)))).map(
    lambda found: {"Rules": list(found)})


EXAMPLES = int(os.environ.get("HEADWATER_LIFECYCLE_FUZZ_EXAMPLES", "300"))


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(configuration=configurations,
       ages=st.lists(st.sampled_from([0.5, 1, 2, 31, 91, 400, 4000]), min_size=1, max_size=4))
def test_any_accepted_configuration_applies_at_any_age(configuration: dict[str, Any],
                                                        ages: list[float]) -> None:
    event("applied" if _in_a_bucket(configuration, ages) is not None else "refused")


def test_a_plain_expiration_is_kept_and_applied() -> None:
    # The property above passes for any configuration refused; this one must be kept, and
    # its expiration must happen (the current "logs/a" gets a delete marker).
    listed = _in_a_bucket({"Rules": [{"ID": "r", "Status": "Enabled",
                                      "Filter": {"Prefix": "logs/"},
                                      "Expiration": {"Days": 1}}]}, [2])
    assert listed is not None
    assert [(m["Key"], m["IsLatest"]) for m in listed["DeleteMarkers"]] == [
        ("big", True), ("logs/a", True)]


def _in_a_bucket(configuration: dict[str, Any], ages: list[float]) -> dict[str, Any] | None:
    """ListObjectVersions after ``_apply``, or None when the configuration was refused."""
    with tempfile.TemporaryDirectory() as tmp:
        s3 = new_s3(Path(tmp))
        try:
            return _apply(s3, configuration, ages)
        finally:
            if s3.blobs.sweeper is not None:  # done with the directory before it goes
                s3.blobs.sweeper.join()


def _apply(s3: S3, configuration: dict[str, Any], ages: list[float]) -> dict[str, Any] | None:
    """The bucket's objects, the configuration PUT, and (if kept) the worker's passes; the
    versions left, as ListObjectVersions shows them."""
    ops = adapter(s3)
    ops.put_bucket_versioning(ctx(), {"Bucket": "bucket",
                                      "VersioningConfiguration": {"Status": "Enabled"}})
    bucket = s3.bucket("bucket")
    for key, size in (("logs/a", 10), ("logs/a", 2000), ("a", 0), ("big", 4096)):
        put(s3, bucket, key, b"x" * size)
    put(s3, bucket, "cold", b"c", storage_class="GLACIER")
    ops.put_object_tagging(ctx(), {"Bucket": "bucket", "Key": "a",
                                   "Tagging": {"TagSet": [{"Key": "team", "Value": "a"}]}})
    ops.delete_object(ctx(), {"Bucket": "bucket", "Key": "big"})  # a delete marker
    Multipart(s3).create(bucket, "logs/upload", "STANDARD", {})
    try:
        ops.put_bucket_lifecycle_configuration(ctx(), {
            "Bucket": "bucket", "LifecycleConfiguration": configuration})
    except ServiceError as refused:
        assert refused.status == 400, refused
        return None
    for age in ages:
        s3.clock.advance(age * DAY)  # type: ignore[attr-defined]
        lifecycle.apply(s3, DAY)
    # Whatever the passes expired or moved, every version left still has all its bytes.
    listed = ops.list_object_versions(ctx(), {"Bucket": "bucket"})
    for entry in listed.get("Versions", []):
        version = s3.resolve(s3.bucket("bucket"), entry["Key"], entry["VersionId"])
        assert len(b"".join(s3.read(version, 0, version.size))) == entry["Size"]
    return listed
