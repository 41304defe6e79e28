"""S3's additional checksums: CRC32, CRC32C, CRC64NVME, SHA1, SHA256 and the newer SHA512, MD5,
XXHASH64, XXHASH3 (64-bit XXH3) and XXHASH128; and Content-MD5.

What it is: the algorithms (incremental, so a streamed upload is hashed as it is written), how
S3 writes their values (base64 of the big-endian digest), how a request names the checksum it
sends (``x-amz-checksum-<alg>`` header, ``x-amz-sdk-checksum-algorithm``, ``x-amz-trailer``),
and how multipart checksums combine: COMPOSITE is the checksum of the parts' binary checksums
with ``-N`` appended; FULL_OBJECT (CRC algorithms only) is the CRC of the whole object, built
from the parts' CRCs without reading the data again.

What it is not: the at-rest block checks of stored files (``blobs``).

Reference: https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Iterable, Mapping
from typing import Protocol

import google_crc32c
from awscrt import checksums as crt
from isal import isal_zlib

from headwater.core.errors import ServiceError

ALGORITHMS = ("CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256", "SHA512", "MD5", "XXHASH64",
              "XXHASH3", "XXHASH128")
CRCS = frozenset({"CRC32", "CRC32C", "CRC64NVME"})
# The checksum S3 computes for an upload that names none (since December 2024).
DEFAULT_ALGORITHM = "CRC64NVME"
_SIZES = {"CRC32": 4, "CRC32C": 4, "CRC64NVME": 8, "SHA1": 20, "SHA256": 32, "SHA512": 64,
          "MD5": 16, "XXHASH64": 8, "XXHASH3": 8, "XXHASH128": 16}
# awscrt's XXHash, the implementation botocore computes these with.
_XXHASHES = {"XXHASH64": crt.XXHash.new_xxhash64, "XXHASH3": crt.XXHash.new_xxhash3_64,
             "XXHASH128": crt.XXHash.new_xxhash3_128}


class Hasher(Protocol):
    def update(self, data: bytes) -> None: ...

    def digest(self) -> bytes: ...


class _Crc:
    def __init__(self, algorithm: str) -> None:
        self.algorithm = algorithm
        self.value = 0

    def update(self, data: bytes) -> None:
        if self.algorithm == "CRC32":
            self.value = isal_zlib.crc32(data, self.value)
        elif self.algorithm == "CRC32C":
            self.value = google_crc32c.extend(self.value, data)
        else:
            self.value = crt.crc64nvme(data, self.value)

    def digest(self) -> bytes:
        return self.value.to_bytes(_SIZES[self.algorithm], "big")


class _XxHash:
    def __init__(self, algorithm: str) -> None:
        self._state = _XXHASHES[algorithm]()
        self._digest: bytes | None = None

    def update(self, data: bytes) -> None:
        self._state.update(data)

    def digest(self) -> bytes:
        if self._digest is None:  # finalize ends the state: keep its answer
            self._digest = self._state.finalize()
        return self._digest


def hasher(algorithm: str) -> Hasher:
    if algorithm in CRCS:
        return _Crc(algorithm)
    if algorithm in _XXHASHES:
        return _XxHash(algorithm)
    return hashlib.new(algorithm.lower())


def encode(digest: bytes) -> str:
    return base64.b64encode(digest).decode("ascii")


def compute(algorithm: str, data: bytes) -> str:
    h = hasher(algorithm)
    h.update(data)
    return encode(h.digest())


def header_name(algorithm: str) -> str:
    return f"x-amz-checksum-{algorithm.lower()}"


def member_name(algorithm: str) -> str:
    """The model's member for an algorithm's value: ``ChecksumCRC32``."""
    return f"Checksum{algorithm}"


def check_value(algorithm: str, value: str) -> bytes:
    """The digest a header value encodes; ``InvalidRequest`` when it cannot be one."""
    try:
        digest = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        digest = b""
    if len(digest) != _SIZES[algorithm]:
        raise ServiceError(
            "InvalidRequest", f"Value for {header_name(algorithm)} header is invalid.", 400
        )
    return digest


def bad_digest(algorithm: str) -> ServiceError:
    name = algorithm.lower() if algorithm != "CRC64NVME" else "crc64nvme"
    return ServiceError(
        "BadDigest", f"The {name.upper()} you specified did not match the calculated checksum.", 400
    )


def malformed_trailer() -> ServiceError:
    """An aws-chunked body whose trailer is not the one ``x-amz-trailer`` announced (missing,
    or another checksum's)."""
    return ServiceError(
        "MalformedTrailerError",
        "The request contained trailing data that was not well-formed or did not conform to "
        "our published schema.",
        400,
    )


def requested(params: dict[str, object], trailer: str | None) -> tuple[str | None, str | None]:
    """The algorithm a write names and the value it sent (None when it comes in a trailer).

    A request names at most one: ``x-amz-checksum-<alg>`` (a ``Checksum<ALG>`` member), a
    trailer announced by ``x-amz-trailer``, or just ``x-amz-sdk-checksum-algorithm``.
    """
    given = _given(params)
    named = params.get("ChecksumAlgorithm")
    if isinstance(named, str) and named.upper() not in ALGORITHMS:
        raise ServiceError(
            "InvalidRequest",
            "Checksum algorithm provided is unsupported. Please try again with any of the valid "
            f"types: [{', '.join(ALGORITHMS)}]",
            400,
        )
    if given:
        algorithm = given[0]
        if isinstance(named, str) and named.upper() != algorithm:
            raise ServiceError(
                "InvalidRequest",
                "Value for x-amz-sdk-checksum-algorithm header is invalid.",
                400,
            )
        value = str(params[member_name(algorithm)])
        check_value(algorithm, value)
        return algorithm, value
    if trailer:
        name = trailer.strip().lower()
        for algorithm in ALGORITHMS:
            if name == header_name(algorithm):
                return algorithm, None
        raise ServiceError("InvalidRequest", "The value specified in the x-amz-trailer header is not supported", 400)
    if isinstance(named, str):
        return named.upper(), None
    return None, None


def _given(params: dict[str, object]) -> list[str]:
    """The algorithms whose ``x-amz-checksum-<alg>`` the request sent: one at most."""
    given = [a for a in ALGORITHMS if params.get(member_name(a)) is not None]
    if len(given) > 1:
        raise ServiceError(
            "InvalidRequest",
            "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.",
            400,
        )
    return given


def requested_whole(params: dict[str, object]) -> tuple[str, str] | None:
    """The whole-object checksum a CompleteMultipartUpload sent, if any: (algorithm, value),
    the value in the object's own form (a COMPOSITE one ends in ``-<part count>``)."""
    given = _given(params)
    if not given:
        return None
    algorithm = given[0]
    value = str(params[member_name(algorithm)])
    digest, dash, count = value.partition("-")
    check_value(algorithm, digest if not dash or count.isdigit() else value)
    return algorithm, value


def check_md5(content_md5: str | None, actual: bytes) -> None:
    """Content-MD5: ``InvalidDigest`` when unreadable, ``BadDigest`` when it does not match."""
    if content_md5 is None:
        return
    try:
        digest = base64.b64decode(content_md5, validate=True)
    except (binascii.Error, ValueError):
        digest = b""
    if len(digest) != 16:
        raise ServiceError("InvalidDigest", "The Content-MD5 you specified was invalid.", 400)
    if digest != actual:
        raise ServiceError(
            "BadDigest", "The Content-MD5 you specified did not match what we received.", 400
        )


def check_body(headers: Mapping[str, str], body: bytes, *, required: bool) -> None:
    """A configuration document's (or DeleteObjects') integrity headers against its bytes:
    Content-MD5 and any ``x-amz-checksum-<alg>``.  With ``required``, one of them must be
    there: S3 asks for it on DeleteObjects ("Missing required header for this request:
    Content-MD5", recorded in aws/aws-sdk-js#33; its page allows a checksum instead)."""
    sent = False
    if "content-md5" in headers:
        check_md5(headers["content-md5"], hashlib.md5(body).digest())
        sent = True
    for algorithm in ALGORITHMS:
        value = headers.get(header_name(algorithm))
        if value is None:
            continue
        if compute(algorithm, body) != encode(check_value(algorithm, value)):
            raise bad_digest(algorithm)
        sent = True
    if required and not sent:
        raise ServiceError("InvalidRequest", "Missing required header for this request: Content-MD5",
                           400)


# -- multipart ----------------------------------------------------------------------------


def composite(algorithm: str, part_values: Iterable[str]) -> str:
    """COMPOSITE: the checksum of the concatenated binary part checksums, ``-N`` appended."""
    h = hasher(algorithm)
    count = 0
    for value in part_values:
        h.update(base64.b64decode(value))
        count += 1
    return f"{encode(h.digest())}-{count}"


def full_object(algorithm: str, parts: Iterable[tuple[str, int]]) -> str:
    """FULL_OBJECT: the whole object's CRC from (part CRC, part size) pairs."""
    combine = {
        "CRC32": crt.combine_crc32,
        "CRC32C": crt.combine_crc32c,
        "CRC64NVME": crt.combine_crc64nvme,
    }[algorithm]
    total: int | None = None
    for value, size in parts:
        crc = int.from_bytes(base64.b64decode(value), "big")
        total = crc if total is None else combine(total, crc, size)
    return encode((total or 0).to_bytes(_SIZES[algorithm], "big"))


def multipart_etag(part_md5s: Iterable[bytes]) -> str:
    """S3's multipart ETag: the MD5 of the parts' binary MD5s, ``-N`` appended."""
    h = hashlib.md5()
    count = 0
    for digest in part_md5s:
        h.update(digest)
        count += 1
    return f'"{h.hexdigest()}-{count}"'
