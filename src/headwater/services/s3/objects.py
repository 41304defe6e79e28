"""S3 object operations on the wire: Put, Get, Head, Delete, DeleteObjects, Copy, tagging,
GetObjectAttributes.

Each method maps the parsed request onto the domain (``model``) and the result onto the
operation's output shape.  Uploads are staged to disk while hashed (``blobs.stage``), checked
against the checksums the client sent (header, trailer, Content-MD5) and only then
published: a failed check leaves nothing behind.  Downloads larger than ``INLINE_LIMIT`` are
streamed block by block, each block verified before it is sent.

Operations: https://docs.aws.amazon.com/AmazonS3/latest/API/API_Operations_Amazon_Simple_Storage_Service.html
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import unquote

from headwater.config import Settings
from headwater.core.errors import ServiceError
from headwater.protocol.context import RequestContext
from headwater.protocol.serialize.s3 import STATUS_KEY
from headwater.services.s3 import (
    acl,
    checksums,
    conditions,
    encryption,
    errors,
    lifecycle,
    restore,
    wire,
)
from headwater.services.s3.blobs import CorruptBlob, Staged
from headwater.services.s3.model import S3, Bucket, Version, is_version_id
from headwater.services.s3.names import owner
from headwater.services.s3.notifications import Notifier

log = logging.getLogger(__name__)

Params = dict[str, Any]
Result = dict[str, Any]
INLINE_LIMIT = 1 << 20  # bodies up to this size are read (and verified) before replying
MAX_PUT = 5 * 1024**3
# What GetObjectAttributes may be asked for (the ObjectAttributes enum of botocore's model).
_OBJECT_ATTRIBUTES = frozenset({"ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize"})


def corrupt(version: Version, exc: CorruptBlob) -> ServiceError:
    log.error("s3: %s (version %s of %r) is corrupt: %s", exc.name, version.version_id,
              version.key, exc)
    return errors.internal_error()


async def _stream(iterator: Iterator[bytes], version: Version) -> AsyncIterator[bytes]:
    """The chunks of ``iterator``, each read on a worker thread while the one before it is
    being sent (a large blob is read from the disk, not the page cache: see ``blobs``)."""
    loop = asyncio.get_running_loop()
    ahead = loop.run_in_executor(None, next, iterator, None)
    try:
        while True:
            try:
                # Shielded: cancelling this task must not orphan a read that is running.
                chunk = await asyncio.shield(ahead)
            except CorruptBlob as exc:
                corrupt(version, exc)
                raise
            if chunk is None:
                return
            ahead = loop.run_in_executor(None, next, iterator, None)
            yield chunk
    finally:
        # A consumer that stops early (the client went away) leaves a read running: the
        # iterator must be idle before it can be closed, and its file with it.
        if not ahead.done():
            with contextlib.suppress(Exception):
                await ahead
        close = getattr(iterator, "close", None)
        if close is not None:
            close()


class ObjectOps:
    s3: S3
    settings: Settings
    notifier: Notifier

    def _notify(self, ctx: RequestContext, bucket: Bucket, event: str, key: str,
                version: Version | None) -> None:
        if bucket.config.get("notification"):
            self.notifier.emit(bucket, event, key, version, request_id=ctx.request_id,
                               now=self.s3.clock.now(), principal=f"AWS:{ctx.access_key}")

    # -- helpers --------------------------------------------------------------------------

    def _bucket(self, params: Params) -> Bucket:
        return self.s3.bucket(params["Bucket"])

    async def _receive(
        self, ctx: RequestContext, params: Params, algorithm: str | None, given: str | None,
        also: str | None = None,
    ) -> tuple[Staged, dict[str, Any]]:
        """Stage the body and check it; returns it with the checksum to store.  Computed: the
        requested algorithm (S3's default without one) and ``also``."""
        wanted = {algorithm or checksums.DEFAULT_ALGORITHM}
        if also is not None:
            wanted.add(also)
        body = params.get("Body")
        staged = await self.s3.blobs.stage(body, tuple(sorted(wanted)))
        try:
            checksums.check_md5(params.get("ContentMD5"), staged.md5)
            if algorithm is not None:
                if given is None:
                    trailers = getattr(body, "trailers", {}) or {}
                    given = trailers.get(checksums.header_name(algorithm))
                    if given is not None:
                        checksums.check_value(algorithm, given)
                if given is not None and given != staged.checksums[algorithm]:
                    raise checksums.bad_digest(algorithm)
                if given is None and ctx.request.headers.get("x-amz-trailer"):
                    # Announced in x-amz-trailer, but the body ended without it (or with
                    # another checksum's trailer, or was no aws-chunked body, which alone
                    # carries trailers): S3 answers MalformedTrailerError.
                    raise checksums.malformed_trailer()
        except BaseException:
            self.s3.blobs.discard(staged)
            raise
        chosen = algorithm or checksums.DEFAULT_ALGORITHM
        return staged, {"algorithm": chosen, "value": staged.checksums[chosen], "type": "FULL_OBJECT"}

    @staticmethod
    def _version_member(bucket: Bucket, version: Version) -> dict[str, str]:
        return {"VersionId": version.version_id} if bucket.versioning is not None else {}

    @staticmethod
    def _written_version_member(bucket: Bucket, version: Version) -> dict[str, str]:
        """The version id a write answers with (``wire.written_version_id``)."""
        found = wire.written_version_id(bucket, version)
        return {} if found is None else {"VersionId": found}

    def _expiration(self, out: Result, bucket: Bucket, version: Version) -> None:
        """Add ``x-amz-expiration`` for ``version``, the key's current version, when one of
        the bucket's lifecycle rules expires it (``lifecycle.expiration_header``)."""
        found = lifecycle.expiration_header(bucket, version, self.settings.lifecycle_day_seconds)
        if found is not None:
            out["Expiration"] = found

    # -- put ------------------------------------------------------------------------------

    async def put_object(self, ctx: RequestContext, params: Params) -> Result:
        wire.check_not_a_part(ctx.request.query)
        encryption.check_write(params)
        bucket = self._bucket(params)
        key = params["Key"]
        storage_class = wire.storage_class(params)
        meta = wire.stored_meta(params)
        acl.set_for_new_object(meta, bucket, params)
        algorithm, given = checksums.requested(params, ctx.request.headers.get("x-amz-trailer"))
        wire.check_no_object_lock(params, digest_sent=algorithm is not None
                                  or params.get("ContentMD5") is not None)
        if params.get("WriteOffsetBytes") is not None:
            # Appends are S3 Express One Zone's (directory buckets), which headwater has not.
            raise errors.header_not_implemented("x-amz-write-offset-bytes")
        check = conditions.check_write(params, key)
        declared = wire.declared_size(params, ctx.request.headers)
        if declared is not None and declared > MAX_PUT:
            raise errors.entity_too_large(declared, MAX_PUT)
        staged, checksum = await self._receive(ctx, params, algorithm, given)
        meta["checksum"] = checksum
        written = self.s3.put(bucket, key, staged, etag=f'"{staged.md5.hex()}"',
                              storage_class=storage_class, meta=meta, check=check)
        self._notify(ctx, bucket, "ObjectCreated:Put", key, written.version)
        result: Result = {"ETag": written.version.etag, "ServerSideEncryption": encryption.SSE_S3}
        result.update(wire.checksum_members(checksum))
        result.update(self._written_version_member(bucket, written.version))
        self._expiration(result, bucket, written.version)
        return result

    # -- get / head -----------------------------------------------------------------------

    def _readable(self, params: Params, method: str) -> tuple[Bucket, Version]:
        bucket = self._bucket(params)
        version = self.s3.resolve(bucket, params["Key"], params.get("VersionId"), method)
        conditions.check_read(params, version, now=self.s3.clock.now())
        return bucket, version

    def _part_range(self, version: Version, number: int) -> tuple[int, int]:
        parts = version.meta.get("parts") or [[version.size, None]]
        if not 1 <= number <= len(parts):
            raise errors.invalid_part_number(number, len(parts))
        start = sum(p[0] for p in parts[: number - 1])
        return start, start + parts[number - 1][0]

    def _span(self, params: Params, version: Version) -> tuple[int, int, bool]:
        """(start, end, ranged) of what a GET/HEAD returns."""
        number = params.get("PartNumber")
        if number is not None:
            if params.get("Range"):
                raise errors.invalid_request("Cannot specify both Range header and partNumber "
                                             "query parameter")
            # A part is a range even of an object uploaded whole (its one part): 206 with
            # Content-Range (moto's AWS-verified tests; versity/versitygw#2074's S3 capture),
            # unless the object is empty and there is no range to speak of.
            start, end = self._part_range(version, int(number))
            return start, end, version.size > 0
        found = conditions.parse_range(params.get("Range"), version.size)
        if found is None:
            return 0, version.size, False
        return found[0], found[1], True

    def _describe(self, bucket: Bucket, version: Version, params: Params) -> tuple[Result, int, int]:
        start, end, ranged = self._span(params, version)
        state = restore.current(version.meta.get("restore"), self.s3.clock.now())
        shown = version
        if state != version.meta.get("restore"):  # finished or expired since last written
            shown = dataclasses.replace(version, meta={**version.meta, "restore": state})
        number = params.get("PartNumber")
        multipart = bool(version.meta.get("parts"))
        # The whole-object checksum comes with every answer that serves the whole object: a
        # range covering it all (LocalStack's AWS-validated test_get_object_range), or the one
        # part of an object uploaded whole.
        partial = ranged and (start, end) != (0, version.size)
        out = wire.object_headers(shown, params, partial=partial,
                                  versioned=bucket.versioning is not None)
        if params.get("VersionId") is None:
            # Only for the current version as such: with a versionId S3 sends no
            # x-amz-expiration, even for the current one (minio/minio#11718, ceph/ceph#69642).
            self._expiration(out, bucket, version)
        if number is not None and multipart:
            part = version.meta["parts"][int(number) - 1]
            if params.get("ChecksumMode") == "ENABLED" and part[1] and version.checksum:
                algorithm = version.checksum["algorithm"]
                out[checksums.member_name(algorithm)] = part[1]
        if ranged:
            out["ContentRange"] = f"bytes {start}-{max(end - 1, start)}/{version.size}"
        out["ContentLength"] = end - start
        return out, start, end

    def get_object(self, ctx: RequestContext, params: Params) -> Result:
        encryption.check_read(params, ctx.request.headers)
        bucket, version = self._readable(params, "GET")
        if not restore.is_readable(version, self.s3.clock.now()):
            raise errors.invalid_object_state(version.storage_class)
        out, start, end = self._describe(bucket, version, params)
        try:
            iterator = self.s3.read(version, start, end)
            if end - start <= INLINE_LIMIT:
                out["Body"] = b"".join(iterator)
            else:
                out["Body"] = _stream(iterator, version)
        except CorruptBlob as exc:
            raise corrupt(version, exc) from None
        return out

    def head_object(self, ctx: RequestContext, params: Params) -> Result:
        encryption.check_read(params, ctx.request.headers)
        bucket, version = self._readable(params, "HEAD")
        out, _, _ = self._describe(bucket, version, params)
        return out

    # -- delete ---------------------------------------------------------------------------

    def delete_object(self, ctx: RequestContext, params: Params) -> Result:
        bucket = self._bucket(params)
        if params.get("BypassGovernanceRetention"):
            # No bucket here has Object Lock, so S3 refuses the header on every one
            # (LocalStack's AWS-validated test_delete_object_with_no_locking).
            raise errors.invalid_argument(
                "x-amz-bypass-governance-retention is only applicable to Object Lock enabled "
                "buckets.")
        # If-Match deletes only the version it names (AWS "conditional deletes"); the
        # If-Match-Last-Modified-Time / -Size forms are for directory buckets.
        check = conditions.check_write(params, params["Key"], delete=True)
        gone = self.s3.delete(bucket, params["Key"], params.get("VersionId"), check)
        self._removed(ctx, bucket, params["Key"], gone)
        out: Result = {}
        if gone is not None and bucket.versioning is not None:
            out["VersionId"] = gone.version_id
            if gone.delete_marker:
                out["DeleteMarker"] = True
        return out

    def delete_objects(self, ctx: RequestContext, params: Params) -> Result:
        bucket = self._bucket(params)
        request = params.get("Delete") or {}
        items = request.get("Objects") or []
        if not 1 <= len(items) <= 1000:
            # None at all is malformed too: the schema requires an Object (minio/minio#11532
            # and ceph/ceph#60579 record S3's MalformedXML for an empty Delete).
            raise errors.malformed_xml()
        quiet = bool(request.get("Quiet"))
        deleted: list[Result] = []
        failed: list[Result] = []
        for item in items:
            key = item.get("Key", "")
            version_id = item.get("VersionId")
            if version_id is not None and not is_version_id(version_id):
                # An entry's id S3 never issued: NoSuchVersion there, not the InvalidArgument
                # DeleteObject answers (LocalStack's AWS-validated test_delete_objects).
                error = errors.no_such_version(key, version_id)
                failed.append({"Key": key, "VersionId": version_id, "Code": error.code,
                               "Message": error.message})
                continue
            try:
                check = conditions.check_write({"IfMatch": item.get("ETag")}, key, delete=True)
                gone = self.s3.delete(bucket, key, version_id, check)
            except ServiceError as error:
                failed.append({"Key": key, "Code": error.code, "Message": error.message,
                               **({"VersionId": version_id} if version_id else {})})
                continue
            self._removed(ctx, bucket, key, gone)
            if quiet:
                continue
            entry: Result = {"Key": key}
            if version_id is not None:
                entry["VersionId"] = version_id
            if gone is not None and gone.delete_marker:
                entry["DeleteMarker"] = True
                entry["DeleteMarkerVersionId"] = gone.version_id
            deleted.append(entry)
        out: Result = {}
        if deleted:
            out["Deleted"] = deleted
        if failed:
            out["Errors"] = failed
        return out

    def _removed(self, ctx: RequestContext, bucket: Bucket, key: str, gone: Version | None) -> None:
        if not bucket.config.get("notification"):
            return
        if gone is None:
            # AWS quirk: DeleteObjects announces a key that did not exist as deleted too, its
            # record naming the key alone (LocalStack's AWS-validated test_delete_objects: 3
            # ObjectRemoved:Delete for 1 real key and 2 missing, in an unversioned bucket).
            # DeleteObject of a missing key, and a missing version named in a versioned
            # bucket, are not recorded: no event.
            if ctx.operation == "DeleteObjects" and bucket.versioning is None:
                self._notify(ctx, bucket, "ObjectRemoved:Delete", key, None)
            return
        created_marker = gone.delete_marker and gone.is_latest and gone.row_id == self._latest_id(bucket, key)
        event = "ObjectRemoved:DeleteMarkerCreated" if created_marker else "ObjectRemoved:Delete"
        self._notify(ctx, bucket, event, key, gone)

    def _latest_id(self, bucket: Bucket, key: str) -> int | None:
        found = self.s3.find(bucket, key)
        return None if found is None else found.row_id

    # -- copy -----------------------------------------------------------------------------

    def _source(self, params: Params) -> tuple[Bucket, Version]:
        text = str(params.get("CopySource") or "")
        path, _, query = text.partition("?")
        path = unquote(path).lstrip("/")
        source_bucket, _, source_key = path.partition("/")
        if not source_bucket or not source_key:
            raise errors.invalid_argument("Invalid copy source object key", "x-amz-copy-source",
                                          text)
        version_id = None
        if query.startswith("versionId="):
            version_id = unquote(query[len("versionId="):])
        bucket = self.s3.bucket(source_bucket)
        try:
            version = self.s3.resolve(bucket, source_key, version_id, "GET")
        except ServiceError as error:
            if error.code != "MethodNotAllowed":
                raise
            # A delete marker named by id: S3's answer for a copy source (LocalStack's
            # AWS-validated test_s3_copy_object_src_not_exists), not GetObject's 405.
            raise errors.invalid_request("The source of a copy request may not specifically "
                                         "refer to a delete marker by version id.") from None
        conditions.check_read(params, version, prefix="CopySourceIf", now=self.s3.clock.now())
        if not restore.is_readable(version, self.s3.clock.now()):
            raise errors.archived_copy_source(version.storage_class)
        return bucket, version

    async def copy_object(self, ctx: RequestContext, params: Params) -> Result:
        wire.check_not_a_part(ctx.request.query)
        encryption.check_write(params)
        wire.check_no_object_lock(params)
        source_bucket, source = self._source(params)
        bucket = self._bucket(params)
        key = params["Key"]
        storage_class = wire.storage_class(params) if params.get("StorageClass") else "STANDARD"
        metadata_directive = params.get("MetadataDirective") or "COPY"
        tagging_directive = params.get("TaggingDirective") or "COPY"
        if metadata_directive == "REPLACE":
            meta = wire.stored_meta(params)
            meta.pop("tags", None)
        else:
            # A copy has an ACL of its own, from this request, as on S3; and a website redirect
            # only if the request gives one: it "is unique to each object and is not copied"
            # (CopyObject reference; moto's AWS-verified tests store the request's).
            meta = {k: v for k, v in source.meta.items()
                    if k not in ("tags", "restore", "parts", "acl", "WebsiteRedirectLocation")}
            if params.get("WebsiteRedirectLocation"):
                meta["WebsiteRedirectLocation"] = params["WebsiteRedirectLocation"]
        if tagging_directive == "REPLACE":
            tags = wire.tags_from_header(params["Tagging"]) if params.get("Tagging") else {}
        else:
            tags = source.meta.get("tags") or {}
        if tags:
            meta["tags"] = tags
        acl.set_for_new_object(meta, bucket, params)
        # Onto itself, a copy must change something -- unless it names a version of the source
        # (even the null one), which may restore an older version as the current one (moto's
        # AWS-verified tests; versity/versitygw#2418).
        same = (source_bucket.name == bucket.name and source.key == key
                and "?versionId=" not in str(params.get("CopySource") or ""))
        if (same and metadata_directive == "COPY" and not params.get("StorageClass")
                and not params.get("ServerSideEncryption") and not params.get("WebsiteRedirectLocation")):
            raise errors.invalid_request(
                "This copy request is illegal because it is trying to copy an object to itself "
                "without changing the object's metadata, storage class, website redirect "
                "location or encryption attributes."
            )
        algorithm = params.get("ChecksumAlgorithm")
        check = conditions.check_write(params, key)
        current = source.checksum or {}
        if algorithm and algorithm != current.get("algorithm") or (
                current.get("type") == "COMPOSITE") or source.meta.get("parts"):
            # The stored checksum cannot be carried over, or the source is a multipart object,
            # whose copy is a single-part object with the MD5 of its bytes as its ETag (S3
            # documents ETags of copies as MD5 digests): read the bytes again.
            wanted = algorithm or checksums.DEFAULT_ALGORITHM
            try:
                staged = await self.s3.blobs.stage(
                    _stream(self.s3.read(source, 0, source.size), source),
                    tuple(sorted({wanted, checksums.DEFAULT_ALGORITHM})))
            except CorruptBlob as exc:
                raise corrupt(source, exc) from None
            meta["checksum"] = {"algorithm": wanted, "value": staged.checksums[wanted],
                                "type": "FULL_OBJECT"}
            data: Any = staged
            etag = f'"{staged.md5.hex()}"'
        else:
            meta["checksum"] = current
            data = self.s3.segments(source)
            etag = source.etag
        written = self.s3.put(bucket, key, data, etag=etag, storage_class=storage_class,
                              meta=meta, check=check)
        self._notify(ctx, bucket, "ObjectCreated:Copy", key, written.version)
        result: Result = {
            "CopyObjectResult": {
                "ETag": written.version.etag,
                "LastModified": written.version.last_modified,
                **wire.checksum_members(meta["checksum"]),
            },
            "ServerSideEncryption": encryption.SSE_S3,
        }
        if source_bucket.versioning is not None and source.version_id != "null":
            # A null-version source is not named (recorded: copy-in-place-versioned-re-enabled).
            result["CopySourceVersionId"] = source.version_id
        # Unlike PutObject (``wire.written_version_id``), a copy into a Suspended bucket names
        # the null version it wrote: LocalStack's AWS-validated
        # test_s3_copy_object_in_place_versioned / _suspended_only assert VersionId "null".
        result.update(self._version_member(bucket, written.version))
        self._expiration(result, bucket, written.version)
        return result

    # -- tagging --------------------------------------------------------------------------

    def _tag_target(self, params: Params, method: str,
                    tagging: bool = True) -> tuple[Bucket, Version]:
        """The version a tagging (or ACL) operation acts on; a delete marker is refused with
        the request's method named."""
        bucket = self._bucket(params)
        return bucket, self.s3.resolve(bucket, params["Key"], params.get("VersionId"), method,
                                       marker_is_resource=tagging)

    def get_object_tagging(self, ctx: RequestContext, params: Params) -> Result:
        bucket, version = self._tag_target(params, "GET")
        out: Result = {"TagSet": wire.tag_set(version.meta.get("tags") or {})}
        out.update(self._version_member(bucket, version))
        return out

    def put_object_tagging(self, ctx: RequestContext, params: Params) -> Result:
        bucket, version = self._tag_target(params, "PUT")
        pairs = [(t["Key"], t["Value"]) for t in (params.get("Tagging") or {}).get("TagSet", [])]
        meta = dict(version.meta)
        meta["tags"] = wire.check_tags(pairs)
        self.s3.update_meta(version, meta)
        # Recorded in LocalStack's AWS-validated test_object_tagging_put_event; whether AWS
        # also announces a PUT that changes nothing is not recorded: it does here.
        self._notify(ctx, bucket, "ObjectTagging:Put", version.key, version)
        return self._version_member(bucket, version)

    def delete_object_tagging(self, ctx: RequestContext, params: Params) -> Result:
        bucket, version = self._tag_target(params, "DELETE")
        meta = dict(version.meta)
        meta.pop("tags", None)
        self.s3.update_meta(version, meta)
        # Recorded in test_object_tagging_delete_event (an object that had a tag).
        self._notify(ctx, bucket, "ObjectTagging:Delete", version.key, version)
        return self._version_member(bucket, version)

    # -- ACLs (stored and returned, not enforced; every object is its bucket owner's: acl.py) --

    def get_object_acl(self, ctx: RequestContext, params: Params) -> Result:
        bucket, version = self._tag_target(params, "GET", tagging=False)
        who = owner(bucket.account)
        # With ACLs disabled (BucketOwnerEnforced) S3 shows the owner's FULL_CONTROL alone.
        stored = version.meta.get("acl") if acl.enabled(bucket) else None
        out: Result = {"Owner": who, "Grants": acl.grants(stored, who, bucket=False)}
        out.update(self._version_member(bucket, version))
        return out

    def put_object_acl(self, ctx: RequestContext, params: Params) -> Result:
        bucket, version = self._tag_target(params, "PUT", tagging=False)
        if not acl.enabled(bucket):
            raise acl.not_supported()
        wanted = acl.requested(params)
        if wanted is None:
            raise acl.missing()
        acl.check_not_blocked(bucket, wanted, for_bucket=False)
        who = owner(bucket.account)
        before, after = ({(g["Grantee"].get("ID") or g["Grantee"].get("URI"), g["Permission"])
                          for g in acl.grants(stored, who, bucket=False)}
                         for stored in (version.meta.get("acl"), wanted))
        meta = dict(version.meta)
        meta["acl"] = wanted
        self.s3.update_meta(version, meta)
        # "An event is not generated when a request results in no change to an object's ACL"
        # (notification-how-to-event-types-and-destinations.html); LocalStack's AWS-validated
        # test_object_put_acl records 3 ObjectAcl:Put for 4 PutObjectAcl, the first setting
        # private on a private object.
        if before != after:
            self._notify(ctx, bucket, "ObjectAcl:Put", version.key, version)
        return {}

    # -- attributes -----------------------------------------------------------------------

    def get_object_attributes(self, ctx: RequestContext, params: Params) -> Result:
        wanted = {a.strip() for a in params.get("ObjectAttributes") or [] if a.strip()}
        if not wanted:
            # S3's words (quoted in versity/versitygw#915 and #917).
            raise errors.invalid_request("The x-amz-object-attributes header specifying the "
                                         "attributes to be retrieved is either missing or empty")
        if not wanted <= _OBJECT_ATTRIBUTES:
            raise errors.invalid_argument("Invalid attribute name specified.",
                                          "x-amz-object-attributes")
        bucket = self._bucket(params)
        version = self.s3.resolve(bucket, params["Key"], params.get("VersionId"), "GET")
        out: Result = {"LastModified": version.last_modified}
        out.update(self._version_member(bucket, version))
        if "ETag" in wanted:
            out["ETag"] = version.etag.strip('"')
        if "StorageClass" in wanted:
            out["StorageClass"] = version.storage_class
        if "ObjectSize" in wanted:
            out["ObjectSize"] = version.size
        checksum = version.checksum
        composite = (checksum or {}).get("type") == "COMPOSITE"
        if "Checksum" in wanted and checksum and checksum.get("algorithm"):
            value = str(checksum["value"])
            if composite:
                # AWS quirk: GetObjectAttributes gives a multipart object's checksum of
                # checksums without the "-N" that HeadObject and CompleteMultipartUpload show.
                value = value.partition("-")[0]
            out["Checksum"] = {
                checksums.member_name(checksum["algorithm"]): value,
                "ChecksumType": checksum.get("type", "FULL_OBJECT"),
            }
        parts = version.meta.get("parts")
        if "ObjectParts" in wanted and parts and not composite:
            # Parts are listed only for an upload with part checksums (COMPOSITE); a
            # FULL_OBJECT one (S3's default CRC64NVME included) shows only the count.
            out["ObjectParts"] = {"TotalPartsCount": len(parts)}
        elif "ObjectParts" in wanted and parts:
            marker = int(params.get("PartNumberMarker") or 0)
            limit = int(params.get("MaxParts") or 1000)
            chosen = list(enumerate(parts, start=1))[marker : marker + limit]
            algorithm = (checksum or {}).get("algorithm")
            out["ObjectParts"] = {
                "TotalPartsCount": len(parts),
                "PartNumberMarker": marker,
                "NextPartNumberMarker": chosen[-1][0] if chosen else marker,
                "MaxParts": limit,
                "IsTruncated": marker + limit < len(parts),
                "Parts": [
                    {"PartNumber": n, "Size": p[0],
                     **({checksums.member_name(algorithm): p[1]} if algorithm and p[1] else {})}
                    for n, p in chosen
                ],
            }
        return out

    # -- restore --------------------------------------------------------------------------

    def restore_object(self, ctx: RequestContext, params: Params) -> Result:
        bucket = self._bucket(params)
        version = self.s3.resolve(bucket, params["Key"], params.get("VersionId"), "POST")
        settings = self.settings
        status = restore.restore_object(self.s3, version, params.get("RestoreRequest") or {},
                                        settings.archive_time_scale,
                                        settings.lifecycle_day_seconds)
        if status == 202:
            self._notify(ctx, bucket, "ObjectRestore:Post", version.key, version)
        return {STATUS_KEY: status}
