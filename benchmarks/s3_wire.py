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
import re
import socket
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


class _Connection:
    """One keep-alive HTTP/1.1 connection, spoken directly on the socket.

    ``http.client`` parses every response's headers through the ``email`` package, which costs
    the client more CPU than a small S3 request costs headwater; what a benchmark needs from an
    answer is its status and its body, found through Content-Length or chunked framing.
    """

    def __init__(self, host: str, port: int) -> None:
        self.address = (host, port)
        self.sock: socket.socket | None = None
        self.buffer = bytearray()

    def exchange(self, method: str, target: str, fields: dict[str, str],
                 body: bytes | BinaryIO, stream: bool) -> tuple[int, bytes]:
        """Send one request and read its answer: (status, body), or with ``stream`` and a
        success (status, the body's size as text), the body read in pieces and dropped."""
        head = encode_head(method, target, fields)
        if isinstance(body, bytes):
            return self.send(method, head + body, stream)
        sock = self._socket()
        sock.sendall(head)
        while block := body.read(1 << 20):
            sock.sendall(block)
        return self._answer(method, stream)

    def send(self, method: str, request: bytes, stream: bool = False) -> tuple[int, bytes]:
        """Send one whole request, already encoded, and read its answer (as ``exchange``)."""
        self._socket().sendall(request)
        return self._answer(method, stream)

    def _socket(self) -> socket.socket:
        if self.sock is None:
            self.sock = socket.create_connection(self.address)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.buffer.clear()
        return self.sock

    def _answer(self, method: str, stream: bool) -> tuple[int, bytes]:
        status, length, chunked, close = self._read_head()
        if method == "HEAD" or status in (204, 304):
            data = b""
        elif chunked:
            data = self._read_chunked()
        elif length is not None:
            data = self._read_exactly(length, stream and status < 300)
        else:  # delimited by the connection's end
            data = self._read_to_close()
            close = True
        if close:
            self.sock.close()
            self.sock = None
        return status, data

    def _fill(self) -> None:
        assert self.sock is not None
        piece = self.sock.recv(1 << 20)
        if not piece:
            raise ConnectionError("the server closed the connection mid-answer")
        self.buffer += piece

    def _read_head(self) -> tuple[int, int | None, bool, bool]:
        while (end := self.buffer.find(b"\r\n\r\n")) < 0:
            self._fill()
        lines = bytes(self.buffer[:end]).decode("latin-1").split("\r\n")
        del self.buffer[: end + 4]
        status = int(lines[0].split(" ", 2)[1])
        length, chunked, close = None, False, False
        for line in lines[1:]:
            name, _, value = line.partition(":")
            name, value = name.strip().lower(), value.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "transfer-encoding":
                chunked = "chunked" in value
            elif name == "connection":
                close = value == "close"
        return status, length, chunked, close

    def _read_exactly(self, length: int, stream: bool) -> bytes:
        if not stream:
            while len(self.buffer) < length:
                self._fill()
            data = bytes(self.buffer[:length])
            del self.buffer[:length]
            return data
        left = length
        while left:
            if not self.buffer:
                self._fill()
            taken = min(left, len(self.buffer))
            del self.buffer[:taken]
            left -= taken
        return str(length).encode()

    def _read_chunked(self) -> bytes:
        out = bytearray()
        while True:
            while (end := self.buffer.find(b"\r\n")) < 0:
                self._fill()
            size = int(bytes(self.buffer[:end]).split(b";")[0], 16)
            del self.buffer[: end + 2]
            if size == 0:
                while (end := self.buffer.find(b"\r\n")) != 0:  # trailers, then the blank line
                    if end < 0:
                        self._fill()
                    else:
                        del self.buffer[: end + 2]
                del self.buffer[:2]
                return bytes(out)
            while len(self.buffer) < size + 2:
                self._fill()
            out += self.buffer[:size]
            del self.buffer[: size + 2]

    def _read_to_close(self) -> bytes:
        assert self.sock is not None
        while piece := self.sock.recv(1 << 20):
            self.buffer += piece
        data = bytes(self.buffer)
        self.buffer.clear()
        return data


def encode_head(method: str, target: str, fields: dict[str, str]) -> bytes:
    return (f"{method} {target} HTTP/1.1\r\n" + "".join(
        f"{name}: {value}\r\n" for name, value in fields.items()) + "\r\n").encode()


@dataclass(frozen=True)
class Prepared:
    """A signed request, encoded whole: sending it costs the client nothing else."""

    method: str
    data: bytes


class WireError(Exception):
    """The server answered with a status the call did not expect."""


class WireClient:
    def __init__(
        self, endpoint: str, key: str = "test", secret: str = "test", region: str = "us-east-1"
    ) -> None:
        url = urlsplit(endpoint)
        self.host = url.netloc
        self.conn = _Connection(url.hostname or "127.0.0.1", url.port or 80)
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
        target, fields = self._signed(method, path, query, body, headers, payload_hash)
        status, data = self.conn.exchange(method, target, fields, body, stream)
        return self._checked(method, target, status, data, expect)

    def prepare(self, method: str, path: str, body: bytes = b"",
                headers: dict[str, str] | None = None) -> Prepared:
        """``request``'s request signed and encoded now, to be sent later with ``send``
        (within the 15 minutes a signature is good for)."""
        target, fields = self._signed(method, path, "", body, headers, None)
        return Prepared(method, encode_head(method, target, fields) + body)

    def send(self, prepared: Prepared, expect: int = 200) -> bytes:
        status, data = self.conn.send(prepared.method, prepared.data)
        return self._checked(prepared.method, "(prepared)", status, data, expect)

    @staticmethod
    def _checked(method: str, target: str, status: int, data: bytes, expect: int) -> bytes:
        if status != expect:
            raise WireError(f"{method} {target}: {status} {data[:300]!r}")
        return data

    def _signed(self, method: str, path: str, query: str, body: bytes | BinaryIO,
                headers: dict[str, str] | None,
                payload_hash: str | None) -> tuple[str, dict[str, str]]:
        """The request target and the header fields, Authorization included."""
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
        return target, fields

    def create_bucket(self, bucket: str) -> None:
        self.request("PUT", f"/{bucket}")

    def put(self, bucket: str, key: str, body: bytes) -> None:
        self.send(self.prepare_put(bucket, key, body))

    def get(self, bucket: str, key: str) -> bytes:
        return self.send(self.prepare_get(bucket, key))

    def prepare_put(self, bucket: str, key: str, body: bytes) -> Prepared:
        """PutObject as boto3 sends it: CRC32 checksum header, signed payload hash."""
        crc = base64.b64encode(zlib.crc32(body).to_bytes(4, "big")).decode()
        return self.prepare("PUT", f"/{bucket}/{key}", body, {
            "x-amz-checksum-crc32": crc, "content-type": "binary/octet-stream"})

    def prepare_get(self, bucket: str, key: str) -> Prepared:
        """GetObject as boto3 sends it: checksum mode on."""
        return self.prepare("GET", f"/{bucket}/{key}", headers={"x-amz-checksum-mode": "ENABLED"})

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
