"""Checksum algorithms, their wire form and the multipart combinations."""

from __future__ import annotations

import base64
import hashlib
import os
import zlib

import pytest
from botocore.httpchecksum import _CHECKSUM_CLS
from hypothesis import given
from hypothesis import strategies as st

from headwater.core.errors import ServiceError
from headwater.services.s3 import checksums


def test_values_match_reference_implementations() -> None:
    data = b"The quick brown fox jumps over the lazy dog"
    assert checksums.compute("CRC32", data) == base64.b64encode(
        zlib.crc32(data).to_bytes(4, "big")).decode()
    assert checksums.compute("SHA256", data) == base64.b64encode(hashlib.sha256(data).digest()).decode()
    assert checksums.compute("SHA1", data) == base64.b64encode(hashlib.sha1(data).digest()).decode()
    # CRC32C check value of "123456789" is 0xE3069283 (RFC 3720).
    assert checksums.compute("CRC32C", b"123456789") == base64.b64encode(
        bytes.fromhex("e3069283")).decode()
    # CRC64/NVME check value of "123456789" is 0xAE8B14860A799888.
    assert checksums.compute("CRC64NVME", b"123456789") == base64.b64encode(
        bytes.fromhex("ae8b14860a799888")).decode()
    assert checksums.compute("SHA512", data) == base64.b64encode(hashlib.sha512(data).digest()).decode()
    assert checksums.compute("MD5", data) == base64.b64encode(hashlib.md5(data).digest()).decode()
    # xxHash's published values for "abc": XXH64 (seed 0) and XXH3 64-bit.
    assert checksums.compute("XXHASH64", b"abc") == base64.b64encode(
        bytes.fromhex("44bc2cf5ad770999")).decode()
    assert checksums.compute("XXHASH3", b"abc") == base64.b64encode(
        bytes.fromhex("78af5f94892f3950")).decode()


@pytest.mark.parametrize("algorithm", ["SHA512", "XXHASH64", "XXHASH3", "XXHASH128"])
def test_values_match_what_botocore_sends(algorithm: str) -> None:
    data = os.urandom(70_000)
    theirs = _CHECKSUM_CLS[algorithm.lower()]()
    theirs.update(data)
    assert checksums.compute(algorithm, data) == base64.b64encode(theirs.digest()).decode()


@given(st.lists(st.binary(max_size=5000), max_size=6))
def test_crc32_is_zlibs_in_any_pieces(pieces: list[bytes]) -> None:
    # CRC32 runs on ISA-L for speed; zlib is the reference the SDKs agree with.
    h = checksums.hasher("CRC32")
    for piece in pieces:
        h.update(piece)
    assert h.digest() == zlib.crc32(b"".join(pieces)).to_bytes(4, "big")


def test_incremental_equals_one_shot() -> None:
    data = os.urandom(100_000)
    for algorithm in checksums.ALGORITHMS:
        h = checksums.hasher(algorithm)
        for i in range(0, len(data), 7777):
            h.update(data[i : i + 7777])
        assert checksums.encode(h.digest()) == checksums.compute(algorithm, data)


@pytest.mark.parametrize("algorithm", ["CRC32", "CRC32C", "CRC64NVME"])
def test_full_object_combines_part_crcs(algorithm: str) -> None:
    parts = [os.urandom(n) for n in (1000, 1, 50_000, 333)]
    combined = checksums.full_object(
        algorithm, [(checksums.compute(algorithm, p), len(p)) for p in parts])
    assert combined == checksums.compute(algorithm, b"".join(parts))


def test_composite_is_checksum_of_checksums() -> None:
    parts = [b"a" * 10, b"b" * 20]
    values = [checksums.compute("SHA256", p) for p in parts]
    inner = hashlib.sha256(b"".join(base64.b64decode(v) for v in values)).digest()
    assert checksums.composite("SHA256", values) == base64.b64encode(inner).decode() + "-2"


def test_multipart_etag() -> None:
    digests = [hashlib.md5(b"x").digest(), hashlib.md5(b"y").digest()]
    assert checksums.multipart_etag(digests) == f'"{hashlib.md5(b"".join(digests)).hexdigest()}-2"'


def test_requested_picks_one_algorithm() -> None:
    value = checksums.compute("CRC32", b"x")
    assert checksums.requested({"ChecksumCRC32": value}, None) == ("CRC32", value)
    assert checksums.requested({"ChecksumAlgorithm": "SHA1"}, None) == ("SHA1", None)
    assert checksums.requested({}, "x-amz-checksum-crc32c") == ("CRC32C", None)
    assert checksums.requested({}, None) == (None, None)
    with pytest.raises(ServiceError) as err:
        checksums.requested({"ChecksumCRC32": value, "ChecksumSHA1": "x"}, None)
    assert err.value.code == "InvalidRequest"
    with pytest.raises(ServiceError) as err:
        checksums.requested({"ChecksumCRC32": "not base64!"}, None)
    assert err.value.code == "InvalidRequest"


def test_content_md5() -> None:
    digest = hashlib.md5(b"body").digest()
    checksums.check_md5(base64.b64encode(digest).decode(), digest)
    with pytest.raises(ServiceError) as err:
        checksums.check_md5(base64.b64encode(b"0" * 16).decode(), digest)
    assert err.value.code == "BadDigest"
    with pytest.raises(ServiceError) as err:
        checksums.check_md5("short", digest)
    assert err.value.code == "InvalidDigest"
