"""A lean S3 client for the benchmarks: signed HTTP/1.1 requests and nothing else.

boto3 spends about 3 ms of CPU on each small request on a 2-core machine, more than any of
the servers it would measure, so figures taken through it mostly measure boto3.  This client
sends what boto3 sends for the same calls -- SigV4 header signature over the payload's SHA-256,
``x-amz-checksum-crc32`` on every PUT, ``x-amz-checksum-mode: ENABLED`` on GET -- over one
keep-alive connection, and checks each answer's status, so the server's share of the time is
what the figures show.  Not a benchmark itself; ``bench_s3.py`` uses it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import http.client
import re
import time
import zlib
from dataclasses import dataclass
from typing import BinaryIO
from urllib.parse import quote, urlsplit

_TOKEN = re.compile(rb"<NextContinuationToken>([^<]*)</NextContinuationToken>")
_KEY = re.compile(rb"<Key>")


@dataclass(frozen=True)
class FileHashes:
    """What a signed PUT of a file announces: computed before the timing starts."""

    sha256: str  # hex, for x-amz-content-sha256
    crc32: str  # base64, for x-amz-checksum-crc32
    size: int

    @staticmethod
    def of(path: str) -> FileHashes:
        sha, crc, size = hashlib.sha256(), 0, 0
        with open(path, "rb") as source:
            while block := source.read(1 << 20):
                sha.update(block)
                crc = zlib.crc32(block, crc)
                size += len(block)
        return FileHashes(sha.hexdigest(), base64.b64encode(crc.to_bytes(4, "big")).decode(), size)


class WireError(Exception):
    """The server answered with a status the call did not expect."""


class WireClient:
    def __init__(
        self, endpoint: str, key: str = "test", secret: str = "test", region: str = "us-east-1"
    ) -> None:
        url = urlsplit(endpoint)
        self.host = url.netloc
        # 1 MiB blocks when a body is a file (http.client's default is 8 KiB).
        self.conn = http.client.HTTPConnection(
            url.hostname or "127.0.0.1", url.port or 80, blocksize=1 << 20)
        self.key, self.secret, self.region = key, secret, region
        self._day = ""
        self._signing_key = b""

    def _key_for(self, day: str) -> bytes:
        if day != self._day:
            k = hmac.new(("AWS4" + self.secret).encode(), day.encode(), hashlib.sha256).digest()
            for part in (self.region, "s3", "aws4_request"):
                k = hmac.new(k, part.encode(), hashlib.sha256).digest()
            self._day, self._signing_key = day, k
        return self._signing_key

    def request(
        self, method: str, path: str, query: str = "", body: bytes | BinaryIO = b"",
        headers: dict[str, str] | None = None, expect: int = 200,
        payload_hash: str | None = None, stream: bool = False,
    ) -> bytes:
        """Send one signed request; the answer's body, or with ``stream`` its size (read in
        1 MiB pieces and dropped).  A file ``body`` needs its ``payload_hash`` and a
        content-length header."""
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        day = stamp[:8]
        if payload_hash is None:
            assert isinstance(body, bytes)
            payload_hash = hashlib.sha256(body).hexdigest()
        fields = {"host": self.host, "x-amz-date": stamp, "x-amz-content-sha256": payload_hash}
        fields.update({k.lower(): v for k, v in (headers or {}).items()})
        if isinstance(body, bytes) and body:
            fields["content-length"] = str(len(body))
        names = sorted(fields)
        canonical = "\n".join([
            method, quote(path, safe="/~"), query,
            "".join(f"{n}:{fields[n].strip()}\n" for n in names), ";".join(names), payload_hash,
        ])
        scope = f"{day}/{self.region}/s3/aws4_request"
        to_sign = "\n".join([
            "AWS4-HMAC-SHA256", stamp, scope, hashlib.sha256(canonical.encode()).hexdigest()])
        signature = hmac.new(self._key_for(day), to_sign.encode(), hashlib.sha256).hexdigest()
        fields["authorization"] = (
            f"AWS4-HMAC-SHA256 Credential={self.key}/{scope}, "
            f"SignedHeaders={';'.join(names)}, Signature={signature}")
        target = quote(path, safe="/~") + (f"?{query}" if query else "")
        self.conn.request(method, target, body=body or None, headers=fields)
        response = self.conn.getresponse()
        if stream and response.status == expect:
            size = 0
            while piece := response.read(1 << 20):
                size += len(piece)
            return str(size).encode()
        data = response.read()
        if response.status != expect:
            raise WireError(f"{method} {target}: {response.status} {data[:300]!r}")
        return data

    def create_bucket(self, bucket: str) -> None:
        self.request("PUT", f"/{bucket}")

    def put(self, bucket: str, key: str, body: bytes) -> None:
        crc = base64.b64encode(zlib.crc32(body).to_bytes(4, "big")).decode()
        self.request("PUT", f"/{bucket}/{key}", body=body, headers={
            "x-amz-checksum-crc32": crc, "content-type": "binary/octet-stream"})

    def get(self, bucket: str, key: str) -> bytes:
        return self.request("GET", f"/{bucket}/{key}", headers={"x-amz-checksum-mode": "ENABLED"})

    def put_file(self, bucket: str, key: str, path: str, hashes: FileHashes) -> None:
        """Upload a file as one signed PUT, streamed from disk."""
        with open(path, "rb") as source:
            self.request("PUT", f"/{bucket}/{key}", body=source, payload_hash=hashes.sha256,
                         headers={"x-amz-checksum-crc32": hashes.crc32,
                                  "content-length": str(hashes.size),
                                  "content-type": "binary/octet-stream"})

    def get_size(self, bucket: str, key: str) -> int:
        """GET a whole object, reading and dropping its bytes; their number."""
        return int(self.request("GET", f"/{bucket}/{key}", stream=True))

    def list_all(self, bucket: str) -> tuple[int, int]:
        """(keys, pages) of a full ListObjectsV2 walk, 1,000 keys a page."""
        keys = pages = 0
        token: bytes | None = None
        while True:
            params = {"list-type": "2", "max-keys": "1000"}
            if token is not None:
                params["continuation-token"] = token.decode()
            query = "&".join(
                f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in sorted(params.items()))
            page = self.request("GET", f"/{bucket}", query=query)
            pages += 1
            keys += len(_KEY.findall(page))
            found = _TOKEN.search(page)
            if found is None:
                return keys, pages
            token = html.unescape(found.group(1).decode()).encode()
