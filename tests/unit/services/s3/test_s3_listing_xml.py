"""Listing responses end to end below HTTP: the adapter's page, written by the compiled plan,
is the document the generic serializer writes (but for ListObjectVersions' entries, which
S3 interleaves and the generic walk writes list by list) and reads back in botocore as the
same keys.

Keys mix XML specials, a carriage return, non-ASCII and delimiters; the bucket holds
versions, delete markers, checksummed and archived objects; the requests cover delimiters,
fetch-owner, encoding-type=url, truncation and paging, and RestoreStatus."""

from __future__ import annotations

import random
import re
from itertools import pairwise
from typing import Any
from urllib.parse import unquote
from xml.etree import ElementTree

from botocore.awsrequest import HeadersDict
from botocore.parsers import create_parser
from s3_helpers import adapter, ctx, put

from headwater.core.clock import ManualClock
from headwater.protocol.serialize.rest_xml import RestXmlSerializer
from headwater.protocol.serialize.s3 import ENTRY_ORDER_KEY, S3Serializer
from headwater.protocol.specs import get_spec
from headwater.services.s3 import restore
from headwater.services.s3.model import S3, Bucket

SPEC = get_spec("s3")
CHECKSUM = {"algorithm": "CRC64NVME", "value": "AAAAAAAAAAA=", "type": "FULL_OBJECT"}
PIECES = ["a", "b/", "c", "&", "<x>", "\r\n", " ", "é", "日本/", "😀", "%2F", "+", "'\"", "d/e/"]


def fill(s3: S3, bucket: Bucket, clock: ManualClock) -> list[str]:
    rng = random.Random(11)
    s3.set_versioning(bucket, "Enabled")
    keys = sorted({"".join(rng.choice(PIECES) for _ in range(rng.randint(1, 4)))
                   for _ in range(120)})
    for i, key in enumerate(keys):
        clock.advance(0.0013)
        # What PutObject records of a checksum, on some of the keys.
        extra = {"checksum": CHECKSUM} if i % 3 else {}
        put(s3, s3.bucket(bucket.name), key, bytes([i % 256]), **extra)
        if i % 5 == 0:
            put(s3, s3.bucket(bucket.name), key, b"again")  # a second version
        if i % 7 == 0:
            s3.delete(s3.bucket(bucket.name), key)  # a delete marker on top
    archived = put(s3, s3.bucket(bucket.name), "cold", b"x", storage_class="GLACIER",
                   checksum=CHECKSUM).version
    restore.restore_object(s3, archived, {"Days": 2}, 1.0, 86400.0)
    return keys


def serialized(operation: str, result: dict[str, Any]) -> tuple[bytes, bytes]:
    """(the body S3Serializer writes, the body the generic tree walk writes)."""
    serializer = S3Serializer(SPEC)
    op = SPEC.model.operation_model(operation)
    fast = serializer.serialize(op, result, "req-1").body
    generic = RestXmlSerializer.document(serializer, op, op.output_shape, result, payload=False)
    assert isinstance(fast, bytes)
    return fast, generic


_ENTRY = re.compile(rb"<(Version|DeleteMarker)>.*?</\1>", re.DOTALL)


def entry_tags(body: bytes) -> list[str]:
    return [m.group(1).decode() for m in _ENTRY.finditer(body)]


def grouped(body: bytes) -> bytes:
    """A ListVersionsResult with its Version elements moved before its DeleteMarkers."""
    found = list(_ENTRY.finditer(body))
    if not found:
        return body
    run = body[found[0].start():found[-1].end()]
    assert b"".join(m.group(0) for m in found) == run  # the entries are one run
    versions = b"".join(m.group(0) for m in found if m.group(1) == b"Version")
    markers = b"".join(m.group(0) for m in found if m.group(1) == b"DeleteMarker")
    return body[:found[0].start()] + versions + markers + body[found[-1].end():]


def botocore_reads(operation: str, body: bytes) -> dict[str, Any]:
    op = SPEC.model.operation_model(operation)
    raw = {"status_code": 200, "headers": HeadersDict(), "body": body, "context": {}}
    parsed: dict[str, Any] = create_parser("rest-xml").parse(raw, op.output_shape)
    return parsed


REQUESTS: list[dict[str, Any]] = [
    {},
    {"MaxKeys": 7},
    {"Delimiter": "/"},
    {"Delimiter": "/", "Prefix": "b/", "MaxKeys": 3},
    {"Delimiter": "&"},
    {"EncodingType": "url"},
    {"EncodingType": "url", "Delimiter": "/", "Prefix": "日本/"},
    {"FetchOwner": True, "MaxKeys": 10},
    {"StartAfter": "c", "MaxKeys": 5},
    {"OptionalObjectAttributes": ["RestoreStatus"]},
    {"MaxKeys": 0},
]


