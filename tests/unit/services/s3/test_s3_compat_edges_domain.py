"""Edges a ceph/s3-tests run found headwater answering unlike AWS, at the domain and adapter:
listings of zero entries, lifecycle rule IDs S3 assigns or refuses, and DeleteBucket dropping
the multipart uploads in progress with their part files."""

from __future__ import annotations

import base64
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from s3_helpers import adapter, ctx, put

from headwater.core.errors import ServiceError
from headwater.services.s3 import listing, wire
from headwater.services.s3.model import S3, Bucket
from headwater.services.s3.multipart import Multipart


def _files(s3: S3) -> set[Path]:
    return {p for p in (s3.blobs.root / "data").rglob("*") if p.is_file()}


def _upload_with_parts(s3: S3, bucket: Bucket, key: str, count: int) -> str:
    multipart = Multipart(s3)
    upload = multipart.create(bucket, key, "STANDARD", {})
    for number in range(1, count + 1):
        multipart.put_part(upload, number, s3.blobs.stage_bytes(b"p" * 100, ("CRC64NVME",)))
    return upload.upload_id


# -- max-keys=0 (max-uploads, max-parts) ------------------------------------------------------


@pytest.mark.parametrize("delimiter", ["", "/"])
def test_a_listing_of_zero_keys_is_empty_and_not_truncated(s3: S3, bucket: Bucket,
                                                           delimiter: str) -> None:
    for key in ("a", "dir/b", "dir/c"):
        put(s3, bucket, key, b"x")
    for page in (listing.list_objects(s3.store, bucket.id, "", delimiter, "", 0),
                 listing.list_versions(s3.store, bucket.id, "", delimiter, "", "", 0)):
        assert page.entries == [] and page.prefixes == []
        assert page.truncated is False and page.last is None
    assert listing.list_objects(s3.store, bucket.id, "", delimiter, "", 1).truncated is True
    assert listing.list_versions(s3.store, bucket.id, "", delimiter, "", "", 1).truncated is True


def test_zero_uploads_and_zero_parts_are_empty_pages_not_truncated(s3: S3,
                                                                   bucket: Bucket) -> None:
    ops = adapter(s3)
    upload = _upload_with_parts(s3, bucket, "k", 2)
    _upload_with_parts(s3, bucket, "other", 0)
    uploads = ops.list_multipart_uploads(ctx(), {"Bucket": "bucket", "MaxUploads": 0})
    assert uploads["IsTruncated"] is False and "Uploads" not in uploads
    # S3 sends the next markers on every page, empty when nothing was listed.
    assert uploads["NextKeyMarker"] == "" and uploads["NextUploadIdMarker"] == ""
    parts = ops.list_parts(ctx(), {"Bucket": "bucket", "Key": "k", "UploadId": upload,
                                   "MaxParts": 0})
    assert parts["IsTruncated"] is False and parts["Parts"] == []
    assert "NextPartNumberMarker" not in parts


@pytest.mark.parametrize(("operation", "member", "argument", "parameter"), [
    ("list_objects", "MaxKeys", "maxKeys", "max-keys"),
    ("list_objects_v2", "MaxKeys", "maxKeys", "max-keys"),
    ("list_object_versions", "MaxKeys", "maxKeys", "max-keys"),
    ("list_multipart_uploads", "MaxUploads", "max-uploads", "max-uploads"),
    ("list_parts", "MaxParts", "max-parts", "max-parts"),
    ("list_buckets", "MaxBuckets", "max-buckets", "max-buckets"),
])
def test_page_sizes_out_of_a_32_bit_range_get_s3s_two_answers(
    s3: S3, bucket: Bucket, operation: str, member: str, argument: str, parameter: str
) -> None:
    # S3's messages as versitygw#1804 recorded them: one for a negative size naming the
    # argument, one for a size past 2**31 - 1 naming the query parameter.
    upload = _upload_with_parts(s3, bucket, "k", 1)
    params: dict[str, Any] = {"Bucket": "bucket", "Key": "k", "UploadId": upload}
    call = getattr(adapter(s3), operation)
    for value, message, name in (
        (-1, f"Argument {argument} must be an integer between 0 and 2147483647", argument),
        (2**31, f"Provided {parameter} not an integer or within integer range", parameter),
        (2**63 - 1, f"Provided {parameter} not an integer or within integer range", parameter),
    ):
        with pytest.raises(ServiceError) as caught:
            call(ctx(), {**params, member: value})
        error = caught.value
        assert (error.code, error.status, error.message) == ("InvalidArgument", 400, message)
        assert error.fields == {"ArgumentName": name, "ArgumentValue": str(value)}
    found = call(ctx(), {**params, member: 2**31 - 1})  # the largest taken: everything
    assert found.get("IsTruncated", False) is False


