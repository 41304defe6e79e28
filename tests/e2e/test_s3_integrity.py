"""S3 integrity checks at the edges of multipart uploads and streamed bodies: part checksums
(UploadPart, and the part list of CompleteMultipartUpload), the whole-object checksum a
CompleteMultipartUpload may carry, part numbers and the 5 GiB part size, and signed
aws-chunked bodies with a trailing checksum (STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import io
import os
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest
from boto3.s3.transfer import TransferConfig
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError
from test_s3_multipart import _upload
from test_s3_streaming import _Signer, crc32

from headwater.testing import RunningHeadwater

pytestmark = pytest.mark.e2e
MiB = 1024 * 1024
GiB = 1024 * MiB
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def error(err: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    response = err.value.response
    return (response["Error"]["Code"], response["Error"]["Message"],
            response["ResponseMetadata"]["HTTPStatusCode"])


def b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode()


def sha256(data: bytes) -> str:
    return b64(hashlib.sha256(data).digest())


# -- UploadPart and the part list of CompleteMultipartUpload ------------------------------


@pytest.mark.parametrize("algorithm", ["CRC32", "SHA256"])
def test_upload_part_with_a_wrong_checksum_is_bad_digest(s3: Any, bucket: str,
                                                         algorithm: str) -> None:
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="k",
                                           ChecksumAlgorithm=algorithm)["UploadId"]
    wrong = crc32(b"other data") if algorithm == "CRC32" else sha256(b"other data")
    with pytest.raises(ClientError) as err:
        s3.upload_part(Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=1,
                       Body=b"part data", **{f"Checksum{algorithm}": wrong})
    assert error(err) == (
        "BadDigest", f"The {algorithm} you specified did not match the calculated checksum.", 400)
    assert "Parts" not in s3.list_parts(Bucket=bucket, Key="k", UploadId=upload_id)
    # The same part with its own checksum is taken.
    right = crc32(b"part data") if algorithm == "CRC32" else sha256(b"part data")
    out = s3.upload_part(Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=1,
                         Body=b"part data", **{f"Checksum{algorithm}": right})
    assert out[f"Checksum{algorithm}"] == right


def test_complete_with_a_part_checksum_not_the_parts_is_invalid_part(s3: Any,
                                                                     bucket: str) -> None:
    upload_id, parts = _upload(s3, bucket, "k", [b"one" * 10, b"two" * 10],
                               ChecksumAlgorithm="CRC32")
    # Each part listed with the other one's checksum (the ETags are right).
    swapped = [{**parts[0], "ChecksumCRC32": parts[1]["ChecksumCRC32"]},
               {**parts[1], "ChecksumCRC32": parts[0]["ChecksumCRC32"]}]
    with pytest.raises(ClientError) as err:
        s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=upload_id,
                                     MultipartUpload={"Parts": swapped})
    assert error(err)[0::2] == ("InvalidPart", 400)
    assert err.value.response["Error"]["PartNumber"] == "1"
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="k")
    # Nothing was spent: the upload completes with its parts' own checksums.
    s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=upload_id,
                                 MultipartUpload={"Parts": parts[1:]})
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"two" * 10


def test_complete_of_a_composite_upload_needs_every_part_checksum(s3: Any,
                                                                  bucket: str) -> None:
    upload_id, parts = _upload(s3, bucket, "k", [b"data"], ChecksumAlgorithm="CRC32C")
    bare = [{"PartNumber": 1, "ETag": parts[0]["ETag"]}]
    with pytest.raises(ClientError) as err:
        s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=upload_id,
                                     MultipartUpload={"Parts": bare})
    assert error(err) == (
        "InvalidRequest",
        ("The upload was created using a crc32c checksum. The complete request must include the "
         "checksum for each part. It was missing for part 1 in the request."), 400)
    # A FULL_OBJECT upload's value is the whole object's: the part list may leave them out.
    full_id, full = _upload(s3, bucket, "full", [b"data"], ChecksumAlgorithm="CRC32C",
                            ChecksumType="FULL_OBJECT")
    out = s3.complete_multipart_upload(
        Bucket=bucket, Key="full", UploadId=full_id,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": full[0]["ETag"]}]})
    assert out["ChecksumCRC32C"] == full[0]["ChecksumCRC32C"]


# -- the whole-object checksum of CompleteMultipartUpload ---------------------------------


def test_complete_checks_a_full_object_checksum(s3: Any, bucket: str) -> None:
    one, two = os.urandom(5 * MiB), os.urandom(1000)
    upload_id, parts = _upload(s3, bucket, "full", [one, two], ChecksumAlgorithm="CRC32",
                               ChecksumType="FULL_OBJECT")
    for wrong in (crc32(one), crc32(one + two) + "-2"):
        with pytest.raises(ClientError) as err:
            s3.complete_multipart_upload(Bucket=bucket, Key="full", UploadId=upload_id,
                                         ChecksumCRC32=wrong, ChecksumType="FULL_OBJECT",
                                         MultipartUpload={"Parts": parts})
        assert error(err) == (
            "BadDigest", "The CRC32 you specified did not match the calculated checksum.", 400)
        with pytest.raises(ClientError):
            s3.head_object(Bucket=bucket, Key="full")
    out = s3.complete_multipart_upload(Bucket=bucket, Key="full", UploadId=upload_id,
                                       ChecksumCRC32=crc32(one + two), ChecksumType="FULL_OBJECT",
                                       MultipartUpload={"Parts": parts})
    assert out["ChecksumCRC32"] == crc32(one + two) and out["ChecksumType"] == "FULL_OBJECT"


def test_complete_checks_a_composite_checksum(s3: Any, bucket: str) -> None:
    one, two = os.urandom(5 * MiB), os.urandom(1000)
    upload_id, parts = _upload(s3, bucket, "comp", [one, two], ChecksumAlgorithm="SHA256")
    inner = b64(hashlib.sha256(hashlib.sha256(one).digest() + hashlib.sha256(two).digest())
                .digest())
    for wrong in (f"{inner}-3", inner, f"{sha256(one + two)}-2"):
        with pytest.raises(ClientError) as err:
            s3.complete_multipart_upload(Bucket=bucket, Key="comp", UploadId=upload_id,
                                         ChecksumSHA256=wrong, MultipartUpload={"Parts": parts})
        assert error(err) == (
            "BadDigest", "The SHA256 you specified did not match the calculated checksum.", 400)
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="comp")
    # A checksum of another algorithm than the upload's cannot match it either.
    with pytest.raises(ClientError) as err:
        s3.complete_multipart_upload(Bucket=bucket, Key="comp", UploadId=upload_id,
                                     ChecksumCRC32=crc32(one + two),
                                     MultipartUpload={"Parts": parts})
    assert error(err)[0] == "BadDigest"
    out = s3.complete_multipart_upload(Bucket=bucket, Key="comp", UploadId=upload_id,
                                       ChecksumSHA256=f"{inner}-2", ChecksumType="COMPOSITE",
                                       MultipartUpload={"Parts": parts})
    assert out["ChecksumSHA256"] == f"{inner}-2"


def test_complete_with_another_checksum_type_is_refused(s3: Any, bucket: str) -> None:
    upload_id, parts = _upload(s3, bucket, "k", [b"data"], ChecksumAlgorithm="CRC32")
    with pytest.raises(ClientError) as err:
        s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=upload_id,
                                     ChecksumType="FULL_OBJECT", MultipartUpload={"Parts": parts})
    assert error(err) == (
        "InvalidRequest", ("The upload was created using the COMPOSITE checksum mode. The "
                           "complete request must use the same checksum mode."), 400)
    s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=upload_id,
                                 ChecksumType="COMPOSITE", MultipartUpload={"Parts": parts})


def test_transfer_manager_full_object_checksum_is_verified(s3: Any, bucket: str) -> None:
    # upload_fileobj with a ChecksumCRC32 of the whole file: s3transfer creates a FULL_OBJECT
    # upload and hands the value to CompleteMultipartUpload, which is where it is checked.
    data = os.urandom(11 * MiB)
    config = TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB)
    s3.upload_fileobj(io.BytesIO(data), bucket, "good", Config=config,
                      ExtraArgs={"ChecksumCRC32": crc32(data)})
    head = s3.head_object(Bucket=bucket, Key="good", ChecksumMode="ENABLED")
    assert head["ChecksumCRC32"] == crc32(data) and head["ChecksumType"] == "FULL_OBJECT"
    assert head["ETag"].endswith('-3"')
    with pytest.raises(ClientError) as err:
        s3.upload_fileobj(io.BytesIO(data), bucket, "bad", Config=config,
                          ExtraArgs={"ChecksumCRC32": crc32(data[:-1])})
    assert error(err)[0] == "BadDigest"
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="bad")


# -- part numbers and the part size limit ----------------------------------------------------


@pytest.mark.parametrize("number", [0, 10001])
def test_part_number_out_of_range_is_invalid_argument(s3: Any, bucket: str, number: int) -> None:
    s3.put_object(Bucket=bucket, Key="src", Body=b"source")
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
    calls = [
        lambda: s3.upload_part(Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=number,
                               Body=b"data"),
        lambda: s3.upload_part_copy(Bucket=bucket, Key="k", UploadId=upload_id,
                                    PartNumber=number, CopySource=f"{bucket}/src"),
    ]
    for call in calls:
        with pytest.raises(ClientError) as err:
            call()
        assert error(err) == (
            "InvalidArgument", "Part number must be an integer between 1 and 10000, inclusive",
            400)
        assert err.value.response["Error"]["ArgumentName"] == "partNumber"
        assert err.value.response["Error"]["ArgumentValue"] == str(number)
    assert "Parts" not in s3.list_parts(Bucket=bucket, Key="k", UploadId=upload_id)
    for edge in (1, 10000):
        s3.upload_part(Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=edge, Body=b"x")
    listed = s3.list_parts(Bucket=bucket, Key="k", UploadId=upload_id)["Parts"]
    assert [p["PartNumber"] for p in listed] == [1, 10000]


def raw(hw: RunningHeadwater, method: str, path: str, body: bytes, headers: dict[str, str],
        timeout: float = 30) -> tuple[int, bytes]:
    """A signed request sent as is: ``path`` may carry a query, and the Content-Length of
    ``headers`` is sent whatever the body is."""
    url = f"{hw.endpoint}{path}"
    request = AWSRequest(method=method, url=url, data=body, headers=headers)
    _Signer(Credentials(hw.access_key, hw.secret_key), "s3", hw.region).add_auth(request)
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        target = f"{parts.path}?{parts.query}" if parts.query else parts.path
        connection.request(method, target, body=body, headers=dict(request.headers.items()))
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def test_part_over_5_gib_is_refused_before_its_body(hw: RunningHeadwater, s3: Any,
                                                    bucket: str) -> None:
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="huge")["UploadId"]
    claimed = 5 * GiB + 1
    # No byte of the body is sent: a server that waited for it would time the client out.
    status, text = raw(hw, "PUT", f"/{bucket}/huge?partNumber=1&uploadId={upload_id}", b"", {
        "X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD",
        "Content-Length": str(claimed),
    }, timeout=10)
    assert status == 400, text
    assert b"<Code>EntityTooLarge</Code>" in text
    assert f"<ProposedSize>{claimed}</ProposedSize>".encode() in text
    assert f"<MaxSizeAllowed>{5 * GiB}</MaxSizeAllowed>".encode() in text
    assert "Parts" not in s3.list_parts(Bucket=bucket, Key="huge", UploadId=upload_id)


# -- signed aws-chunked bodies with a trailing checksum ----------------------------------------


@dataclass
class Chain:
    """The signature chain of a signed aws-chunked body: each signature covers the one before
    it, the first the seed (the Authorization header's signature)."""

    key: bytes
    amz_date: str
    scope: str
    previous: str

    def sign(self, kind: str, digest: str) -> str:
        text = f"{kind}\n{self.amz_date}\n{self.scope}\n{self.previous}\n{digest}"
        self.previous = hmac.new(self.key, text.encode(), hashlib.sha256).hexdigest()
        return self.previous


def signed_trailer_body(data: bytes, size: int, chain: Chain, trailers: dict[str, str]) -> bytes:
    """A STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER body, as
    https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming-trailers.html lays it out:

        <hex size>;chunk-signature=<sig>\\r\\n<data>\\r\\n   (each chunk, then an empty one)
        <trailer name>:<value>\\r\\n                        (each trailer)
        x-amz-trailer-signature:<sig>\\r\\n\\r\\n

    A chunk signs ``AWS4-HMAC-SHA256-PAYLOAD`` with the hash of the empty string and of its
    data; the trailer signs ``AWS4-HMAC-SHA256-TRAILER`` with the hash of its ``name:value\\n``
    lines, chained from the empty chunk's.  Without trailers, none (and no signature) is sent.
    """
    out = bytearray()
    for piece in [data[i : i + size] for i in range(0, len(data), size)] + [b""]:
        signature = chain.sign("AWS4-HMAC-SHA256-PAYLOAD",
                               f"{EMPTY_SHA256}\n{hashlib.sha256(piece).hexdigest()}")
        out += f"{len(piece):x};chunk-signature={signature}\r\n".encode() + piece
        if piece:
            out += b"\r\n"
    if trailers:
        lines = "".join(f"{name}:{value}\n" for name, value in trailers.items())
        signature = chain.sign("AWS4-HMAC-SHA256-TRAILER",
                               hashlib.sha256(lines.encode()).hexdigest())
        out += lines.replace("\n", "\r\n").encode()
        out += f"x-amz-trailer-signature:{signature}\r\n".encode()
    out += b"\r\n"
    return bytes(out)


def put_signed_trailer(hw: RunningHeadwater, path: str, data: bytes, announced: str,
                       trailers: dict[str, str], tamper: tuple[str, str] | None = None,
                       ) -> tuple[int, bytes]:
    """PUT ``data`` with a signed trailer body; ``tamper`` replaces a text of the body after
    it was signed (same length)."""
    # Signatures are 64 hex digits whatever they sign: a dummy chain gives the body's length.
    length = len(signed_trailer_body(data, 65536, Chain(b"k", "d", "s", "0" * 64), trailers))
    url = f"{hw.endpoint}{path}"
    request = AWSRequest(method="PUT", url=url, data=b"", headers={
        "X-Amz-Content-SHA256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
        "Content-Encoding": "aws-chunked",
        "X-Amz-Decoded-Content-Length": str(len(data)),
        "X-Amz-Trailer": announced,
        "Content-Length": str(length),
    })
    _Signer(Credentials(hw.access_key, hw.secret_key), "s3", hw.region).add_auth(request)
    amz_date = request.headers["X-Amz-Date"]
    key = f"AWS4{hw.secret_key}".encode()
    for step in (amz_date[:8], hw.region, "s3", "aws4_request"):
        key = hmac.new(key, step.encode(), hashlib.sha256).digest()
    seed = request.headers["Authorization"].rsplit("Signature=", 1)[1]
    chain = Chain(key, amz_date, f"{amz_date[:8]}/{hw.region}/s3/aws4_request", seed)
    body = signed_trailer_body(data, 65536, chain, trailers)
    assert len(body) == length
    if tamper is not None:
        assert len(tamper[0]) == len(tamper[1]) and tamper[0].encode() in body
        body = body.replace(tamper[0].encode(), tamper[1].encode())
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        target = f"{parts.path}?{parts.query}" if parts.query else parts.path
        connection.request("PUT", target, body=body, headers=dict(request.headers.items()))
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


DATA = bytes(range(256)) * 800  # 200 KiB: four chunks of 64 KiB, the last one short


def test_signed_trailer_checksum_is_stored(hw: RunningHeadwater, s3: Any, bucket: str) -> None:
    status, text = put_signed_trailer(hw, f"/{bucket}/good", DATA, "x-amz-checksum-crc32",
                                      {"x-amz-checksum-crc32": crc32(DATA)})
    assert status == 200, text
    head = s3.head_object(Bucket=bucket, Key="good", ChecksumMode="ENABLED")
    assert head["ChecksumCRC32"] == crc32(DATA) and head["ContentLength"] == len(DATA)
    assert s3.get_object(Bucket=bucket, Key="good")["Body"].read() == DATA


def test_signed_trailer_with_a_wrong_checksum_is_bad_digest(hw: RunningHeadwater, s3: Any,
                                                            bucket: str) -> None:
    # Correctly signed, but not the data's CRC32.
    status, text = put_signed_trailer(hw, f"/{bucket}/bad", DATA, "x-amz-checksum-crc32",
                                      {"x-amz-checksum-crc32": crc32(b"other")})
    assert status == 400 and b"<Code>BadDigest</Code>" in text, text
    assert b"The CRC32 you specified did not match the calculated checksum." in text
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="bad")


