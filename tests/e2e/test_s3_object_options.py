"""boto3 against headwater's S3: the options around object operations.

CopyObject / UploadPartCopy source conditions (``x-amz-copy-source-if-*``), destination
conditions, archived sources; GetObject's ``response-*`` overrides; GetObjectAttributes'
ObjectParts and its paging; If-Match on CompleteMultipartUpload; ``encoding-type=url`` on
ListObjects (v1) and ListObjectVersions; virtual-hosted-style addressing end to end.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote, urlsplit

import boto3
import pytest
import urllib3
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.config import Config
from botocore.exceptions import ClientError
from test_s3_archive import wait_for

from headwater.testing import RunningHeadwater, running_headwater

pytestmark = pytest.mark.e2e

MiB = 1024 * 1024


@pytest.fixture(scope="module")
def hw() -> Iterator[RunningHeadwater]:
    # Restores finish in well under a second: GLACIER Expedited (5 min) takes 3 ms,
    # DEEP_ARCHIVE Standard (12 h) 0.43 s.
    with running_headwater(archive_time_scale=1e-5) as server:
        yield server


def code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


def status(error: pytest.ExceptionInfo[ClientError]) -> int:
    return int(error.value.response["ResponseMetadata"]["HTTPStatusCode"])


def condition(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"].get("Condition"))


def failed_condition(error: pytest.ExceptionInfo[ClientError]) -> str:
    """The ``Condition`` of a 412 PreconditionFailed (asserted to be one)."""
    assert code(error) == "PreconditionFailed" and status(error) == 412
    return condition(error)


def exists(s3: Any, bucket: str, key: str) -> bool:
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except ClientError as error:
        if error.response["ResponseMetadata"]["HTTPStatusCode"] == 404:
            return False
        raise
    return True


# -- CopyObject / UploadPartCopy: source conditions ------------------------------------------


def test_copy_source_if_match_and_if_unmodified_since(s3: Any, bucket: str) -> None:
    etag = s3.put_object(Bucket=bucket, Key="src", Body=b"data")["ETag"]
    source = {"Bucket": bucket, "Key": "src"}
    past = datetime.now(UTC) - timedelta(days=1)
    future = datetime.now(UTC) + timedelta(days=1)

    with pytest.raises(ClientError) as err:
        s3.copy_object(Bucket=bucket, Key="dst", CopySource=source, CopySourceIfMatch='"0000"')
    assert failed_condition(err) == "x-amz-copy-source-If-Match"
    with pytest.raises(ClientError) as err:
        s3.copy_object(Bucket=bucket, Key="dst", CopySource=source,
                       CopySourceIfUnmodifiedSince=past)
    assert failed_condition(err) == "x-amz-copy-source-If-Unmodified-Since"
    assert not exists(s3, bucket, "dst")

    s3.copy_object(Bucket=bucket, Key="a", CopySource=source, CopySourceIfMatch=etag)
    s3.copy_object(Bucket=bucket, Key="b", CopySource=source,
                   CopySourceIfMatch=etag.strip('"'))  # S3 compares without the quotes
    s3.copy_object(Bucket=bucket, Key="c", CopySource=source, CopySourceIfUnmodifiedSince=future)
    # If-Match true and If-Unmodified-Since false: S3 copies (CopyObject API reference).
    s3.copy_object(Bucket=bucket, Key="d", CopySource=source, CopySourceIfMatch=etag,
                   CopySourceIfUnmodifiedSince=past)
    for key in "abcd":
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b"data"


def test_copy_source_if_none_match_and_if_modified_since(s3: Any, bucket: str) -> None:
    etag = s3.put_object(Bucket=bucket, Key="src", Body=b"data")["ETag"]
    modified = s3.head_object(Bucket=bucket, Key="src")["LastModified"]
    source = {"Bucket": bucket, "Key": "src"}
    past = datetime.now(UTC) - timedelta(days=1)

    # Where GetObject answers 304, a copy answers 412.
    with pytest.raises(ClientError) as err:
        s3.copy_object(Bucket=bucket, Key="dst", CopySource=source, CopySourceIfNoneMatch=etag)
    assert failed_condition(err) == "x-amz-copy-source-If-None-Match"
    with pytest.raises(ClientError) as err:
        s3.copy_object(Bucket=bucket, Key="dst", CopySource=source,
                       CopySourceIfModifiedSince=modified)
    assert failed_condition(err) == "x-amz-copy-source-If-Modified-Since"
    # If-None-Match false and If-Modified-Since true: 412 (CopyObject API reference).
    with pytest.raises(ClientError) as err:
        s3.copy_object(Bucket=bucket, Key="dst", CopySource=source, CopySourceIfNoneMatch=etag,
                       CopySourceIfModifiedSince=past)
    assert condition(err) == "x-amz-copy-source-If-None-Match"
    assert not exists(s3, bucket, "dst")

    s3.copy_object(Bucket=bucket, Key="a", CopySource=source, CopySourceIfNoneMatch='"0000"')
    s3.copy_object(Bucket=bucket, Key="b", CopySource=source, CopySourceIfModifiedSince=past)
    # A date in the future is ignored, as on AWS: the copy happens.
    s3.copy_object(Bucket=bucket, Key="c", CopySource=source,
                   CopySourceIfModifiedSince=datetime.now(UTC) + timedelta(days=1))
    for key in "abc":
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b"data"


def test_upload_part_copy_source_conditions(s3: Any, bucket: str) -> None:
    etag = s3.put_object(Bucket=bucket, Key="src", Body=b"part data")["ETag"]
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="dst")["UploadId"]
    common = {"Bucket": bucket, "Key": "dst", "UploadId": upload_id, "PartNumber": 1,
              "CopySource": {"Bucket": bucket, "Key": "src"}}
    refused = [({"CopySourceIfMatch": '"0000"'}, "x-amz-copy-source-If-Match"),
               ({"CopySourceIfNoneMatch": etag}, "x-amz-copy-source-If-None-Match"),
               ({"CopySourceIfUnmodifiedSince": datetime.now(UTC) - timedelta(days=1)},
                "x-amz-copy-source-If-Unmodified-Since")]
    for options, header in refused:
        with pytest.raises(ClientError) as err:
            s3.upload_part_copy(**common, **options)
        assert code(err) == "PreconditionFailed" and condition(err) == header
    assert s3.list_parts(Bucket=bucket, Key="dst", UploadId=upload_id).get("Parts", []) == []
    part = s3.upload_part_copy(**common, CopySourceIfMatch=etag)["CopyPartResult"]
    s3.complete_multipart_upload(Bucket=bucket, Key="dst", UploadId=upload_id,
                                 MultipartUpload={"Parts": [{"PartNumber": 1,
                                                             "ETag": part["ETag"]}]})
    assert s3.get_object(Bucket=bucket, Key="dst")["Body"].read() == b"part data"


def test_copy_destination_conditions(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="src", Body=b"new")
    old = s3.put_object(Bucket=bucket, Key="dst", Body=b"old")["ETag"]
    source = {"Bucket": bucket, "Key": "src"}
    with pytest.raises(ClientError) as err:
        s3.copy_object(Bucket=bucket, Key="dst", CopySource=source, IfNoneMatch="*")
    assert code(err) == "PreconditionFailed" and status(err) == 412
    with pytest.raises(ClientError) as err:
        s3.copy_object(Bucket=bucket, Key="dst", CopySource=source, IfMatch='"0000"')
    assert code(err) == "PreconditionFailed" and status(err) == 412
    assert s3.get_object(Bucket=bucket, Key="dst")["Body"].read() == b"old"
    with pytest.raises(ClientError) as err:
        s3.copy_object(Bucket=bucket, Key="missing", CopySource=source, IfMatch=old)
    assert code(err) == "NoSuchKey" and status(err) == 404

    s3.copy_object(Bucket=bucket, Key="dst", CopySource=source, IfMatch=old)
    assert s3.get_object(Bucket=bucket, Key="dst")["Body"].read() == b"new"
    s3.copy_object(Bucket=bucket, Key="fresh", CopySource=source, IfNoneMatch="*")
    assert s3.get_object(Bucket=bucket, Key="fresh")["Body"].read() == b"new"


# -- CopyObject / UploadPartCopy: archived sources -------------------------------------------


@pytest.mark.parametrize(("storage_class", "tier"), [("GLACIER", "Expedited"),
                                                     ("DEEP_ARCHIVE", "Standard")])
def test_copy_from_an_archived_source_needs_a_restore(s3: Any, bucket: str, storage_class: str,
                                                      tier: str) -> None:
    s3.put_object(Bucket=bucket, Key="cold", Body=b"frozen", StorageClass=storage_class)
    source = {"Bucket": bucket, "Key": "cold"}
    with pytest.raises(ClientError) as err:
        s3.copy_object(Bucket=bucket, Key="copy", CopySource=source)
    # S3's recorded answer (not the ObjectNotInActiveTierError of botocore's model).
    assert code(err) == "InvalidObjectState" and status(err) == 403
    assert err.value.response["Error"]["Message"] == ("Operation is not valid for the source "
                                                      "object's storage class")
    assert err.value.response["Error"]["StorageClass"] == storage_class
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="assembled")["UploadId"]
    with pytest.raises(ClientError) as err:
        s3.upload_part_copy(Bucket=bucket, Key="assembled", UploadId=upload_id, PartNumber=1,
                            CopySource=source)
    assert code(err) == "InvalidObjectState" and status(err) == 403
    assert not exists(s3, bucket, "copy")

    s3.restore_object(Bucket=bucket, Key="cold",
                      RestoreRequest={"Days": 1, "GlacierJobParameters": {"Tier": tier}})
    wait_for(lambda: 'ongoing-request="false"' in s3.head_object(Bucket=bucket,
                                                                 Key="cold")["Restore"])
    s3.copy_object(Bucket=bucket, Key="copy", CopySource=source)
    copied = s3.get_object(Bucket=bucket, Key="copy")
    assert copied["Body"].read() == b"frozen" and "StorageClass" not in copied  # STANDARD
    part = s3.upload_part_copy(Bucket=bucket, Key="assembled", UploadId=upload_id, PartNumber=1,
                               CopySource=source)["CopyPartResult"]
    s3.complete_multipart_upload(Bucket=bucket, Key="assembled", UploadId=upload_id,
                                 MultipartUpload={"Parts": [{"PartNumber": 1,
                                                             "ETag": part["ETag"]}]})
    assert s3.get_object(Bucket=bucket, Key="assembled")["Body"].read() == b"frozen"


# -- GetObject / HeadObject: response-* overrides ------------------------------------------


def test_response_header_overrides(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"body", CacheControl="max-age=60",
                  ContentEncoding="identity", ContentLanguage="en",
                  Expires=datetime(2029, 6, 1, tzinfo=UTC))
    overrides = {"ResponseCacheControl": "no-store", "ResponseContentEncoding": "gzip",
                 "ResponseContentLanguage": "fr-CA",
                 "ResponseExpires": datetime(2030, 1, 1, tzinfo=UTC)}
    for method in (s3.get_object, s3.head_object):
        got = method(Bucket=bucket, Key="k", **overrides)
        headers = got["ResponseMetadata"]["HTTPHeaders"]
        assert headers["cache-control"] == "no-store"
        assert headers["content-encoding"] == "gzip"
        assert headers["content-language"] == "fr-CA"
        assert headers["expires"] == "Tue, 01 Jan 2030 00:00:00 GMT"
        assert got["CacheControl"] == "no-store" and got["ContentLanguage"] == "fr-CA"
    # The overrides change one response, never the object.
    plain = s3.head_object(Bucket=bucket, Key="k")["ResponseMetadata"]["HTTPHeaders"]
    assert plain["cache-control"] == "max-age=60" and plain["content-encoding"] == "identity"
    assert plain["content-language"] == "en"
    assert plain["expires"] == "Fri, 01 Jun 2029 00:00:00 GMT"


# -- GetObjectAttributes: ObjectParts --------------------------------------------------------


def _multipart(s3: Any, bucket: str, key: str, sizes: list[int],
               **create: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Upload parts of ``sizes`` and complete; (CompleteMultipartUpload's answer, parts)."""
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key=key, **create)["UploadId"]
    parts = []
    for number, size in enumerate(sizes, start=1):
        extra = {"ChecksumAlgorithm": create["ChecksumAlgorithm"]} if "ChecksumAlgorithm" in create else {}
        out = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number,
                             Body=os.urandom(size), **extra)
        part = {"PartNumber": number, "ETag": out["ETag"]}
        part.update({k: v for k, v in out.items() if k.startswith("Checksum") and k != "ChecksumType"})
        parts.append(part)
    done = s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id,
                                        MultipartUpload={"Parts": parts})
    return done, parts