# -- lifecycle rule IDs ---------------------------------------------------------------------


def _put_rules(s3: S3, *rules: dict[str, Any]) -> list[dict[str, Any]]:
    ops = adapter(s3)
    ops.put_bucket_lifecycle_configuration(ctx(), {
        "Bucket": "bucket", "LifecycleConfiguration": {"Rules": list(rules)}})
    found: list[dict[str, Any]] = ops.get_bucket_lifecycle_configuration(
        ctx(), {"Bucket": "bucket"})["Rules"]
    return found


_RULE: dict[str, Any] = {"Status": "Enabled", "Filter": {"Prefix": "logs/"},
                         "Expiration": {"Days": 1}}


def test_a_rule_without_an_id_gets_one_from_the_id_factory(s3: S3, bucket: Bucket) -> None:
    got = _put_rules(s3, dict(_RULE), dict(_RULE, ID=""), dict(_RULE, ID="kept"))
    ids = [str(r["ID"]) for r in got]
    assert ids[2] == "kept"
    for rule_id in ids[:2]:
        # 48 letters and digits: the base64 of a UUID from the injected id factory.
        assert re.fullmatch(r"[A-Za-z0-9]{48}", rule_id)
        uuid.UUID(base64.b64decode(rule_id).decode("ascii"))
    assert ids[0] != ids[1]


def test_a_too_long_rule_id_is_refused_and_nothing_is_stored(s3: S3, bucket: Bucket) -> None:
    with pytest.raises(ServiceError) as err:
        _put_rules(s3, dict(_RULE, ID="x"), dict(_RULE, ID="y" * 256))
    assert (err.value.code, err.value.status) == ("InvalidArgument", 400)
    assert err.value.message == "ID length should not exceed allowed limit of 255"
    assert err.value.fields == {"ArgumentName": "ID"}
    assert "lifecycle" not in s3.bucket("bucket").config
    assert [r["ID"] for r in _put_rules(s3, dict(_RULE, ID="y" * 255))] == ["y" * 255]


# -- DeleteBucket with uploads in progress ----------------------------------------------------


def test_delete_bucket_drops_its_uploads_and_removes_their_part_files(s3: S3,
                                                                      bucket: Bucket) -> None:
    other = s3.create_bucket("other", "000000000000", "us-east-1", {})
    elsewhere = _upload_with_parts(s3, other, "k", 1)
    before = _files(s3)
    _upload_with_parts(s3, bucket, "a", 2)
    _upload_with_parts(s3, bucket, "a", 1)  # a second upload of one key
    _upload_with_parts(s3, bucket, "b", 0)
    assert len(_files(s3) - before) == 3
    s3.delete_bucket("bucket")
    assert _files(s3) == before  # the parts' files went with the uploads, the other bucket's stay
    again = s3.create_bucket("bucket", "000000000000", "us-east-1", {})
    assert list(s3.store.each_upload(again.id, "", None)) == []
    assert s3.store.upload(elsewhere) is not None
    assert [p.number for p in Multipart(s3).parts(Multipart(s3).upload(other, "k", elsewhere))] == [1]


def test_delete_bucket_with_a_version_keeps_its_uploads_and_files(s3: S3, bucket: Bucket) -> None:
    upload = _upload_with_parts(s3, bucket, "a", 1)
    put(s3, bucket, "k", b"x" * 100)
    files = _files(s3)
    with pytest.raises(ServiceError) as err:
        s3.delete_bucket("bucket")
    assert err.value.code == "BucketNotEmpty"
    assert _files(s3) == files and s3.store.upload(upload) is not None
    s3.delete(bucket, "k")
    s3.delete_bucket("bucket")
    assert s3.store.upload(upload) is None and _files(s3) == set()


@pytest.mark.parametrize(("sent", "stored"), [
    ("aws-chunked", None),
    ("aws-chunked, gzip", "gzip"),
    ("gzip,aws-chunked", "gzip"),
    ("deflate, gzip", "deflate, gzip"),
    ("AWS-CHUNKED , br", "br"),
])
def test_content_encoding_drops_only_aws_chunked(sent: str, stored: str | None) -> None:
    assert wire.stored_meta({"ContentEncoding": sent}).get("ContentEncoding") == stored
