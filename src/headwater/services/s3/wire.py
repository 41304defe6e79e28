"""What object requests and responses carry besides the bytes: the shared wire mapping.

- ``stored_meta``: the system and user metadata a PutObject / CopyObject (REPLACE) /
  CreateMultipartUpload request sets, as the version's ``meta`` document (user metadata
  values RFC 2047-decoded, as S3 stores them; ``object_headers`` encodes them again);
- ``object_headers``: the members GetObject and HeadObject return for a version, with the
  ``response-*`` overrides and the checksum rules (a whole-object checksum only with
  ``x-amz-checksum-mode: ENABLED`` and never on a range); ``Expires`` is text, kept as sent;
- ``check_header_value``: S3's refusal of a value no response header could carry;
- tags from the ``x-amz-tagging`` header and the Tagging document, with AWS's limits;
- the storage class check;
- a listing's page size (``max-keys``, ``max-parts``, ``max-uploads``).

References: https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingMetadata.html,
https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-tagging.html
"""

from __future__ import annotations

import base64
import re
import unicodedata
from collections.abc import Mapping
from datetime import datetime
from email.errors import HeaderParseError
from email.header import decode_header, make_header
from email.utils import formatdate
from typing import Any
from urllib.parse import unquote_plus

from headwater.protocol.body import aws_chunked
from headwater.services.s3 import checksums, errors
from headwater.services.s3.encryption import SSE_S3
from headwater.services.s3.model import STORAGE_CLASSES, Bucket, Version

DEFAULT_CONTENT_TYPE = "binary/octet-stream"
MAX_USER_METADATA = 2048
MAX_TAGS = 10
MAX_TAG_KEY = 128
MAX_TAG_VALUE = 256
# Besides letters, numbers and separators (Unicode categories L, N, Z), what a tag may hold.
_TAG_PUNCTUATION = frozenset("+-=._:/@")
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
# Request member -> the meta key it is stored under (the GetObject member of the same name).
_CONTENT = ("ContentType", "ContentEncoding", "ContentDisposition", "ContentLanguage",
            "CacheControl", "WebsiteRedirectLocation")
# GetObject's override member -> (the member it overrides, its query parameter).
_OVERRIDES = {
    "ResponseContentType": ("ContentType", "response-content-type"),
    "ResponseContentDisposition": ("ContentDisposition", "response-content-disposition"),
    "ResponseContentEncoding": ("ContentEncoding", "response-content-encoding"),
    "ResponseContentLanguage": ("ContentLanguage", "response-content-language"),
    "ResponseCacheControl": ("CacheControl", "response-cache-control"),
    "ResponseExpires": ("Expires", "response-expires"),
}


def storage_class(params: dict[str, Any]) -> str:
    value = params.get("StorageClass") or "STANDARD"
    if value not in STORAGE_CLASSES:
        raise errors.invalid_storage_class(str(value))
    return str(value)


def declared_size(params: dict[str, Any], headers: Mapping[str, str]) -> int | None:
    """The size a PutObject / UploadPart body declares: an aws-chunked body's decoded length
    (its chunk framing is not part of the object), else its Content-Length.

    A body of no declared size -- HTTP chunked framing that is not aws-chunked -- is S3's 501
    naming ``Transfer-Encoding``: S3 takes a body of unknown length only as aws-chunked with
    ``x-amz-decoded-content-length`` (sigv4-streaming.html), and answers a plain chunked PUT
    so (recorded in aws/aws-sdk-js-v3#3403 against S3, automattic/knox#43, chilts/awssum#30)."""
    if aws_chunked(headers):
        decoded = headers.get("x-amz-decoded-content-length")
        if decoded is not None:
            if not decoded.isdigit():
                # S3's answer to a decoded length that is no number (versity/versitygw#1656).
                raise errors.missing_content_length()
            return int(decoded)
    found = params.get("ContentLength")
    if found is None and "transfer-encoding" in headers:
        raise errors.header_not_implemented("Transfer-Encoding")
    return None if found is None else int(found)


