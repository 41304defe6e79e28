"""The S3 domain: buckets, object versions, delete markers, and the bytes behind them.

What it is: plain synchronous rules over the store (``store``) and the blob files (``blobs``):
which version a key resolves to, what a write replaces under each versioning state, how a
delete behaves (a marker, the null version, a permanent version delete), how copies share
bytes.  What it is not: HTTP or the wire (``adapter``), listings (``listing``), multipart
uploads (``multipart``), request conditions and ranges (``conditions``).

Versioning states (https://docs.aws.amazon.com/AmazonS3/latest/userguide/Versioning.html):
unversioned and Suspended buckets write the ``null`` version, replacing any earlier null
version; Enabled buckets add a version with a fresh id.  DELETE without a version id removes
the object outright when unversioned, and otherwise adds a delete marker (the null one when
Suspended).  DELETE with a version id removes that version for good.

Writes publish their blob files before the transaction that records them and remove released
files after it commits, so a crash leaves unreferenced files at worst (``headwater s3 scrub``
reports them), never a version whose bytes are missing.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any

import orjson

from headwater.core.clock import Clock
from headwater.core.ids import IdFactory
from headwater.services.s3 import errors
from headwater.services.s3.blobs import Blobs, CorruptBlob, Segment, Staged
from headwater.services.s3.names import NULL_VERSION, check_bucket_name, check_key
from headwater.services.s3.store import BucketRow, ObjectRow, S3Store

log = logging.getLogger(__name__)

# The classes an object of a general purpose bucket may take.  The model's enum also has
# OUTPOSTS, SNOW and EXPRESS_ONEZONE, which belong to Outposts, Snow devices and directory
# buckets: S3 refuses OUTPOSTS here with InvalidStorageClass (LocalStack's AWS-validated
# test_put_object_storage_class_outposts), and the other two are taken to answer alike.
STORAGE_CLASSES = frozenset({
    "STANDARD", "REDUCED_REDUNDANCY", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING",
    "GLACIER", "DEEP_ARCHIVE", "GLACIER_IR",
})
# Classes whose objects must be restored before a GET (Glacier Flexible Retrieval, Deep Archive).
ARCHIVED = frozenset({"GLACIER", "DEEP_ARCHIVE"})


@dataclass(frozen=True, slots=True)
class Bucket:
    id: int
    name: str
    account: str
    region: str
    created: float
    versioning: str | None  # None (never enabled), "Enabled" or "Suspended"
    config: dict[str, Any]

    @staticmethod
    def from_row(row: BucketRow) -> Bucket:
        return Bucket(row[0], row[1], row[2], row[3], row[4], row[5], orjson.loads(row[6]))


@dataclass(slots=True)
class Version:
    """One version of an object (or a delete marker)."""

    row_id: int
    key: str
    version_id: str
    is_latest: bool
    delete_marker: bool
    size: int
    etag: str
    last_modified: float
    storage_class: str
    meta: dict[str, Any]
    segment_names: list[str] = field(default_factory=list)
    # The blob records, when the query that found this version brought them along.
    loaded: list[Segment] | None = field(default=None, repr=False)

    @staticmethod
    def from_row(row: ObjectRow) -> Version:
        return Version(
            row[0], row[1], row[2], bool(row[3]), bool(row[4]), row[5], row[6], row[7], row[8],
            orjson.loads(row[9]), row[10].split(",") if row[10] else [],
        )

    @property
    def checksum(self) -> dict[str, Any] | None:
        """``{"algorithm", "value", "type"}`` of the whole object, when it has one."""
        found: dict[str, Any] | None = self.meta.get("checksum")
        return found


@dataclass(frozen=True, slots=True)
class Written:
    version: Version
    replaced: Version | None


class S3:
    def __init__(self, store: S3Store, blobs: Blobs, clock: Clock, ids: IdFactory) -> None:
        self.store = store
        self.blobs = blobs
        self.clock = clock
        self.ids = ids
        # Every request names a bucket, so its row (with the configuration JSON) is cached.
        # Only this model writes bucket rows; after each write commits, the entry is dropped
        # and the generation bumped, so a read that started before the write (the lifecycle
        # worker runs on a thread) is never cached.  Callers must not mutate ``config``.
        self._buckets: dict[str, Bucket] = {}
        self._generation = 0

    def now_seconds(self) -> float:
        """The clock's time truncated to the whole second, for the times S3 keeps to the second:
        an object's (or delete marker's) Last-Modified, a part's LastModified, a bucket's
        CreationDate.  S3's listings write them as ``...:04.000Z`` (the API reference's samples
        and SDK fixtures recorded from AWS) and the Last-Modified header, an HTTP date, has whole
        seconds, so a client comparing the two (aws s3 sync, s3fs, rclone) sees one time.
        Truncated, not rounded: a stored time is never later than the clock."""
        return float(math.floor(self.clock.now()))

    # -- buckets ------------------------------------------------------------------------

    def bucket(self, name: str) -> Bucket:
        cached = self._buckets.get(name)
        if cached is not None:
            return cached
        generation = self._generation
        row = self.store.bucket(name)
        if row is None:
            raise errors.no_such_bucket(name)
        bucket = Bucket.from_row(row)
        if generation == self._generation:
            self._buckets[name] = bucket
        return bucket

    def _changed(self, name: str) -> None:
        self._generation += 1
        self._buckets.pop(name, None)

    def create_bucket(self, name: str, account: str, region: str, config: dict[str, Any]) -> Bucket:
        check_bucket_name(name)
        with self.store.transaction():
            existing = self.store.bucket(name)
            if existing is not None:
                if existing[2] == account:
                    # AWS quirk: us-east-1 answers 200 to a repeated CreateBucket of your own
                    # bucket (legacy behaviour) "and resets the bucket access control lists"
                    # (API reference, BucketAlreadyOwnedByYou): to the ACL this request asks
                    # for, else private.  Every other region: BucketAlreadyOwnedByYou.
                    if region == "us-east-1" and existing[3] == "us-east-1":
                        bucket = Bucket.from_row(existing)
                        self.set_config(bucket, "acl", config.get("acl"))
                        return bucket
                    raise errors.bucket_owned(name)
                raise errors.bucket_exists(name)
            self.store.insert_bucket(name, account, region, self.now_seconds(),
                                     orjson.dumps(config).decode())
            row = self.store.bucket(name)
        self._changed(name)
        assert row is not None
        return Bucket.from_row(row)

    def delete_bucket(self, name: str) -> None:
        """Delete a bucket with no versions or delete markers left.

        AWS quirk: multipart uploads in progress do not keep a bucket: S3 deletes it and them
        (observed, not documented: ceph/ceph#15630's review, "I tried deleting a bucket in S3
        with an incomplete multipart upload and it was successful"; scality/cloudserver#1591;
        basho/riak_cs#475).  Their parts' files are removed after the commit, as
        AbortMultipartUpload removes an upload's."""
        with self.store.transaction():
            bucket = self.bucket(name)
            if not self.store.bucket_is_empty(bucket.id):
                raise errors.bucket_not_empty(name, bucket.versioning)
            released = self.store.ref_blobs(self.store.drop_uploads(bucket.id), -1)
            self.store.delete_bucket(bucket.id)
        self._changed(name)
        for blob in released:
            self.blobs.remove(blob)

    def list_buckets(self, account: str, prefix: str, after: str, limit: int,
                     region: str | None = None) -> list[Bucket]:
        return [Bucket.from_row(r) for r in self.store.buckets(account, prefix, after, limit, region)]

    def set_config(self, bucket: Bucket, name: str, value: Any) -> None:
        """Store (or, with None, remove) one bucket configuration document."""
        with self.store.transaction():
            current = dict(self.bucket(bucket.name).config)  # a copy: cached buckets are shared
            if value is None:
                current.pop(name, None)
            else:
                current[name] = value
            self.store.set_bucket_config(bucket.id, orjson.dumps(current).decode())
        self._changed(bucket.name)

    def set_versioning(self, bucket: Bucket, status: str) -> None:
        self.store.set_versioning(bucket.id, status)
        self._changed(bucket.name)

    # -- reading versions ---------------------------------------------------------------

    def find(self, bucket: Bucket, key: str, version_id: str | None = None) -> Version | None:
        row = (
            self.store.latest(bucket.id, key)
            if version_id is None
            else self.store.version(bucket.id, key, version_id)
        )
        return None if row is None else Version.from_row(row)

    def resolve(self, bucket: Bucket, key: str, version_id: str | None = None,
                method: str = "GET", *, marker_is_resource: bool = False) -> Version:
        """The version a GET/HEAD reads: NoSuchKey, NoSuchVersion or, for a delete marker
        named by id, MethodNotAllowed (S3's answers).  With ``marker_is_resource`` (the
        tagging operations, which act on the version itself) a current delete marker is
        MethodNotAllowed too, as S3 answers them (LocalStack's AWS-validated
        test_object_tagging_versioned)."""
        if version_id is not None:
            _check_version_id(version_id)
            found = self.find(bucket, key, version_id)
        else:
            found = self._latest_with_blob(bucket, key)
        if found is None:
            if version_id is not None:
                raise errors.no_such_version(key, version_id)
            raise errors.no_such_key(key)
        if found.delete_marker:
            gone = (errors.delete_marker_not_allowed(method)
                    if version_id is not None or marker_is_resource
                    else errors.no_such_key(key, delete_marker=True))
            # The marker's own time, as S3 sends it with both answers since 2023-09 ("Amazon
            # S3 now provides the Last-Modified time for delete markers using S3 Head and Get
            # APIs"; HeadObject: "the Last-Modified: timestamp response header"), and its id
            # (moto's AWS-verified tests; minio/minio#9957's capture of S3).
            gone.headers["Last-Modified"] = formatdate(found.last_modified, usegmt=True)
            gone.headers["x-amz-version-id"] = found.version_id
            raise gone
        return found

    def _latest_with_blob(self, bucket: Bucket, key: str) -> Version | None:
        found = self.store.latest_with_blob(bucket.id, key)
        if found is None:
            return None
        version = Version.from_row(found[0])
        if found[1] is not None:
            version.loaded = [found[1]]
        return version

    def segments(self, version: Version) -> list[Segment]:
        if version.loaded is not None:
            return version.loaded
        if not version.segment_names and not version.delete_marker:
            # No blobs: a small object, its bytes in its row.
            in_row = self.store.row_bytes(version.row_id)
            if in_row is None:
                raise CorruptBlob(f"row-{version.row_id}", "bytes are missing")
            return [in_row]
        found = self.store.segments(version.segment_names)
        if len(found) != len(version.segment_names):
            raise CorruptBlob(",".join(version.segment_names), "blob record is missing")
        return found

    def read(self, version: Version, start: int, end: int) -> Iterator[bytes]:
        """The version's bytes in [start, end), each block verified (``blobs.read``)."""
        return self.blobs.read(self.segments(version), start, end)

    # -- writing ------------------------------------------------------------------------

    def new_version(self, bucket: Bucket) -> tuple[str, int | None]:
        """The version id of a new version in ``bucket`` and the row it must take.  In an
        Enabled bucket the id leads with its row's number (16 hex digits, then 16 random), so
        a version listing can resume after a version that was deleted meanwhile, as S3 does
        (``version_row``); other buckets write the null version, in whatever row."""
        if bucket.versioning != "Enabled":
            return NULL_VERSION, None
        row_id = self.store.next_row_id()
        return f"{row_id:016x}{self.ids.token(8)}", row_id

    def put(
        self,
        bucket: Bucket,
        key: str,
        staged: Staged | list[Segment],
        *,
        etag: str,
        storage_class: str,
        meta: dict[str, Any],
        check: Any = None,
        also: Any = None,
        created: float | None = None,
    ) -> Written:
        """Record a new current version made of ``staged`` (published here) or of existing
        segments (a copy or a completed upload; their references are taken here).  Small
        bytes (staged in memory, or a copy of a small object) go in the version's own row.
        Its Last-Modified is now, or ``created`` (a completed upload's initiation).

        ``check(current)`` runs inside the transaction first, for conditional writes;
        ``also()`` runs in it last and returns blob names whose files it released.
        """
        check_key(key)
        row_bytes: Segment | None = None
        fresh: list[Segment] = []  # blob files published here
        shared: list[Segment] = []  # blobs already recorded, referred to once more
        if isinstance(staged, Staged):
            if staged.temp is None:
                assert staged.data is not None
                row_bytes = Segment("", staged.size, staged.blocks, staged.data, in_row=True)
            else:
                fresh = [self.blobs.publish(staged)]
        elif len(staged) == 1 and staged[0].in_row:
            row_bytes = staged[0]  # a copy of a small object: the bytes are copied
        else:
            shared = staged
        segments = [row_bytes] if row_bytes is not None else fresh or shared
        size = sum(s.size for s in segments)
        names = [s.name for s in fresh or shared]
        released: list[str] = []
        try:
            with self.store.transaction():
                bucket = self.bucket(bucket.name)  # the bucket may have gone meanwhile
                current = self.find(bucket, key)
                if check is not None:
                    check(current if current is not None and not current.delete_marker else None)
                for segment in fresh:
                    self.store.add_blob(segment)
                if shared:
                    self.store.ref_blobs(names, +1)
                version_id, new_row = self.new_version(bucket)
                replaced = None
                if version_id == NULL_VERSION:
                    # Never versioned: every version is the null one, so the current is it.
                    null = current if bucket.versioning is None else self.find(bucket, key, NULL_VERSION)
                    if null is not None and null.version_id == NULL_VERSION:
                        replaced = null
                        released += self._drop(null)
                if current is not None and (replaced is None or replaced.row_id != current.row_id):
                    self.store.set_latest(current.row_id, False)  # the one current version
                now = self.now_seconds() if created is None else float(int(created))
                self.store.touch_uploads(bucket.id, key)
                row_id = self.store.insert_object(
                    bucket.id, key, version_id, delete_marker=False, size=size, etag=etag,
                    last_modified=now, storage_class=storage_class,
                    meta=orjson.dumps(meta).decode(), segments=",".join(names),
                    checksum=meta.get("checksum"), row_bytes=row_bytes, row_id=new_row,
                )
                if also is not None:
                    released += also()
        except BaseException:
            for segment in fresh:
                self.blobs.remove(segment.name)
            raise
        self._release(released)
        version = Version(row_id, key, version_id, True, False, size, etag, now,
                          storage_class, meta, names)
        return Written(version, replaced)

    def delete(self, bucket: Bucket, key: str, version_id: str | None = None,
               check: Any = None) -> Version | None:
        """DeleteObject; returns the version removed or the delete marker added (None when
        there was nothing to delete in an unversioned bucket).  ``check(target)`` runs first
        in the transaction, for conditional deletes: ``target`` is the version named, or the
        current one (None when there is none or it is a delete marker)."""
        if version_id is not None:
            _check_version_id(version_id)
        released: list[str] = []
        with self.store.transaction():
            bucket = self.bucket(bucket.name)
            if check is not None:
                target = self.find(bucket, key, version_id)
                check(target if target is not None and not target.delete_marker else None)
            self.store.touch_uploads(bucket.id, key)
            if version_id is not None:
                found = self.find(bucket, key, version_id)
                if found is None:
                    return None  # AWS answers 204 for a version that is not there
                released += self._drop(found)
                if found.is_latest:
                    newest = self.store.newest_remaining(bucket.id, key)
                    if newest is not None:
                        self.store.set_latest(newest, True)
                result: Version | None = found
            elif bucket.versioning is None:
                found = self.find(bucket, key)
                if found is not None:
                    released += self._drop(found)
                result = found
            else:
                marker_id, new_row = self.new_version(bucket)
                if marker_id == NULL_VERSION:
                    null = self.find(bucket, key, NULL_VERSION)
                    if null is not None:
                        released += self._drop(null)
                self.store.clear_latest(bucket.id, key)
                now = self.now_seconds()
                row_id = self.store.insert_object(
                    bucket.id, key, marker_id, delete_marker=True, size=0, etag="",
                    last_modified=now, storage_class="STANDARD", meta="{}", segments="",
                    row_id=new_row,
                )
                result = Version(row_id, key, marker_id, True, True, 0, "", now, "STANDARD", {})
        self._release(released)
        return result

    def update_meta(self, version: Version, meta: dict[str, Any]) -> None:
        self.store.update_meta(version.row_id, orjson.dumps(meta).decode())
        version.meta = meta

    def _drop(self, version: Version) -> list[str]:
        """Remove a version row and its blob references; returns the blobs to delete."""
        self.store.delete_row(version.row_id)
        return self.store.ref_blobs(version.segment_names, -1)

    def _release(self, names: list[str]) -> None:
        for name in names:
            self.blobs.remove(name)

    # -- integrity ----------------------------------------------------------------------

    def scrub(self) -> list[str]:
        """Check every stored blob and the bytes small objects keep in their rows; the
        problems found, one line each."""
        found = [p for p in map(self.blobs.verify, self.store.each_blob()) if p]
        for bucket, key, version_id, in_row in self.store.each_row_bytes():
            problem = self.blobs.verify(in_row)
            if problem:
                found.append(f"{bucket}/{key} (version {version_id}): {problem}")
        return found


_VERSION_ID = re.compile(r"^[0-9a-f]{32}$")  # what ``new_version`` makes
_ROWS_BOUND = 1 << 48  # no row reaches it; see ``version_row``


def version_row(version_id: str) -> int | None:
    """The row number an id from ``new_version`` leads with (None for "null" or another
    form).  Ids made before they carried it are random: all but one in 65,536 of those read
    as a number no row reaches (2**48 and up), and count as carrying none."""
    if not _VERSION_ID.match(version_id):
        return None
    row = int(version_id[:16], 16)
    return row if row < _ROWS_BOUND else None


def is_version_id(text: str) -> bool:
    """Whether ``text`` could name a version here: "null" or an id of the form this store
    issues.  S3's ids check themselves, so one S3 never issued is InvalidArgument there
    rather than NoSuchVersion (LocalStack's AWS-validated test_delete_object and
    test_get_object_with_version_unversioned_bucket); the form is what is checked here."""
    return text == NULL_VERSION or _VERSION_ID.match(text) is not None


def _check_version_id(version_id: str) -> None:
    if not is_version_id(version_id):
        raise errors.invalid_version_id(version_id)
