"""A large PUT and GET stream through the server: its memory stays flat, whatever the size.

The server runs as users run it (``headwater serve`` in its own process) so its resident
memory can be watched while one object of ``HEADWATER_TEST_LARGE_MIB`` (default 1,024 MiB;
5,120 for S3's largest single PUT) goes up in one signed request and comes back down.  The
bytes are made as they are sent and hashed as they arrive, so the test holds no copy either.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Self

import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from served import Served, start

pytestmark = pytest.mark.e2e

MIB = 1 << 20
SIZE_MIB = int(os.environ.get("HEADWATER_TEST_LARGE_MIB", "1024"))
# What the server may grow by while the object streams: its buffers (a few 4 MiB batches
# and 1 MiB blocks in flight), not the object.
ALLOWED_GROWTH_MIB = 64


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


class PeakRss(threading.Thread):
    """Samples a process's resident memory every 20 ms until stopped; the highest seen."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak = rss_mib(pid)
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.02):
            self.peak = max(self.peak, rss_mib(self.pid))

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.done.set()
        self.join()


def blocks(count: int) -> Iterator[bytes]:
    """``count`` MiB of distinct blocks (a block repeated would still be a valid test, but a
    server that deduplicated or compressed would then look better than it is)."""
    seed = os.urandom(MIB)
    for i in range(count):
        yield i.to_bytes(8, "big") + seed[8:]


class _UnsignedPayload(S3SigV4Auth):
    """SigV4 over the headers only, as S3 allows: the body is not in the signature."""

    def payload(self, request: AWSRequest) -> str:
        return "UNSIGNED-PAYLOAD"


def signed_headers(served: Served, method: str, path: str, extra: dict[str, str]) -> dict[str, str]:
    request = AWSRequest(method=method, url=f"{served.endpoint}{path}", headers=extra)
    _UnsignedPayload(Credentials("test", "test"), "s3", "us-east-1").add_auth(request)
    return dict(request.headers.items())


def test_large_put_and_get_keep_server_memory_flat(servers: list[Served], tmp_path: Path) -> None:
    served = start(servers, tmp_path / "data")
    served.client("s3").create_bucket(Bucket="big")
    pid = served.process.pid
    baseline = rss_mib(pid)
    path = "/big/object"
    sent = hashlib.md5()  # a single PUT's ETag is its MD5

    def body() -> Iterator[bytes]:
        for block in blocks(SIZE_MIB):
            sent.update(block)
            yield block

    connection = http.client.HTTPConnection("127.0.0.1", served.port, timeout=120)
    headers = signed_headers(served, "PUT", path, {"Content-Length": str(SIZE_MIB * MIB)})
    with PeakRss(pid) as up:
        connection.request("PUT", path, body=body(), headers=headers)
        response = connection.getresponse()
        assert response.status == 200, response.read()[:500]
        response.read()
    assert response.headers["ETag"] == f'"{sent.hexdigest()}"'

    with PeakRss(pid) as down:
        connection.request("GET", path, headers=signed_headers(served, "GET", path, {}))
        response = connection.getresponse()
        assert response.status == 200
        got, size = hashlib.md5(), 0
        while piece := response.read(MIB):
            got.update(piece)
            size += len(piece)
    connection.close()
    assert size == SIZE_MIB * MIB
    assert got.hexdigest() == sent.hexdigest()
    print(f"server RSS MiB: {baseline:.0f} at rest, {up.peak:.0f} during the PUT, "
          f"{down.peak:.0f} during the GET of {SIZE_MIB} MiB")
    assert up.peak - baseline < ALLOWED_GROWTH_MIB, (baseline, up.peak)
    assert down.peak - baseline < ALLOWED_GROWTH_MIB, (baseline, down.peak)
