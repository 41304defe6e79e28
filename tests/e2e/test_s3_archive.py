"""Archive storage classes, restores and lifecycle rules against a running server, with the
archive time scale and lifecycle day shortened so they finish within the test."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from headwater.testing import RunningHeadwater, running_headwater

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def hw() -> Iterator[RunningHeadwater]:
    # A 5-minute Expedited restore takes 3 s (long enough to see it in progress on a busy
    # machine); a lifecycle day is 0.5 s.
    with running_headwater(archive_time_scale=0.01, lifecycle_day_seconds=0.5) as server:
        yield server


def wait_for(predicate: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("condition not reached")


def test_restore_cycle(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="cold", Body=b"frozen", StorageClass="GLACIER")
    with pytest.raises(ClientError) as err:
        s3.get_object(Bucket=bucket, Key="cold")
    assert err.value.response["Error"]["Code"] == "InvalidObjectState"
    assert s3.head_object(Bucket=bucket, Key="cold")["StorageClass"] == "GLACIER"
    started = s3.restore_object(Bucket=bucket, Key="cold",
                                RestoreRequest={"Days": 1, "GlacierJobParameters": {"Tier": "Expedited"}})
    assert started["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert s3.head_object(Bucket=bucket, Key="cold")["Restore"] == 'ongoing-request="true"'
    with pytest.raises(ClientError) as err:
        s3.restore_object(Bucket=bucket, Key="cold", RestoreRequest={"Days": 1})
    assert err.value.response["Error"]["Code"] == "RestoreAlreadyInProgress"
    wait_for(lambda: 'ongoing-request="false"' in s3.head_object(Bucket=bucket, Key="cold")["Restore"])
    assert s3.get_object(Bucket=bucket, Key="cold")["Body"].read() == b"frozen"
    again = s3.restore_object(Bucket=bucket, Key="cold", RestoreRequest={"Days": 2})
    assert again["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_restore_of_a_standard_object_is_refused(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="warm", Body=b"x")
    with pytest.raises(ClientError) as err:
        s3.restore_object(Bucket=bucket, Key="warm", RestoreRequest={"Days": 1})
    assert err.value.response["Error"]["Code"] == "InvalidObjectState"


def test_lifecycle_transition_and_expiration(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as err:
        s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [
            {"ID": "ia", "Status": "Enabled", "Filter": {"Prefix": ""},
             "Transitions": [{"Days": 1, "StorageClass": "STANDARD_IA"}]}]})
    assert err.value.response["Error"]["Code"] == "InvalidArgument"
    # Small objects go to GLACIER only with varies_by_storage_class (the default keeps every
    # object under 128 KiB where it is).
    put = s3.put_bucket_lifecycle_configuration(
        Bucket=bucket, TransitionDefaultMinimumObjectSize="varies_by_storage_class",
        LifecycleConfiguration={"Rules": [
            {"ID": "archive", "Status": "Enabled", "Filter": {"Prefix": "logs/"},
             "Transitions": [{"Days": 1, "StorageClass": "GLACIER"}]},
            {"ID": "expire", "Status": "Enabled", "Filter": {"Prefix": "tmp/"},
             "Expiration": {"Days": 1}},
        ]})
    assert put["TransitionDefaultMinimumObjectSize"] == "varies_by_storage_class"
    with pytest.raises(ClientError) as err:
        s3.put_bucket_lifecycle_configuration(
            Bucket=bucket, TransitionDefaultMinimumObjectSize="tiny",
            LifecycleConfiguration={"Rules": [{"ID": "x", "Status": "Enabled",
                                               "Filter": {}, "Expiration": {"Days": 1}}]})
    assert err.value.response["Error"]["Code"] == "InvalidArgument"
    got = s3.get_bucket_lifecycle_configuration(Bucket=bucket)
    assert [r["ID"] for r in got["Rules"]] == ["archive", "expire"]
    assert got["TransitionDefaultMinimumObjectSize"] == "varies_by_storage_class"
    s3.put_object(Bucket=bucket, Key="logs/a", Body=b"log")
    s3.put_object(Bucket=bucket, Key="tmp/b", Body=b"tmp")
    s3.put_object(Bucket=bucket, Key="keep", Body=b"keep")
    wait_for(lambda: s3.head_object(Bucket=bucket, Key="logs/a").get("StorageClass") == "GLACIER")
    wait_for(lambda: [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
             == ["keep", "logs/a"])
    assert "StorageClass" not in s3.head_object(Bucket=bucket, Key="keep")


def test_scrub_command(hw: RunningHeadwater, s3: Any, bucket: str) -> None:
    # Big enough for a file of its own (smaller objects live in the store).
    s3.put_object(Bucket=bucket, Key="fine", Body=b"all good" * 8192)
    command = [sys.executable, "-m", "headwater", "s3", "scrub", "--data-dir", str(hw.data_dir)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    files = sorted((Path(hw.data_dir) / "s3" / "data").rglob("*"), key=lambda p: p.stat().st_mtime)
    victim = [p for p in files if p.is_file()][-1]
    victim.write_bytes(b"garbage!")
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 1 and victim.name in result.stdout
