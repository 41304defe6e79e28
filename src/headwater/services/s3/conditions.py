"""Conditional requests, conditional writes and byte ranges.

Reads (GET, HEAD, and CopyObject's ``x-amz-copy-source-if-*``), per RFC 7232 as S3 applies it
(https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html, "Conditional requests"):

- If-Match false -> 412; If-Unmodified-Since false -> 412, unless If-Match is present and true;
- If-None-Match matches -> 304; If-Modified-Since false -> 304, unless If-None-Match is present
  and does not match; an If-Modified-Since later than now is ignored (RFC 7232 section 3.3).

Copies (https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html) apply the same
precedence with 412 for every failed condition, and also ignore a future if-modified-since.

Writes (https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html):
``If-None-Match: *`` fails with 412 when the key exists; ``If-Match: <etag>`` fails with 412
when the current ETag differs and with 404 NoSuchKey when there is no object.

Ranges (https://www.rfc-editor.org/rfc/rfc9110#name-range-requests): one range of the forms
``bytes=a-b``, ``bytes=a-`` and ``bytes=-n``.  A header that does not parse is ignored (the
whole object is served); a range that starts past the end is 416 InvalidRange.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from headwater.services.s3 import errors
from headwater.services.s3.model import Version

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def _etag_matches(header: str, etag: str) -> bool:
    wanted = [t.strip() for t in header.split(",")]
    bare = etag.strip('"')
    return any(t == "*" or t.strip('"') == bare for t in wanted)


def _seconds(value: Any) -> float | None:
    if isinstance(value, datetime):
        return value.timestamp()
    return None


def check_read(params: dict[str, Any], version: Version, now: float,
               prefix: str = "If") -> None:
    """Raise 412 / 304 as the ``<prefix>Match`` family of members asks (GetObject names them
    ``IfMatch``...; CopyObject ``CopySourceIfMatch``...).

    An if-modified-since later than ``now`` (the server's clock) is ignored.  A copy answers
    every failed condition with 412, its ``Condition`` naming the ``x-amz-copy-source-``
    header."""
    if_match = params.get(f"{prefix}Match")
    if_none = params.get(f"{prefix}NoneMatch")
    since = _seconds(params.get(f"{prefix}ModifiedSince"))
    unmodified = _seconds(params.get(f"{prefix}UnmodifiedSince"))
    modified_at = int(version.last_modified)  # HTTP dates have whole seconds
    copy = prefix != "If"
    header = "x-amz-copy-source-If-" if copy else "If-"
    if if_match is not None:
        if not _etag_matches(if_match, version.etag):
            raise errors.precondition_failed(f"{header}Match")
    elif unmodified is not None and modified_at > unmodified:
        raise errors.precondition_failed(f"{header}Unmodified-Since")
    if if_none is not None:
        if _etag_matches(if_none, version.etag):
            if copy:
                raise errors.precondition_failed(f"{header}None-Match")
            raise errors.not_modified(_validators(version))
    elif since is not None and modified_at <= since <= now:
        # A date later than now is ignored, as RFC 7232 section 3.3 asks and as AWS does for
        # GetObject, HeadObject and CopyObject alike (observed on AWS, recorded by LocalStack's
        # AWS-validated test_s3_get_object_preconditions / test_s3_copy_object_preconditions).
        if copy:
            raise errors.precondition_failed(f"{header}Modified-Since")
        raise errors.not_modified(_validators(version))


def _validators(version: Version) -> dict[str, str]:
    from email.utils import formatdate

    return {"ETag": version.etag, "Last-Modified": formatdate(version.last_modified, usegmt=True)}


def check_write(params: dict[str, Any], key: str, *, delete: bool = False) -> Any:
    """A check for ``model.put`` from PutObject's / CompleteMultipartUpload's If-* headers,
    or for ``model.delete`` from DeleteObject's If-Match (DeleteObjects: each entry's ETag)."""
    if_match = params.get("IfMatch")
    if_none = params.get("IfNoneMatch")
    if if_match is None and if_none is None:
        return None
    if not delete:
        # A write takes If-None-Match "*" or If-Match with an ETag, one of them; S3 answers
        # anything else as a feature it lacks (aws/aws-sdk-ruby#3144; LocalStack's
        # AWS-validated recordings give the fields).
        if if_match is not None and if_none is not None:
            raise errors.header_not_implemented(
                "If-Match,If-None-Match", "Multiple conditional request headers present in the "
                "request")
        if if_none is not None and if_none.strip() != "*":
            raise errors.header_not_implemented(
                "If-None-Match", "We don't accept the provided value of If-None-Match header "
                "for this API")
        if if_match is not None and if_match.strip() == "*":
            raise errors.header_not_implemented(
                "If-Match", "We don't accept the provided value of If-Match header for this API")

    def check(current: Version | None) -> None:
        if if_none is not None and current is not None:
            raise errors.precondition_failed("If-None-Match")
        if if_match is not None:
            if current is None:
                raise errors.no_such_key(key)
            if not _etag_matches(if_match, current.etag):
                raise errors.precondition_failed("If-Match")

    return check


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(start, end exclusive) of a Range header, None to serve everything."""
    if not header:
        return None
    found = _RANGE.match(header.strip())
    if found is None:
        return None
    first, last = found.groups()
    if not first and not last:
        return None
    if not first:
        suffix = int(last)
        if suffix == 0:
            raise errors.invalid_range(header, size)
        if size == 0:
            # The last n bytes of an empty object: the whole of it, as a plain 200 (there is
            # no byte range "0--1" to name in a Content-Range).
            return None
        return max(size - suffix, 0), size
    start = int(first)
    end = int(last) + 1 if last else size
    if last and end <= start:
        return None  # a syntactically invalid range is ignored (RFC 9110)
    if start >= size:
        raise errors.invalid_range(header, size)
    return start, min(end, size)