def check_not_a_part(query: Mapping[str, Any]) -> None:
    """Refuse a PutObject or CopyObject request that names an upload's part: S3 goes by the
    subresource, so such a request never writes the object.  An ``uploadId`` without
    ``partNumber`` is a PUT on the upload (405 with what an upload allows), a ``partNumber``
    alone is refused by name; both recorded from S3 (versity/versitygw#1236, #1237, #1226)."""
    if "uploadId" in query:
        raise errors.method_not_allowed("PUT", "UPLOAD", "DELETE, POST, GET")
    if "partNumber" in query:
        raise errors.invalid_argument("This operation does not accept partNumber without uploadId",
                                      "partNumber", "partNumber")


_LOCK_MEMBERS = ("ObjectLockMode", "ObjectLockRetainUntilDate", "ObjectLockLegalHoldStatus")


def check_no_object_lock(params: dict[str, Any], *, digest_sent: bool | None = None) -> None:
    """Refuse a write that asks to lock its object.  No headwater bucket has Object Lock
    (CreateBucket does not make one), so each gets S3's answer for a bucket without it:
    InvalidRequest "Bucket is missing ObjectLockConfiguration", the wording of PutObject,
    CopyObject and CreateMultipartUpload (versity/versitygw#1751, from the aws CLI against
    S3).  A PutObject (``digest_sent`` not None) without Content-MD5 or a checksum is
    refused for that first, as S3 does (versity/versitygw#1535)."""
    if not any(params.get(name) is not None for name in _LOCK_MEMBERS):
        return
    if digest_sent is False:
        raise errors.invalid_request("Content-MD5 OR x-amz-checksum- HTTP header is required for "
                                     "Put Object requests with Object Lock parameters")
    raise errors.invalid_request("Bucket is missing ObjectLockConfiguration")


def stored_meta(params: dict[str, Any]) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    for name in _CONTENT:
        value = params.get(name)
        if value is not None:
            meta[name] = value
    encoding = meta.get("ContentEncoding")
    if encoding is not None:
        # aws-chunked is the transfer framing, not the object's encoding: S3 drops it and
        # keeps the rest as sent (getmoto/moto#9008, checked against S3).
        text = str(encoding)
        parts = text.split(",")
        kept = [e for e in parts if e.strip().lower() != "aws-chunked"]
        if len(kept) < len(parts):
            text = ",".join(kept).strip()
        if text:
            meta["ContentEncoding"] = text
        else:
            del meta["ContentEncoding"]
    meta.setdefault("ContentType", DEFAULT_CONTENT_TYPE)
    expires = params.get("Expires")
    if isinstance(expires, datetime):
        meta["Expires"] = expires.timestamp()
    elif expires:
        # AWS quirk: any text, date or not, is stored and returned as sent (S3's model makes
        # Expires a string; boto3 reads one that is not a date as ExpiresString).
        meta["Expires"] = str(expires)
    user = params.get("Metadata") or {}
    size = sum(len(k.encode()) + len(str(v).encode()) for k, v in user.items())
    if size > MAX_USER_METADATA:
        raise errors.metadata_too_large(size)
    if user:
        meta["Metadata"] = {k.lower(): _decoded(str(v)) for k, v in user.items()}
    tagging = params.get("Tagging")
    if tagging:
        meta["tags"] = tags_from_header(str(tagging))
    return meta


def _decoded(value: str) -> str:
    """A user metadata value as S3 stores it: RFC 2047 encoded-words decoded
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingMetadata.html)."""
    if "=?" not in value:
        return value
    try:
        decoded = str(make_header(decode_header(value)))
    except (HeaderParseError, LookupError, UnicodeDecodeError, ValueError):
        return value  # not a well-formed encoded-word: kept as sent
    return decoded or value


# Control characters (tab aside, which header values may hold): what a decoded encoded-word
# can bring into a stored value and no header can carry back.
_UNPRINTABLE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def _encoded(value: str) -> str:
    """A stored user metadata value as S3 returns it: as is when US-ASCII, else one RFC 2047
    encoded-word, so response headers stay ASCII.  AWS quirk: header bytes are read as
    ISO-8859-1, so raw UTF-8 sent in a header comes back encoded twice ("ö" sent as bytes
    C3 B6 returns as =?UTF-8?B?w4PCtg==?=, as observed on S3); values from a POST form
    are UTF-8 text."""
    if value.isascii():
        return value
    return "=?UTF-8?B?" + base64.b64encode(value.encode("utf-8", "surrogatepass")).decode() + "?="


