"""Event notifications: S3's event JSON delivered in-process to SQS queues and Lambda functions.

What it is: matching an event (``ObjectCreated:Put`` ...) against a bucket's
NotificationConfiguration (event names with ``*`` wildcards, prefix/suffix key filters),
building the record AWS documents, and handing it to the SQS facade (SendMessage) or the
Lambda facade (an asynchronous, ``Event`` invocation).  Both hand-offs commit to the store
before the request that caused the event answers, so a restart loses no event; neither waits
for the function to run.

It also checks a new configuration's form (``normalise``: parseable queue ARNs, prefix/suffix
rule names, an Id for each configuration) and its destinations, as AWS does: a queue must exist and its
``Policy`` let ``s3.amazonaws.com`` send messages for this bucket, and it gets the
``s3:TestEvent``; a function must exist and its resource policy must let ``s3.amazonaws.com``
invoke it for this bucket (AddPermission), and gets no test event.  Both permissions are
checked again at each delivery (``core.policy`` evaluates them).

What it is not (yet): SNS destinations and EventBridge delivery.  headwater serves no SNS,
so no topic exists and every topic destination fails validation, as on AWS for a missing
topic.

Reference: https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html,
https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-how-to-filtering.html and
https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketNotificationConfiguration.html
"""

from __future__ import annotations

import fnmatch
import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote_plus

import orjson

from headwater.core.errors import HeadwaterError, ServiceError
from headwater.protocol.serialize.rest_xml import host_id
from headwater.services.s3 import errors
from headwater.services.s3.model import Bucket, Version
from headwater.services.s3.names import owner

log = logging.getLogger(__name__)