def test_object_attributes_list_the_parts_of_a_composite_upload(s3: Any, bucket: str) -> None:
    sizes = [5 * MiB, 5 * MiB, 1234]
    done, parts = _multipart(s3, bucket, "mp", sizes, ChecksumAlgorithm="SHA256")
    assert done["ChecksumType"] == "COMPOSITE"
    expected = [{"PartNumber": p["PartNumber"], "Size": size, "ChecksumSHA256": p["ChecksumSHA256"]}
                for p, size in zip(parts, sizes, strict=True)]

    out = s3.get_object_attributes(Bucket=bucket, Key="mp",
                                   ObjectAttributes=["ObjectParts", "Checksum", "ObjectSize"])
    assert out["ObjectSize"] == sum(sizes)
    # The checksum of checksums, without the "-3" HeadObject shows.
    assert out["Checksum"] == {"ChecksumSHA256": done["ChecksumSHA256"].removesuffix("-3"),
                               "ChecksumType": "COMPOSITE"}
    assert out["ObjectParts"] == {"TotalPartsCount": 3, "PartNumberMarker": 0,
                                  "NextPartNumberMarker": 3, "MaxParts": 1000,
                                  "IsTruncated": False, "Parts": expected}

    first = s3.get_object_attributes(Bucket=bucket, Key="mp", ObjectAttributes=["ObjectParts"],
                                     MaxParts=2)["ObjectParts"]
    assert first["Parts"] == expected[:2] and first["IsTruncated"] is True
    assert first["NextPartNumberMarker"] == 2 and first["MaxParts"] == 2
    assert first["TotalPartsCount"] == 3
    rest = s3.get_object_attributes(Bucket=bucket, Key="mp", ObjectAttributes=["ObjectParts"],
                                     MaxParts=2, PartNumberMarker=first["NextPartNumberMarker"])
    rest = rest["ObjectParts"]
    assert rest["Parts"] == expected[2:] and rest["IsTruncated"] is False
    assert rest["PartNumberMarker"] == 2 and rest["NextPartNumberMarker"] == 3


