"""boto3 against headwater's S3 multipart uploads, the transfer manager included."""

from __future__ import annotations

import base64
import hashlib
import os
import zlib
from pathlib import Path
from typing import Any

import pytest
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

pytestmark = pytest.mark.e2e
MiB = 1024 * 1024


def code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


def test_transfer_manager_upload_and_download_file(s3: Any, bucket: str, tmp_path: Path) -> None:
    source = tmp_path / "big.bin"
    data = os.urandom(21 * MiB)
    source.write_bytes(data)
    config = TransferConfig(multipart_threshold=8 * MiB, multipart_chunksize=8 * MiB)
    s3.upload_file(str(source), bucket, "big.bin", Config=config)
    head = s3.head_object(Bucket=bucket, Key="big.bin")
    assert head["ContentLength"] == len(data)
    digests = b"".join(hashlib.md5(data[i : i + 8 * MiB]).digest() for i in range(0, len(data), 8 * MiB))
    assert head["ETag"] == f'"{hashlib.md5(digests).hexdigest()}-3"'
    target = tmp_path / "back.bin"
    s3.download_file(bucket, "big.bin", str(target), Config=config)  # ranged, in parallel
    assert target.read_bytes() == data
    part = s3.get_object(Bucket=bucket, Key="big.bin", PartNumber=2)
    assert part["ContentLength"] == 8 * MiB and part["PartsCount"] == 3
    assert part["Body"].read() == data[8 * MiB : 16 * MiB]


def _upload(s3: Any, bucket: str, key: str, parts: list[bytes], **create: Any) -> tuple[str, list[dict[str, Any]]]:
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key=key, **create)["UploadId"]
    done = []
    for number, body in enumerate(parts, start=1):
        extra = {"ChecksumAlgorithm": create["ChecksumAlgorithm"]} if "ChecksumAlgorithm" in create else {}
        out = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number,
                             Body=body, **extra)
        entry = {"PartNumber": number, "ETag": out["ETag"]}
        for name, value in out.items():
            if name.startswith("Checksum") and name != "ChecksumType":
                entry[name] = value
        done.append(entry)
    return upload_id, done


def test_part_rules(s3: Any, bucket: str) -> None:
    upload_id, parts = _upload(s3, bucket, "small", [b"a" * 100, b"b" * 100])
    with pytest.raises(ClientError) as err:
        s3.complete_multipart_upload(Bucket=bucket, Key="small", UploadId=upload_id,
                                     MultipartUpload={"Parts": parts})
    assert code(err) == "EntityTooSmall"
    with pytest.raises(ClientError) as err:
        s3.complete_multipart_upload(Bucket=bucket, Key="small", UploadId=upload_id,
                                     MultipartUpload={"Parts": parts[::-1]})
    assert code(err) == "InvalidPartOrder"
    bad = [{"PartNumber": 1, "ETag": '"0000"'}]
    with pytest.raises(ClientError) as err:
        s3.complete_multipart_upload(Bucket=bucket, Key="small", UploadId=upload_id,
                                     MultipartUpload={"Parts": bad})
    assert code(err) == "InvalidPart"
    # A single small part is a valid (last) part.
    s3.complete_multipart_upload(Bucket=bucket, Key="small", UploadId=upload_id,
                                 MultipartUpload={"Parts": parts[:1]})
    assert s3.get_object(Bucket=bucket, Key="small")["Body"].read() == b"a" * 100
    with pytest.raises(ClientError) as err:
        s3.list_parts(Bucket=bucket, Key="small", UploadId=upload_id)
    assert code(err) == "NoSuchUpload"


def test_list_and_abort(s3: Any, bucket: str) -> None:
    upload_id, _ = _upload(s3, bucket, "dir/a", [b"x" * 10, b"y" * 20])
    other = s3.create_multipart_upload(Bucket=bucket, Key="dir/b")["UploadId"]
    parts = s3.list_parts(Bucket=bucket, Key="dir/a", UploadId=upload_id)["Parts"]
    assert [(p["PartNumber"], p["Size"]) for p in parts] == [(1, 10), (2, 20)]
    uploads = s3.list_multipart_uploads(Bucket=bucket)["Uploads"]
    assert {u["UploadId"] for u in uploads} == {upload_id, other}
    one = s3.list_parts(Bucket=bucket, Key="dir/a", UploadId=upload_id, MaxParts=1)
    assert [p["PartNumber"] for p in one["Parts"]] == [1] and one["IsTruncated"]
    for call, extra in ((s3.list_parts, {"Key": "dir/a", "UploadId": upload_id, "MaxParts": -1}),
                        (s3.list_multipart_uploads, {"MaxUploads": -1})):
        with pytest.raises(ClientError) as err:
            call(Bucket=bucket, **extra)
        assert err.value.response["Error"]["Code"] == "InvalidArgument"
    s3.abort_multipart_upload(Bucket=bucket, Key="dir/a", UploadId=upload_id)
    s3.abort_multipart_upload(Bucket=bucket, Key="dir/b", UploadId=other)
    assert "Uploads" not in s3.list_multipart_uploads(Bucket=bucket)
    s3.delete_bucket(Bucket=bucket)  # nothing left behind


