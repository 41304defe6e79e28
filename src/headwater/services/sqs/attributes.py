"""Queue attributes: which exist, their defaults, ranges and the policies written into them.

Implements the attribute tables of CreateQueue, SetQueueAttributes and GetQueueAttributes
(https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SetQueueAttributes.html)
and the redrive policies of
https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html

Attributes travel as strings on the wire and are stored as the normalised strings AWS hands
back (``"true"`` for ``True``, compact JSON for redrive policies).  ``QueueSettings`` is the
typed view the message code works from.  Nothing here touches the store: whether a dead-letter
queue exists is the model's question.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from headwater.services.sqs import errors
from headwater.services.sqs.names import parse_queue_arn

MAX_MESSAGE_SIZE = 1_048_576  # 1 MiB since August 2025 (was 256 KiB)

INTEGER_RANGES: dict[str, tuple[int, int]] = {
    "DelaySeconds": (0, 900),
    "MaximumMessageSize": (1024, MAX_MESSAGE_SIZE),
    "MessageRetentionPeriod": (60, 1_209_600),
    "ReceiveMessageWaitTimeSeconds": (0, 20),
    "VisibilityTimeout": (0, 43_200),
    "KmsDataKeyReusePeriodSeconds": (60, 86_400),
}
BOOLEANS = frozenset({"FifoQueue", "ContentBasedDeduplication", "SqsManagedSseEnabled"})
ENUMS: dict[str, tuple[str, ...]] = {
    "DeduplicationScope": ("messageGroup", "queue"),
    "FifoThroughputLimit": ("perQueue", "perMessageGroupId"),
}
TEXT = frozenset({"Policy", "KmsMasterKeyId", "RedrivePolicy", "RedriveAllowPolicy"})
SETTABLE = frozenset(INTEGER_RANGES) | BOOLEANS | frozenset(ENUMS) | TEXT
FIFO_ONLY = frozenset(
    {"FifoQueue", "ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit"}
)
COMPUTED = (
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
    "CreatedTimestamp",
    "LastModifiedTimestamp",
    "QueueArn",
)
# The order GetQueueAttributes(All) lists them in; only those a queue has are returned.
ALL_NAMES = (
    "QueueArn",
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
    "CreatedTimestamp",
    "LastModifiedTimestamp",
    "VisibilityTimeout",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "DelaySeconds",
    "ReceiveMessageWaitTimeSeconds",
    "Policy",
    "RedrivePolicy",
    "RedriveAllowPolicy",
    "KmsMasterKeyId",
    "KmsDataKeyReusePeriodSeconds",
    "SqsManagedSseEnabled",
    "FifoQueue",
    "ContentBasedDeduplication",
    "DeduplicationScope",
    "FifoThroughputLimit",
)
DEFAULTS: dict[str, str] = {
    "VisibilityTimeout": "30",
    "MaximumMessageSize": str(MAX_MESSAGE_SIZE),
    "MessageRetentionPeriod": "345600",
    "DelaySeconds": "0",
    "ReceiveMessageWaitTimeSeconds": "0",
    # AWS quirk: new queues are encrypted with SQS-owned keys unless told otherwise (since 2022).
    "SqsManagedSseEnabled": "true",
}
FIFO_DEFAULTS: dict[str, str] = {
    "FifoQueue": "true",
    "ContentBasedDeduplication": "false",
    "DeduplicationScope": "queue",
    "FifoThroughputLimit": "perQueue",
}
MAX_RECEIVE_COUNT = 1000
MAX_ALLOWED_SOURCES = 10


@dataclass(frozen=True, slots=True)
class Redrive:
    """A parsed RedrivePolicy: where messages go after ``max_receive_count`` receives."""

    target_arn: str
    max_receive_count: int


@dataclass(frozen=True, slots=True)
class RedriveAllow:
    """A parsed RedriveAllowPolicy: which source queues may use this queue as their DLQ."""

    permission: str  # allowAll | denyAll | byQueue
    source_arns: tuple[str, ...]

    def allows(self, source_arn: str) -> bool:
        if self.permission == "allowAll":
            return True
        return self.permission == "byQueue" and source_arn in self.source_arns


@dataclass(frozen=True, slots=True)
class QueueSettings:
    """The typed view of a queue's attributes that sending and receiving work from."""

    fifo: bool
    visibility_timeout: int
    max_message_size: int
    retention: int
    delay: int
    wait: int
    content_dedup: bool
    dedup_per_group: bool
    redrive: Redrive | None
    redrive_allow: RedriveAllow | None


