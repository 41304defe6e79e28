"""The aws command line (``aws s3`` and ``aws s3api``) against headwater's S3, as users drive it.

The aws executable is the one next to the running Python (the test extra installs awscli); the
environment points it at the server and isolates it from any config on the machine.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from headwater.testing import RunningHeadwater, running_headwater

pytestmark = pytest.mark.e2e

AWS = Path(sys.executable).parent / "aws"
MiB = 1024 * 1024


@pytest.fixture(scope="module")
def hw() -> Iterator[RunningHeadwater]:
    if not AWS.exists():
        pytest.skip(f"no aws executable at {AWS}")
    with running_headwater() as server:
        yield server


def aws(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(AWS), *args, "--endpoint-url", env["AWS_ENDPOINT_URL"]],
        check=False, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result


def api(env: dict[str, str], *args: str) -> Any:
    result = aws(env, "s3api", *args, "--output", "json")
    return json.loads(result.stdout) if result.stdout.strip() else {}


@pytest.fixture
def bucket(env: dict[str, str]) -> str:
    name = f"cli-{uuid.uuid4().hex[:10]}"
    aws(env, "s3", "mb", f"s3://{name}")
    return name


def test_cp_ls_rm_round_trip(env: dict[str, str], bucket: str, tmp_path: Path) -> None:
    small = tmp_path / "small.txt"
    small.write_text("hello from the cli\n")
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(12 * MiB))  # multipart through the CLI's transfer manager
    aws(env, "s3", "cp", str(small), f"s3://{bucket}/docs/small.txt")
    aws(env, "s3", "cp", str(big), f"s3://{bucket}/big.bin")
    listing = aws(env, "s3", "ls", f"s3://{bucket}/").stdout
    assert "PRE docs/" in listing and "big.bin" in listing
    assert "small.txt" in aws(env, "s3", "ls", f"s3://{bucket}/docs/").stdout
    back = tmp_path / "back.bin"
    aws(env, "s3", "cp", f"s3://{bucket}/big.bin", str(back))
    assert back.read_bytes() == big.read_bytes()
    aws(env, "s3", "rm", f"s3://{bucket}/big.bin")
    assert "big.bin" not in aws(env, "s3", "ls", f"s3://{bucket}/").stdout


def test_sync_both_ways(env: dict[str, str], bucket: str, tmp_path: Path) -> None:
    source = tmp_path / "src"
    (source / "nested").mkdir(parents=True)
    for i in range(5):
        (source / f"f{i}.txt").write_text(f"file {i}")
    (source / "nested" / "deep.txt").write_text("deep")
    # Written a minute ago: S3 keeps LastModified to the second, so a file written in the
    # second of its upload lists as older than itself and the next sync sends it again, on
    # AWS as here.
    for path in source.rglob("*.txt"):
        os.utime(path, (time.time() - 60, time.time() - 60))
    aws(env, "s3", "sync", str(source), f"s3://{bucket}/tree")
    listed = api(env, "list-objects-v2", "--bucket", bucket, "--prefix", "tree/")
    assert len(listed["Contents"]) == 6
    again = aws(env, "s3", "sync", str(source), f"s3://{bucket}/tree").stdout
    assert again.strip() == ""  # nothing changed, nothing copied
    target = tmp_path / "dst"
    aws(env, "s3", "sync", f"s3://{bucket}/tree", str(target))
    assert (target / "nested" / "deep.txt").read_text() == "deep"
    aws(env, "s3", "rm", f"s3://{bucket}/tree", "--recursive")
    assert "Contents" not in api(env, "list-objects-v2", "--bucket", bucket)
    aws(env, "s3", "rb", f"s3://{bucket}")


def test_s3api_calls(env: dict[str, str], bucket: str, tmp_path: Path) -> None:
    body = tmp_path / "body"
    body.write_bytes(b"s3api body")
    put = api(env, "put-object", "--bucket", bucket, "--key", "k", "--body", str(body),
              "--metadata", "color=blue")
    assert put["ETag"]
    head = api(env, "head-object", "--bucket", bucket, "--key", "k")
    assert head["Metadata"] == {"color": "blue"} and head["ContentLength"] == 10
    out = tmp_path / "out"
    api(env, "get-object", "--bucket", bucket, "--key", "k", "--range", "bytes=0-4", str(out))
    assert out.read_bytes() == b"s3api"
    api(env, "put-bucket-versioning", "--bucket", bucket, "--versioning-configuration",
        "Status=Enabled")
    assert api(env, "get-bucket-versioning", "--bucket", bucket)["Status"] == "Enabled"
