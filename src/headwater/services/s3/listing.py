"""Listing keys: ListObjects (v1 and v2) and ListObjectVersions, as index range scans.

Every page is a handful of queries over ``s3_objects_latest`` (or the version index), each
starting where the previous stopped (keyset paging: ``key > last``), so a page costs the
same at key 100,000 as at key 1.  With a delimiter, each common prefix is one jump: after
rolling ``photos/2024/`` up, the scan continues at the first key past every key with that
prefix (``names.successor``) instead of walking them.

Delete markers are not objects: they never appear in ListObjects (nor count toward
max-keys), only in ListObjectVersions.

An entry is a ``Listed``: the few columns a listing shows, as the store reads them (no blob
names, no ``meta`` unless the request asked for restore state), since a page builds a
thousand of them.  A continuation token (ListObjectsV2, ListBuckets) names the key a page
ended at (``token_for`` / ``key_of``).

References: https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html,
https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectVersions.html
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import orjson

from headwater.services.s3 import errors
from headwater.services.s3.model import version_row
from headwater.services.s3.names import common_prefix, successor
from headwater.services.s3.store import S3Store

_BATCH = 1000


class Listed(NamedTuple):
    """One entry of a listing, a version or a delete marker: the row the store reads
    (``store.ListedRow``), named.  Built with ``Listed._make(row)``, no copying."""

    key: str
    version_id: str
    is_latest: int  # 0 or 1
    delete_marker: int  # 0 or 1
    size: int
    etag: str
    last_modified: float
    storage_class: str
    checksum_algorithm: str | None  # of the whole-object checksum, when there is one
    checksum_type: str | None  # FULL_OBJECT or COMPOSITE (None: FULL_OBJECT)
    row_id: int  # the version's row: where a version listing resumes inside a key
    meta: str | None  # JSON, read only for restore state; see ``restore``

    @property
    def restore(self) -> dict[str, Any] | None:
        """The restore state (``restore.py``) of an archived object, when the listing read
        it and there is one."""
        if self.meta is None:
            return None
        found: dict[str, Any] | None = orjson.loads(self.meta).get("restore")
        return found


@dataclass(slots=True)
class Page:
    entries: list[Listed] = field(default_factory=list)
    prefixes: list[str] = field(default_factory=list)
    truncated: bool = False
    # The last key or common prefix on the page: v1's NextMarker, the basis of v2's token.
    last: str | None = None
    next_version_id: str | None = None


def _start(prefix: str, delimiter: str, after: str) -> tuple[str, bool]:
    """Where a scan begins: (key, strictly greater?).

    A marker that rolls up into a common prefix -- the prefix itself, as a previous page
    returned it, or a key under it -- skips everything else under that prefix: the prefix
    sorts before the marker, and a listing returns only what sorts after it (S3's answer to
    a key marker inside a rolled-up folder, recorded in LocalStack's AWS-validated
    test_list_object_versions_pagination_common_prefixes)."""
    if not after or after < prefix:
        return prefix, False
    rolled = common_prefix(after, prefix, delimiter) if after.startswith(prefix) else None
    if rolled is not None:
        nxt = successor(rolled)
        return (nxt, False) if nxt is not None else (after, True)
    return after, True


def list_objects(store: S3Store, bucket_id: int, prefix: str, delimiter: str, after: str,
                 max_keys: int, restore: bool = False) -> Page:
    """A page of current versions; with ``restore`` their entries carry restore state."""
    page = Page()
    if max_keys <= 0:
        # AWS quirk: max-keys=0 answers an empty page that is not truncated (IsTruncated
        # false, no NextMarker / NextContinuationToken) however many keys match; undocumented,
        # observed for ListObjects and ListObjectsV2 (versity/versitygw#248, SiaFoundation/s3d#18
        # "checked both versions", faiscadev/fakecloud#2003).
        return page
    high = successor(prefix) if prefix else None
    low, strict = _start(prefix, delimiter, after)
    count = 0
    while True:
        # Without a delimiter every row is an entry: one more than the page needs tells
        # whether it is truncated.  With one, rows may roll up, so read in batches.
        limit = _BATCH if delimiter else max(1, min(_BATCH + 1, max_keys - count + 1))
        rows = store.list_latest(bucket_id, low, strict, high, limit, restore)
        jumped = False
        for row in rows:
            key = row[0]
            rolled = common_prefix(key, prefix, delimiter)
            if rolled is not None:
                if count >= max_keys:
                    page.truncated = True
                    return page
                page.prefixes.append(rolled)
                page.last = rolled
                count += 1
                nxt = successor(rolled)
                if nxt is None:
                    return page
                low, strict, jumped = nxt, False, True
                break
            low, strict = key, True
            if row[3]:  # a delete marker
                continue
            if count >= max_keys:
                page.truncated = True
                return page
            page.entries.append(Listed._make(row))
            page.last = key
            count += 1
        if not jumped and len(rows) < limit:
            return page


def list_versions(store: S3Store, bucket_id: int, prefix: str, delimiter: str, key_marker: str,
                  version_marker: str, max_keys: int, restore: bool = False) -> Page:
    page = Page()
    if max_keys <= 0:
        return page  # as ``list_objects`` answers it (no record for versions either way)
    high = successor(prefix) if prefix else None
    # Where the scan is: the versions of ``within``'s key older than its row (a key may have
    # more versions than a batch), then the keys from ``low`` on.
    within: tuple[str, int] | None = None
    low, strict = _start(prefix, delimiter, key_marker)
    if key_marker and version_marker and key_marker.startswith(prefix):
        # Resume inside key_marker's versions, after version_marker -- also after a version
        # deleted since, as S3 does (LocalStack's AWS-validated
        # test_list_objects_versions_with_prefix_only_and_pagination, "page-2-after-delete";
        # s3fs and boto3 empty a versioned bucket page by page): its id tells its row
        # (``version_row``).  A marker that carries no row (an id from before) skips the key.
        marker = store.version(bucket_id, key_marker, version_marker)
        low, strict = key_marker, True
        if marker is not None:
            within = (key_marker, marker[0])
        else:
            gone = version_row(version_marker)
            if gone is not None:
                within = (key_marker, gone)
    count = 0
    while True:
        if within is not None:
            rows = store.older_versions(bucket_id, within[0], within[1], _BATCH, restore)
        else:
            rows = store.list_versions(bucket_id, low, strict, high, _BATCH, restore)
        jumped = False
        for row in rows:
            key = row[0]
            rolled = common_prefix(key, prefix, delimiter)
            if rolled is not None:
                if count >= max_keys:
                    page.truncated = True
                    return page
                page.prefixes.append(rolled)
                page.last = rolled
                page.next_version_id = None
                count += 1
                nxt = successor(rolled)
                if nxt is None:
                    return page
                low, strict, jumped, within = nxt, False, True, None
                break
            if count >= max_keys:
                page.truncated = True
                return page
            entry = Listed._make(row)
            page.entries.append(entry)
            page.last = key
            page.next_version_id = entry.version_id
            count += 1
        if jumped:
            continue
        if len(rows) == _BATCH:
            # Resume after the last row seen: the rest of its key's versions, then later keys.
            last = Listed._make(rows[-1])
            within, low, strict = (last.key, last.row_id), last.key, True
        elif within is not None:
            within = None  # that key's versions are done; ``low`` is past it
        else:
            return page


def token_for(key: str) -> str:
    """The continuation token of a page that ended at ``key`` (opaque to clients)."""
    return base64.urlsafe_b64encode(key.encode("utf-8", "surrogatepass")).decode("ascii")


def key_of(token: str) -> str:
    """The key a continuation token resumes after; an empty or garbled one is S3's
    InvalidArgument, naming the argument only (as recorded from S3 for the empty one)."""
    try:
        if token:
            return base64.urlsafe_b64decode(token.encode("ascii")).decode("utf-8",
                                                                           "surrogatepass")
    except (binascii.Error, UnicodeError, ValueError):
        pass
    raise errors.invalid_argument("The continuation token provided is incorrect",
                                  "continuation-token")