def settings_of(attributes: Mapping[str, str]) -> QueueSettings:
    redrive = attributes.get("RedrivePolicy")
    allow = attributes.get("RedriveAllowPolicy")
    return QueueSettings(
        fifo=attributes.get("FifoQueue") == "true",
        visibility_timeout=int(attributes["VisibilityTimeout"]),
        max_message_size=int(attributes["MaximumMessageSize"]),
        retention=int(attributes["MessageRetentionPeriod"]),
        delay=int(attributes["DelaySeconds"]),
        wait=int(attributes["ReceiveMessageWaitTimeSeconds"]),
        content_dedup=attributes.get("ContentBasedDeduplication") == "true",
        dedup_per_group=attributes.get("DeduplicationScope") == "messageGroup",
        redrive=parse_redrive_policy(redrive) if redrive else None,
        redrive_allow=parse_redrive_allow_policy(allow) if allow else None,
    )


def is_fifo_request(attributes: Mapping[str, str]) -> bool:
    value = attributes.get("FifoQueue")
    if value is None:
        return False
    return normalize_value("FifoQueue", value) == "true"


def normalize(attributes: Mapping[str, str], *, fifo: bool, creating: bool) -> dict[str, str]:
    """Check attributes given to CreateQueue / SetQueueAttributes; return their AWS form.

    An empty string for a text attribute means "remove it" and is kept as ``""`` here.
    """
    out: dict[str, str] = {}
    for name, value in attributes.items():
        if name not in SETTABLE or (name in FIFO_ONLY and not fifo):
            if name == "FifoQueue" and creating and normalize_value(name, value) == "false":
                continue  # asks for what a standard queue is anyway
            raise errors.invalid_attribute_name(name)
        if name == "FifoQueue" and not creating:
            # A queue's type is fixed at creation.
            raise errors.invalid_attribute_name(name)
        out[name] = normalize_value(name, value)
    scope = out.get("DeduplicationScope")
    if out.get("FifoThroughputLimit") == "perMessageGroupId" and scope == "queue":
        raise errors.invalid_attribute_value(
            "FifoThroughputLimit",
            "The perMessageGroupId value is allowed only when DeduplicationScope is messageGroup.",
        )
    return out


def normalize_value(name: str, value: str) -> str:
    if name in INTEGER_RANGES:
        low, high = INTEGER_RANGES[name]
        try:
            number = int(value.strip())
        except ValueError:
            raise errors.invalid_attribute_value(name) from None
        if not low <= number <= high:
            raise errors.invalid_attribute_value(name)
        return str(number)
    if name in BOOLEANS:
        lowered = value.strip().lower()
        if lowered not in ("true", "false"):
            raise errors.invalid_attribute_value(name)
        return lowered
    if name in ENUMS:
        if value not in ENUMS[name]:
            raise errors.invalid_attribute_value(name)
        return value
    if value == "":
        return ""
    if name == "Policy":
        _json_object(value, lambda: errors.invalid_attribute_value("Policy"))
        return value
    if name == "RedrivePolicy":
        return _format_redrive(parse_redrive_policy(value))
    if name == "RedriveAllowPolicy":
        return _format_allow(parse_redrive_allow_policy(value))
    return value  # KmsMasterKeyId: any key id, alias or ARN


def initial(normalized: Mapping[str, str], *, fifo: bool) -> dict[str, str]:
    """The full stored attribute set of a new queue: defaults, then what was asked for."""
    stored = dict(DEFAULTS)
    if fifo:
        stored.update(FIFO_DEFAULTS)
    if normalized.get("KmsMasterKeyId"):
        # One kind of server-side encryption at a time: a KMS key turns SSE-SQS off.
        stored["SqsManagedSseEnabled"] = "false"
        stored["KmsDataKeyReusePeriodSeconds"] = "300"
    return apply(stored, normalized)