def test_signed_trailer_changed_after_signing_is_refused(hw: RunningHeadwater, s3: Any,
                                                         bucket: str) -> None:
    # The right CRC32 put in place of the signed one: the trailer signature no longer holds.
    right, wrong = crc32(DATA), crc32(b"other")
    status, text = put_signed_trailer(hw, f"/{bucket}/forged", DATA, "x-amz-checksum-crc32",
                                      {"x-amz-checksum-crc32": wrong}, tamper=(wrong, right))
    assert status == 403 and b"<Code>SignatureDoesNotMatch</Code>" in text, text
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="forged")


@pytest.mark.parametrize("sent", [{}, {"x-amz-checksum-sha256": sha256(DATA)}],
                         ids=["none", "another"])
def test_announced_trailer_not_sent_is_malformed_trailer(hw: RunningHeadwater, s3: Any,
                                                         bucket: str, sent: dict[str, str]) -> None:
    status, text = put_signed_trailer(hw, f"/{bucket}/missing", DATA, "x-amz-checksum-crc32",
                                      sent)
    assert status == 400 and b"<Code>MalformedTrailerError</Code>" in text, text
    assert (b"The request contained trailing data that was not well-formed or did not conform "
            b"to our published schema.") in text
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="missing")


def test_signed_trailer_checksum_of_a_part(hw: RunningHeadwater, s3: Any, bucket: str) -> None:
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="mp",
                                           ChecksumAlgorithm="CRC32")["UploadId"]
    path = f"/{bucket}/mp?partNumber=1&uploadId={upload_id}"
    status, text = put_signed_trailer(hw, path, DATA, "x-amz-checksum-crc32",
                                      {"x-amz-checksum-crc32": crc32(b"other")})
    assert status == 400 and b"<Code>BadDigest</Code>" in text, text
    assert "Parts" not in s3.list_parts(Bucket=bucket, Key="mp", UploadId=upload_id)
    status, text = put_signed_trailer(hw, path, DATA, "x-amz-checksum-crc32",
                                      {"x-amz-checksum-crc32": crc32(DATA)})
    assert status == 200, text
    parts = s3.list_parts(Bucket=bucket, Key="mp", UploadId=upload_id)["Parts"]
    assert [(p["PartNumber"], p["Size"], p["ChecksumCRC32"]) for p in parts] == [
        (1, len(DATA), crc32(DATA))]


@pytest.mark.parametrize("size", [100, 100_000], ids=["read-whole", "streamed"])
def test_a_trailer_announced_on_a_plain_body_is_malformed(hw: RunningHeadwater, s3: Any,
                                                          bucket: str, size: int) -> None:
    # Only an aws-chunked body carries trailers: a plain one announced with x-amz-trailer
    # ends without its checksum, whatever its size (small bodies are read whole).
    body = os.urandom(size)
    status, text = raw(hw, "PUT", f"/{bucket}/plain", body, {
        "X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD",
        "X-Amz-Trailer": "x-amz-checksum-crc32",
        "Content-Length": str(size),
    })
    assert status == 400 and b"<Code>MalformedTrailerError</Code>" in text, text
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="plain")