@pytest.mark.parametrize("create", [{}, {"ChecksumAlgorithm": "CRC32", "ChecksumType": "FULL_OBJECT"}],
                         ids=["default-crc64nvme", "crc32-full-object"])
def test_object_attributes_of_a_full_object_upload_count_the_parts(
        s3: Any, bucket: str, create: dict[str, str]) -> None:
    # Part elements come only with part checksums (an upload created with a COMPOSITE
    # checksum); a FULL_OBJECT upload reports how many parts it had.
    done, _ = _multipart(s3, bucket, "mp", [5 * MiB, 10], **create)
    out = s3.get_object_attributes(Bucket=bucket, Key="mp",
                                   ObjectAttributes=["ObjectParts", "Checksum"])
    assert out["ObjectParts"] == {"TotalPartsCount": 2}
    algorithm = create.get("ChecksumAlgorithm", "CRC64NVME")
    assert out["Checksum"] == {f"Checksum{algorithm}": done[f"Checksum{algorithm}"],
                               "ChecksumType": "FULL_OBJECT"}
    # A single PUT has no parts at all.
    s3.put_object(Bucket=bucket, Key="single", Body=b"x", ChecksumAlgorithm="SHA256")
    single = s3.get_object_attributes(Bucket=bucket, Key="single", ObjectAttributes=["ObjectParts"])
    assert "ObjectParts" not in single


