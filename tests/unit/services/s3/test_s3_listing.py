"""Listings as index range scans: prefixes, delimiters, paging, versions."""

from __future__ import annotations

from s3_helpers import put

from headwater.services.s3 import listing
from headwater.services.s3.model import S3, Bucket


def keys_of(page: listing.Page) -> list[str]:
    return [v.key for v in page.entries]


def test_delimiter_rolls_up_and_jumps(s3: S3, bucket: Bucket) -> None:
    for i in range(50):
        put(s3, bucket, f"photos/2024/{i:03d}.jpg")
    put(s3, bucket, "photos/2025/a.jpg")
    put(s3, bucket, "readme")
    page = listing.list_objects(s3.store, bucket.id, "photos/", "/", "", 1000)
    assert page.prefixes == ["photos/2024/", "photos/2025/"] and page.entries == []
    page = listing.list_objects(s3.store, bucket.id, "", "/", "", 1000)
    assert page.prefixes == ["photos/"] and keys_of(page) == ["readme"]


def test_paging_visits_every_key_once(s3: S3, bucket: Bucket) -> None:
    names = sorted(f"k{i:04d}" for i in range(2500))
    for name in names:
        put(s3, bucket, name)
    seen: list[str] = []
    after = ""
    while True:
        page = listing.list_objects(s3.store, bucket.id, "", "", after, 700)
        seen += keys_of(page)
        if not page.truncated:
            break
        assert page.last is not None
        after = page.last
    assert seen == names


def test_common_prefix_as_marker_skips_its_keys(s3: S3, bucket: Bucket) -> None:
    for key in ["a/1", "a/2", "b/1", "c"]:
        put(s3, bucket, key)
    first = listing.list_objects(s3.store, bucket.id, "", "/", "", 1)
    assert first.prefixes == ["a/"] and first.truncated
    rest = listing.list_objects(s3.store, bucket.id, "", "/", "a/", 1000)
    assert rest.prefixes == ["b/"] and keys_of(rest) == ["c"]


def test_delete_markers_are_not_listed_but_versions_are(s3: S3, bucket: Bucket) -> None:
    s3.set_versioning(bucket, "Enabled")
    put(s3, bucket, "gone", b"1")
    put(s3, bucket, "here", b"2")
    s3.delete(s3.bucket("bucket"), "gone")
    assert keys_of(listing.list_objects(s3.store, bucket.id, "", "", "", 10)) == ["here"]
    versions = listing.list_versions(s3.store, bucket.id, "", "", "", "", 10)
    assert [(v.key, v.delete_marker) for v in versions.entries] == [
        ("gone", True), ("gone", False), ("here", False)]


def test_version_paging_resumes_inside_a_key(s3: S3, bucket: Bucket) -> None:
    s3.set_versioning(bucket, "Enabled")
    for i in range(5):
        put(s3, bucket, "k", bytes([i]))
    put(s3, bucket, "z")
    seen = []
    key_marker = version_marker = ""
    while True:
        page = listing.list_versions(s3.store, bucket.id, "", "", key_marker, version_marker, 2)
        seen += [(v.key, v.version_id) for v in page.entries]
        if not page.truncated:
            break
        key_marker, version_marker = page.last or "", page.next_version_id or ""
    assert len(seen) == 6 and len(set(seen)) == 6
