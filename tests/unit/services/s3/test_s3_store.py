"""The S3 store's own rules: blob reference counts and the schema upgrade of older databases."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from headwater.services.s3.blobs import Segment
from headwater.services.s3.store import MIGRATIONS, RESTORING, S3Store
from headwater.store import open_store


def _blob(store: S3Store, name: str, refs: int, data: bytes | None) -> None:
    store.add_blob(Segment(name, 4 if data is None else len(data), b"\0\0\0\0", data), refs)


def _refs(store: S3Store, name: str) -> int | None:
    row = store.db.query_one("SELECT refs FROM s3_blobs WHERE name=?", (name,))
    return None if row is None else int(row[0])


def test_released_blobs_go_with_their_last_reference() -> None:
    store = S3Store(open_store(None))
    with store.transaction():
        _blob(store, "shared", 2, None)
        _blob(store, "file", 1, None)
        _blob(store, "inline", 1, b"tiny")
        gone = store.ref_blobs(["shared", "file", "inline", "missing"], -1)
    assert gone == ["file"]  # an inline blob has no file to delete
    assert _refs(store, "shared") == 1
    assert _refs(store, "file") is None and _refs(store, "inline") is None
    assert store.ref_blobs(["shared", "shared"], +1) == []
    assert _refs(store, "shared") == 3


def test_a_blob_named_twice_is_released_once() -> None:
    store = S3Store(open_store(None))
    _blob(store, "twice", 2, None)
    assert store.ref_blobs(["twice", "twice"], -1) == ["twice"]
    assert _refs(store, "twice") is None


def test_older_databases_keep_their_blobs_through_the_upgrade(tmp_path: Path) -> None:
    path = tmp_path / "headwater.db"
    old = open_store(path)
    old.migrate("s3", MIGRATIONS[:2])  # s3_blobs as a WITHOUT ROWID table, with inline data
    old.execute(
        "INSERT INTO s3_blobs (name, size, blocks, refs, data) VALUES (?,?,?,?,?)",
        ("kept", 3, b"crc!", 2, b"abc"),
    )
    old.close()

    store = S3Store(open_store(path))
    assert store.segments(["kept"]) == [Segment("kept", 3, b"crc!", b"abc")]
    assert _refs(store, "kept") == 2
    (sql,) = store.db.query_one("SELECT sql FROM sqlite_master WHERE name='s3_blobs'")
    assert "WITHOUT ROWID" not in sql.upper()
    _blob(store, "new", 1, None)
    assert store.ref_blobs(["kept", "new"], -1) == ["new"]
    store.db.close()


def test_finding_restores_reads_the_partial_index_only() -> None:
    store = S3Store(open_store(None))
    plan = store.db.query(f"EXPLAIN QUERY PLAN SELECT id FROM s3_objects WHERE {RESTORING}")
    assert "USING INDEX s3_objects_restoring" in " ".join(str(step[-1]) for step in plan)


def test_older_databases_gain_checksum_columns_from_meta(tmp_path: Path) -> None:
    path = tmp_path / "headwater.db"
    old = open_store(path)
    old.migrate("s3", MIGRATIONS[:4])  # before the checksum columns
    rows = [("crc", '{"checksum":{"algorithm":"CRC32","value":"AAAAAA==","type":"FULL_OBJECT"}}'),
            ("composite", '{"checksum":{"algorithm":"SHA1","value":"x-2","type":"COMPOSITE"}}'),
            ("none", '{"ContentType":"text/plain"}')]
    for key, meta in rows:
        old.execute("INSERT INTO s3_objects (bucket_id, key, version_id, is_latest, "
                    "last_modified, meta) VALUES (1, ?, 'null', 1, 0, ?)", (key, meta))
    old.close()

    store = S3Store(open_store(path))
    listed = {row[0]: row[8:10] for row in store.list_latest(1, "", False, None, 10)}
    assert listed == {"composite": ("SHA1", "COMPOSITE"), "crc": ("CRC32", "FULL_OBJECT"),
                      "none": (None, None)}
    store.db.close()


def test_listings_read_meta_only_for_restore_state() -> None:
    store = S3Store(open_store(None))
    for key, meta in (("plain", "{}"), ("cold", '{"restore":{"ongoing":true}}')):
        store.insert_object(1, key, "null", delete_marker=False, size=0, etag="",
                            last_modified=0, storage_class="GLACIER", meta=meta, segments="")
    assert [row[11] for row in store.list_latest(1, "", False, None, 10)] == [None, None]
    assert [row[11] for row in store.list_latest(1, "", False, None, 10, restore=True)] == [
        '{"restore":{"ongoing":true}}', None]
    assert [row[11] for row in store.list_versions(1, "", False, None, 10, restore=True)] == [
        '{"restore":{"ongoing":true}}', None]


def test_a_listing_page_reads_the_latest_index_alone() -> None:
    """Without restore state, ListObjects never visits the table: its index covers it."""
    store = S3Store(open_store(None))
    seen: list[tuple[str, Any]] = []
    query = store.db.query

    def recording(sql: str, args: Any = ()) -> Any:
        seen.append((sql, args))
        return query(sql, args)

    store.db.query = recording
    store.list_latest(1, "a", True, "z", 1000)
    store.list_latest(1, "a", False, None, 1000, restore=True)
    store.db.query = query
    (plain, plain_args), (restoring, restoring_args) = seen
    plan = " ".join(str(step[-1]) for step in query(f"EXPLAIN QUERY PLAN {plain}", plain_args))
    assert "COVERING INDEX s3_objects_latest" in plan
    plan = " ".join(str(s[-1]) for s in query(f"EXPLAIN QUERY PLAN {restoring}", restoring_args))
    assert "INDEX s3_objects_latest" in plan  # restore state needs the table's meta


def test_a_version_without_a_checksum_lists_none() -> None:
    store = S3Store(open_store(None))
    for key, checksum in (("empty", {}), ("absent", None)):
        store.insert_object(1, key, "null", delete_marker=False, size=0, etag="",
                            last_modified=0, storage_class="STANDARD", meta="{}", segments="",
                            checksum=checksum)
    assert [row[8:10] for row in store.list_latest(1, "", False, None, 10)] == [(None, None)] * 2
