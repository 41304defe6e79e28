"""Multipart uploads: create, upload parts, complete, abort, list.

Each part is its own blob file; completing an upload records an object whose segments are
the chosen parts, in order, so no byte is copied.  The rules are AWS's
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html): part numbers 1 to 10,000,
every part but the last at least 5 MiB (``EntityTooSmall`` at completion), parts listed in
ascending order (``InvalidPartOrder``) with their ETags (``InvalidPart``).  The object's ETag
is the MD5 of the parts' binary MD5s with ``-<count>``.

Checksums (https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html):
an upload created with a ChecksumAlgorithm needs that checksum on every part; the object's
checksum is COMPOSITE (checksum of the part checksums, ``-N``) or, for the CRCs when asked for
``FULL_OBJECT`` (and always for CRC64NVME), the CRC of the whole object combined from the
parts' CRCs.  Every part also gets a CRC64NVME, so an upload that named no algorithm still
ends with S3's default full-object CRC64NVME.  Completing checks each part checksum the request
lists against the part's (``InvalidPart``), needs all of them for a COMPOSITE upload
(``InvalidRequest``), and checks a whole-object ``x-amz-checksum-<alg>`` (``BadDigest``) and an
``x-amz-checksum-type`` (``InvalidRequest``) against the upload's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from headwater.services.s3 import checksums, errors
from headwater.services.s3.blobs import Staged
from headwater.services.s3.model import S3, Bucket, Version, Written
from headwater.services.s3.names import check_key

MIN_PART = 5 * 1024 * 1024
MAX_PART = 5 * 1024 * 1024 * 1024
MAX_PARTS = 10_000


@dataclass(frozen=True, slots=True)
class Upload:
    upload_id: str
    bucket_id: int
    key: str
    initiated: float
    storage_class: str
    meta: dict[str, Any]

    @property
    def algorithm(self) -> str | None:
        found: str | None = self.meta.get("checksum_algorithm")
        return found

    @property
    def checksum_type(self) -> str:
        return str(self.meta.get("checksum_type") or "COMPOSITE")


@dataclass(frozen=True, slots=True)
class Part:
    number: int
    blob: str
    size: int
    etag: str
    last_modified: float
    checksums: dict[str, str]


def check_part_number(number: int) -> None:
    if not 1 <= number <= MAX_PARTS:
        raise errors.invalid_argument(
            "Part number must be an integer between 1 and 10000, inclusive", "partNumber",
            str(number),
        )


class Multipart:
    def __init__(self, s3: S3) -> None:
        self.s3 = s3
        self.store = s3.store

    def create(self, bucket: Bucket, key: str, storage_class: str, meta: dict[str, Any]) -> Upload:
        check_key(key)
        algorithm = meta.get("checksum_algorithm")
        kind = meta.get("checksum_type")
        if kind == "FULL_OBJECT" and algorithm not in checksums.CRCS:
            raise errors.invalid_request(
                f"The FULL_OBJECT checksum type cannot be used with the {algorithm} checksum "
                "algorithm."
            )
        if algorithm == "CRC64NVME":
            meta["checksum_type"] = "FULL_OBJECT"  # CRC64NVME has no composite form
        upload_id = self.s3.ids.token(32)
        now = self.s3.clock.now()
        self.store.insert_upload(upload_id, bucket.id, key, now, storage_class,
                                 orjson.dumps(meta).decode())
        return Upload(upload_id, bucket.id, key, now, storage_class, meta)

    def upload(self, bucket: Bucket, key: str, upload_id: str) -> Upload:
        row = self.store.upload(upload_id)
        if row is None or row[1] != bucket.id or row[2] != key:
            raise errors.no_such_upload(upload_id)
        return Upload(row[0], row[1], row[2], row[3], row[4], orjson.loads(row[5]))

    def completed(self, bucket: Bucket, key: str, upload_id: str) -> Version | None:
        """For a CompleteMultipartUpload of an upload no longer in progress: the version that
        upload made, when it is still stored (the key's current one, or in a versioned bucket
        any version not deleted); None otherwise, for the caller to answer as for any other
        upload id."""
        for row in self.store.versions_of(bucket.id, key):
            version = Version.from_row(row)
            # A CopyObject with the COPY directive carries "upload_id" over but never "parts":
            # only the version Complete wrote has both.
            if version.meta.get("upload_id") == upload_id and version.meta.get("parts"):
                return version
        return None

    def put_part(self, upload: Upload, number: int, staged: Staged) -> Part:
        check_part_number(number)
        if staged.size > MAX_PART:
            self.s3.blobs.discard(staged)
            raise errors.entity_too_large(staged.size, MAX_PART)
        if upload.algorithm is not None and upload.algorithm not in staged.checksums:
            self.s3.blobs.discard(staged)
            raise errors.invalid_request(
                f"Checksum Type mismatch occurred, expected checksum Type: "
                f"{upload.algorithm.lower()}, actual checksum Type: null"
            )
        segment = self.s3.blobs.publish(staged)
        etag = f'"{staged.md5.hex()}"'
        now = self.s3.now_seconds()  # ListParts shows a part's LastModified to the second
        released: list[str] = []
        try:
            with self.store.transaction():
                if self.store.upload(upload.upload_id) is None:
                    raise errors.no_such_upload(upload.upload_id)
                self.store.add_blob(segment)
                old = self.store.put_part(upload.upload_id, number, segment.name, staged.size,
                                          etag, now, orjson.dumps(staged.checksums).decode())
                if old is not None:
                    released = self.store.ref_blobs([old], -1)
        except BaseException:
            if segment.data is None:
                self.s3.blobs.remove(segment.name)
            raise
        for name in released:
            self.s3.blobs.remove(name)
        return Part(number, segment.name, staged.size, etag, now, staged.checksums)

    def parts(self, upload: Upload, after: int = 0, limit: int = MAX_PARTS) -> list[Part]:
        return [
            Part(n, b, s, e, t, orjson.loads(c) if c else {})
            for n, b, s, e, t, c in self.store.parts(upload.upload_id, after, limit)
        ]

    def abort(self, upload: Upload) -> None:
        with self.store.transaction():
            blobs = [p.blob for p in self.parts(upload)]
            self.store.delete_upload(upload.upload_id)
            released = self.store.ref_blobs(blobs, -1)
        for name in released:
            self.s3.blobs.remove(name)

    def complete(self, bucket: Bucket, upload: Upload, requested: list[dict[str, Any]],
                 check: Any = None, meta_extra: dict[str, Any] | None = None,
                 whole: tuple[str, str] | None = None,
                 checksum_type: str | None = None) -> Written:
        """The object the ``requested`` parts make.  ``whole``: the (algorithm, value) of a
        whole-object checksum the request sent; ``checksum_type``: the type it named."""
        if not requested:
            # S3's answer to a Complete without a document (LocalStack's AWS-validated
            # test_multipart_complete_multipart_too_small, "complete-exc-no-parts"; also
            # openstack/swift's s3api); ceph/s3-tests expects MalformedXML there.
            raise errors.invalid_request("You must specify at least one part")
        # An upload that named no algorithm ends with the default full-object CRC64NVME.
        kind = upload.checksum_type if upload.algorithm is not None else "FULL_OBJECT"
        if checksum_type is not None and checksum_type != kind:
            raise errors.invalid_request(
                f"The upload was created using the {kind} checksum mode. The complete request "
                "must use the same checksum mode."
            )
        stored = {p.number: p for p in self.parts(upload)}
        chosen: list[Part] = []
        previous = 0
        for item in requested:
            number = int(item.get("PartNumber") or 0)
            if number <= previous:
                raise errors.invalid_part_order()
            previous = number
            etag = str(item.get("ETag") or "")
            part = stored.get(number)
            if part is None or part.etag.strip('"') != etag.strip('"'):
                raise errors.invalid_part(number, etag, upload.upload_id)
            algorithm = upload.algorithm
            if algorithm is not None:
                given = item.get(checksums.member_name(algorithm))
                if given is None and kind == "COMPOSITE":
                    # A checksum of checksums needs each part's, as the client saw it.
                    raise errors.invalid_request(
                        f"The upload was created using a {algorithm.lower()} checksum. The "
                        "complete request must include the checksum for each part. It was "
                        f"missing for part {number} in the request."
                    )
                if given is not None and given != part.checksums.get(algorithm):
                    raise errors.invalid_part(number, etag, upload.upload_id)
            chosen.append(part)
        for part in chosen[:-1]:
            if part.size < MIN_PART:
                raise errors.entity_too_small(part.size, part.number, part.etag)
        etag = checksums.multipart_etag(bytes.fromhex(p.etag.strip('"')) for p in chosen)
        meta = dict(upload.meta)
        meta.pop("checksum_algorithm", None)
        meta.pop("checksum_type", None)
        meta.update(meta_extra or {})
        meta["checksum"] = self._checksum(upload, chosen)
        if whole is not None and (whole[0] != meta["checksum"].get("algorithm")
                                  or whole[1] != meta["checksum"].get("value")):
            # The object's own form: a COMPOSITE value carries its -N, a FULL_OBJECT one not.
            raise checksums.bad_digest(whole[0])
        algorithm = meta["checksum"].get("algorithm")
        meta["parts"] = [[p.size, p.checksums.get(algorithm) if algorithm else None] for p in chosen]
        meta["upload_id"] = upload.upload_id  # which upload made it, for a repeated Complete
        segments = self.store.segments([p.blob for p in chosen])
        if len(segments) != len(chosen):
            raise errors.internal_error()
        all_blobs = list({p.blob for p in stored.values()})

        def release_upload() -> list[str]:
            if self.store.upload(upload.upload_id) is None:
                raise errors.no_such_upload(upload.upload_id)
            self.store.delete_upload(upload.upload_id)
            return self.store.ref_blobs(all_blobs, -1)

        # "For multipart uploads, the object creation date is the date of initiation of the
        # multipart upload" (the S3 User Guide's object metadata page): Last-Modified too.
        return self.s3.put(bucket, upload.key, segments, etag=etag,
                           storage_class=upload.storage_class, meta=meta, check=check,
                           also=release_upload, created=upload.initiated)

    @staticmethod
    def _checksum(upload: Upload, parts: list[Part]) -> dict[str, Any]:
        algorithm = upload.algorithm
        if algorithm is None:
            algorithm = checksums.DEFAULT_ALGORITHM
            kind = "FULL_OBJECT"
        else:
            kind = upload.checksum_type
        values = [p.checksums.get(algorithm) for p in parts]
        if any(v is None for v in values):
            return {}
        if kind == "FULL_OBJECT":
            value = checksums.full_object(algorithm, [(str(v), p.size) for v, p in zip(values, parts)])
        else:
            value = checksums.composite(algorithm, (str(v) for v in values))
        return {"algorithm": algorithm, "value": value, "type": kind}

