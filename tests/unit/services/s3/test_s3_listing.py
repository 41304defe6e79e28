"""Listings as index range scans: prefixes, delimiters, paging, versions."""

from __future__ import annotations

from unittest import mock

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from s3_helpers import new_s3, put

from headwater.services.s3 import listing, model
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


def test_a_folder_marker_as_marker_does_not_hide_the_keys_under_it(s3: S3, bucket: Bucket) -> None:
    """With prefix "logs/" and delimiter "/", the key "logs/" is an entry, not a common
    prefix: paging past it must still list "logs/a" (this once skipped it)."""
    for key in ("logs/", "logs/a", "logs/b/c"):
        put(s3, bucket, key)
    first = listing.list_objects(s3.store, bucket.id, "logs/", "/", "", 1)
    assert keys_of(first) == ["logs/"] and first.truncated
    rest = listing.list_objects(s3.store, bucket.id, "logs/", "/", "logs/", 1000)
    assert keys_of(rest) == ["logs/a"] and rest.prefixes == ["logs/b/"]


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


def test_a_key_with_more_versions_than_a_read_is_listed_whole(s3: S3, bucket: Bucket) -> None:
    """1,200 versions of one key (s3fs's test suite makes them): the scan once re-read the
    key's first 1,000 versions forever."""
    s3.set_versioning(bucket, "Enabled")
    for i in range(1200):
        put(s3, bucket, "many", i.to_bytes(2, "big"))
    put(s3, bucket, "next")
    page = listing.list_versions(s3.store, bucket.id, "", "", "", "", 1000)
    assert page.truncated and len(page.entries) == 1000
    assert page.last == "many" and page.next_version_id is not None
    rest = listing.list_versions(s3.store, bucket.id, "", "", "many", page.next_version_id, 1000)
    assert [v.key for v in rest.entries] == ["many"] * 200 + ["next"] and not rest.truncated
    ids = [v.version_id for v in page.entries + rest.entries]
    assert len(set(ids)) == 1201


# -- against a reference model ----------------------------------------------------------------

# Keys from a few pieces: delimiters, a shared stem, non-ASCII up to the last code point (the
# successor of a prefix ending there is the hard case for the range scans).
_PIECES = ["a", "b", "/", "-", "ab", "é", "\U0010ffff", "0"]


def _reference(keys: list[str], prefix: str, delimiter: str) -> list[tuple[str, str]]:
    """S3's listing as a plain loop: ("key", k) or ("prefix", p) items in key order."""
    items: list[tuple[str, str]] = []
    for key in sorted(k for k in keys if k.startswith(prefix)):
        at = key.find(delimiter, len(prefix)) if delimiter else -1
        if at < 0:
            items.append(("key", key))
        elif not items or items[-1] != ("prefix", key[: at + len(delimiter)]):
            items.append(("prefix", key[: at + len(delimiter)]))
    return items


@settings(max_examples=150, deadline=None)
@given(keys=st.sets(st.lists(st.sampled_from(_PIECES), min_size=1, max_size=4).map("".join),
                    max_size=25),
       prefix=st.sampled_from(["", "a", "a/", "b", "é", "\U0010ffff"]),
       delimiter=st.sampled_from(["", "/", "a", "ab", "é"]),
       max_keys=st.sampled_from([1, 2, 3, 1000]))
def test_paged_listings_match_a_reference_model(
    tmp_path_factory: pytest.TempPathFactory, keys: set[str], prefix: str, delimiter: str,
    max_keys: int,
) -> None:
    s3 = new_s3(tmp_path_factory.mktemp("s3"))
    bucket = s3.bucket("bucket")
    for key in keys:
        put(s3, bucket, key)
    expected = _reference(list(keys), prefix, delimiter)
    got_keys: list[str] = []
    got_prefixes: list[str] = []
    after = ""
    for _ in range(len(expected) + 1):
        page = listing.list_objects(s3.store, bucket.id, prefix, delimiter, after, max_keys)
        assert len(page.entries) + len(page.prefixes) <= max_keys
        got_keys += keys_of(page)
        got_prefixes += page.prefixes
        if not page.truncated:
            break
        assert len(page.entries) + len(page.prefixes) == max_keys  # pages are filled
        assert page.last is not None
        after = page.last
    else:
        pytest.fail("the listing never ended")
    assert got_keys == [k for kind, k in expected if kind == "key"]
    assert got_prefixes == [p for kind, p in expected if kind == "prefix"]


@settings(max_examples=150, deadline=None)
@given(keys=st.sets(st.lists(st.sampled_from(_PIECES), min_size=1, max_size=4).map("".join),
                    max_size=25),
       prefix=st.sampled_from(["", "a", "a/", "é"]),
       delimiter=st.sampled_from(["", "/", "a"]),
       marker=st.lists(st.sampled_from(_PIECES), max_size=4).map("".join))