def test_list_objects_v2_pages_match_the_generic_serializer(
    s3: S3, bucket: Bucket, clock: ManualClock
) -> None:
    fill(s3, bucket, clock)
    ops = adapter(s3)
    for request in REQUESTS:
        params = {"Bucket": bucket.name, **request}
        seen: list[str] = []
        while True:
            result = ops.list_objects_v2(ctx(), params)
            fast, generic = serialized("ListObjectsV2", result)
            assert fast == generic, request
            parsed = botocore_reads("ListObjectsV2", fast)
            keys = [c["Key"] for c in parsed.get("Contents", [])]
            assert keys == [c["Key"] for c in result.get("Contents", [])]
            seen += keys
            if not parsed["IsTruncated"] or not request.get("MaxKeys"):
                break
            params = {**params, "ContinuationToken": parsed["NextContinuationToken"]}
        if request.get("EncodingType"):
            seen = [unquote(k) for k in seen]
        assert seen == sorted(seen, key=lambda k: k.encode("utf-8"))


def test_list_objects_v1_and_versions_match_the_generic_serializer(
    s3: S3, bucket: Bucket, clock: ManualClock
) -> None:
    fill(s3, bucket, clock)
    ops = adapter(s3)
    for request in REQUESTS:
        v1 = {k: v for k, v in request.items() if k not in ("FetchOwner", "StartAfter")}
        result = ops.list_objects(ctx(), {"Bucket": bucket.name, **v1})
        fast, generic = serialized("ListObjects", result)
        assert fast == generic, request
        params = {"Bucket": bucket.name, **v1}
        while True:
            result = ops.list_object_versions(ctx(), params)
            fast, generic = serialized("ListObjectVersions", result)
            # The generic walk writes the two lists one after the other; S3 interleaves them.
            assert grouped(fast) == generic, request
            assert entry_tags(fast) == [
                "DeleteMarker" if marker else "Version"
                for marker in result.get(ENTRY_ORDER_KEY)
                or [False] * len(result.get("Versions", []))]
            parsed = botocore_reads("ListObjectVersions", fast)
            assert len(parsed.get("Versions", [])) == len(result.get("Versions", []))
            assert len(parsed.get("DeleteMarkers", [])) == len(result.get("DeleteMarkers", []))
            if not parsed["IsTruncated"] or not request.get("MaxKeys"):
                break
            params = {**params, "KeyMarker": result["NextKeyMarker"],
                      "VersionIdMarker": result.get("NextVersionIdMarker", "")}


def test_versions_and_delete_markers_interleave_in_key_order_newest_first(
    s3: S3, bucket: Bucket, clock: ManualClock
) -> None:
    """As S3 writes a ListVersionsResult: one run of Version and DeleteMarker elements, keys
    ascending, each key's newest entry (IsLatest) first."""
    fill(s3, bucket, clock)
    result = adapter(s3).list_object_versions(ctx(), {"Bucket": bucket.name})
    root = ElementTree.fromstring(serialized("ListObjectVersions", result)[0])
    ns = {"s3": root.tag[1:].split("}")[0]}
    entries = [(e.tag.split("}")[1], e.findtext("s3:Key", namespaces=ns),
                e.findtext("s3:IsLatest", namespaces=ns)) for e in root
               if e.tag.endswith(("}Version", "}DeleteMarker"))]
    tags = [tag for tag, _, _ in entries]
    # A marker sits on top of an older version of the same key: the run really mixes them.
    assert ("DeleteMarker", "Version") in pairwise(tags)
    keys = [key or "" for _, key, _ in entries]
    assert keys == sorted(keys, key=lambda k: k.encode("utf-8"))
    firsts = [latest for i, (_, key, latest) in enumerate(entries)
              if i == 0 or keys[i - 1] != key]
    assert firsts and all(latest == "true" for latest in firsts)
    assert sum(latest == "true" for _, _, latest in entries) == len(firsts)


def test_listings_show_checksums_owner_and_restore_status(
    s3: S3, bucket: Bucket, clock: ManualClock
) -> None:
    fill(s3, bucket, clock)
    ops = adapter(s3)
    result = ops.list_objects_v2(ctx(), {"Bucket": bucket.name, "FetchOwner": True,
                                         "OptionalObjectAttributes": ["RestoreStatus"]})
    parsed = botocore_reads("ListObjectsV2", serialized("ListObjectsV2", result)[0])
    by_key = {c["Key"]: c for c in parsed["Contents"]}
    cold = by_key["cold"]
    assert cold["StorageClass"] == "GLACIER"
    assert cold["RestoreStatus"] == {"IsRestoreInProgress": True}
    assert cold["ChecksumAlgorithm"] == ["CRC64NVME"] and cold["ChecksumType"] == "FULL_OBJECT"
    assert all("Owner" in c for c in parsed["Contents"])
    assert all("RestoreStatus" not in c for k, c in by_key.items() if k != "cold")
    # Not asked for: no RestoreStatus, no Owner.
    plain = ops.list_objects_v2(ctx(), {"Bucket": bucket.name})
    assert all("RestoreStatus" not in c and "Owner" not in c for c in plain["Contents"])
    # Once the restore is done the copy's expiry shows.
    clock.advance(6 * 3600)
    done = ops.list_objects_v2(ctx(), {"Bucket": bucket.name, "Prefix": "cold",
                                       "OptionalObjectAttributes": ["RestoreStatus"]})
    status = done["Contents"][0]["RestoreStatus"]
    assert status["IsRestoreInProgress"] is False and status["RestoreExpiryDate"] > clock.now()
