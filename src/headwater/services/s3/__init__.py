"""Amazon S3: buckets, object versions, multipart uploads and end-to-end checksums, with the
object bytes in files under the data directory and everything else in the store.

``create(env)`` builds the service for the gateway: the domain (``model.S3``), the blob files
(``blobs.Blobs``), the wire adapter and the facade other services and the CLI use.

Layout:
    names.py       bucket names, key limits, owners, list encodings
    errors.py      every error S3 answers with
    checksums.py   CRC32/CRC32C/CRC64NVME/SHA1/SHA256, Content-MD5, multipart combinations
    blobs.py       object bytes on disk: atomic staged writes, block-verified reads
    store.py       tables and statements
    model.py       the domain: buckets, versions, delete markers, puts and deletes
    listing.py     ListObjects v1/v2 and ListObjectVersions as index range scans
    conditions.py  conditional requests and writes, byte ranges
    multipart.py   multipart upload rules
    wire.py        metadata, tags and GET/HEAD headers shared by the operations
    objects.py     object operations on the wire
    buckets.py     bucket operations and listings on the wire
    uploads.py     multipart operations on the wire
    restore.py     archive restores and their clock
    lifecycle_rules.py  what a lifecycle configuration may say (validation)
    lifecycle.py   applying lifecycle rules, and the x-amz-expiration they give objects
    workers.py     the lifecycle / restore loop
    notifications.py  event notifications to SQS and Lambda
    acl.py         canned and explicit ACL grants, object ownership
    cors.py        CORS preflights and response headers
    post.py        browser form uploads (POST with a signed policy)
    adapter.py     the adapter the gateway dispatches to

See docs/s3.md for what is implemented and where headwater differs from AWS.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

from headwater.core.errors import ServiceError
from headwater.protocol.http import HttpRequest, HttpResponse
from headwater.services import ServiceEnv, ServiceHandle
from headwater.services.s3 import errors, restore
from headwater.services.s3.adapter import S3Adapter
from headwater.services.s3.blobs import Blobs
from headwater.services.s3.cors import Cors
from headwater.services.s3.model import S3
from headwater.services.s3.notifications import Notifier
from headwater.services.s3.post import BrowserPost
from headwater.services.s3.store import S3Store
from headwater.services.s3.workers import S3Workers

__all__ = ["S3Facade", "create"]


class S3Facade:
    """What other services and the CLI use in-process."""

    def __init__(self, s3: S3) -> None:
        self._s3 = s3

    def scrub(self) -> list[str]:
        """Verify every stored blob against its block checksums; the problems found."""
        return self._s3.scrub()

    def bucket_exists(self, name: str) -> bool:
        return self._s3.store.bucket(name) is not None

    def get_object_bytes(
        self, bucket: str, key: str, version_id: str | None = None, *, limit: int | None = None
    ) -> bytes:
        """A whole object's bytes, each block verified as it is read, for services that
        consume small objects (Lambda code packages).  Raises S3's own errors: NoSuchBucket,
        NoSuchKey, NoSuchVersion, InvalidObjectState for an unrestored archive object, and
        EntityTooLarge when the object is over ``limit`` bytes."""
        found = self._s3.bucket(bucket)
        version = self._s3.resolve(found, key, version_id)
        if not restore.is_readable(version, self._s3.clock.now()):
            raise errors.invalid_object_state(version.storage_class)
        if limit is not None and version.size > limit:
            raise ServiceError(
                "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size", 400
            )
        return b"".join(self._s3.read(version, 0, version.size))


def _anonymous(
    bucket_exists: Callable[[str], bool],
) -> Callable[[str, Mapping[str, str]], Exception | None]:
    def answer(operation: str, params: Mapping[str, str]) -> Exception | None:
        """NoSuchBucket for an anonymous request naming a bucket that does not exist, as S3
        answers it (``curl`` of a missing bucket; aws/aws-sdk-java#1256 lists S3's answers to
        anonymous and badly signed requests for missing and existing buckets).  Not for
        CreateBucket, whose bucket is not meant to exist yet."""
        name = params.get("Bucket")
        if not name or operation == "CreateBucket" or bucket_exists(name):
            return None
        return errors.no_such_bucket(name)

    return answer


def _ignore_violations(violations: list[Any]) -> Exception | None:
    # S3 checks its own inputs and has no generic ValidationException; the router already
    # requires what routing needs.
    return None


def open_s3(env: ServiceEnv, clean: bool = True) -> S3:
    """The domain over the data directory; ``clean=False`` leaves in-flight uploads alone
    (for tools that run beside a server)."""
    # The store's durability setting applies to object files too: "full" fsyncs every file
    # and directory before the reply; "normal" (the default) survives a killed process
    # (the page cache holds the renamed file) but not a power loss, like SQLite's WAL.
    fsync = os.environ.get("HEADWATER_SYNC", "normal").lower() == "full"
    blobs = Blobs(env.settings.data_dir / "s3", env.ids, fsync=fsync, clean=clean)
    return S3(S3Store(env.store), blobs, env.clock, env.ids)


def create(env: ServiceEnv) -> ServiceHandle:
    s3 = open_s3(env)
    # The facades dict fills as later services are created; the notifier looks up its
    # destinations (the SQS facade) when an event fires.
    notifier = Notifier(env.facades, env.settings.region, env.settings.account_id)
    workers = S3Workers(s3, env.settings.lifecycle_day_seconds, notifier)
    cors = Cors(s3)
    post = BrowserPost(s3, env.settings.accepted_credentials(), notifier)
    facade = S3Facade(s3)

    def unrouted(request: HttpRequest, request_id: str) -> HttpResponse | None:
        if request.method == "OPTIONS":
            return cors.preflight(request, request_id)
        return post.handle(request, request_id)

    return ServiceHandle(
        name="s3",
        adapter=S3Adapter(s3, env.settings, notifier),
        facade=facade,
        validation_error=_ignore_violations,
        start=workers.start,
        stop=workers.stop,
        unrouted=unrouted,
        decorate=cors.decorate,
        anonymous=_anonymous(facade.bucket_exists),
    )
