"""Queue names, URLs, ARNs and receipt handles: how SQS identifies things.

Implements the naming rules of
https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-queues.html
and the identifier formats of
https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-queue-message-identifiers.html

A queue is known by (account, region, name).  URLs name account and queue in their path, so
any host works: ``http://localhost:4566/000000000000/jobs``, the URL we handed out, or a real
``https://sqs.eu-west-1.amazonaws.com/...`` one (whose host also names the region).
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from headwater.core.ids import arn, parse_arn
from headwater.services.sqs import errors

FIFO_SUFFIX = ".fifo"
_NAME = re.compile(r"[A-Za-z0-9_-]{1,80}")
_FIFO_NAME = re.compile(r"[A-Za-z0-9_-]{1,75}\.fifo")
_BATCH_ID = re.compile(r"[A-Za-z0-9_-]{1,80}")
_ACCOUNT = re.compile(r"\d{12}")
# sqs.REGION.amazonaws.com, REGION.queue.amazonaws.com, sqs.REGION.api.aws (dual stack)
_REGION_HOSTS = (
    re.compile(r"sqs(?:-fips)?\.([a-z0-9-]+)\.(?:amazonaws\.com(?:\.cn)?|api\.aws)"),
    re.compile(r"([a-z0-9-]+)\.queue\.amazonaws\.com(?:\.cn)?"),
)


def is_fifo_name(name: str) -> bool:
    return name.endswith(FIFO_SUFFIX)


def check_queue_name(name: str, fifo: bool) -> None:
    """Raise AWS's error for a name a queue of this type may not have."""
    if fifo:
        if not _FIFO_NAME.fullmatch(name):
            raise errors.invalid_fifo_queue_name()
    elif not _NAME.fullmatch(name):
        raise errors.invalid_queue_name()


def is_batch_entry_id(value: str) -> bool:
    return bool(_BATCH_ID.fullmatch(value))


def queue_url(endpoint: str, account: str, name: str) -> str:
    return f"{endpoint.rstrip('/')}/{account}/{name}"


def queue_arn(region: str, account: str, name: str) -> str:
    return arn("sqs", region, account, name)


@dataclass(frozen=True, slots=True)
class QueueRef:
    """Which queue a URL or ARN names; ``region`` is None when the URL does not say."""

    account: str
    name: str
    region: str | None


def parse_queue_url(url: str) -> QueueRef:
    """Account and name from the last two path segments of any queue URL.

    Raises ``InvalidAddress`` when the URL cannot name a queue at all.
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        raise errors.invalid_address(url) from None
    segments = [unquote(s) for s in parts.path.split("/") if s]
    if len(segments) < 2 or not _ACCOUNT.fullmatch(segments[-2]):
        raise errors.invalid_address(url)
    return QueueRef(segments[-2], segments[-1], _region_of_host(parts.hostname or ""))


def _region_of_host(host: str) -> str | None:
    if host == "queue.amazonaws.com":
        return "us-east-1"  # the legacy global endpoint is us-east-1's
    for pattern in _REGION_HOSTS:
        found = pattern.fullmatch(host)
        if found:
            return found.group(1)
    return None


def parse_queue_arn(value: str) -> QueueRef | None:
    parsed = parse_arn(value)
    if parsed is None or parsed[1] != "sqs" or not parsed[4] or ":" in parsed[4]:
        return None
    return QueueRef(parsed[3], parsed[4], parsed[2])


# -- receipt handles ----------------------------------------------------------------------
#
# A receipt handle names one act of receiving: the queue, the message row and a fresh nonce
# that the row stores.  Decoding it gives the row directly (a primary-key lookup), and a
# handle from an earlier receive no longer matches the stored nonce.


@dataclass(frozen=True, slots=True)
class Receipt:
    queue_id: int
    row: int
    nonce: str


def encode_receipt(queue_id: int, row: int, nonce: str) -> str:
    raw = f"{queue_id:x}:{row:x}:{nonce}".encode()
    return base64.b64encode(raw).decode("ascii")


def decode_receipt(handle: str) -> Receipt | None:
    try:
        text = base64.b64decode(handle.encode("ascii"), validate=True).decode()
        queue_hex, row_hex, nonce = text.split(":", 2)
        return Receipt(int(queue_hex, 16), int(row_hex, 16), nonce)
    except (ValueError, UnicodeError, binascii.Error):
        return None