def _expires_text(value: Any) -> str:
    """An Expires header: the text stored (or asked for) as is; a date (epoch seconds stored by
    older versions, or a ``response-expires`` override) as an HTTP date."""
    if isinstance(value, str):
        return value
    if isinstance(value, datetime):
        value = value.timestamp()
    return formatdate(float(value), usegmt=True)


def check_header_value(name: str, value: str) -> None:
    """Refuse a value that S3 would have to send as a header and no header can carry: 400
    ``InvalidArgument`` naming ``name`` (the query parameter or form field it came in).
    AWS quirk: S3 reads and writes header text as ISO-8859-1 and answers a ``response-*``
    override beyond it so (observed, guardian/grid#1716); for control characters (tab aside),
    which no header may hold either, AWS documents no answer."""
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        raise errors.invalid_argument("Header value cannot be represented using ISO-8859-1.",
                                      name, value) from None
    if _UNPRINTABLE.search(value):
        # No ArgumentValue: an XML document cannot hold these characters either.
        raise errors.invalid_argument("Header value contains control characters.", name)


def tags_from_header(text: str) -> dict[str, str]:
    """The tags of an ``x-amz-tagging`` header (PutObject, CopyObject with TaggingDirective
    REPLACE, CreateMultipartUpload).

    A field without "=" is a tag whose value is empty, as S3 takes it (apache/ozone#10299,
    and `aws s3api put-object --tagging tag-without-value` in ministackorg/ministack#1117);
    empty fields are skipped (versity/versitygw#1216).  Text that is not URL query parameters
    is 400 InvalidArgument naming the header, as a repeated key is
    (``errors.invalid_tagging_header``):

    - AWS quirk: ``key1=val1,key2=val2`` is refused so (localstack's AWS-validated
      test_object_tagging_exc, put-obj-wrong-format), while a value holding a comma is
      InvalidTag "The TagValue you have provided is invalid" (a PutObject with
      ``platform=metal,openstackbaremetal``, gardenlinux/gardenlinux#3720), as an unencoded
      ``?``, ``(`` or ``!`` is (versity/versitygw's integration cases, PR #1243).  What sets
      the recorded header apart is its field's second ``=``; that a raw ``=`` in a value is
      what S3 objects to is inferred from these answers, not recorded on its own;
    - ``=`` alone, a field with ``=`` and no key (versity/versitygw#1215), and a ``%`` not
      followed by two hex digits (``key%`` in the same cases).
    """
    pairs: list[tuple[str, str]] = []
    for field in text.split("&"):
        if not field:
            continue
        key, equals, value = field.partition("=")
        if (equals and not key) or "=" in value or _BAD_ESCAPE.search(field):
            raise errors.invalid_tagging_header(text)
        pairs.append((unquote_plus(key), unquote_plus(value)))
    return check_tags(pairs, header=text)


def check_tags(pairs: list[tuple[str, str]], *, header: str | None = None) -> dict[str, str]:
    """An object's tags, with S3's answers to too many (versity/versitygw#246, boto/boto3#1213),
    to a key or value ``check_tag`` refuses, to a key starting ``aws:`` and to a key named
    twice.

    AWS quirk: a repeated key is InvalidArgument in the ``x-amz-tagging`` header (``header``,
    the header's text) but InvalidTag in a Tagging document (PutObjectTagging); see
    ``errors``."""
    tags: dict[str, str] = {}
    for key, value in pairs:
        if key in tags:
            if header is not None:
                raise errors.invalid_tagging_header(header)
            raise errors.duplicate_tag_keys()
        check_tag(key, value)
        if key.startswith("aws:"):
            raise errors.system_tag(on_bucket=False)
        tags[key] = value
    if len(tags) > MAX_TAGS:
        raise errors.too_many_tags()
    return tags


def check_tag(key: str, value: str) -> None:
    """One tag of an object or a bucket: a key of 1 to 128 and a value of up to 256 characters,
    each of Unicode letters, numbers and white space (in UTF-8) and ``+ - = . _ : / @``, or
    400 InvalidTag.  The pattern is S3's, ``^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$``
    (https://docs.aws.amazon.com/AmazonS3/latest/API/API_control_S3Tag.html; the S3 user
    guide's object-tagging page words it "letters, numbers, and spaces representable in UTF-8,
    and the following characters: + - = . _ : / @").  ``\\p{Z}`` is separators (the space,
    no-break space, ...), not control characters: a tab is refused."""
    if not 1 <= len(key) <= MAX_TAG_KEY or not _tag_text(key):
        raise errors.invalid_tag(key)
    if len(value) > MAX_TAG_VALUE or not _tag_text(value):
        raise errors.invalid_tag(key, value)


