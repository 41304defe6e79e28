"""S3's background loop, run inside the app's lifespan: lifecycle rules and restores.

Every ``interval`` seconds one pass applies every bucket's lifecycle rules
(``lifecycle.apply``) and writes down restores that finished or expired (``restore.settle``;
reads already see both as they happen, from the clock).  The pass runs on a worker thread so
a large bucket never stalls requests; the store serialises it with them.  The interval
follows the configured lifecycle day (a hundredth of a day, between 50 ms and a minute), so
tests with short days see rules applied promptly.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from headwater.core.errors import ServiceError
from headwater.services.s3 import lifecycle, restore
from headwater.services.s3.model import S3, Version
from headwater.services.s3.names import owner
from headwater.services.s3.notifications import S3_PRINCIPAL, Notifier
from headwater.services.s3.store import OBJECT_COLUMNS, RESTORING

log = logging.getLogger(__name__)


class S3Workers:
    def __init__(self, s3: S3, day_seconds: float, notifier: Notifier | None = None) -> None:
        self.s3 = s3
        self.notifier = notifier
        self.day_seconds = day_seconds
        self.interval = min(60.0, max(0.05, day_seconds / 100))
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="s3-lifecycle")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def run_once(self) -> lifecycle.Outcome:
        """One pass (also what tests call with a manual clock)."""
        outcome = lifecycle.apply(self.s3, self.day_seconds)
        for name, key, target, moved in outcome.transitioned:
            self._event(name, "LifecycleTransition", key, moved, destination_class=target)
        for name, key, event, removed in outcome.expired:
            self._event(name, event, key, removed)
        for row in self.s3.store.db.query(
            f"SELECT bucket_id, {OBJECT_COLUMNS} FROM s3_objects WHERE {RESTORING}"
        ):
            version = Version.from_row(row[1:])
            settled = restore.settle(self.s3, version)
            if settled is None:
                continue
            # A restore that finished, or a restored copy that expired (S3's ObjectRestore:Delete).
            event = "ObjectRestore:Completed" if settled == "completed" else "ObjectRestore:Delete"
            bucket = self.s3.store.db.query_one("SELECT name FROM s3_buckets WHERE id=?", (row[0],))
            if bucket is not None:
                self._event(bucket[0], event, version.key, version)
        return outcome

    def _event(self, bucket_name: str, event: str, key: str, version: Version | None = None,
               destination_class: str | None = None) -> None:
        if self.notifier is None:
            return
        try:
            bucket = self.s3.bucket(bucket_name)
        except ServiceError:
            return  # deleted since
        if bucket.config.get("notification"):
            # A finished restore is the bucket owner's, as AWS records it
            # ("AmazonCustomer:" and the bucket owner's principal id, LocalStack's
            # AWS-validated test_restore_object), sent from an S3-internal address.  What
            # AWS names for lifecycle events and the expiry of a restored copy is not
            # recorded: S3 itself.
            principal = (f"AmazonCustomer:{owner(bucket.account)['ID']}"
                         if event == "ObjectRestore:Completed" else S3_PRINCIPAL)
            self.notifier.emit(bucket, event, key, version, request_id="lifecycle",
                               now=self.s3.clock.now(), principal=principal,
                               destination_class=destination_class, source_ip=S3_PRINCIPAL)

    async def _loop(self) -> None:
        while True:
            try:
                await asyncio.to_thread(self.run_once)
            except Exception:
                log.exception("s3: lifecycle pass failed")
            await asyncio.sleep(self.interval)
