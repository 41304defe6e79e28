"""The S3 domain: versions, delete markers, the null version, shared blobs, scrubbing."""

from __future__ import annotations

import pytest
from s3_helpers import put, read

from headwater.core.errors import ServiceError
from headwater.services.s3.model import S3, Bucket


def test_unversioned_put_replaces_and_frees_the_old_file(s3: S3, bucket: Bucket) -> None:
    first = put(s3, bucket, "k", b"one").version
    old_file = s3.blobs.path(first.segment_names[0])
    put(s3, bucket, "k", b"two")
    assert read(s3, bucket, "k") == b"two"
    assert not old_file.exists()
    assert s3.delete(bucket, "k") is not None
    with pytest.raises(ServiceError) as err:
        read(s3, bucket, "k")
    assert err.value.code == "NoSuchKey"


def test_versioned_bucket_keeps_versions_and_adds_markers(s3: S3, bucket: Bucket) -> None:
    put(s3, bucket, "k", b"null")
    s3.set_versioning(bucket, "Enabled")
    v1 = put(s3, bucket, "k", b"v1").version.version_id
    marker = s3.delete(s3.bucket("bucket"), "k")
    assert marker is not None and marker.delete_marker
    with pytest.raises(ServiceError) as err:
        read(s3, bucket, "k")
    assert err.value.code == "NoSuchKey" and err.value.headers["x-amz-delete-marker"] == "true"
    with pytest.raises(ServiceError) as err:
        read(s3, bucket, "k", marker.version_id)
    assert err.value.code == "MethodNotAllowed"
    assert read(s3, bucket, "k", v1) == b"v1"
    assert read(s3, bucket, "k", "null") == b"null"
    s3.delete(bucket, "k", marker.version_id)
    assert read(s3, bucket, "k") == b"v1"


def test_suspended_bucket_overwrites_the_null_version(s3: S3, bucket: Bucket) -> None:
    s3.set_versioning(bucket, "Enabled")
    kept = put(s3, bucket, "k", b"kept").version.version_id
    s3.set_versioning(bucket, "Suspended")
    put(s3, bucket, "k", b"n1")
    put(s3, bucket, "k", b"n2")
    versions = s3.store.versions_of(bucket.id, "k")
    assert [row[2] for row in versions] == ["null", kept]
    assert read(s3, bucket, "k") == b"n2"


def test_shared_blobs_live_until_the_last_reference(s3: S3, bucket: Bucket) -> None:
    source = put(s3, bucket, "src", b"shared").version
    segments = s3.segments(source)
    s3.put(s3.bucket("bucket"), "copy", segments, etag=source.etag, storage_class="STANDARD",
           meta={})
    path = s3.blobs.path(segments[0].name)
    s3.delete(bucket, "src")
    assert path.exists() and read(s3, bucket, "copy") == b"shared"
    s3.delete(bucket, "copy")
    assert not path.exists()


def test_conditional_write_failure_leaves_nothing(s3: S3, bucket: Bucket) -> None:
    put(s3, bucket, "k", b"first")
    before = sorted(p.name for p in (s3.blobs.root / "data").rglob("*") if p.is_file())

    def refuse(current: object) -> None:
        raise ServiceError("PreconditionFailed", "", 412)

    staged = s3.blobs.stage_bytes(b"second", ())
    with pytest.raises(ServiceError):
        s3.put(bucket, "k", staged, etag="x", storage_class="STANDARD", meta={}, check=refuse)
    after = sorted(p.name for p in (s3.blobs.root / "data").rglob("*") if p.is_file())
    assert after == before and read(s3, bucket, "k") == b"first"


def test_bucket_rules(s3: S3, bucket: Bucket) -> None:
    with pytest.raises(ServiceError) as err:
        s3.create_bucket("bucket", "111111111111", "us-east-1", {})
    assert err.value.code == "BucketAlreadyExists"
    with pytest.raises(ServiceError) as err:
        s3.create_bucket("bucket", "000000000000", "eu-west-1", {})
    assert err.value.code == "BucketAlreadyOwnedByYou"
    put(s3, bucket, "k")
    with pytest.raises(ServiceError) as err:
        s3.delete_bucket("bucket")
    assert err.value.code == "BucketNotEmpty"


def test_scrub_reports_damaged_files(s3: S3, bucket: Bucket) -> None:
    version = put(s3, bucket, "k", b"data" * 100).version
    assert s3.scrub() == []
    s3.blobs.path(version.segment_names[0]).write_bytes(b"x" * 400)
    assert len(s3.scrub()) == 1
