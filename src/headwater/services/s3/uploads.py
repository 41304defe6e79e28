"""S3 multipart uploads on the wire: Create, UploadPart, UploadPartCopy, Complete, Abort,
ListParts, ListMultipartUploads.  The rules live in ``multipart``.

Reference: https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpuoverview.html
"""

from __future__ import annotations

import math
import re
from typing import Any

import orjson

from headwater.core.errors import ServiceError
from headwater.protocol.context import RequestContext
from headwater.services.s3 import acl, checksums, conditions, encryption, errors, wire
from headwater.services.s3.blobs import CorruptBlob
from headwater.services.s3.model import S3
from headwater.services.s3.multipart import MAX_PART, Multipart, Upload, check_part_number
from headwater.services.s3.names import (
    common_prefix,
    is_common_prefix,
    object_location,
    owner,
    successor,
    url_encode,
)
from headwater.services.s3.objects import ObjectOps, _stream, corrupt

Params = dict[str, Any]
Result = dict[str, Any]
_COPY_RANGE = re.compile(r"^bytes=(\d+)-(\d+)$")


class UploadOps(ObjectOps):
    s3: S3
    multipart: Multipart

    def create_multipart_upload(self, ctx: RequestContext, params: Params) -> Result:
        encryption.check_write(params)
        wire.check_no_object_lock(params)
        bucket = self._bucket(params)
        meta = wire.stored_meta(params)
        acl.set_for_new_object(meta, bucket, params)  # the completed object's
        algorithm = params.get("ChecksumAlgorithm")
        if algorithm is not None:
            if algorithm not in checksums.ALGORITHMS:
                raise errors.invalid_request("Checksum algorithm provided is unsupported.")
            meta["checksum_algorithm"] = algorithm
        if params.get("ChecksumType"):
            meta["checksum_type"] = params["ChecksumType"]
            if algorithm is None:
                raise errors.invalid_request("The x-amz-checksum-type header can only be used "
                                             "with the x-amz-checksum-algorithm header.")
        upload = self.multipart.create(bucket, params["Key"], wire.storage_class(params), meta)
        out: Result = {"Bucket": bucket.name, "Key": upload.key, "UploadId": upload.upload_id,
                       "ServerSideEncryption": encryption.SSE_S3}
        if upload.algorithm:
            out["ChecksumAlgorithm"] = upload.algorithm
            out["ChecksumType"] = upload.checksum_type
        return out

    async def upload_part(self, ctx: RequestContext, params: Params) -> Result:
        bucket = self._bucket(params)
        check_part_number(int(params["PartNumber"]))
        upload = self.multipart.upload(bucket, params["Key"], params["UploadId"])
        algorithm, given = checksums.requested(params, ctx.request.headers.get("x-amz-trailer"))
        declared = wire.declared_size(params, ctx.request.headers)
        if declared is not None and declared > MAX_PART:
            # Refused on the declared size, before a byte of the body is read.
            raise errors.entity_too_large(declared, MAX_PART)
        if algorithm is None:
            algorithm = upload.algorithm
        # The upload's own algorithm (or the default) makes the object's checksum at the end.
        also = upload.algorithm or checksums.DEFAULT_ALGORITHM
        staged, _ = await self._receive(ctx, params, algorithm, given, also)
        part = self.multipart.put_part(upload, int(params["PartNumber"]), staged)
        out: Result = {"ETag": part.etag, "ServerSideEncryption": encryption.SSE_S3}
        if algorithm is not None:
            out[checksums.member_name(algorithm)] = part.checksums[algorithm]
        return out

    async def upload_part_copy(self, ctx: RequestContext, params: Params) -> Result:
        encryption.check_part_copy(params)
        source_bucket, source = self._source(params)
        bucket = self._bucket(params)
        number = int(params["PartNumber"])
        check_part_number(number)
        upload = self.multipart.upload(bucket, params["Key"], params["UploadId"])
        start, end = 0, source.size
        text = params.get("CopySourceRange")
        if text:
            found = _COPY_RANGE.match(text)
            start, end = (int(found.group(1)), int(found.group(2)) + 1) if found else (0, 0)
            if found is None or end <= start:
                # A last byte before the first is malformed too (LocalStack's AWS-validated
                # test_upload_part_copy_range records both answers below).
                raise errors.invalid_argument("The x-amz-copy-source-range value must be of the "
                                              "form bytes=first-last where first and last are "
                                              "the zero-based offsets of the first and last bytes "
                                              "to copy", "x-amz-copy-source-range", text)
            if start >= source.size:
                raise errors.invalid_request(
                    "The specified copy range is invalid for the source object size")
            if end > source.size:
                raise errors.invalid_argument(
                    f"Range specified is not valid for source object of size: {source.size}",
                    "x-amz-copy-source-range", text)
        wanted = {checksums.DEFAULT_ALGORITHM}
        if upload.algorithm:
            wanted.add(upload.algorithm)
        try:
            staged = await self.s3.blobs.stage(_stream(self.s3.read(source, start, end), source),
                                               tuple(sorted(wanted)))
        except CorruptBlob as exc:
            raise corrupt(source, exc) from None
        part = self.multipart.put_part(upload, number, staged)
        result: Result = {"ETag": part.etag, "LastModified": part.last_modified}
        if upload.algorithm:
            result[checksums.member_name(upload.algorithm)] = part.checksums[upload.algorithm]
        out: Result = {"CopyPartResult": result, "ServerSideEncryption": encryption.SSE_S3}
        if source_bucket.versioning is not None:
            out["CopySourceVersionId"] = source.version_id
        return out

    def complete_multipart_upload(self, ctx: RequestContext, params: Params) -> Result:
        if "UploadId" not in params:
            # A POST on an object that names no subresource S3 knows (this operation is
            # only where the router sends it): S3's 405 (recorded in versity/versitygw#896).
            raise errors.method_not_allowed("POST", "OBJECT")
        bucket = self._bucket(params)
        try:
            upload = self.multipart.upload(bucket, params["Key"], params["UploadId"])
        except ServiceError:
            # A repeat of a Complete that succeeded (a client retrying after a lost answer):
            # S3 answers 200 with the object that upload made, as the first time (observed:
            # adobe/S3Mock#2586, minio/minio#13318), and it is no new event to notify.
            # Nothing of the repeat is checked again: not its parts, not its conditions.
            repeated = self.multipart.completed(bucket, params["Key"], params["UploadId"])
            if repeated is None:
                raise
            version = repeated
        else:
            document = params.get("MultipartUpload")
            parts = (document or {}).get("Parts") or []
            if document is not None and not parts:
                # A document naming no part does not validate against S3's schema: AWS's
                # answer in apache/arrow-rs#5404 and versity/versitygw#1328.  No document at
                # all is the InvalidRequest of ``Multipart.complete``.
                raise errors.malformed_xml()
            check = self._completion_check(params, upload)
            # A whole-object checksum (x-amz-checksum-<alg>) and x-amz-checksum-type, when
            # sent, are checked against what the parts make.
            whole = checksums.requested_whole(params)
            written = self.multipart.complete(bucket, upload, parts, check, whole=whole,
                                              checksum_type=params.get("ChecksumType"))
            version = written.version
            self._notify(ctx, bucket, "ObjectCreated:CompleteMultipartUpload", version.key,
                         version)
        out: Result = {
            "Location": object_location(ctx.endpoint, ctx.request.host, bucket.name, version.key),
            "Bucket": bucket.name,
            "Key": version.key,
            "ETag": version.etag,
            "ServerSideEncryption": encryption.SSE_S3,
        }
        out.update(wire.checksum_members(version.checksum))
        version_id = wire.written_version_id(bucket, version)
        if version_id is not None:
            out["VersionId"] = version_id
        self._expiration(out, bucket, version)
        return out

    def _completion_check(self, params: Params, upload: Upload) -> Any:
        """CompleteMultipartUpload's If-Match / If-None-Match, checked against the key's
        current version; when they hold, a key written or deleted since the upload began
        still fails them: 409 ConditionalRequestConflict, even when the ETag matches (S3's
        answers in LocalStack's AWS-validated test_multipart_if_match_with_put(_identical),
        test_multipart_if_none_match_with_delete and test_multipart_if_match_with_delete)."""
        check = conditions.check_write(params, upload.key)
        if check is None:
            return None
        condition = "If-Match" if params.get("IfMatch") is not None else "If-None-Match"

        def check_and_conflict(current: Any) -> None:
            check(current)
            if self.s3.store.upload_touched(upload.upload_id):
                raise errors.conditional_conflict(condition, upload.key)

        return check_and_conflict

    def abort_multipart_upload(self, ctx: RequestContext, params: Params) -> Result:
        bucket = self._bucket(params)
        self.multipart.abort(self.multipart.upload(bucket, params["Key"], params["UploadId"]))
        return {}

    def list_parts(self, ctx: RequestContext, params: Params) -> Result:
        bucket = self._bucket(params)
        upload = self.multipart.upload(bucket, params["Key"], params["UploadId"])
        marker = int(params.get("PartNumberMarker") or 0)
        limit = wire.page_size(params, "MaxParts", "max-parts")
        found = self.multipart.parts(upload, marker, limit + 1)
        page = found[:limit]
        who = owner(bucket.account)
        out: Result = {
            "Bucket": bucket.name,
            "Key": upload.key,
            "UploadId": upload.upload_id,
            "PartNumberMarker": marker,
            "MaxParts": limit,
            # max-parts=0: an empty page, not truncated, as S3 answers max-keys=0 (listing.py).
            "IsTruncated": limit > 0 and len(found) > limit,
            "Initiator": who,
            "Owner": who,
            "StorageClass": upload.storage_class,
            "Parts": [
                {"PartNumber": p.number, "LastModified": p.last_modified, "ETag": p.etag,
                 "Size": p.size,
                 **({checksums.member_name(upload.algorithm): p.checksums[upload.algorithm]}
                    if upload.algorithm and upload.algorithm in p.checksums else {})}
                for p in page
            ],
        }
        if page:
            out["NextPartNumberMarker"] = page[-1].number
        if upload.algorithm:
            out["ChecksumAlgorithm"] = upload.algorithm
            out["ChecksumType"] = upload.checksum_type
        return out

    def list_multipart_uploads(self, ctx: RequestContext, params: Params) -> Result:
        bucket, prefix, delimiter, encode = self._listing_params(params)
        limit = wire.page_size(params, "MaxUploads", "max-uploads")
        key_marker = params.get("KeyMarker") or ""
        upload_marker = params.get("UploadIdMarker") or ""
        high = successor(prefix) if prefix else None
        low: str | None = max(prefix, key_marker)
        if is_common_prefix(key_marker, prefix, delimiter):
            low = successor(key_marker)  # the previous page listed everything under it
        fix = url_encode if encode else (lambda s: s)
        uploads: list[Result] = []
        prefixes: list[str] = []
        truncated = False
        who = owner(bucket.account)
        # The last item on the page (a key and its upload, or a common prefix): the next
        # page's markers.
        last: tuple[str, str | None] | None = None
        while low is not None and (high is None or low < high):
            resume: str | None = None
            for upload_id, _, key, initiated, storage_class, meta in self.s3.store.each_upload(
                    bucket.id, low, high):
                if key == key_marker and (not upload_marker or upload_id <= upload_marker):
                    continue
                if len(uploads) + len(prefixes) >= limit:
                    # max-uploads=0: an empty page, not truncated, as S3 answers max-keys=0
                    # (listing.py).
                    truncated = limit > 0
                    break
                rolled = common_prefix(key, prefix, delimiter)
                if rolled is not None:
                    # One entry for the prefix; the walk goes on past every key under it.
                    prefixes.append(rolled)
                    last = (rolled, None)
                    resume = successor(rolled)
                    break
                # Initiated to the whole second, as S3 lists it (``...:47.000Z``, recorded from
                # AWS); the stored time keeps its fraction, so one key's uploads stay in the
                # order they were created, as S3 sorts them.
                entry: Result = {"UploadId": upload_id, "Key": fix(key),
                                 "Initiated": math.floor(initiated),
                                 "StorageClass": storage_class, "Owner": who, "Initiator": who}
                # The algorithm the upload was created with, as CreateMultipartUpload and
                # ListParts report it (members of botocore's MultipartUpload shape).  The
                # stored text is parsed only for an upload that named one.
                if '"checksum_algorithm"' in meta:
                    upload = Upload(upload_id, bucket.id, key, initiated, storage_class,
                                    orjson.loads(meta))
                    if upload.algorithm:
                        entry["ChecksumAlgorithm"] = upload.algorithm
                        entry["ChecksumType"] = upload.checksum_type
                uploads.append(entry)
                last = (key, upload_id)
            if resume is None:
                break
            low = resume
        # As recorded from S3 (LocalStack's AWS-validated test_list_multiparts_next_marker):
        # the next markers come on every page, empty when nothing was listed, and Prefix only
        # when the request sent one.
        out: Result = {"Bucket": bucket.name, "KeyMarker": fix(key_marker),
                       "UploadIdMarker": upload_marker, "MaxUploads": limit,
                       "IsTruncated": truncated,
                       "NextKeyMarker": fix(last[0]) if last is not None else "",
                       "NextUploadIdMarker": (last[1] or "") if last is not None else ""}
        if params.get("Prefix") is not None:
            out["Prefix"] = fix(prefix)
        if uploads:
            out["Uploads"] = uploads
        if prefixes:
            out["CommonPrefixes"] = [{"Prefix": fix(p)} for p in prefixes]
        if delimiter:
            out["Delimiter"] = fix(delimiter)
        if encode:
            out["EncodingType"] = "url"
        return out

    def _listing_params(self, params: Params) -> tuple[Any, str, str, bool]:
        bucket = self._bucket(params)
        encoding = params.get("EncodingType")
        if encoding is not None and encoding != "url":
            # As for the object listings (LocalStack's AWS-validated
            # test_list_ops_encoding_type_validation).
            raise errors.invalid_argument("Invalid Encoding Method specified in Request",
                                          "encoding-type", str(encoding))
        return bucket, params.get("Prefix") or "", params.get("Delimiter") or "", encoding == "url"
