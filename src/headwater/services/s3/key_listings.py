"""S3's key listings on the wire: ListObjects (v1 and v2) and ListObjectVersions -- their
parameters, markers and tokens, and the entries' members.  The scans themselves: ``listing``.
"""

from __future__ import annotations

from typing import Any

from headwater.protocol.context import RequestContext
from headwater.protocol.serialize.s3 import ENTRY_ORDER_KEY
from headwater.services.s3 import errors, listing, restore, wire
from headwater.services.s3.model import S3, Bucket
from headwater.services.s3.names import owner, url_encode

Params = dict[str, Any]
Result = dict[str, Any]
MAX_KEYS = 1000


class ListingOps:
    s3: S3

    def _listing_base(self, params: Params) -> tuple[Bucket, str, str, bool]:
        bucket = self.s3.bucket(params["Bucket"])
        encoding = params.get("EncodingType")
        if encoding is not None and encoding != "url":
            raise errors.invalid_argument("Invalid Encoding Method specified in Request",
                                          "encoding-type", str(encoding))
        return bucket, params.get("Prefix") or "", params.get("Delimiter") or "", encoding == "url"

    @staticmethod
    def _rolled_up(out: Result, page: listing.Page, delimiter: str, encode: bool) -> None:
        """The members every listing answers alike: common prefixes, the delimiter, the
        encoding (keys, prefixes and the delimiter URL-encoded with ``encoding-type=url``)."""
        fix = url_encode if encode else (lambda s: s)
        if page.prefixes:
            out["CommonPrefixes"] = [{"Prefix": fix(p)} for p in page.prefixes]
        if delimiter:
            out["Delimiter"] = fix(delimiter)
        if encode:
            out["EncodingType"] = "url"

    @staticmethod
    def _wants_restore(params: Params) -> bool:
        """Whether entries show RestoreStatus (``x-amz-optional-object-attributes``)."""
        return "RestoreStatus" in (params.get("OptionalObjectAttributes") or ())

    def _entries(self, page: listing.Page, params: Params, encode: bool,
                 who: dict[str, str] | None, versions: bool = False
                 ) -> tuple[list[Result], list[Result]]:
        """The page's entries as the output shapes' Object (or, with ``versions``,
        ObjectVersion) and DeleteMarkerEntry members: (objects, delete markers).

        ``who`` is the Owner to show (None: no Owner); RestoreStatus appears only when the
        request asked for it (``x-amz-optional-object-attributes``), as in S3."""
        now = self.s3.clock.now() if self._wants_restore(params) else None
        objects: list[Result] = []
        markers: list[Result] = []
        # A page holds up to a thousand entries: plain loops, nothing per entry it can avoid.
        for entry in page.entries:
            key = url_encode(entry.key) if encode else entry.key
            if entry.delete_marker:
                marker: Result = {"Key": key, "VersionId": entry.version_id,
                                  "IsLatest": bool(entry.is_latest),
                                  "LastModified": entry.last_modified, "Owner": who}
                markers.append(marker)
                continue
            item: Result = {"Key": key, "LastModified": entry.last_modified, "ETag": entry.etag,
                            "Size": entry.size, "StorageClass": entry.storage_class}
            if versions:
                item["VersionId"] = entry.version_id
                item["IsLatest"] = bool(entry.is_latest)
            if entry.checksum_algorithm:
                item["ChecksumAlgorithm"] = [entry.checksum_algorithm]
                item["ChecksumType"] = entry.checksum_type or "FULL_OBJECT"
            if who is not None:
                item["Owner"] = who
            if now is not None:
                state = restore.current(entry.restore, now)
                if state is not None:
                    status: Result = {"IsRestoreInProgress": bool(state.get("ongoing"))}
                    if not state.get("ongoing"):
                        status["RestoreExpiryDate"] = state["expiry"]
                    item["RestoreStatus"] = status
            objects.append(item)
        return objects, markers

    def list_objects_v2(self, ctx: RequestContext, params: Params) -> Result:
        bucket, prefix, delimiter, encode = self._listing_base(params)
        max_keys = wire.page_size(params, "MaxKeys", "maxKeys", MAX_KEYS,
                                  parameter="max-keys")
        token = params.get("ContinuationToken")
        start_after = params.get("StartAfter") or ""
        # An empty token is a bad one, as S3 answers it (LocalStack's AWS-validated
        # test_list_objects_v2_continuation_start_after; beyondstorage/go-service-s3's notes).
        after = listing.key_of(token) if token is not None else start_after
        page = listing.list_objects(self.s3.store, bucket.id, prefix, delimiter, after, max_keys,
                                   self._wants_restore(params))
        fix = url_encode if encode else (lambda s: s)
        out: Result = {
            "Name": bucket.name,
            "Prefix": fix(prefix),
            "MaxKeys": max_keys,
            "KeyCount": len(page.entries) + len(page.prefixes),
            "IsTruncated": page.truncated,
        }
        who = owner(bucket.account) if params.get("FetchOwner") else None
        contents, _ = self._entries(page, params, encode, who)
        if contents:
            out["Contents"] = contents
        self._rolled_up(out, page, delimiter, encode)
        if token is not None:
            out["ContinuationToken"] = token
        elif start_after:
            # Not echoed beside a token, which it does not steer (the same recording).
            out["StartAfter"] = fix(start_after)
        if page.truncated and page.last is not None:
            out["NextContinuationToken"] = listing.token_for(page.last)
        return out

    def list_objects(self, ctx: RequestContext, params: Params) -> Result:
        bucket, prefix, delimiter, encode = self._listing_base(params)
        max_keys = wire.page_size(params, "MaxKeys", "maxKeys", MAX_KEYS,
                                  parameter="max-keys")
        marker = params.get("Marker") or ""
        page = listing.list_objects(self.s3.store, bucket.id, prefix, delimiter, marker, max_keys,
                                   self._wants_restore(params))
        fix = url_encode if encode else (lambda s: s)
        out: Result = {
            "Name": bucket.name,
            "Prefix": fix(prefix),
            "Marker": fix(marker),
            "MaxKeys": max_keys,
            "IsTruncated": page.truncated,
        }
        contents, _ = self._entries(page, params, encode, owner(bucket.account))
        if contents:
            out["Contents"] = contents
        self._rolled_up(out, page, delimiter, encode)
        # AWS quirk: NextMarker is only returned when a delimiter was given.
        if delimiter and page.truncated and page.last is not None:
            out["NextMarker"] = fix(page.last)
        return out

    def list_object_versions(self, ctx: RequestContext, params: Params) -> Result:
        bucket, prefix, delimiter, encode = self._listing_base(params)
        max_keys = wire.page_size(params, "MaxKeys", "maxKeys", MAX_KEYS,
                                  parameter="max-keys")
        key_marker = params.get("KeyMarker") or ""
        version_marker = params.get("VersionIdMarker") or ""
        if version_marker and not key_marker:
            # S3's answer (LocalStack's AWS-validated test_list_objects_versions_markers).
            raise errors.invalid_argument(
                "A version-id marker cannot be specified without a key marker.",
                "version-id-marker", version_marker)
        page = listing.list_versions(self.s3.store, bucket.id, prefix, delimiter, key_marker,
                                     version_marker, max_keys, self._wants_restore(params))
        fix = url_encode if encode else (lambda s: s)
        versions, markers = self._entries(page, params, encode, owner(bucket.account),
                                          versions=True)
        out: Result = {
            "Name": bucket.name,
            "Prefix": fix(prefix),
            "KeyMarker": fix(key_marker),
            "VersionIdMarker": version_marker,
            "MaxKeys": max_keys,
            "IsTruncated": page.truncated,
        }
        if versions:
            out["Versions"] = versions
        if markers:
            out["DeleteMarkers"] = markers
            out[ENTRY_ORDER_KEY] = [entry.delete_marker for entry in page.entries]
        self._rolled_up(out, page, delimiter, encode)
        if page.truncated and page.last is not None:
            out["NextKeyMarker"] = fix(page.last)
            if page.next_version_id:
                out["NextVersionIdMarker"] = page.next_version_id
        return out