def _tag_text(text: str) -> bool:
    return all(ch in _TAG_PUNCTUATION or unicodedata.category(ch)[0] in "LNZ" for ch in text)


def written_version_id(bucket: Bucket, version: Version) -> str | None:
    """The ``x-amz-version-id`` of a write that made ``version`` (Put, Complete, POST): its id
    where versioning is Enabled, none otherwise.  A Suspended bucket stores the null version
    and S3 names no version in the answer (the PutObject reference's sample for a suspended
    bucket; versity/versitygw#2164), though a GET or HEAD of it says "null", and so does a
    CopyObject's answer (``objects.copy_object``)."""
    return version.version_id if bucket.versioning == "Enabled" else None


def tag_set(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in tags.items()]


def checksum_members(checksum: dict[str, Any] | None) -> dict[str, Any]:
    if not checksum or not checksum.get("algorithm"):
        return {}
    return {
        checksums.member_name(checksum["algorithm"]): checksum["value"],
        "ChecksumType": checksum.get("type", "FULL_OBJECT"),
    }


def object_headers(version: Version, params: dict[str, Any], *, partial: bool,
                   versioned: bool) -> dict[str, Any]:
    """The GetObject/HeadObject members describing ``version`` (everything but the body);
    ``partial``: the answer serves only part of it, so no whole-object checksum."""
    meta = version.meta
    out: dict[str, Any] = {
        "LastModified": version.last_modified,
        "ETag": version.etag,
        "AcceptRanges": "bytes",
        "ServerSideEncryption": SSE_S3,
    }
    for name in _CONTENT:
        if name in meta:
            out[name] = meta[name]
    if "Expires" in meta:
        out["Expires"] = _expires_text(meta["Expires"])
    if meta.get("Metadata"):
        shown = {k: _encoded(v) for k, v in meta["Metadata"].items()}
        # S3 leaves out values with unprintable characters and counts them instead.
        printable = {k: v for k, v in shown.items() if not _UNPRINTABLE.search(v)}
        if printable:
            out["Metadata"] = printable
        if len(printable) < len(shown):
            out["MissingMeta"] = len(shown) - len(printable)
    for param, (member, query) in _OVERRIDES.items():
        value = params.get(param)
        if value is not None:
            if member == "Expires":
                value = _expires_text(value)
            check_header_value(query, value)
            out[member] = value
    if versioned:
        out["VersionId"] = version.version_id
    if version.storage_class != "STANDARD":
        out["StorageClass"] = version.storage_class
    tags = meta.get("tags")
    if tags:
        out["TagCount"] = len(tags)
    if meta.get("parts") and params.get("PartNumber") is not None:
        # "only returned if you specify partNumber in your request" (HeadObject, GetObject)
        out["PartsCount"] = len(meta["parts"])
    restore = meta.get("restore")
    if restore:
        out["Restore"] = restore_header(restore)
    if params.get("ChecksumMode") == "ENABLED" and not partial:
        out.update(checksum_members(version.checksum))
    return out


def restore_header(restore: dict[str, Any]) -> str:
    if restore.get("ongoing"):
        return 'ongoing-request="true"'
    expiry = formatdate(float(restore["expiry"]), usegmt=True)
    return f'ongoing-request="false", expiry-date="{expiry}"'


def page_size(params: dict[str, Any], member: str, argument: str, most: int = 1000,
              parameter: str | None = None) -> int:
    """A listing's page size: ``most`` by default and at most.  Out of a 32-bit integer's
    range it is S3's InvalidArgument: naming ``argument`` for a negative one, the query
    ``parameter`` (``argument`` unless given) for one past 2**31 - 1, as versitygw#1804
    recorded S3's two messages."""
    value = params.get(member)
    if value is None:
        return most
    if value < 0:
        raise errors.invalid_argument(
            f"Argument {argument} must be an integer between 0 and 2147483647", argument,
            str(value))
    if value > _INT32_MAX:
        name = parameter or argument
        raise errors.invalid_argument(
            f"Provided {name} not an integer or within integer range", name, str(value))
    return min(int(value), most)


_INT32_MAX = 2**31 - 1