# -- CompleteMultipartUpload: If-Match --------------------------------------------------------


def _one_part_upload(s3: Any, bucket: str, key: str, body: bytes) -> tuple[str, list[dict[str, Any]]]:
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    etag = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=1,
                          Body=body)["ETag"]
    return upload_id, [{"PartNumber": 1, "ETag": etag}]


def test_complete_multipart_upload_if_match(s3: Any, bucket: str) -> None:
    current = s3.put_object(Bucket=bucket, Key="k", Body=b"current")["ETag"]
    upload_id, parts = _one_part_upload(s3, bucket, "k", b"stale")
    with pytest.raises(ClientError) as err:
        s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=upload_id,
                                     MultipartUpload={"Parts": parts}, IfMatch='"0000"')
    assert code(err) == "PreconditionFailed" and status(err) == 412
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"current"

    upload_id, parts = _one_part_upload(s3, bucket, "k", b"replacement")
    s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=upload_id,
                                 MultipartUpload={"Parts": parts}, IfMatch=current)
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"replacement"

    # If-Match names an object that must exist: none is 404 NoSuchKey.
    upload_id, parts = _one_part_upload(s3, bucket, "missing", b"never")
    with pytest.raises(ClientError) as err:
        s3.complete_multipart_upload(Bucket=bucket, Key="missing", UploadId=upload_id,
                                     MultipartUpload={"Parts": parts}, IfMatch=current)
    assert code(err) == "NoSuchKey" and status(err) == 404
    assert not exists(s3, bucket, "missing")