@example(keys={"a/b", "a/ab", "a/0", "b"}, prefix="", delimiter="/", marker="a/ab")
@example(keys={"a/b", "a/ab", "a/0", "b"}, prefix="", delimiter="/", marker="a/")
def test_any_marker_lists_what_sorts_after_it(
    tmp_path_factory: pytest.TempPathFactory, keys: set[str], prefix: str, delimiter: str,
    marker: str,
) -> None:
    """A marker of any kind -- a key, a common prefix, a key inside a rolled-up prefix, or
    none of these -- leaves the keys and common prefixes that sort after it: a prefix whose
    keys go on past the marker is not listed again when the prefix itself sorts before it."""
    s3 = new_s3(tmp_path_factory.mktemp("s3"))
    bucket = s3.bucket("bucket")
    for key in keys:
        put(s3, bucket, key)
    expected = [item for item in _reference(list(keys), prefix, delimiter) if item[1] > marker]
    page = listing.list_objects(s3.store, bucket.id, prefix, delimiter, marker, 1000)
    assert keys_of(page) == [k for kind, k in expected if kind == "key"]
    assert page.prefixes == [p for kind, p in expected if kind == "prefix"]


@settings(max_examples=120, deadline=None)
@given(steps=st.lists(st.tuples(st.lists(st.sampled_from(_PIECES), min_size=1, max_size=3)
                                .map("".join), st.booleans()), max_size=25),
       prefix=st.sampled_from(["", "a", "a/", "é"]),
       delimiter=st.sampled_from(["", "/", "a"]),
       max_keys=st.sampled_from([1, 2, 3, 1000]),
       batch=st.sampled_from([1, 2, 1000]))
def test_paged_version_listings_match_a_reference_model(
    tmp_path_factory: pytest.TempPathFactory, steps: list[tuple[str, bool]], prefix: str,
    delimiter: str, max_keys: int, batch: int,
) -> None:
    """Versions and delete markers of a versioned bucket, paged by key and version-id
    markers (resuming inside a key's versions), as a reference loop lists them; with store
    reads of ``batch`` rows, so a key has more versions than one read returns."""
    s3 = new_s3(tmp_path_factory.mktemp("s3"))
    bucket = s3.bucket("bucket")
    s3.set_versioning(bucket, "Enabled")
    history: dict[str, list[tuple[str, bool]]] = {}  # key -> (version id, marker), oldest first
    for key, deleting in steps:
        if deleting:
            marker = s3.delete(s3.bucket("bucket"), key)
            assert marker is not None
            history.setdefault(key, []).append((marker.version_id, True))
        else:
            history.setdefault(key, []).append((put(s3, bucket, key).version.version_id, False))
    expected: list[tuple[str, str, bool] | str] = []  # versions in order, rolled-up prefixes
    for key in sorted(k for k in history if k.startswith(prefix)):
        at = key.find(delimiter, len(prefix)) if delimiter else -1
        if at >= 0:
            if key[: at + len(delimiter)] not in expected:
                expected.append(key[: at + len(delimiter)])
            continue
        expected += [(key, vid, marker) for vid, marker in reversed(history[key])]
    got: list[tuple[str, str, bool] | str] = []
    key_marker = version_marker = ""
    for _ in range(len(expected) + 1):
        with mock.patch.object(listing, "_BATCH", batch):
            page = listing.list_versions(s3.store, bucket.id, prefix, delimiter, key_marker,
                                         version_marker, max_keys)
        assert len(page.entries) + len(page.prefixes) <= max_keys
        # Entries and prefixes of one page, merged back into key order.
        merged: list[tuple[str, tuple[str, str, bool] | str]] = [
            (v.key, (v.key, v.version_id, bool(v.delete_marker))) for v in page.entries]
        merged += [(p, p) for p in page.prefixes]
        got += [item for _, item in sorted(merged, key=lambda pair: pair[0])]
        if not page.truncated:
            break
        assert len(page.entries) + len(page.prefixes) == max_keys
        key_marker, version_marker = page.last or "", page.next_version_id or ""
    else:
        pytest.fail("the listing never ended")
    assert got == expected


def test_a_version_id_leads_with_its_row(s3: S3, bucket: Bucket) -> None:
    s3.set_versioning(bucket, "Enabled")
    written = put(s3, bucket, "k").version
    assert model.version_row(written.version_id) == written.row_id
    assert model.version_row("null") is None
    # Ids made before they carried a row are random: nearly all read as no row.
    assert model.version_row("f" * 32) is None
