"""boto3 against headwater's S3: buckets, objects, listings, conditions, versions, tagging."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import s3_forms
from botocore.exceptions import ClientError

from headwater.testing import RunningHeadwater, running_headwater

pytestmark = pytest.mark.e2e


def code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


def status(error: pytest.ExceptionInfo[ClientError]) -> int:
    return int(error.value.response["ResponseMetadata"]["HTTPStatusCode"])


# -- buckets -------------------------------------------------------------------------------


def test_bucket_lifecycle_and_errors(s3: Any) -> None:
    name = f"life-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=name)
    s3.head_bucket(Bucket=name)
    assert name in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert s3.get_bucket_location(Bucket=name)["LocationConstraint"] is None
    s3.put_object(Bucket=name, Key="k", Body=b"x")
    with pytest.raises(ClientError) as err:
        s3.delete_bucket(Bucket=name)
    assert code(err) == "BucketNotEmpty" and status(err) == 409
    s3.delete_object(Bucket=name, Key="k")
    s3.delete_bucket(Bucket=name)
    with pytest.raises(ClientError) as err:
        s3.head_bucket(Bucket=name)
    assert status(err) == 404
    with pytest.raises(ClientError) as err:
        s3.list_objects_v2(Bucket=name)
    assert code(err) == "NoSuchBucket"


def test_bucket_names_are_checked(s3: Any) -> None:
    for bad in ("ab", "UPPER", "a..b", "192.168.1.1", "-dash", "xn--abc"):
        with pytest.raises(ClientError) as err:
            s3.create_bucket(Bucket=bad)
        assert code(err) == "InvalidBucketName", bad


def test_bucket_already_owned_outside_us_east_1(hw: RunningHeadwater) -> None:
    import boto3

    client = boto3.client("s3", endpoint_url=hw.endpoint, region_name="eu-west-1",
                          aws_access_key_id=hw.access_key, aws_secret_access_key=hw.secret_key)
    name = f"eu-{uuid.uuid4().hex[:8]}"
    config = {"LocationConstraint": "eu-west-1"}
    client.create_bucket(Bucket=name, CreateBucketConfiguration=config)
    with pytest.raises(ClientError) as err:
        client.create_bucket(Bucket=name, CreateBucketConfiguration=config)
    assert code(err) == "BucketAlreadyOwnedByYou"
    assert client.get_bucket_location(Bucket=name)["LocationConstraint"] == "eu-west-1"


def test_list_buckets_pages_and_prefix(s3: Any) -> None:
    tag = uuid.uuid4().hex[:6]
    names = [f"pg-{tag}-{i}" for i in range(5)]
    for name in names:
        s3.create_bucket(Bucket=name)
    seen: list[str] = []
    token = None
    while True:
        kwargs: dict[str, Any] = {"Prefix": f"pg-{tag}", "MaxBuckets": 2}
        if token:
            kwargs["ContinuationToken"] = token
        page = s3.list_buckets(**kwargs)
        seen += [b["Name"] for b in page["Buckets"]]
        token = page.get("ContinuationToken")
        if not token:
            break
    assert seen == names
    # Filtered by region: pages of the region's buckets only, none missed between others.
    west = [f"pg-{tag}-w{i}" for i in range(3)]
    for name in west:
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={
            "LocationConstraint": "eu-west-1"})
    listed: list[str] = []
    kwargs = {"Prefix": f"pg-{tag}", "MaxBuckets": 1, "BucketRegion": "eu-west-1"}
    for _ in range(10):
        page = s3.list_buckets(**kwargs)
        listed += [b["Name"] for b in page["Buckets"]]
        if "ContinuationToken" not in page:
            break
        kwargs["ContinuationToken"] = page["ContinuationToken"]
    assert listed == west


# -- objects -------------------------------------------------------------------------------


def test_put_get_head_with_metadata_and_content_headers(s3: Any, bucket: str) -> None:
    body = b"hello, headwater"
    put = s3.put_object(
        Bucket=bucket, Key="dir/file.txt", Body=body, ContentType="text/plain",
        Metadata={"Owner": "me"}, CacheControl="max-age=60", ContentDisposition="inline",
    )
    assert put["ETag"] == f'"{hashlib.md5(body).hexdigest()}"'
    got = s3.get_object(Bucket=bucket, Key="dir/file.txt")
    assert got["Body"].read() == body
    assert got["ContentType"] == "text/plain"
    assert got["Metadata"] == {"owner": "me"}
    assert got["CacheControl"] == "max-age=60"
    assert got["ContentLength"] == len(body)
    head = s3.head_object(Bucket=bucket, Key="dir/file.txt")
    assert head["ETag"] == put["ETag"] and head["ContentLength"] == len(body)
    over = s3.get_object(Bucket=bucket, Key="dir/file.txt", ResponseContentType="app/x",
                         ResponseContentDisposition="attachment")
    assert over["ContentType"] == "app/x" and over["ContentDisposition"] == "attachment"


def test_default_checksums_round_trip(s3: Any, bucket: str) -> None:
    # boto3 >= 1.36 sends CRC32 on every PUT and validates it on GET.
    put = s3.put_object(Bucket=bucket, Key="c", Body=b"checksummed")
    assert put["ChecksumCRC32"]
    got = s3.get_object(Bucket=bucket, Key="c", ChecksumMode="ENABLED")
    assert got["ChecksumCRC32"] == put["ChecksumCRC32"]
    assert got["Body"].read() == b"checksummed"
    for algorithm in ("CRC32C", "SHA1", "SHA256", "CRC64NVME"):
        put = s3.put_object(Bucket=bucket, Key=algorithm, Body=b"abc" * 1000,
                            ChecksumAlgorithm=algorithm)
        got = s3.get_object(Bucket=bucket, Key=algorithm, ChecksumMode="ENABLED")
        assert got[f"Checksum{algorithm}"] == put[f"Checksum{algorithm}"]


def test_wrong_checksum_is_bad_digest_and_leaves_nothing(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as err:
        s3.put_object(Bucket=bucket, Key="bad", Body=b"data", ChecksumCRC32="AAAAAA==")
    assert code(err) == "BadDigest"
    with pytest.raises(ClientError) as err:
        s3.put_object(Bucket=bucket, Key="bad", Body=b"data", ContentMD5="AAAAAAAAAAAAAAAAAAAAAA==")
    assert code(err) == "BadDigest"
    with pytest.raises(ClientError) as err:
        s3.put_object(Bucket=bucket, Key="bad", Body=b"data", ContentMD5="nope")
    assert code(err) == "InvalidDigest"
    with pytest.raises(ClientError) as err:
        s3.head_object(Bucket=bucket, Key="bad")
    assert status(err) == 404


def test_ranges(s3: Any, bucket: str) -> None:
    body = bytes(range(256)) * 8
    s3.put_object(Bucket=bucket, Key="r", Body=body)
    for header, expected in (("bytes=0-9", body[:10]), ("bytes=2040-", body[2040:]),
                             ("bytes=-5", body[-5:]), ("bytes=100-99999", body[100:])):
        got = s3.get_object(Bucket=bucket, Key="r", Range=header, ChecksumMode="ENABLED")
        assert got["Body"].read() == expected, header
        assert got["ResponseMetadata"]["HTTPStatusCode"] == 206
        assert "ChecksumCRC32" not in got  # never a whole-object checksum on a range
    with pytest.raises(ClientError) as err:
        s3.get_object(Bucket=bucket, Key="r", Range="bytes=5000-")
    assert code(err) == "InvalidRange" and status(err) == 416
    # An empty object: no byte can be named (416), but its last bytes are all of it.
    s3.put_object(Bucket=bucket, Key="empty", Body=b"")
    with pytest.raises(ClientError) as err:
        s3.get_object(Bucket=bucket, Key="empty", Range="bytes=0-")
    assert code(err) == "InvalidRange"
    tail = s3.get_object(Bucket=bucket, Key="empty", Range="bytes=-8")
    assert tail["Body"].read() == b"" and "ContentRange" not in tail


def test_conditional_reads(s3: Any, bucket: str) -> None:
    etag = s3.put_object(Bucket=bucket, Key="k", Body=b"v1")["ETag"]
    assert s3.get_object(Bucket=bucket, Key="k", IfMatch=etag)["Body"].read() == b"v1"
    with pytest.raises(ClientError) as err:
        s3.get_object(Bucket=bucket, Key="k", IfMatch='"nope"')
    assert status(err) == 412
    with pytest.raises(ClientError) as err:
        s3.get_object(Bucket=bucket, Key="k", IfNoneMatch=etag)
    assert status(err) == 304
    # The dates (a future If-Modified-Since is ignored) are in test_s3_conditional_dates.py.
    past = datetime.now(UTC) - timedelta(days=1)
    with pytest.raises(ClientError) as err:
        s3.get_object(Bucket=bucket, Key="k", IfUnmodifiedSince=past)
    assert status(err) == 412


def test_an_unreadable_conditional_date_is_ignored(hw: RunningHeadwater, bucket: str) -> None:
    client = hw.client("s3")
    client.put_object(Bucket=bucket, Key="k", Body=b"v1")

    def garble(request: Any, **_: Any) -> None:
        for name in ("If-Modified-Since", "If-Unmodified-Since",
                     "x-amz-copy-source-if-modified-since", "x-amz-copy-source-if-unmodified-since"):
            if name in request.headers:
                request.headers.replace_header(name, "not a date")

    client.meta.events.register("before-sign.s3", garble)
    past = datetime.now(UTC) - timedelta(days=1)
    future = datetime.now(UTC) + timedelta(days=1)
    # Each of these would fail with a readable date; unreadable, the condition is not there.
    assert client.get_object(Bucket=bucket, Key="k", IfUnmodifiedSince=past)["Body"].read() == b"v1"
    assert client.head_object(Bucket=bucket, Key="k", IfModifiedSince=future)["ContentLength"] == 2
    client.copy_object(Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": "k"},
                       CopySourceIfUnmodifiedSince=past)
    assert client.get_object(Bucket=bucket, Key="copy")["Body"].read() == b"v1"


def test_conditional_writes(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="once", Body=b"1", IfNoneMatch="*")
    with pytest.raises(ClientError) as err:
        s3.put_object(Bucket=bucket, Key="once", Body=b"2", IfNoneMatch="*")
    assert code(err) == "PreconditionFailed" and status(err) == 412
    etag = s3.head_object(Bucket=bucket, Key="once")["ETag"]
    s3.put_object(Bucket=bucket, Key="once", Body=b"3", IfMatch=etag)
    with pytest.raises(ClientError) as err:
        s3.put_object(Bucket=bucket, Key="once", Body=b"4", IfMatch=etag)
    assert status(err) == 412
    with pytest.raises(ClientError) as err:
        s3.put_object(Bucket=bucket, Key="missing", Body=b"4", IfMatch=etag)
    assert code(err) == "NoSuchKey"


def test_delete_objects_quiet_and_verbose(s3: Any, bucket: str) -> None:
    for i in range(5):
        s3.put_object(Bucket=bucket, Key=f"d/{i}", Body=b"x")
    out = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "d/0"}, {"Key": "d/1"}]})
    assert sorted(d["Key"] for d in out["Deleted"]) == ["d/0", "d/1"]
    out = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "d/2"}], "Quiet": True})
    assert "Deleted" not in out
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert keys == ["d/3", "d/4"]
    # A Delete without an Object is malformed, as S3 answers it.
    with pytest.raises(ClientError) as caught:
        s3.delete_objects(Bucket=bucket, Delete={"Objects": []})
    assert caught.value.response["Error"]["Code"] == "MalformedXML"


def test_copy_object_directives_and_storage_class(s3: Any, bucket: str) -> None:
    other = f"cp-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=other)
    s3.put_object(Bucket=bucket, Key="src", Body=b"payload", Metadata={"a": "1"},
                  Tagging="t=1", ContentType="text/plain")
    s3.copy_object(Bucket=other, Key="dst", CopySource={"Bucket": bucket, "Key": "src"})
    got = s3.get_object(Bucket=other, Key="dst")
    assert got["Body"].read() == b"payload" and got["Metadata"] == {"a": "1"}
    assert got["ContentType"] == "text/plain" and got["TagCount"] == 1
    s3.copy_object(Bucket=other, Key="dst2", CopySource=f"{bucket}/src",
                   MetadataDirective="REPLACE", Metadata={"b": "2"}, TaggingDirective="REPLACE",
                   StorageClass="STANDARD_IA")
    head = s3.head_object(Bucket=other, Key="dst2")
    assert head["Metadata"] == {"b": "2"} and head["StorageClass"] == "STANDARD_IA"
    assert "TagCount" not in head
    with pytest.raises(ClientError) as err:
        s3.copy_object(Bucket=bucket, Key="src", CopySource=f"{bucket}/src")
    assert code(err) == "InvalidRequest"
    # Copying to itself with a new storage class is allowed.
    s3.copy_object(Bucket=bucket, Key="src", CopySource=f"{bucket}/src", StorageClass="GLACIER")
    with pytest.raises(ClientError) as err:
        s3.get_object(Bucket=bucket, Key="src")
    assert code(err) == "InvalidObjectState" and status(err) == 403
    assert s3.head_object(Bucket=bucket, Key="src")["StorageClass"] == "GLACIER"
    # Deleting the source keeps the copy's bytes (the blob is shared by reference).
    s3.delete_object(Bucket=bucket, Key="src")
    assert s3.get_object(Bucket=other, Key="dst")["Body"].read() == b"payload"


def test_unknown_storage_class(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as err:
        s3.put_object(Bucket=bucket, Key="k", Body=b"x", StorageClass="COLD")
    assert code(err) == "InvalidStorageClass"


def test_awkward_keys_round_trip(s3: Any, bucket: str) -> None:
    keys = ["../../etc/passwd", "a//b", "/leading", "ünïcödé ☃", "x" * 1024, "sp ace+plus%"]
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    for key in keys:
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == key.encode()
    listed = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert sorted(listed, key=lambda k: k.encode()) == listed
    assert set(listed) == set(keys)
    with pytest.raises(ClientError) as err:
        s3.put_object(Bucket=bucket, Key="y" * 1025, Body=b"")
    assert code(err) == "KeyTooLongError"


# -- listings ------------------------------------------------------------------------------


def test_list_v2_prefix_delimiter_paging(s3: Any, bucket: str) -> None:
    keys = ["a/1", "a/2", "b/1", "c", "d/x/1", "d/y/2", "e"]
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=b"")
    page = s3.list_objects_v2(Bucket=bucket, Delimiter="/")
    assert [p["Prefix"] for p in page["CommonPrefixes"]] == ["a/", "b/", "d/"]
    assert [o["Key"] for o in page["Contents"]] == ["c", "e"]
    assert page["KeyCount"] == 5
    page = s3.list_objects_v2(Bucket=bucket, Prefix="d/", Delimiter="/")
    assert [p["Prefix"] for p in page["CommonPrefixes"]] == ["d/x/", "d/y/"]
    seen: list[str] = []
    kwargs: dict[str, Any] = {"Bucket": bucket, "MaxKeys": 2, "Delimiter": "/"}
    while True:
        page = s3.list_objects_v2(**kwargs)
        seen += [o["Key"] for o in page.get("Contents", [])]
        seen += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
        if not page["IsTruncated"]:
            break
        kwargs["ContinuationToken"] = page["NextContinuationToken"]
    assert sorted(seen) == ["a/", "b/", "c", "d/", "e"]
    after = s3.list_objects_v2(Bucket=bucket, StartAfter="b/1")
    assert [o["Key"] for o in after["Contents"]] == ["c", "d/x/1", "d/y/2", "e"]
    owned = s3.list_objects_v2(Bucket=bucket, FetchOwner=True, MaxKeys=1)
    assert owned["Contents"][0]["Owner"]["ID"]
    # A folder marker ("f/", as consoles create) under its own prefix is an entry; paging
    # past it one key at a time still reaches the keys under it.
    for key in ("f/", "f/1", "f/g/2"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"")
    pages = s3.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, Prefix="f/", Delimiter="/", PaginationConfig={"PageSize": 1})
    listed = [item for page in pages for item in
              [o["Key"] for o in page.get("Contents", [])]
              + [c["Prefix"] for c in page.get("CommonPrefixes", [])]]
    assert listed == ["f/", "f/1", "f/g/"]


def test_list_v1_markers(s3: Any, bucket: str) -> None:
    for key in ["k1", "k2", "k3", "p/1", "p/2"]:
        s3.put_object(Bucket=bucket, Key=key, Body=b"")
    page = s3.list_objects(Bucket=bucket, MaxKeys=2)
    assert [o["Key"] for o in page["Contents"]] == ["k1", "k2"] and page["IsTruncated"]
    page = s3.list_objects(Bucket=bucket, Marker="k2", Delimiter="/", MaxKeys=1)
    assert [o["Key"] for o in page["Contents"]] == ["k3"] and page["NextMarker"] == "k3"
    page = s3.list_objects(Bucket=bucket, Marker="k3", Delimiter="/")
    assert [p["Prefix"] for p in page["CommonPrefixes"]] == ["p/"]
    paginator = s3.get_paginator("list_objects")
    keys = [o["Key"] for p in paginator.paginate(Bucket=bucket, PaginationConfig={"PageSize": 2})
            for o in p.get("Contents", [])]
    assert keys == ["k1", "k2", "k3", "p/1", "p/2"]


def test_list_url_encoding(s3: Any, bucket: str) -> None:
    key = "weird key/ü?&=+"
    s3.put_object(Bucket=bucket, Key=key, Body=b"")
    # botocore asks for encoding-type=url and decodes the keys again.
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == [key]
    raw = s3.list_objects_v2(Bucket=bucket, EncodingType="url")  # asked for: not decoded
    assert raw["Contents"][0]["Key"] == "weird%20key/%C3%BC%3F%26%3D%2B"


# -- versioning ----------------------------------------------------------------------------


def test_versioning_delete_markers_and_null_version(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="v", Body=b"null-version")
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    v2 = s3.put_object(Bucket=bucket, Key="v", Body=b"two")["VersionId"]
    assert v2 != "null"
    marker = s3.delete_object(Bucket=bucket, Key="v")
    assert marker["DeleteMarker"] is True
    with pytest.raises(ClientError) as err:
        s3.get_object(Bucket=bucket, Key="v")
    assert code(err) == "NoSuchKey"
    assert err.value.response["ResponseMetadata"]["HTTPHeaders"]["x-amz-delete-marker"] == "true"
    assert s3.get_object(Bucket=bucket, Key="v", VersionId=v2)["Body"].read() == b"two"
    assert s3.get_object(Bucket=bucket, Key="v", VersionId="null")["Body"].read() == b"null-version"
    listed = s3.list_object_versions(Bucket=bucket)
    assert [v["VersionId"] for v in listed["Versions"]] == [v2, "null"]
    assert listed["DeleteMarkers"][0]["IsLatest"] is True
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)
    # Removing the marker brings the object back.
    s3.delete_object(Bucket=bucket, Key="v", VersionId=marker["VersionId"])
    assert s3.get_object(Bucket=bucket, Key="v")["Body"].read() == b"two"
    s3.delete_object(Bucket=bucket, Key="v", VersionId=v2)
    assert s3.get_object(Bucket=bucket, Key="v")["Body"].read() == b"null-version"
    with pytest.raises(ClientError) as err:
        s3.get_object(Bucket=bucket, Key="v", VersionId="0" * 32)
    assert code(err) == "NoSuchVersion"


def test_suspended_versioning_replaces_null(s3: Any, bucket: str) -> None:
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    kept = s3.put_object(Bucket=bucket, Key="s", Body=b"kept")["VersionId"]
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    # The null version is written, but a write to a Suspended bucket names no version.
    assert "VersionId" not in s3.put_object(Bucket=bucket, Key="s", Body=b"n1")
    assert s3.head_object(Bucket=bucket, Key="s")["VersionId"] == "null"
    s3.put_object(Bucket=bucket, Key="s", Body=b"n2")
    versions = s3.list_object_versions(Bucket=bucket, Prefix="s")["Versions"]
    assert [v["VersionId"] for v in versions] == ["null", kept]


# -- tagging and attributes ----------------------------------------------------------------


def test_object_tagging(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="t", Body=b"x", Tagging="a=1&b=2")
    tags = s3.get_object_tagging(Bucket=bucket, Key="t")["TagSet"]
    assert {t["Key"]: t["Value"] for t in tags} == {"a": "1", "b": "2"}
    s3.put_object_tagging(Bucket=bucket, Key="t", Tagging={"TagSet": [{"Key": "c", "Value": "3"}]})
    assert s3.get_object_tagging(Bucket=bucket, Key="t")["TagSet"] == [{"Key": "c", "Value": "3"}]
    s3.delete_object_tagging(Bucket=bucket, Key="t")
    assert s3.get_object_tagging(Bucket=bucket, Key="t")["TagSet"] == []


def test_bucket_tagging_and_stored_configs(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as err:
        s3.get_bucket_tagging(Bucket=bucket)
    assert code(err) == "NoSuchTagSet"
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "env", "Value": "dev"}]})
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == [{"Key": "env", "Value": "dev"}]
    rules = [{"AllowedMethods": ["GET"], "AllowedOrigins": ["*"]}]
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": rules})
    assert s3.get_bucket_cors(Bucket=bucket)["CORSRules"][0]["AllowedMethods"] == ["GET"]
    with pytest.raises(ClientError) as err:
        s3.get_bucket_policy(Bucket=bucket)
    assert code(err) == "NoSuchBucketPolicy"
    enc = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]
    assert enc["Rules"][0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"


def test_get_object_attributes(s3: Any, bucket: str) -> None:
    put = s3.put_object(Bucket=bucket, Key="attr", Body=b"12345", ChecksumAlgorithm="SHA256")
    out = s3.get_object_attributes(Bucket=bucket, Key="attr",
                                   ObjectAttributes=["ETag", "Checksum", "ObjectSize",
                                                     "StorageClass"])
    assert out["ObjectSize"] == 5 and out["StorageClass"] == "STANDARD"
    assert out["ETag"] == put["ETag"].strip('"')
    assert out["Checksum"]["ChecksumSHA256"] == put["ChecksumSHA256"]


def test_presigned_get_and_put(hw: RunningHeadwater, bucket: str) -> None:
    import urllib.request

    from botocore.config import Config

    # boto3 presigns with SigV2 unless told otherwise; headwater verifies SigV4 only.
    s3 = hw.client("s3", config=Config(signature_version="s3v4"))
    url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "pre"})
    request = urllib.request.Request(url, data=b"presigned body", method="PUT")
    with urllib.request.urlopen(request) as response:
        assert response.status == 200
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "pre"})
    with urllib.request.urlopen(url) as response:
        assert response.read() == b"presigned body"


def test_cors_preflight_and_actual_request(hw: RunningHeadwater, s3: Any, bucket: str) -> None:
    import urllib.error
    import urllib.request

    def options(origin: str, method: str, headers: str = "") -> tuple[int, dict[str, str]]:
        request = urllib.request.Request(f"{hw.endpoint}/{bucket}/file", method="OPTIONS",
                                         headers={"Origin": origin,
                                                  "Access-Control-Request-Method": method,
                                                  **({"Access-Control-Request-Headers": headers}
                                                     if headers else {})})
        try:
            with urllib.request.urlopen(request) as response:
                return response.status, {k.lower(): v for k, v in response.headers.items()}
        except urllib.error.HTTPError as error:
            return error.code, {k.lower(): v for k, v in error.headers.items()}

    assert options("https://app.example", "GET")[0] == 403  # CORS not enabled
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [{
        "AllowedOrigins": ["https://*.example"], "AllowedMethods": ["GET", "PUT"],
        "AllowedHeaders": ["content-*"], "MaxAgeSeconds": 600, "ExposeHeaders": ["ETag"]}]})
    status, headers = options("https://app.example", "PUT", "content-type")
    assert status == 200 and headers["server"] == "AmazonS3"
    assert headers["access-control-allow-origin"] == "https://app.example"
    assert headers["access-control-max-age"] == "600"
    assert options("https://evil.test", "GET")[0] == 403
    assert options("https://app.example", "DELETE")[0] == 403
    assert options("https://app.example", "GET", "x-custom")[0] == 403
    s3.put_object(Bucket=bucket, Key="file", Body=b"x")
    got = s3.get_object(Bucket=bucket, Key="file")  # boto3 sends no Origin: no CORS headers
    assert "access-control-allow-origin" not in got["ResponseMetadata"]["HTTPHeaders"]


def test_s3_names_itself_and_no_service_names_uvicorn(hw: RunningHeadwater, s3: Any,
                                                     bucket: str) -> None:
    put = s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert put["ResponseMetadata"]["HTTPHeaders"]["server"] == "AmazonS3"
    with pytest.raises(ClientError) as err:
        s3.get_object(Bucket=bucket, Key="missing")
    assert err.value.response["ResponseMetadata"]["HTTPHeaders"]["server"] == "AmazonS3"
    listed = hw.client("sqs").list_queues()
    assert "uvicorn" not in listed["ResponseMetadata"]["HTTPHeaders"].get("server", "")


def test_objects_survive_a_restart(tmp_path: Any) -> None:
    body = bytes(range(256)) * 8192  # 2 MiB: streamed both ways
    with running_headwater(data_dir=tmp_path) as first:
        s3 = first.client("s3")
        s3.create_bucket(Bucket="durable")
        s3.put_bucket_versioning(Bucket="durable", VersioningConfiguration={"Status": "Enabled"})
        version = s3.put_object(Bucket="durable", Key="k", Body=body)["VersionId"]
        s3.put_object(Bucket="durable", Key="k", Body=b"newer")
    with running_headwater(data_dir=tmp_path) as second:
        s3 = second.client("s3")
        assert s3.get_object(Bucket="durable", Key="k")["Body"].read() == b"newer"
        assert s3.get_object(Bucket="durable", Key="k", VersionId=version)["Body"].read() == body


def _post_photo(url: str, fields: dict[str, str], content: bytes) -> s3_forms.Answer:
    return s3_forms.post(url, fields, content, filename="photo.jpg", content_type="image/jpeg")


def test_browser_post_upload(hw: RunningHeadwater, s3: Any, bucket: str) -> None:
    from botocore.config import Config

    signer = hw.client("s3", config=Config(signature_version="s3v4"))  # SigV4 form fields
    post = signer.generate_presigned_post(
        bucket, "uploads/${filename}",
        Fields={"success_action_status": "201"},
        Conditions=[["starts-with", "$key", "uploads/"], {"success_action_status": "201"},
                    ["content-length-range", 1, 1000]],
    )
    answer = _post_photo(post["url"], post["fields"], b"\xff\xd8 jpeg bytes")
    status, body = answer.status, answer.body
    assert status == 201, body
    assert b"<Key>uploads/photo.jpg</Key>" in body
    assert s3.get_object(Bucket=bucket, Key="uploads/photo.jpg")["Body"].read() == b"\xff\xd8 jpeg bytes"
    # Too large for the policy, then a tampered policy.
    answer = _post_photo(post["url"], post["fields"], b"x" * 2000)
    status, body = answer.status, answer.body
    assert status == 400 and b"EntityTooLarge" in body
    fields = dict(post["fields"], key="elsewhere/x")
    answer = _post_photo(post["url"], fields, b"x")
    status, body = answer.status, answer.body
    assert status == 403 and b"AccessDenied" in body
    fields = dict(post["fields"], **{"x-amz-signature": "0" * 64})
    answer = _post_photo(post["url"], fields, b"x")
    status, body = answer.status, answer.body
    assert status == 403 and b"SignatureDoesNotMatch" in body


def test_configs_infrastructure_tools_read(s3: Any, bucket: str) -> None:
    # What Terraform-style tools read on every refresh.
    assert s3.get_bucket_request_payment(Bucket=bucket)["Payer"] == "BucketOwner"
    assert "Status" not in s3.get_bucket_accelerate_configuration(Bucket=bucket)
    assert "LoggingEnabled" not in s3.get_bucket_logging(Bucket=bucket)
    with pytest.raises(ClientError) as err:
        s3.get_bucket_website(Bucket=bucket)
    assert code(err) == "NoSuchWebsiteConfiguration"
    s3.put_bucket_website(Bucket=bucket, WebsiteConfiguration={"IndexDocument": {"Suffix": "index.html"}})
    assert s3.get_bucket_website(Bucket=bucket)["IndexDocument"]["Suffix"] == "index.html"
    # A new bucket blocks all public access, as on AWS since April 2023, until the block is
    # deleted or replaced.
    block = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
             "RestrictPublicBuckets": True}
    assert s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"] == block
    s3.delete_public_access_block(Bucket=bucket)
    with pytest.raises(ClientError) as err:
        s3.get_public_access_block(Bucket=bucket)
    assert code(err) == "NoSuchPublicAccessBlockConfiguration"
    block = dict(block, BlockPublicPolicy=False, RestrictPublicBuckets=False)
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=block)
    assert s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"] == block
    # New buckets have ACLs disabled, as on AWS: a write may name the owner's full control only.
    s3.put_object(Bucket=bucket, Key="acl", Body=b"x", ACL="bucket-owner-full-control")
    grants = s3.get_object_acl(Bucket=bucket, Key="acl")["Grants"]
    assert grants[0]["Permission"] == "FULL_CONTROL"
    with pytest.raises(ClientError) as err:
        s3.put_object_acl(Bucket=bucket, Key="acl", ACL="public-read")
    assert code(err) == "AccessControlListNotSupported"