def test_composite_and_full_object_checksums(s3: Any, bucket: str) -> None:
    one, two = os.urandom(5 * MiB), os.urandom(MiB)
    upload_id, parts = _upload(s3, bucket, "comp", [one, two], ChecksumAlgorithm="SHA256")
    out = s3.complete_multipart_upload(Bucket=bucket, Key="comp", UploadId=upload_id,
                                       MultipartUpload={"Parts": parts})
    inner = hashlib.sha256(hashlib.sha256(one).digest() + hashlib.sha256(two).digest()).digest()
    expected = base64.b64encode(inner).decode() + "-2"
    assert out["ChecksumSHA256"] == expected and out["ChecksumType"] == "COMPOSITE"
    head = s3.head_object(Bucket=bucket, Key="comp", ChecksumMode="ENABLED")
    assert head["ChecksumSHA256"] == expected

    upload_id, parts = _upload(s3, bucket, "full", [one, two], ChecksumAlgorithm="CRC32",
                               ChecksumType="FULL_OBJECT")
    out = s3.complete_multipart_upload(Bucket=bucket, Key="full", UploadId=upload_id,
                                       MultipartUpload={"Parts": parts})
    whole = base64.b64encode(zlib.crc32(one + two).to_bytes(4, "big")).decode()
    assert out["ChecksumCRC32"] == whole and out["ChecksumType"] == "FULL_OBJECT"
    got = s3.get_object(Bucket=bucket, Key="full", ChecksumMode="ENABLED")
    assert got["ChecksumCRC32"] == whole and got["Body"].read() == one + two
    # Listings show each object's algorithm and type.
    shown = {(c["Key"], c["ChecksumAlgorithm"][0], c["ChecksumType"])
             for c in s3.list_objects_v2(Bucket=bucket)["Contents"]}
    assert shown == {("comp", "SHA256", "COMPOSITE"), ("full", "CRC32", "FULL_OBJECT")}
    versions = s3.list_object_versions(Bucket=bucket)["Versions"]
    assert {(v["Key"], v["ChecksumAlgorithm"][0], v["ChecksumType"]) for v in versions} == shown


def test_upload_part_copy(s3: Any, bucket: str) -> None:
    source = os.urandom(6 * MiB)
    s3.put_object(Bucket=bucket, Key="src", Body=source)
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="dst")["UploadId"]
    first = s3.upload_part_copy(Bucket=bucket, Key="dst", UploadId=upload_id, PartNumber=1,
                                CopySource={"Bucket": bucket, "Key": "src"},
                                CopySourceRange=f"bytes=0-{5 * MiB - 1}")
    second = s3.upload_part_copy(Bucket=bucket, Key="dst", UploadId=upload_id, PartNumber=2,
                                 CopySource=f"{bucket}/src",
                                 CopySourceRange=f"bytes={5 * MiB}-{6 * MiB - 1}")
    parts = [{"PartNumber": 1, "ETag": first["CopyPartResult"]["ETag"]},
             {"PartNumber": 2, "ETag": second["CopyPartResult"]["ETag"]}]
    s3.complete_multipart_upload(Bucket=bucket, Key="dst", UploadId=upload_id,
                                 MultipartUpload={"Parts": parts})
    assert s3.get_object(Bucket=bucket, Key="dst")["Body"].read() == source


def test_conditional_complete(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="exists", Body=b"x")
    upload_id, parts = _upload(s3, bucket, "exists", [b"y"])
    with pytest.raises(ClientError) as err:
        s3.complete_multipart_upload(Bucket=bucket, Key="exists", UploadId=upload_id,
                                     MultipartUpload={"Parts": parts}, IfNoneMatch="*")
    assert code(err) == "PreconditionFailed"
    assert s3.get_object(Bucket=bucket, Key="exists")["Body"].read() == b"x"


