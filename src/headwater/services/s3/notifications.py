"""Event notifications: S3's event JSON delivered to SQS queues in-process.

What it is: matching an event (``ObjectCreated:Put`` ...) against a bucket's
NotificationConfiguration (event names with ``*`` wildcards, prefix/suffix key filters),
building the record AWS documents, and handing it to the SQS facade.  It also checks a new
configuration's destinations and sends each queue the ``s3:TestEvent``.

What it is not (yet): Lambda and SNS destinations (stored, not delivered) and EventBridge
delivery (the ``deliver`` seam takes a destination kind, ready for it).

Reference: https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html
and https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-how-to-filtering.html
"""

from __future__ import annotations

import fnmatch
import logging
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote_plus

import orjson

from headwater.core.errors import HeadwaterError, ServiceError
from headwater.services.s3.model import Bucket, Version
from headwater.services.s3.names import owner

log = logging.getLogger(__name__)


def _event_time(epoch: float) -> str:
    moment = datetime.fromtimestamp(epoch, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _filters_match(config: dict[str, Any], key: str) -> bool:
    rules = ((config.get("Filter") or {}).get("Key") or {}).get("FilterRules") or []
    for rule in rules:
        name = str(rule.get("Name", "")).lower()
        value = str(rule.get("Value", ""))
        if name == "prefix" and not key.startswith(value):
            return False
        if name == "suffix" and not key.endswith(value):
            return False
    return True


def _events_match(config: dict[str, Any], event: str) -> bool:
    return any(fnmatch.fnmatchcase(f"s3:{event}", pattern) for pattern in config.get("Events") or [])


class Notifier:
    def __init__(self, facades: dict[str, Any], region: str, account: str) -> None:
        self.facades = facades
        self.region = region
        self.account = account
        self._sequence = 0

    def check(self, bucket: Bucket, config: dict[str, Any], request_id: str, now: float) -> None:
        """Refuse destinations that do not exist; send each queue the s3:TestEvent."""
        sqs = self.facades.get("sqs")
        failed = []
        for queue in config.get("QueueConfigurations") or []:
            arn = queue.get("QueueArn", "")
            try:
                if sqs is None:
                    raise LookupError(arn)
                sqs.queue(arn)
            except (HeadwaterError, LookupError):
                failed.append(arn)
        if failed:
            raise ServiceError(
                "InvalidArgument", "Unable to validate the following destination "
                "configurations", 400, fields={"ArgumentName": failed[0],
                                               "ArgumentValue": "Permissions on the destination "
                                                                "queue do not allow S3 to publish "
                                                                "notifications from this bucket"})
        for queue in config.get("QueueConfigurations") or []:
            test = {"Service": "Amazon S3", "Event": "s3:TestEvent", "Time": _event_time(now),
                    "Bucket": bucket.name, "RequestId": request_id,
                    "HostId": request_id}
            self._send(queue["QueueArn"], test)

    def emit(self, bucket: Bucket, event: str, key: str, version: Version | None, *,
             request_id: str, now: float, principal: str = "") -> None:
        """Deliver one event to every matching destination of ``bucket``."""
        config = bucket.config.get("notification") or {}
        queues = config.get("QueueConfigurations") or []
        if not queues:
            return
        for queue in queues:
            if not _events_match(queue, event) or not _filters_match(queue, key):
                continue
            record = self._record(bucket, event, key, version, queue.get("Id") or "",
                                  request_id, now, principal)
            self._send(queue["QueueArn"], {"Records": [record]})

    def _record(self, bucket: Bucket, event: str, key: str, version: Version | None,
                config_id: str, request_id: str, now: float, principal: str) -> dict[str, Any]:
        # The sequencer orders events for one key: hex, growing with each event.
        self._sequence += 1
        sequencer = f"{int(now * 1000):012X}{self._sequence:06X}"
        obj: dict[str, Any] = {"key": quote_plus(key, safe="/"), "sequencer": sequencer}
        if version is not None and not version.delete_marker:
            obj["size"] = version.size
            obj["eTag"] = version.etag.strip('"')
        if version is not None and bucket.versioning is not None:
            obj["versionId"] = version.version_id
        return {
            "eventVersion": "2.1",
            "eventSource": "aws:s3",
            "awsRegion": bucket.region,
            "eventTime": _event_time(now),
            "eventName": event,
            "userIdentity": {"principalId": principal or f"AWS:{self.account}"},
            "requestParameters": {"sourceIPAddress": "127.0.0.1"},
            "responseElements": {"x-amz-request-id": request_id, "x-amz-id-2": request_id},
            "s3": {
                "s3SchemaVersion": "1.0",
                "configurationId": config_id,
                "bucket": {"name": bucket.name,
                           "ownerIdentity": {"principalId": owner(bucket.account)["ID"]},
                           "arn": f"arn:aws:s3:::{bucket.name}"},
                "object": obj,
            },
        }

    def _send(self, queue_arn: str, body: dict[str, Any]) -> None:
        sqs = self.facades.get("sqs")
        if sqs is None:
            return
        try:
            sqs.send_message(queue_arn, orjson.dumps(body).decode())
        except HeadwaterError as exc:
            # AWS drops events it cannot deliver (a queue deleted after configuration).
            log.warning("s3: could not deliver an event to %s: %s", queue_arn, exc)