# -- encoding-type=url on ListObjects (v1) and ListObjectVersions ------------------------------

# ceph/s3-tests' encoding keys (recorded against AWS: "+" is %2B, a space %20, "/" kept) and
# a few more: "&", non-ASCII.
KEYS = ["a&b", "asdf+b", "foo+1/bar", "foo/bar/xyzzy", "quux ab/thud", "ünï/x"]


def test_list_objects_v1_encoding_type_url(s3: Any, bucket: str) -> None:
    for key in KEYS:
        s3.put_object(Bucket=bucket, Key=key, Body=b"")
    # Asked for by the caller, botocore leaves the values encoded.
    first = s3.list_objects(Bucket=bucket, Delimiter="/", EncodingType="url", MaxKeys=3)
    assert first["EncodingType"] == "url" and first["Delimiter"] == "/"
    assert [o["Key"] for o in first["Contents"]] == ["a%26b", "asdf%2Bb"]
    assert [p["Prefix"] for p in first["CommonPrefixes"]] == ["foo%2B1/"]
    assert first["IsTruncated"] is True and first["NextMarker"] == "foo%2B1/"
    rest = s3.list_objects(Bucket=bucket, Delimiter="/", EncodingType="url", MaxKeys=3,
                           Marker=unquote(first["NextMarker"]))
    assert rest["Marker"] == "foo%2B1/" and "Contents" not in rest
    assert [p["Prefix"] for p in rest["CommonPrefixes"]] == ["foo/", "quux%20ab/",
                                                              "%C3%BCn%C3%AF/"]
    under = s3.list_objects(Bucket=bucket, Prefix="quux ab/", EncodingType="url")
    assert under["Prefix"] == "quux%20ab/" and [o["Key"] for o in under["Contents"]] == [
        "quux%20ab/thud"]
    # Left to botocore (it asks for url and decodes with unquote_plus): every key comes
    # back as stored, "+" and " " told apart, across pages.
    pages = s3.get_paginator("list_objects").paginate(Bucket=bucket, PaginationConfig={"PageSize": 2})
    assert [o["Key"] for page in pages for o in page["Contents"]] == KEYS


def test_list_object_versions_encoding_type_url(s3: Any, bucket: str) -> None:
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    for key in KEYS:
        s3.put_object(Bucket=bucket, Key=key, Body=b"")
    s3.delete_object(Bucket=bucket, Key="a&b")  # a delete marker's key is encoded too
    first = s3.list_object_versions(Bucket=bucket, EncodingType="url", MaxKeys=3)
    assert first["EncodingType"] == "url"
    assert [m["Key"] for m in first["DeleteMarkers"]] == ["a%26b"]
    assert [v["Key"] for v in first["Versions"]] == ["a%26b", "asdf%2Bb"]
    assert first["IsTruncated"] is True and first["NextKeyMarker"] == "asdf%2Bb"
    rest = s3.list_object_versions(Bucket=bucket, EncodingType="url", Delimiter="/",
                                   KeyMarker=unquote(first["NextKeyMarker"]),
                                   VersionIdMarker=first["NextVersionIdMarker"])
    assert rest["KeyMarker"] == "asdf%2Bb" and rest["Delimiter"] == "/"
    assert [p["Prefix"] for p in rest["CommonPrefixes"]] == ["foo%2B1/", "foo/", "quux%20ab/",
                                                              "%C3%BCn%C3%AF/"]
    under = s3.list_object_versions(Bucket=bucket, Prefix="ünï/", EncodingType="url")
    assert under["Prefix"] == "%C3%BCn%C3%AF/"
    assert [v["Key"] for v in under["Versions"]] == ["%C3%BCn%C3%AF/x"]
    pages = s3.get_paginator("list_object_versions").paginate(
        Bucket=bucket, PaginationConfig={"PageSize": 2})
    assert [v["Key"] for page in pages for v in page.get("Versions", [])] == KEYS


# -- virtual-hosted-style addressing ---------------------------------------------------------


class _Loopback:
    """Sends every request to the server's loopback address, Host header untouched: the
    client addresses ``<bucket>.localhost:<port>``, which need not resolve on this machine."""

    def __init__(self, port: int) -> None:
        self.pool = urllib3.HTTPConnectionPool("127.0.0.1", port, retries=False)
        self.sent: list[tuple[str, str]] = []  # (host, path)

    def __call__(self, request: AWSPreparedRequest, **_: Any) -> AWSResponse:
        url = urlsplit(request.url)
        self.sent.append((url.netloc, url.path))
        body = request.body
        if hasattr(body, "read"):
            body = body.read()
        target = f"{url.path}?{url.query}" if url.query else url.path
        raw = self.pool.urlopen(request.method, target, body=body,
                                headers=dict(request.headers.items()),
                                preload_content=False, redirect=False)
        return AWSResponse(request.url, raw.status, raw.headers, raw)