def apply(stored: Mapping[str, str], changes: Mapping[str, str]) -> dict[str, str]:
    """``stored`` with ``changes`` applied; an empty text value removes the attribute."""
    out = dict(stored)
    for name, value in changes.items():
        if value == "" and name in TEXT:
            out.pop(name, None)
        else:
            out[name] = value
    if changes.get("KmsMasterKeyId"):
        out.setdefault("KmsDataKeyReusePeriodSeconds", "300")
        if "SqsManagedSseEnabled" not in changes:
            out["SqsManagedSseEnabled"] = "false"
    return out


def first_difference(stored: Mapping[str, str], requested: Mapping[str, str]) -> str | None:
    """The first requested attribute whose value differs from the existing queue's.

    CreateQueue on an existing name succeeds only when every attribute it names has the same
    value the queue has (attributes it leaves out are not compared).
    """
    for name, value in requested.items():
        current = stored.get(name, "")
        if name == "FifoQueue" and not current:
            current = "false"
        if value != current:
            return name
    return None


def check_names(names: list[str], *, fifo: bool) -> list[str]:
    """The attribute names GetQueueAttributes should answer, ``All`` expanded."""
    wanted: list[str] = []
    for name in names:
        if name == "All":
            return list(ALL_NAMES)
        if name not in ALL_NAMES or (name in FIFO_ONLY and not fifo):
            raise errors.invalid_attribute_name(name)
        wanted.append(name)
    return wanted


# -- redrive policies ---------------------------------------------------------------------


def parse_redrive_policy(text: str) -> Redrive:
    def bad(reason: str) -> Exception:
        return errors.invalid_value("RedrivePolicy", text, reason)

    document = _json_object(text, lambda: bad("Redrive policy is not a valid JSON map."))
    target = document.get("deadLetterTargetArn")
    if not target:
        raise bad("Redrive policy does not contain mandatory attribute: deadLetterTargetArn.")
    if "maxReceiveCount" not in document:
        raise bad("Redrive policy does not contain mandatory attribute: maxReceiveCount.")
    if not isinstance(target, str) or parse_queue_arn(target) is None:
        raise bad("Invalid value for deadLetterTargetArn.")
    raw_count = document["maxReceiveCount"]
    try:
        count = int(raw_count) if not isinstance(raw_count, bool) else -1
    except (TypeError, ValueError):
        count = -1
    if not 1 <= count <= MAX_RECEIVE_COUNT:
        raise bad(
            f"Invalid value for maxReceiveCount: {raw_count}, valid values are from 1 to "
            f"{MAX_RECEIVE_COUNT} both inclusive."
        )
    return Redrive(target, count)


def parse_redrive_allow_policy(text: str) -> RedriveAllow:
    def bad(reason: str) -> Exception:
        return errors.invalid_value("RedriveAllowPolicy", text, reason)

    document = _json_object(text, lambda: bad("Redrive allow policy is not a valid JSON map."))
    permission = document.get("redrivePermission")
    if permission not in ("allowAll", "denyAll", "byQueue"):
        raise bad("Invalid value for redrivePermission.")
    sources = document.get("sourceQueueArns")
    if permission != "byQueue":
        if sources:
            raise bad(
                "Amazon SQS can't create the redrive allow policy, as it's in an unsupported "
                "format. You can specify sourceQueueArns only when redrivePermission is byQueue."
            )
        return RedriveAllow(permission, ())
    if not isinstance(sources, list) or not sources:
        raise bad("sourceQueueArns is required when redrivePermission is byQueue.")
    if len(sources) > MAX_ALLOWED_SOURCES:
        raise bad(f"You can specify up to {MAX_ALLOWED_SOURCES} source queue ARNs.")
    if not all(isinstance(s, str) and parse_queue_arn(s) for s in sources):
        raise bad("Invalid value for sourceQueueArns.")
    return RedriveAllow(permission, tuple(sources))


def _format_redrive(policy: Redrive) -> str:
    document = {
        "deadLetterTargetArn": policy.target_arn,
        "maxReceiveCount": policy.max_receive_count,
    }
    return json.dumps(document, separators=(",", ":"))


def _format_allow(policy: RedriveAllow) -> str:
    document: dict[str, Any] = {"redrivePermission": policy.permission}
    if policy.source_arns:
        document["sourceQueueArns"] = list(policy.source_arns)
    return json.dumps(document, separators=(",", ":"))


def _json_object(text: str, error: Any) -> dict[str, Any]:
    try:
        document = json.loads(text)
    except ValueError:
        raise error() from None
    if not isinstance(document, dict):
        raise error()
    return document