@pytest.mark.parametrize("algorithm", ["SHA512", "XXHASH64", "XXHASH3", "XXHASH128"])
def test_newer_algorithms_computed_by_boto3(s3: Any, bucket: str, algorithm: str) -> None:
    # boto3 computes these itself (SHA512 with hashlib, the XXHASHes with awscrt) and checks
    # the value a GET returns; a composite multipart value is the hash of the part hashes.
    data = os.urandom(100_000)
    put = s3.put_object(Bucket=bucket, Key="new", Body=data, ChecksumAlgorithm=algorithm)
    member = f"Checksum{algorithm}"
    got = s3.get_object(Bucket=bucket, Key="new", ChecksumMode="ENABLED")
    assert got[member] == put[member] and got["Body"].read() == data
    one, two = os.urandom(5 * MiB), os.urandom(MiB)
    upload_id, parts = _upload(s3, bucket, "newmp", [one, two], ChecksumAlgorithm=algorithm)
    out = s3.complete_multipart_upload(Bucket=bucket, Key="newmp", UploadId=upload_id,
                                       MultipartUpload={"Parts": parts})
    assert out["ChecksumType"] == "COMPOSITE" and out[member].endswith("-2")
    attributes = s3.get_object_attributes(Bucket=bucket, Key="newmp",
                                          ObjectAttributes=["Checksum", "ObjectParts"])
    # GetObjectAttributes shows the checksum of checksums without its "-N".
    assert attributes["Checksum"][member] == out[member].removesuffix("-2")
    with pytest.raises(ClientError) as refused:
        s3.create_multipart_upload(Bucket=bucket, Key="full", ChecksumAlgorithm=algorithm,
                                   ChecksumType="FULL_OBJECT")
    assert code(refused) == "InvalidRequest"


def test_md5_checksum_header_is_checked(s3: Any, bucket: str) -> None:
    data = b"md5 as an additional checksum"
    good = base64.b64encode(hashlib.md5(data).digest()).decode()
    s3.put_object(Bucket=bucket, Key="md5", Body=data, ChecksumMD5=good)
    head = s3.head_object(Bucket=bucket, Key="md5", ChecksumMode="ENABLED")
    assert head["ChecksumMD5"] == good
    with pytest.raises(ClientError) as bad:
        s3.put_object(Bucket=bucket, Key="md5", Body=data + b"!", ChecksumMD5=good)
    assert code(bad) == "BadDigest"


def test_a_copy_of_a_multipart_object_is_a_single_part_object(s3: Any, bucket: str) -> None:
    parts = [os.urandom(5 * MiB), b"tail"]
    upload_id, done = _upload(s3, bucket, "multi", parts)
    s3.complete_multipart_upload(Bucket=bucket, Key="multi", UploadId=upload_id,
                                 MultipartUpload={"Parts": done})
    source = s3.head_object(Bucket=bucket, Key="multi", ChecksumMode="ENABLED")
    assert source["ETag"].endswith('-2"')
    copied = s3.copy_object(Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": "multi"})
    # S3 gives a copy the MD5 of its bytes as its ETag, whatever the source was made of.
    md5 = f'"{hashlib.md5(b"".join(parts)).hexdigest()}"'
    assert copied["CopyObjectResult"]["ETag"] == md5
    head = s3.head_object(Bucket=bucket, Key="copy", PartNumber=1, ChecksumMode="ENABLED")
    assert head["ETag"] == md5 and "PartsCount" not in head
    assert head["ChecksumCRC64NVME"] == source["ChecksumCRC64NVME"]
    attributes = s3.get_object_attributes(Bucket=bucket, Key="copy",
                                          ObjectAttributes=["ETag", "ObjectParts"])
    assert "ObjectParts" not in attributes
    assert s3.get_object(Bucket=bucket, Key="copy")["Body"].read() == b"".join(parts)


@pytest.mark.parametrize("then", ["delete", "overwrite"])
def test_a_get_under_way_sends_the_version_it_began_with(s3: Any, bucket: str, then: str) -> None:
    # Reported by ceph/s3-tests' multipart copy tests: the files of the parts a GET had not
    # reached yet were removed with the object, and the GET broke off half way.
    parts_data = [os.urandom(5 * MiB) for _ in range(4)]
    upload = s3.create_multipart_upload(Bucket=bucket, Key="o")["UploadId"]
    parts = [{"PartNumber": n, "ETag": s3.upload_part(Bucket=bucket, Key="o", UploadId=upload,
                                                       PartNumber=n, Body=body)["ETag"]}
             for n, body in enumerate(parts_data, start=1)]
    s3.complete_multipart_upload(Bucket=bucket, Key="o", UploadId=upload,
                                 MultipartUpload={"Parts": parts})
    body = s3.get_object(Bucket=bucket, Key="o")["Body"]
    first = body.read(1024)
    if then == "delete":
        s3.delete_object(Bucket=bucket, Key="o")
    else:
        s3.put_object(Bucket=bucket, Key="o", Body=b"new")
    assert first + body.read() == b"".join(parts_data)
