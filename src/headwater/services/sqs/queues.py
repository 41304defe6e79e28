"""Queue administration: create, configure, list, tag and share queues.

Implements CreateQueue, GetQueueAttributes, SetQueueAttributes, ListQueues,
ListDeadLetterSourceQueues, TagQueue / UntagQueue, AddPermission / RemovePermission and
PurgeQueue as described in https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/
on top of the queue registry of ``model.Sqs``.  Pure domain code: plain values in and out.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from headwater.core.errors import ServiceError
from headwater.services.sqs import attributes as attrs
from headwater.services.sqs import errors
from headwater.services.sqs.model import Queue, Sqs
from headwater.services.sqs.names import check_queue_name

MAX_TAGS = 50
MAX_LIST_RESULTS = 1000
MAX_ACTIONS_PER_STATEMENT = 7
_LABEL = re.compile(r"[A-Za-z0-9_-]{1,80}")
# The actions a queue owner may share with AddPermission.
SHAREABLE_ACTIONS = frozenset(
    {
        "*",
        "ChangeMessageVisibility",
        "DeleteMessage",
        "GetQueueAttributes",
        "GetQueueUrl",
        "ListDeadLetterSourceQueues",
        "PurgeQueue",
        "ReceiveMessage",
        "SendMessage",
    }
)


def create_queue(
    sqs: Sqs,
    account: str,
    region: str,
    name: str,
    attributes: Mapping[str, str] | None,
    tags: Mapping[str, str] | None,
) -> Queue:
    """A new queue, or the existing one when every attribute asked for already matches."""
    requested = dict(attributes or {})
    fifo = attrs.is_fifo_request(requested)
    check_queue_name(name, fifo)
    normalized = attrs.normalize(requested, fifo=fifo, creating=True)
    existing = sqs.find(account, region, name)
    if existing is not None:
        if existing.fifo != fifo:
            raise errors.queue_name_exists("FifoQueue")
        different = attrs.first_difference(existing.attributes, normalized)
        if different is not None:
            raise errors.queue_name_exists(different)
        return existing
    arn = f"arn:aws:sqs:{region}:{account}:{name}"
    _check_redrive(sqs, arn, fifo, normalized)
    tag_map = _checked_tags(dict(tags or {}), name)
    return sqs.store_queue(account, region, name, attrs.initial(normalized, fifo=fifo), tag_map)


def set_attributes(sqs: Sqs, queue: Queue, attributes: Mapping[str, str]) -> Queue:
    normalized = attrs.normalize(attributes, fifo=queue.fifo, creating=False)
    _check_redrive(sqs, queue.arn, queue.fifo, normalized)
    return sqs.update_queue(queue, attributes=attrs.apply(queue.attributes, normalized))


def _check_redrive(sqs: Sqs, source_arn: str, fifo: bool, normalized: Mapping[str, str]) -> None:
    """A RedrivePolicy must name an existing queue of the same type that accepts this source."""
    text = normalized.get("RedrivePolicy")
    if not text:
        return
    policy = attrs.parse_redrive_policy(text)
    target = sqs.queue_by_arn(policy.target_arn)
    if target is None:
        raise errors.invalid_value("RedrivePolicy", text, "Dead letter target does not exist.")
    if target.fifo != fifo:
        raise errors.invalid_value(
            "RedrivePolicy",
            text,
            "Dead-letter queue must be same type of queue as the source.",
        )
    allow = target.settings.redrive_allow
    if allow is not None and not allow.allows(source_arn):
        raise errors.invalid_value(
            "RedrivePolicy",
            text,
            "Amazon SQS can't create the redrive policy, as the dead-letter queue's redrive "
            "allow policy denies this source queue.",
        )


def get_attributes(sqs: Sqs, queue: Queue, names: Sequence[str]) -> dict[str, str]:
    wanted = attrs.check_names(list(names), fifo=queue.fifo)
    out: dict[str, str] = {}
    counts: tuple[int, int, int] | None = None
    for name in wanted:
        if name.startswith("ApproximateNumberOfMessages"):
            if counts is None:
                counts = sqs.counts(queue)
            visible, in_flight, delayed = counts
            out[name] = str(
                {
                    "ApproximateNumberOfMessages": visible,
                    "ApproximateNumberOfMessagesNotVisible": in_flight,
                    "ApproximateNumberOfMessagesDelayed": delayed,
                }[name]
            )
        elif name == "QueueArn":
            out[name] = queue.arn
        elif name == "CreatedTimestamp":
            out[name] = str(int(queue.created))
        elif name == "LastModifiedTimestamp":
            out[name] = str(int(queue.modified))
        elif name in queue.attributes:
            out[name] = queue.attributes[name]
    return out


def list_queues(sqs: Sqs, account: str, region: str, prefix: str | None) -> list[Queue]:
    return sorted(
        (
            q
            for q in sqs.all_queues()
            if q.account == account and q.region == region and q.name.startswith(prefix or "")
        ),
        key=lambda q: q.name,
    )


def dead_letter_sources(sqs: Sqs, queue: Queue) -> list[Queue]:
    return sorted(
        (
            q
            for q in sqs.all_queues()
            if q.settings.redrive is not None and q.settings.redrive.target_arn == queue.arn
        ),
        key=lambda q: q.name,
    )


def page(
    queues: list[Queue], max_results: int | None, next_token: str | None
) -> tuple[list[Queue], str | None]:
    """One page of a name-ordered listing; a token only when MaxResults was given."""
    if max_results is not None and not 1 <= max_results <= MAX_LIST_RESULTS:
        raise errors.invalid_value(
            "MaxResults",
            max_results,
            f"MaxResults must be an integer between 1 and {MAX_LIST_RESULTS}.",
        )
    if next_token:
        after = _decode_token(next_token)
        queues = [q for q in queues if q.name > after]
    limit = max_results or MAX_LIST_RESULTS
    chosen = queues[:limit]
    more = max_results is not None and len(queues) > limit
    return chosen, _encode_token(chosen[-1].name) if more and chosen else None


def _encode_token(after: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": after}).encode()).decode()


def _decode_token(token: str) -> str:
    try:
        document = json.loads(base64.urlsafe_b64decode(token.encode()))
        after = document["after"]
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise errors.invalid_parameter("Invalid NextToken value.") from None
    if not isinstance(after, str):
        raise errors.invalid_parameter("Invalid NextToken value.")
    return after


# -- tags ---------------------------------------------------------------------------------


def tag(sqs: Sqs, queue: Queue, tags: Mapping[str, str]) -> Queue:
    if not tags:
        raise errors.missing_parameter("Tags")
    merged = {**queue.tags, **tags}
    return sqs.update_queue(queue, tags=_checked_tags(merged, queue.name))


def untag(sqs: Sqs, queue: Queue, keys: Sequence[str]) -> Queue:
    if not keys:
        raise errors.missing_parameter("TagKeys")
    return sqs.update_queue(queue, tags={k: v for k, v in queue.tags.items() if k not in keys})


def _checked_tags(tags: dict[str, str], queue_name: str) -> dict[str, str]:
    if len(tags) > MAX_TAGS:
        raise errors.invalid_parameter(f"Too many tags added for queue {queue_name}.")
    for key, value in tags.items():
        if not 1 <= len(key) <= 128:
            raise errors.invalid_value("Tag.Key", key, "Tag keys must be 1 to 128 characters.")
        if len(value) > 256:
            raise errors.invalid_value(
                "Tag.Value", value, "Tag values must be at most 256 characters."
            )
    return tags


# -- permissions --------------------------------------------------------------------------
#
# AddPermission writes a statement into the queue's Policy attribute; RemovePermission takes
# it out again.  headwater keeps the policy but does not enforce it (one account, no IAM).


def add_permission(
    sqs: Sqs, queue: Queue, label: str, accounts: Sequence[str], actions: Sequence[str]
) -> Queue:
    if not _LABEL.fullmatch(label):
        raise errors.invalid_value(
            "Label",
            label,
            "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length",
        )
    if not accounts:
        raise errors.missing_parameter("AWSAccountIds")
    if not actions:
        raise errors.missing_parameter("Actions")
    if len(actions) > MAX_ACTIONS_PER_STATEMENT:
        raise ServiceError(
            "OverLimit",
            f"{len(actions)} Actions were found, maximum allowed is {MAX_ACTIONS_PER_STATEMENT}.",
        )
    for action in actions:
        if action not in SHAREABLE_ACTIONS:
            raise errors.invalid_value(
                "ActionName",
                f"SQS:{action}",
                "Only the queue owner is allowed to invoke this action.",
            )
    policy = _policy(queue)
    statements: list[dict[str, Any]] = policy["Statement"]
    if any(s.get("Sid") == label for s in statements):
        raise errors.invalid_value("Label", label, "Already exists.")
    principals = [f"arn:aws:iam::{account}:root" for account in accounts]
    names = [f"SQS:{action}" for action in actions]
    statements.append(
        {
            "Sid": label,
            "Effect": "Allow",
            "Principal": {"AWS": principals[0] if len(principals) == 1 else principals},
            "Action": names[0] if len(names) == 1 else names,
            "Resource": queue.arn,
        }
    )
    text = json.dumps(policy, separators=(",", ":"))
    return sqs.update_queue(queue, attributes=attrs.apply(queue.attributes, {"Policy": text}))


def remove_permission(sqs: Sqs, queue: Queue, label: str) -> Queue:
    policy = _policy(queue)
    kept = [s for s in policy["Statement"] if s.get("Sid") != label]
    if len(kept) == len(policy["Statement"]):
        raise errors.invalid_value("Label", label, "can't find label on existing policy.")
    policy["Statement"] = kept
    text = json.dumps(policy, separators=(",", ":")) if kept else ""
    return sqs.update_queue(queue, attributes=attrs.apply(queue.attributes, {"Policy": text}))


def _policy(queue: Queue) -> dict[str, Any]:
    text = queue.attributes.get("Policy")
    if text:
        policy: dict[str, Any] = json.loads(text)
        if isinstance(policy.get("Statement"), dict):
            policy["Statement"] = [policy["Statement"]]
        policy.setdefault("Statement", [])
        return policy
    return {"Version": "2012-10-17", "Id": f"{queue.arn}/SQSDefaultPolicy", "Statement": []}
