"""Bucket names, object keys, version ids, owners and list-key encodings.

Bucket naming rules for general purpose buckets:
https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
Object keys: https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-keys.html
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from urllib.parse import quote

from headwater.protocol.rest_router import virtual_host_bucket
from headwater.services.s3 import errors

_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_BAD_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_BAD_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
MAX_KEY_BYTES = 1024
NULL_VERSION = "null"


def check_bucket_name(name: str) -> None:
    if (
        not _BUCKET.match(name)
        or ".." in name
        or name.startswith(_BAD_PREFIXES)
        or name.endswith(_BAD_SUFFIXES)
        or _is_ip(name)
    ):
        raise errors.invalid_bucket_name(name)


def _is_ip(name: str) -> bool:
    try:
        ipaddress.IPv4Address(name)
        return True
    except ValueError:
        return False


def check_key(key: str) -> None:
    size = len(key.encode("utf-8", "surrogatepass"))
    if size > MAX_KEY_BYTES:
        raise errors.key_too_long(size)
    if not key:
        raise errors.invalid_argument("Invalid Argument")  # unreachable through the router


def owner(account: str) -> dict[str, str]:
    """The canonical user S3 reports as owner: a stable 64-hex id derived from the account.

    No ``DisplayName``: S3 stopped returning it on November 21, 2025, in every region (the
    API reference's Owner and Grantee pages, and AWS Health's notice of the change)."""
    return {"ID": hashlib.sha256(f"headwater:{account}".encode()).hexdigest()}


def common_prefix(key: str, prefix: str, delimiter: str) -> str | None:
    """The common prefix a listing with ``prefix`` and ``delimiter`` rolls ``key`` into: up to
    and including the first delimiter after the prefix (None: the key is listed itself)."""
    if not delimiter:
        return None
    index = key.find(delimiter, len(prefix))
    return None if index < 0 else key[: index + len(delimiter)]


def is_common_prefix(marker: str, prefix: str, delimiter: str) -> bool:
    """Whether a listing's ``marker`` is a common prefix it returned (it rolls up to itself),
    so nothing under it comes again.  Only a delimiter past the prefix makes one: with prefix
    "logs/", the key "logs/" (a console's folder marker) is an entry, not a prefix."""
    return marker.startswith(prefix) and common_prefix(marker, prefix, delimiter) == marker


def successor(prefix: str) -> str | None:
    """The smallest string greater than every string starting with ``prefix`` (None: none)."""
    chars = list(prefix)
    while chars:
        last = ord(chars.pop())
        nxt = last + 1
        if 0xD800 <= nxt <= 0xDFFF:
            nxt = 0xE000  # surrogates have no UTF-8 form; the next encodable character
        if nxt <= 0x10FFFF:
            return "".join(chars) + chr(nxt)
    return None


def url_encode(text: str) -> str:
    """``encoding-type=url``: what S3 percent-encodes in list results."""
    return quote(text, safe="/-_.~")


def object_location(endpoint: str, host: str, bucket: str, key: str) -> str:
    """An object's URL as a Location names it: virtual-hosted when the request was (its
    Host names the bucket, which the endpoint already holds), else path style."""
    if virtual_host_bucket(host) == bucket:
        return f"{endpoint}/{url_encode(key)}"
    return f"{endpoint}/{bucket}/{url_encode(key)}"