@pytest.fixture
def virtual(hw: RunningHeadwater) -> tuple[Any, _Loopback]:
    port = urlsplit(hw.endpoint).port
    assert port is not None
    client = boto3.client(
        "s3", endpoint_url=f"http://localhost:{port}", region_name=hw.region,
        aws_access_key_id=hw.access_key, aws_secret_access_key=hw.secret_key,
        config=Config(s3={"addressing_style": "virtual"}, retries={"max_attempts": 1}),
    )
    transport = _Loopback(port)
    client.meta.events.register_first("before-send.s3", transport)
    return client, transport


def test_virtual_hosted_addressing(hw: RunningHeadwater, s3: Any,
                                   virtual: tuple[Any, _Loopback]) -> None:
    client, transport = virtual
    name = f"vh-{uuid.uuid4().hex[:12]}"
    port = urlsplit(hw.endpoint).port
    client.create_bucket(Bucket=name)
    client.put_object(Bucket=name, Key="dir/a b+c.txt", Body=b"hosted", ContentType="text/plain")
    client.put_object(Bucket=name, Key="dir/sub/d", Body=b"deeper")
    client.put_object(Bucket=name, Key="top", Body=b"top")
    # Every request named the bucket in the Host header (SigV4-signed so), none in the path.
    assert transport.sent and all(host == f"{name}.localhost:{port}" for host, _ in transport.sent)
    assert not any(path.startswith(f"/{name}") for _, path in transport.sent)

    got = client.get_object(Bucket=name, Key="dir/a b+c.txt")
    assert got["Body"].read() == b"hosted" and got["ContentType"] == "text/plain"
    assert client.head_object(Bucket=name, Key="top")["ContentLength"] == 3
    listed = client.list_objects_v2(Bucket=name, Prefix="dir/", Delimiter="/")
    assert [o["Key"] for o in listed["Contents"]] == ["dir/a b+c.txt"]
    assert [p["Prefix"] for p in listed["CommonPrefixes"]] == ["dir/sub/"]
    assert [o["Key"] for o in client.list_objects(Bucket=name)["Contents"]] == [
        "dir/a b+c.txt", "dir/sub/d", "top"]
    client.copy_object(Bucket=name, Key="copied", CopySource={"Bucket": name, "Key": "top"})
    client.delete_objects(Bucket=name, Delete={"Objects": [{"Key": "top"}, {"Key": "dir/sub/d"}]})
    assert client.get_bucket_versioning(Bucket=name).get("Status") is None

    # The same bucket and objects, path style.
    assert s3.get_object(Bucket=name, Key="copied")["Body"].read() == b"top"
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=name)["Contents"]] == [
        "copied", "dir/a b+c.txt"]
    # The bucket is read from the Host header: another name there is another bucket.
    with pytest.raises(ClientError) as err:
        client.get_object(Bucket=f"{name}-none", Key="top")
    assert code(err) == "NoSuchBucket"
    assert transport.sent[-1][0] == f"{name}-none.localhost:{port}"


def test_locations_follow_the_addressing_style(hw: RunningHeadwater, s3: Any,
                                               virtual: tuple[Any, _Loopback]) -> None:
    # CompleteMultipartUpload's Location names the object the way it was addressed: with the
    # bucket in the Host, the path is the key alone (the JS SDK v2 hands it to apps).
    client, _ = virtual
    name = f"vl-{uuid.uuid4().hex[:12]}"
    port = urlsplit(hw.endpoint).port
    client.create_bucket(Bucket=name)
    for who, expected in ((client, f"http://{name}.localhost:{port}/a%20b/c"),
                          (s3, f"{hw.endpoint}/{name}/a%20b/c")):
        upload = who.create_multipart_upload(Bucket=name, Key="a b/c")["UploadId"]
        etag = who.upload_part(Bucket=name, Key="a b/c", UploadId=upload, PartNumber=1,
                               Body=b"x")["ETag"]
        done = who.complete_multipart_upload(
            Bucket=name, Key="a b/c", UploadId=upload,
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})
        assert done["Location"] == expected
