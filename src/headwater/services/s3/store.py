"""How S3 persists: its tables and the statements the model runs against them.

Tables (all prefixed ``s3_``):
- ``buckets``: one row per bucket; versioning state and every bucket configuration (tagging,
  CORS, lifecycle, policy, ...) as one JSON document, read whole and written whole.
- ``objects``: one row per object *version*, delete markers included.  ``is_latest`` marks the
  current version of a key; the partial index ``s3_objects_latest`` holds exactly those rows in
  key order, so ListObjects is an index range scan with keyset paging (``key > ?``), fast over
  millions of keys.  ``meta`` is the JSON of everything a GET/HEAD returns that no query
  filters on (content headers, user metadata, tags, checksums, parts, restore state);
  ``segments`` the blob names the bytes are in, or, for a small object, ``data`` its bytes
  (``blocks`` their CRC32C) in the row itself.  The null version's ``version_id`` is 'null'.
  The whole-object checksum's algorithm and type are also columns of their own, and
  ``s3_objects_latest`` carries every column a listing shows (a covering index).
- ``blobs``: one row per blob: size, per-block CRC32Cs, and how many versions and upload parts
  refer to it (CopyObject shares blobs instead of copying bytes).  ``data`` holds the bytes of
  a small blob (see ``blobs.INLINE_MAX``) -- a multipart part, or an object stored before
  small objects kept their bytes in their own row; NULL means they are in a file.
- ``uploads`` and ``parts``: multipart uploads in progress.

SQLite compares TEXT with memcmp over UTF-8, which is the order S3 lists keys in.
Every model operation runs its statements inside one ``transaction()``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from headwater.services.s3.blobs import Segment
from headwater.services.s3.names import successor
from headwater.store import Store

# In-progress uploads read per query when a listing or lifecycle pass walks them.
UPLOAD_BATCH = 1000
# Rows read per query by a scrub's walk (inline bytes included: up to ~16 MiB a batch).
SCAN_BATCH = 500


def in_row(row_id: int, size: int, blocks: bytes, data: bytes) -> Segment:
    """The bytes version ``row_id`` keeps in its row, as a segment named after the row."""
    return Segment(f"row-{row_id}", size, blocks, data, in_row=True)

MIGRATIONS = [
    """
    CREATE TABLE s3_buckets (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL UNIQUE,
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        created REAL NOT NULL,
        versioning TEXT,
        config TEXT NOT NULL DEFAULT '{}'
    );
    CREATE TABLE s3_objects (
        id INTEGER PRIMARY KEY,
        bucket_id INTEGER NOT NULL,
        key TEXT NOT NULL,
        version_id TEXT NOT NULL,
        is_latest INTEGER NOT NULL,
        delete_marker INTEGER NOT NULL DEFAULT 0,
        size INTEGER NOT NULL DEFAULT 0,
        etag TEXT NOT NULL DEFAULT '',
        last_modified REAL NOT NULL,
        storage_class TEXT NOT NULL DEFAULT 'STANDARD',
        meta TEXT NOT NULL DEFAULT '{}',
        segments TEXT NOT NULL DEFAULT ''
    );
    CREATE UNIQUE INDEX s3_objects_version ON s3_objects (bucket_id, key, version_id);
    CREATE INDEX s3_objects_latest ON s3_objects (bucket_id, key) WHERE is_latest = 1;
    CREATE INDEX s3_objects_history ON s3_objects (bucket_id, key, id);
    CREATE TABLE s3_blobs (
        name TEXT PRIMARY KEY,
        size INTEGER NOT NULL,
        blocks BLOB NOT NULL,
        refs INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE s3_uploads (
        upload_id TEXT PRIMARY KEY,
        bucket_id INTEGER NOT NULL,
        key TEXT NOT NULL,
        initiated REAL NOT NULL,
        storage_class TEXT NOT NULL,
        meta TEXT NOT NULL
    );
    CREATE INDEX s3_uploads_key ON s3_uploads (bucket_id, key, initiated);
    CREATE TABLE s3_parts (
        upload_id TEXT NOT NULL,
        number INTEGER NOT NULL,
        blob TEXT NOT NULL,
        size INTEGER NOT NULL,
        etag TEXT NOT NULL,
        last_modified REAL NOT NULL,
        checksum TEXT,
        PRIMARY KEY (upload_id, number)
    ) WITHOUT ROWID;
    """,
    "ALTER TABLE s3_blobs ADD COLUMN data BLOB;",
    # s3_blobs as a rowid table: since rows hold the bytes of small blobs (up to 32 KiB), a
    # WITHOUT ROWID table -- one b-tree keyed by name whose interior cells repeat whole rows --
    # split a page every few inserts and walked overflow chains to compare names, which made
    # the blob row a 4 KiB PUT's costliest write.  Here the rows sit in rowid order and only
    # the names are in the index.
    """
    CREATE TABLE s3_blobs_new (
        name TEXT PRIMARY KEY,
        size INTEGER NOT NULL,
        blocks BLOB NOT NULL,
        refs INTEGER NOT NULL,
        data BLOB
    );
    INSERT INTO s3_blobs_new (name, size, blocks, refs, data)
        SELECT name, size, blocks, refs, data FROM s3_blobs;
    DROP TABLE s3_blobs;
    ALTER TABLE s3_blobs_new RENAME TO s3_blobs;
    """,
    # The versions with a restore under way or a restored copy (the lifecycle worker settles
    # them every pass): a partial index holds just those, so finding them no longer scans
    # every object.  The worker's query must repeat this WHERE term exactly.
    """CREATE INDEX s3_objects_restoring ON s3_objects (id) WHERE meta LIKE '%"restore"%';""",
    # The whole-object checksum's algorithm and type, which every listing entry shows, as
    # columns: a listing then reads neither ``meta`` (a few hundred bytes a row) nor parses
    # it -- together about 30% of a 1,000-key page's CPU.  ``meta`` keeps the checksum whole.
    """
    ALTER TABLE s3_objects ADD COLUMN checksum_algorithm TEXT;
    ALTER TABLE s3_objects ADD COLUMN checksum_type TEXT;
    UPDATE s3_objects SET checksum_algorithm = json_extract(meta, '$.checksum.algorithm'),
                          checksum_type = json_extract(meta, '$.checksum.type')
        WHERE meta LIKE '%"checksum"%';
    """,
    # s3_objects_latest covers what a listing shows: a page walks the index in key order and
    # never visits the table, whose rows sit in insertion order (at 100,000 keys the visits
    # were a quarter of a 1,000-key page's SQL time).  Lookups by key use it as before.
    """
    DROP INDEX s3_objects_latest;
    CREATE INDEX s3_objects_latest ON s3_objects (bucket_id, key, version_id, delete_marker,
        size, etag, last_modified, storage_class, checksum_algorithm, checksum_type, is_latest)
        WHERE is_latest = 1;
    """,
    # A small object's bytes in its own row: a 4 KiB PUT then writes one table row instead of
    # that and a blob row with an entry in the blob names' index -- 2.3 fewer WAL pages and a
    # quarter less SQLite time per PUT, and a GET finds the bytes without the join.  Objects
    # written before keep their blobs.  ``data`` last: the columns before it stay in the
    # row's first page.
    """
    ALTER TABLE s3_objects ADD COLUMN blocks BLOB;
    ALTER TABLE s3_objects ADD COLUMN data BLOB;
    """,
    # Whether the upload's key was written or deleted after the upload began: a conditional
    # CompleteMultipartUpload then fails with ConditionalRequestConflict (``uploads.py``).
    "ALTER TABLE s3_uploads ADD COLUMN touched INTEGER NOT NULL DEFAULT 0;",
]
RESTORING = """meta LIKE '%"restore"%'"""  # the partial index s3_objects_restoring covers these

OBJECT_COLUMNS = (
    "id, key, version_id, is_latest, delete_marker, size, etag, last_modified, storage_class, "
    "meta, segments"
)
ObjectRow = tuple[int, str, str, int, int, int, str, float, str, str, str]
_QUALIFIED = ", ".join(f"o.{c.strip()}" for c in OBJECT_COLUMNS.split(","))
BucketRow = tuple[int, str, str, str, float, str | None, str]
# What a listing reads of each version: no blob names; the row id last (where a version
# listing resumes inside a key; the partial index holds it, so a page still reads only the
# index); and ``meta`` only where the request asks for restore state and the version has some
# (``_RESTORE_META``), else NULL.
_LISTED = ("key, version_id, is_latest, delete_marker, size, etag, last_modified, "
           "storage_class, checksum_algorithm, checksum_type, id")
_RESTORE_META = f"CASE WHEN {RESTORING} THEN meta END"
ListedRow = tuple[str, str, int, int, int, str, float, str, str | None, str | None, int,
                  str | None]


class S3Store:
    def __init__(self, store: Store) -> None:
        self.db: Any = store
        store.migrate("s3", MIGRATIONS)

    def transaction(self) -> Any:
        return self.db.transaction()

    # -- buckets ------------------------------------------------------------------------

    def bucket(self, name: str) -> BucketRow | None:
        row: BucketRow | None = self.db.query_one(
            "SELECT id, name, account, region, created, versioning, config FROM s3_buckets "
            "WHERE name=?",
            (name,),
        )
        return row

    def buckets(self, account: str, prefix: str, after: str, limit: int,
                region: str | None = None) -> list[BucketRow]:
        """The account's buckets named after ``after`` and starting with ``prefix`` (in
        ``region`` when given), by name."""
        sql = ("SELECT id, name, account, region, created, versioning, config FROM s3_buckets "
               "WHERE account=? AND name >= ? AND name > ?")
        args: list[Any] = [account, prefix, after]
        high = successor(prefix) if prefix else None
        if high is not None:
            sql += " AND name < ?"
            args.append(high)
        if region is not None:
            sql += " AND region = ?"
            args.append(region)
        rows: list[BucketRow] = self.db.query(sql + " ORDER BY name LIMIT ?", [*args, limit])
        return rows

    def insert_bucket(self, name: str, account: str, region: str, created: float, config: str) -> None:
        self.db.execute(
            "INSERT INTO s3_buckets (name, account, region, created, config) VALUES (?,?,?,?,?)",
            (name, account, region, created, config),
        )

    def delete_bucket(self, bucket_id: int) -> None:
        self.db.execute("DELETE FROM s3_buckets WHERE id=?", (bucket_id,))

    def set_bucket_config(self, bucket_id: int, config: str) -> None:
        self.db.execute("UPDATE s3_buckets SET config=? WHERE id=?", (config, bucket_id))

    def set_versioning(self, bucket_id: int, status: str) -> None:
        self.db.execute("UPDATE s3_buckets SET versioning=? WHERE id=?", (status, bucket_id))

    def bucket_is_empty(self, bucket_id: int) -> bool:
        """No version or delete marker.  Uploads in progress do not count: DeleteBucket drops
        them (``drop_uploads``)."""
        row = self.db.query_one("SELECT 1 FROM s3_objects WHERE bucket_id=? LIMIT 1", (bucket_id,))
        return row is None

    # -- objects ------------------------------------------------------------------------

    def latest(self, bucket_id: int, key: str) -> ObjectRow | None:
        row: ObjectRow | None = self.db.query_one(
            f"SELECT {OBJECT_COLUMNS} FROM s3_objects "
            "WHERE bucket_id=? AND key=? AND is_latest=1",
            (bucket_id, key),
        )
        return row

    def latest_with_blob(
        self, bucket_id: int, key: str
    ) -> tuple[ObjectRow, Segment | None] | None:
        """The current version and, when its bytes are in its row or in one blob, those bytes'
        record: what a GET needs, in one statement instead of two."""
        row = self.db.query_one(
            f"SELECT {_QUALIFIED}, o.blocks, o.data, b.size, b.blocks, b.data FROM s3_objects o "
            "LEFT JOIN s3_blobs b ON b.name = o.segments "
            "WHERE o.bucket_id=? AND o.key=? AND o.is_latest=1",
            (bucket_id, key),
        )
        if row is None:
            return None
        if row[12] is not None:
            return row[:11], in_row(row[0], row[5], row[11], row[12])
        blob = None if row[13] is None else Segment(row[10], row[13], row[14], row[15])
        return row[:11], blob

    def row_bytes(self, row_id: int) -> Segment | None:
        """The bytes a version keeps in its own row; None when it keeps none there."""
        row = self.db.query_one("SELECT size, blocks, data FROM s3_objects WHERE id=?", (row_id,))
        if row is None or row[2] is None:
            return None
        return in_row(row_id, row[0], row[1], row[2])

    def each_row_bytes(self) -> Iterator[tuple[str, str, str, Segment]]:
        """(bucket, key, version id, bytes) of every version keeping its bytes in its row, read
        a batch at a time."""
        after = 0
        while True:
            rows = self.db.query(
                "SELECT o.id, b.name, o.key, o.version_id, o.size, o.blocks, o.data "
                "FROM s3_objects o JOIN s3_buckets b ON b.id = o.bucket_id "
                "WHERE o.id > ? AND o.data IS NOT NULL ORDER BY o.id LIMIT ?",
                (after, SCAN_BATCH))
            for row_id, bucket, key, version_id, size, blocks, data in rows:
                yield bucket, key, version_id, in_row(row_id, size, blocks, data)
            if len(rows) < SCAN_BATCH:
                return
            after = rows[-1][0]

    def version(self, bucket_id: int, key: str, version_id: str) -> ObjectRow | None:
        row: ObjectRow | None = self.db.query_one(
            f"SELECT {OBJECT_COLUMNS} FROM s3_objects "
            "WHERE bucket_id=? AND key=? AND version_id=?",
            (bucket_id, key, version_id),
        )
        return row

    def newest_remaining(self, bucket_id: int, key: str) -> int | None:
        row = self.db.query_one(
            "SELECT id FROM s3_objects WHERE bucket_id=? AND key=? ORDER BY id DESC LIMIT 1",
            (bucket_id, key),
        )
        return None if row is None else int(row[0])

    def next_row_id(self) -> int:
        """The row a version inserted next in this write transaction may take: past every
        row there is, so rows keep the order versions were written in."""
        row = self.db.query_one("SELECT max(id) FROM s3_objects")
        return int(row[0] or 0) + 1

    def insert_object(self, bucket_id: int, key: str, version_id: str, *, delete_marker: bool,
                      size: int, etag: str, last_modified: float, storage_class: str, meta: str,
                      segments: str, checksum: dict[str, Any] | None = None,
                      row_bytes: Segment | None = None, row_id: int | None = None) -> int:
        """A new current version (in row ``row_id``, else the next); ``checksum`` is the
        whole-object one ``meta`` holds; ``row_bytes`` the bytes it keeps in its row (then
        ``segments`` is empty)."""
        cursor = self.db.execute(
            "INSERT INTO s3_objects (id, bucket_id, key, version_id, is_latest, delete_marker, "
            "size, etag, last_modified, storage_class, meta, segments, checksum_algorithm, "
            "checksum_type, blocks, data) VALUES (?,?,?,?,1,?,?,?,?,?,?,?,?,?,?,?)",
            (row_id, bucket_id, key, version_id, int(delete_marker), size, etag, last_modified,
             storage_class, meta, segments, (checksum or {}).get("algorithm"),
             (checksum or {}).get("type"), None if row_bytes is None else row_bytes.blocks,
             None if row_bytes is None else row_bytes.data),
        )
        return int(cursor.lastrowid)

    def clear_latest(self, bucket_id: int, key: str) -> None:
        self.db.execute(
            "UPDATE s3_objects SET is_latest=0 WHERE bucket_id=? AND key=? AND is_latest=1",
            (bucket_id, key),
        )

    def set_latest(self, row_id: int, latest: bool) -> None:
        self.db.execute("UPDATE s3_objects SET is_latest=? WHERE id=?", (int(latest), row_id))

    def delete_row(self, row_id: int) -> None:
        self.db.execute("DELETE FROM s3_objects WHERE id=?", (row_id,))

    def update_meta(self, row_id: int, meta: str) -> None:
        self.db.execute("UPDATE s3_objects SET meta=? WHERE id=?", (meta, row_id))

    def update_class(self, row_id: int, storage_class: str, meta: str) -> None:
        self.db.execute(
            "UPDATE s3_objects SET storage_class=?, meta=? WHERE id=?", (storage_class, meta, row_id)
        )

    def list_latest(self, bucket_id: int, low: str, strict: bool, high: str | None,
                    limit: int, restore: bool = False) -> list[ListedRow]:
        """Current versions (delete markers included) with ``low < key`` (or ``<=``) and
        ``key < high``, in key order; with ``restore``, the ``meta`` of those that have
        restore state."""
        # INDEXED BY: without statistics the planner may take s3_objects_history, which also
        # walks every noncurrent version; the partial index holds only current ones.
        op = ">" if strict else ">="
        sql = (f"SELECT {_LISTED}, {_RESTORE_META if restore else 'NULL'} "
               "FROM s3_objects INDEXED BY s3_objects_latest "
               f"WHERE bucket_id=? AND is_latest=1 AND key {op} ?")
        args: list[Any] = [bucket_id, low]
        if high is not None:
            sql += " AND key < ?"
            args.append(high)
        sql += " ORDER BY key LIMIT ?"
        args.append(limit)
        rows: list[ListedRow] = self.db.query(sql, args)
        return rows

    def list_versions(self, bucket_id: int, low: str, strict: bool, high: str | None,
                      limit: int, restore: bool = False) -> list[ListedRow]:
        """Every version with a key in range, by key, newest version first (``restore`` as
        in ``list_latest``)."""
        op = ">" if strict else ">="
        sql = (f"SELECT {_LISTED}, {_RESTORE_META if restore else 'NULL'} FROM s3_objects "
               f"WHERE bucket_id=? AND key {op} ?")
        args: list[Any] = [bucket_id, low]
        if high is not None:
            sql += " AND key < ?"
            args.append(high)
        sql += " ORDER BY key, id DESC LIMIT ?"
        args.append(limit)
        rows: list[ListedRow] = self.db.query(sql, args)
        return rows

    def older_versions(self, bucket_id: int, key: str, before: int, limit: int,
                       restore: bool = False) -> list[ListedRow]:
        """The versions of ``key`` older than row ``before``, newest first: where a version
        listing resumes inside a key (``restore`` as in ``list_latest``)."""
        rows: list[ListedRow] = self.db.query(
            f"SELECT {_LISTED}, {_RESTORE_META if restore else 'NULL'} FROM s3_objects "
            "WHERE bucket_id=? AND key=? AND id<? ORDER BY id DESC LIMIT ?",
            (bucket_id, key, before, limit))
        return rows

    def versions_of(self, bucket_id: int, key: str) -> list[ObjectRow]:
        rows: list[ObjectRow] = self.db.query(
            f"SELECT {OBJECT_COLUMNS} FROM s3_objects WHERE bucket_id=? AND key=? ORDER BY id DESC",
            (bucket_id, key),
        )
        return rows

    # -- blobs --------------------------------------------------------------------------

    def add_blob(self, segment: Segment, refs: int = 1) -> None:
        self.db.execute(
            "INSERT INTO s3_blobs (name, size, blocks, refs, data) VALUES (?,?,?,?,?)",
            (segment.name, segment.size, segment.blocks, refs, segment.data),
        )

    def segments(self, names: Sequence[str]) -> list[Segment]:
        if not names:
            return []
        if len(names) == 1:
            row = self.db.query_one(
                "SELECT name, size, blocks, data FROM s3_blobs WHERE name=?", (names[0],))
            return [Segment(*row)] if row else []
        found: dict[str, Segment] = {}
        for start in range(0, len(names), 500):
            batch = list(names[start : start + 500])
            marks = ",".join("?" * len(batch))
            for row in self.db.query(
                f"SELECT name, size, blocks, data FROM s3_blobs WHERE name IN ({marks})", batch
            ):
                found[row[0]] = Segment(*row)
        return [found[n] for n in names if n in found]

    def ref_blobs(self, names: Sequence[str], delta: int) -> list[str]:
        """Add ``delta`` references to each blob; returns the names of files no longer
        referenced (an inline blob goes with its row)."""
        gone: list[str] = []
        # Read, then either update or delete: two statements per blob instead of three (an
        # overwriting PUT releases one), in one transaction so the count read stays true.
        with self.db.transaction():
            for name in names:
                row = self.db.query_one(
                    "SELECT refs, data IS NOT NULL FROM s3_blobs WHERE name=?", (name,))
                if row is None:
                    continue
                refs = row[0] + delta
                if refs > 0:
                    self.db.execute("UPDATE s3_blobs SET refs=? WHERE name=?", (refs, name))
                    continue
                self.db.execute("DELETE FROM s3_blobs WHERE name=?", (name,))
                if not row[1]:
                    gone.append(name)
        return gone

    def each_blob(self) -> Iterator[Segment]:
        """Every blob record, read a batch at a time (small ones carry their bytes)."""
        after = ""
        while True:
            rows = self.db.query("SELECT name, size, blocks, data FROM s3_blobs WHERE name > ? "
                                 "ORDER BY name LIMIT ?", (after, SCAN_BATCH))
            yield from (Segment(*row) for row in rows)
            if len(rows) < SCAN_BATCH:
                return
            after = rows[-1][0]

    # -- multipart ----------------------------------------------------------------------

    def insert_upload(self, upload_id: str, bucket_id: int, key: str, initiated: float,
                      storage_class: str, meta: str) -> None:
        self.db.execute(
            "INSERT INTO s3_uploads (upload_id, bucket_id, key, initiated, storage_class, meta) "
            "VALUES (?,?,?,?,?,?)",
            (upload_id, bucket_id, key, initiated, storage_class, meta),
        )

    def upload(self, upload_id: str) -> tuple[str, int, str, float, str, str] | None:
        row: tuple[str, int, str, float, str, str] | None = self.db.query_one(
            "SELECT upload_id, bucket_id, key, initiated, storage_class, meta FROM s3_uploads "
            "WHERE upload_id=?",
            (upload_id,),
        )
        return row

    def touch_uploads(self, bucket_id: int, key: str) -> None:
        """Mark the key's uploads in progress as begun before its latest write or delete."""
        self.db.execute("UPDATE s3_uploads SET touched=1 WHERE bucket_id=? AND key=? AND "
                        "touched=0", (bucket_id, key))

    def upload_touched(self, upload_id: str) -> bool:
        row = self.db.query_one("SELECT touched FROM s3_uploads WHERE upload_id=?", (upload_id,))
        return bool(row and row[0])

    def delete_upload(self, upload_id: str) -> None:
        self.db.execute("DELETE FROM s3_parts WHERE upload_id=?", (upload_id,))
        self.db.execute("DELETE FROM s3_uploads WHERE upload_id=?", (upload_id,))

    def drop_uploads(self, bucket_id: int) -> list[str]:
        """Delete every upload in progress in the bucket, with its parts; returns the parts'
        blob names (their references are the caller's to release)."""
        blobs = [str(row[0]) for row in self.db.query(
            "SELECT p.blob FROM s3_uploads u JOIN s3_parts p ON p.upload_id = u.upload_id "
            "WHERE u.bucket_id=?", (bucket_id,))]
        self.db.execute("DELETE FROM s3_parts WHERE upload_id IN "
                        "(SELECT upload_id FROM s3_uploads WHERE bucket_id=?)", (bucket_id,))
        self.db.execute("DELETE FROM s3_uploads WHERE bucket_id=?", (bucket_id,))
        return blobs

    def uploads(self, bucket_id: int, low: str, high: str | None, limit: int,
                after: tuple[str, float, str] | None = None
                ) -> list[tuple[str, int, str, float, str, str]]:
        """In-progress uploads with ``low <= key < high`` in S3's order (key, initiation),
        only those past ``after`` (a row's key, initiated, upload id: where a batch ended)."""
        sql = ("SELECT upload_id, bucket_id, key, initiated, storage_class, meta FROM s3_uploads "
               "WHERE bucket_id=? AND key >= ?")
        args: list[Any] = [bucket_id, low]
        if high is not None:
            sql += " AND key < ?"
            args.append(high)
        if after is not None:
            # The plain bound keeps the index range; the row value drops what was read.
            sql += " AND key >= ? AND (key, initiated, upload_id) > (?, ?, ?)"
            args += [after[0], *after]
        sql += " ORDER BY key, initiated, upload_id LIMIT ?"
        args.append(limit)
        rows: list[tuple[str, int, str, float, str, str]] = self.db.query(sql, args)
        return rows

    def each_upload(self, bucket_id: int, low: str, high: str | None
                    ) -> Iterator[tuple[str, int, str, float, str, str]]:
        """Every upload ``uploads`` would list, read UPLOAD_BATCH at a time."""
        after: tuple[str, float, str] | None = None
        while True:
            rows = self.uploads(bucket_id, low, high, UPLOAD_BATCH, after)
            yield from rows
            if len(rows) < UPLOAD_BATCH:
                return
            upload_id, _, key, initiated, _, _ = rows[-1]
            after = (key, initiated, upload_id)

    def put_part(self, upload_id: str, number: int, blob: str, size: int, etag: str,
                 when: float, checksum: str | None) -> str | None:
        """Record a part; returns the blob of the part it replaced, if any."""
        row = self.db.query_one(
            "SELECT blob FROM s3_parts WHERE upload_id=? AND number=?", (upload_id, number)
        )
        self.db.execute(
            "INSERT OR REPLACE INTO s3_parts (upload_id, number, blob, size, etag, last_modified, "
            "checksum) VALUES (?,?,?,?,?,?,?)",
            (upload_id, number, blob, size, etag, when, checksum),
        )
        return None if row is None else str(row[0])

    def parts(self, upload_id: str, after: int = 0, limit: int = 100_000
              ) -> list[tuple[int, str, int, str, float, str | None]]:
        rows: list[tuple[int, str, int, str, float, str | None]] = self.db.query(
            "SELECT number, blob, size, etag, last_modified, checksum FROM s3_parts "
            "WHERE upload_id=? AND number > ? ORDER BY number LIMIT ?",
            (upload_id, after, limit),
        )
        return rows