def _event_time(epoch: float) -> str:
    moment = datetime.fromtimestamp(epoch, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _key_filter(config: dict[str, Any]) -> tuple[str, str, bool]:
    """A configuration's (prefix, suffix, whether it has any filter rule)."""
    rules = ((config.get("Filter") or {}).get("Key") or {}).get("FilterRules") or []
    values = {str(r.get("Name", "")).lower(): str(r.get("Value", "")) for r in rules}
    return values.get("prefix", ""), values.get("suffix", ""), bool(rules)


def _filters_match(config: dict[str, Any], key: str) -> bool:
    prefix, suffix, _ = _key_filter(config)
    return key.startswith(prefix) and key.endswith(suffix)


def _events_match(config: dict[str, Any], event: str) -> bool:
    return any(fnmatch.fnmatchcase(f"s3:{event}", pattern) for pattern in config.get("Events") or [])


_DESTINATIONS = ("TopicConfigurations", "QueueConfigurations", "LambdaFunctionConfigurations")


def _shared_event(first: list[str], second: list[str]) -> tuple[str, str] | None:
    """A pair of event types, one from each list, that some event matches both of
    (``s3:ObjectCreated:*`` shares every ``s3:ObjectCreated:...``)."""
    for a in first:
        for b in second:
            if a == b or (a.endswith("*") and b.startswith(a[:-1])) or (
                    b.endswith("*") and a.startswith(b[:-1])):
                return a, b
    return None


# The rule names S3 accepts, in any case, and the case it stores and returns them in
# (LocalStack's AWS-validated test_filter_rules_case_insensitive: "suffix" and "PREFIX" come
# back as "Suffix" and "Prefix").
_RULE_NAMES = {"prefix": "Prefix", "suffix": "Suffix"}


# The destination ARN member of each kind S3 checks the form of, and the name its error gives
# it: "Queue" as recorded in test_invalid_sqs_arn, "CloudFunction" (S3's old name for Lambda
# destinations) in LocalStack's AWS-validated test_invalid_lambda_arn.  Topics are not served.
_ARN_MEMBERS = {"QueueConfigurations": ("QueueArn", "Queue"),
                "LambdaFunctionConfigurations": ("LambdaFunctionArn", "CloudFunction")}


def _parses_as_arn(text: str) -> bool:
    """Whether S3 can parse a destination ARN: ``arn:partition:service:region:account:resource``.
    Which strings beyond the recorded ``invalid-queue`` / ``invalid_arn`` AWS refuses is not
    recorded; this asks for the six fields."""
    parts = text.split(":", 5)
    return len(parts) == 6 and parts[0] == "arn" and all(parts[1:3]) and bool(parts[5])


def normalise(config: dict[str, Any], new_id: Callable[[], str]) -> dict[str, Any]:
    """A configuration as S3 stores it, after the checks S3 makes on its form alone (made even
    with SkipDestinationValidation, and before any destination is looked up):

    - a QueueArn or LambdaFunctionArn that is not an ARN is 400 InvalidArgument "The ARN
      could not be parsed" (``ArgumentName`` Queue or CloudFunction, the first such
      destination only), as recorded in LocalStack's AWS-validated test_invalid_sqs_arn
      (invalid_not_skip, invalid_skip), test_multiple_invalid_sqs_arns
      (two-queue-arns-invalid, one-queue-invalid-one-not-existent) and
      test_invalid_lambda_arn;
    - a filter rule named other than prefix or suffix (in any case) is 400 InvalidArgument
      "filter rule name must be either prefix or suffix" (``ArgumentName`` FilterRule.Name),
      as recorded in test_bucket_notification_with_invalid_filter_rules; the names are stored
      as ``Prefix`` / ``Suffix``; a second rule of either name in one filter is 400
      InvalidArgument "Cannot specify more than one suffix rule in a filter." (or prefix), as
      recorded in aws/aws-cli#1465 and aws/aws-cdk#3347;
    - a configuration sent without an ``Id`` is given one (``new_id``), which
      GetBucketNotificationConfiguration returns and each event names as its
      ``configurationId`` ("If you don't provide one, Amazon S3 will assign an ID",
      API_QueueConfiguration.html; recorded non-empty in test_filter_rules_case_insensitive
      and in every event of test_s3_notifications_sqs.snapshot.json)."""
    out = dict(config)
    for kind in _DESTINATIONS:
        entries = config.get(kind)
        if not entries:
            continue
        stored: list[dict[str, Any]] = []
        for entry in entries:
            entry = dict(entry)
            if kind in _ARN_MEMBERS:
                member, shown = _ARN_MEMBERS[kind]
                arn = str(entry.get(member, ""))
                if not _parses_as_arn(arn):
                    raise errors.invalid_argument("The ARN could not be parsed", shown, arn)
            rules = ((entry.get("Filter") or {}).get("Key") or {}).get("FilterRules")
            if rules:
                named: list[dict[str, Any]] = []
                for rule in rules:
                    name = str(rule.get("Name", ""))
                    if name.lower() not in _RULE_NAMES:
                        raise errors.invalid_argument(
                            "filter rule name must be either prefix or suffix",
                            "FilterRule.Name", name)
                    if any(other["Name"] == _RULE_NAMES[name.lower()] for other in named):
                        raise errors.invalid_argument(
                            f"Cannot specify more than one {name.lower()} rule in a filter.")
                    named.append({**rule, "Name": _RULE_NAMES[name.lower()]})
                entry["Filter"] = {**entry["Filter"],
                                   "Key": {**entry["Filter"]["Key"], "FilterRules": named}}
            if not entry.get("Id"):
                entry["Id"] = new_id()
            stored.append(entry)
        out[kind] = stored
    return out


def check_overlaps(config: dict[str, Any]) -> None:
    """Refuse two configurations an event could match both of, as S3 does: a shared event
    type, prefixes one of which starts the other, suffixes one of which ends the other (an
    absent filter overlaps everything).  S3 answers the unfiltered case and the filtered one
    with different messages."""
    seen: list[dict[str, Any]] = []
    for kind in _DESTINATIONS:
        for entry in config.get(kind) or []:
            prefix, suffix, filtered = _key_filter(entry)
            for earlier in seen:
                shared = _shared_event(earlier.get("Events") or [], entry.get("Events") or [])
                if shared is None:
                    continue
                other_prefix, other_suffix, other_filtered = _key_filter(earlier)
                if not (prefix.startswith(other_prefix) or other_prefix.startswith(prefix)):
                    continue
                if not (suffix.endswith(other_suffix) or other_suffix.endswith(suffix)):
                    continue
                if not filtered and not other_filtered:
                    raise errors.invalid_argument(
                        "Configurations overlap. Configurations on the same bucket cannot "
                        "share a common event type.", "Event", ", ".join(shared))
                raise errors.invalid_argument(
                    "Configuration is ambiguously defined. Cannot have overlapping suffixes in "
                    "two rules if the prefixes are overlapping for the same event type.")
            seen.append(entry)


# The principal S3 acts as, which a function's resource policy or a queue's policy must allow.
S3_PRINCIPAL = "s3.amazonaws.com"
QUEUE_REFUSED = ("Permissions on the destination queue do not allow S3 to publish "
                 "notifications from this bucket")
# A queue that does not exist: AWS's words in LocalStack's AWS-validated test_invalid_sqs_arn
# (queue-does-not-exist) and test_multiple_invalid_sqs_arns (multiple-queues-do-not-exist).
QUEUE_MISSING = "The destination queue does not exist"
TOPIC_REFUSED = ("Permissions on the destination topic do not allow S3 to publish "
                 "notifications from this bucket")


# Events whose records name no size or eTag (the object is gone or hidden).
_REMOVALS = ("ObjectRemoved:", "LifecycleExpiration:")
# AWS uses event version 2.3 for lifecycle events and the expiry of a restored copy, 2.1 for
# the rest (the page cited at the top); 2.3 too for tagging and ACL events, as recorded in
# LocalStack's AWS-validated test_object_tagging_put_event, test_object_tagging_delete_event
# and test_object_put_acl.
_VERSION_2_3 = ("LifecycleTransition", "LifecycleExpiration:", "ObjectRestore:Delete",
                "ObjectTagging:", "ObjectAcl:")
# Events whose records name the object's key and eTag only: no size, no sequencer (the same
# three recordings).
_KEY_AND_ETAG = ("ObjectTagging:", "ObjectAcl:")


def _bucket_arn(bucket: Bucket) -> str:
    return f"arn:aws:s3:::{bucket.name}"


class Notifier:
    def __init__(self, facades: dict[str, Any], region: str, account: str) -> None:
        self.facades = facades
        self.region = region
        self.account = account
        self._sequence = 0
        self._lock = threading.Lock()  # requests and the lifecycle worker's thread emit

    def check(self, bucket: Bucket, config: dict[str, Any], request_id: str, now: float) -> None:
        """Refuse destinations S3 could not deliver to; send each queue the s3:TestEvent."""
        failed: list[tuple[str, str]] = []
        for topic in config.get("TopicConfigurations") or []:
            failed.append((topic.get("TopicArn", ""), TOPIC_REFUSED))  # no SNS: no topic
        for queue in config.get("QueueConfigurations") or []:
            arn = queue.get("QueueArn", "")
            if not self._queue_exists(arn):
                failed.append((arn, QUEUE_MISSING))
            elif not self._may_send(bucket, arn):
                failed.append((arn, QUEUE_REFUSED))
        for function in config.get("LambdaFunctionConfigurations") or []:
            arn = function.get("LambdaFunctionArn", "")
            if not self._may_invoke(bucket, arn):
                # AWS quirk: the argument name is the ARN followed by ", null", observed in
                # AWS's answer; a missing function and a missing permission read the same.
                failed.append((f"{arn}, null", f"Not authorized to invoke function [{arn}]"))
        if failed:
            fields: dict[str, Any] = {}
            for number, (name, value) in enumerate(failed, start=1):
                fields[f"ArgumentName{number}"] = name
                fields[f"ArgumentValue{number}"] = value
            raise ServiceError("InvalidArgument", "Unable to validate the following destination "
                               "configurations", 400, fields=fields)
        # AWS sends the test event to queues and topics only; functions get none.
        for queue in config.get("QueueConfigurations") or []:
            # RequestId and HostId are the x-amz-request-id / x-amz-id-2 the configuring
            # request is answered with.
            test = {"Service": "Amazon S3", "Event": "s3:TestEvent", "Time": _event_time(now),
                    "Bucket": bucket.name, "RequestId": request_id,
                    "HostId": host_id(request_id)}
            self._send(bucket, queue["QueueArn"], test)

    def _queue_exists(self, queue_arn: str) -> bool:
        sqs = self.facades.get("sqs")
        if sqs is None:
            return False  # SQS is not served: no queue exists
        try:
            sqs.queue(queue_arn)
        except ServiceError:
            return False
        return True

    def _may_send(self, bucket: Bucket, queue_arn: str) -> bool:
        sqs = self.facades.get("sqs")
        if sqs is None:
            return False  # SQS is not served: no queue exists
        allowed: bool = sqs.service_may_send(
            queue_arn, S3_PRINCIPAL, source_arn=_bucket_arn(bucket),
            source_account=bucket.account)
        return allowed

    def _may_invoke(self, bucket: Bucket, function_arn: str) -> bool:
        lambda_ = self.facades.get("lambda")
        if lambda_ is None:
            return False  # Lambda is not served: no function exists
        allowed: bool = lambda_.service_may_invoke(
            function_arn, S3_PRINCIPAL, source_arn=_bucket_arn(bucket),
            source_account=bucket.account)
        return allowed

    def emit(self, bucket: Bucket, event: str, key: str, version: Version | None, *,
             request_id: str, now: float, principal: str = "",
             destination_class: str | None = None, source_ip: str | None = None) -> None:
        """Deliver one event to every matching destination of ``bucket``
        (``destination_class``: where a LifecycleTransition moved the object; ``source_ip``:
        the record's sourceIPAddress, by default S3's own for S3's principal and the
        client's otherwise)."""
        if source_ip is None:
            source_ip = S3_PRINCIPAL if principal == S3_PRINCIPAL else "127.0.0.1"
        config = bucket.config.get("notification") or {}
        queues = [q for q in config.get("QueueConfigurations") or []
                  if _events_match(q, event) and _filters_match(q, key)]
        functions = [f for f in config.get("LambdaFunctionConfigurations") or []
                     if _events_match(f, event) and _filters_match(f, key)]
        if not queues and not functions:
            return
        # The sequencer orders events for one key: hex, growing with each event, the same in
        # every destination's copy of the event.  The milliseconds shifted left by 24 bits and
        # a counter: it never goes back (even when the clock does), and it keeps one width
        # (18 digits, as AWS's), so that comparing padded strings agrees with their order.
        with self._lock:
            self._sequence = max(self._sequence + 1, int(now * 1000) << 24)
            sequencer = f"{self._sequence:018X}"
        for queue in queues:
            record = self._record(bucket, event, key, version, queue.get("Id") or "",
                                  request_id, now, principal, sequencer, source_ip,
                                  destination_class)
            self._send(bucket, queue["QueueArn"], {"Records": [record]})
        for function in functions:
            record = self._record(bucket, event, key, version, function.get("Id") or "",
                                  request_id, now, principal, sequencer, source_ip,
                                  destination_class)
            self._invoke(bucket, function["LambdaFunctionArn"], {"Records": [record]})

    def _record(self, bucket: Bucket, event: str, key: str, version: Version | None,
                config_id: str, request_id: str, now: float, principal: str,
                sequencer: str, source_ip: str,
                destination_class: str | None = None) -> dict[str, Any]:
        obj: dict[str, Any] = {"key": quote_plus(key, safe="/")}
        if event.startswith(_KEY_AND_ETAG):
            if version is not None:
                obj["eTag"] = version.etag.strip('"')
        else:
            obj["sequencer"] = sequencer
        # A removal names the key (and version) only: S3's ObjectRemoved and
        # LifecycleExpiration records carry no size or eTag.
        removal = event.startswith(_REMOVALS)
        if (version is not None and not version.delete_marker and not removal
                and not event.startswith(_KEY_AND_ETAG)):
            obj["size"] = version.size
            obj["eTag"] = version.etag.strip('"')
        if version is not None and bucket.versioning is not None:
            obj["versionId"] = version.version_id
        record: dict[str, Any] = {
            "eventVersion": "2.3" if event.startswith(_VERSION_2_3) else "2.1",
            "eventSource": "aws:s3",
            "awsRegion": bucket.region,
            "eventTime": _event_time(now),
            "eventName": event,
            "userIdentity": {"principalId": principal or f"AWS:{self.account}"},
            # What S3 does on its own (lifecycle, a restore finishing) comes from S3 itself.
            "requestParameters": {"sourceIPAddress": source_ip},
            # The ids the causing request was answered with, so the two can be matched.
            "responseElements": {"x-amz-request-id": request_id,
                                 "x-amz-id-2": host_id(request_id)},
            "s3": {
                "s3SchemaVersion": "1.0",
                "configurationId": config_id,
                "bucket": {"name": bucket.name,
                           "ownerIdentity": {"principalId": owner(bucket.account)["ID"]},
                           "arn": _bucket_arn(bucket)},
                "object": obj,
            },
        }
        if event == "LifecycleTransition" and destination_class is not None:
            record["lifecycleEventData"] = {
                "transitionEventData": {"destinationStorageClass": destination_class}}
        if event == "ObjectRestore:Completed" and version is not None:
            # Until when the restored copy lasts, and the archive class it was restored from.
            expiry = (version.meta.get("restore") or {}).get("expiry")
            if expiry is not None:
                record["glacierEventData"] = {"restoreEventData": {
                    "lifecycleRestorationExpiryTime": _event_time(float(expiry)),
                    "lifecycleRestoreStorageClass": version.storage_class}}
        return record

    def _send(self, bucket: Bucket, queue_arn: str, body: dict[str, Any]) -> None:
        sqs = self.facades.get("sqs")
        # As for functions, the queue's policy counts at each delivery.
        if sqs is None or not self._may_send(bucket, queue_arn):
            log.warning("s3: may not send to %s; event dropped", queue_arn)
            return
        try:
            sqs.send_message(queue_arn, orjson.dumps(body).decode())
        except HeadwaterError as exc:
            # AWS drops events it cannot deliver (a queue deleted after configuration).
            log.warning("s3: could not deliver an event to %s: %s", queue_arn, exc)

    def _invoke(self, bucket: Bucket, function_arn: str, body: dict[str, Any]) -> None:
        lambda_ = self.facades.get("lambda")
        # The permission counts at each invocation, not only when the configuration is
        # written: S3 is refused once it is removed (or the function deleted).
        if lambda_ is None or not self._may_invoke(bucket, function_arn):
            log.warning("s3: may not invoke %s; event dropped", function_arn)
            return
        try:
            lambda_.invoke_event(function_arn, orjson.dumps(body))
        except HeadwaterError as exc:
            # AWS drops events it cannot deliver (a function deleted after configuration).
            log.warning("s3: could not deliver an event to %s: %s", function_arn, exc)
