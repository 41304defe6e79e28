"""The ResultWriter's files and manifest, and WriterConfig's transformations."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest

from headwater.core.errors import ServiceError
from headwater.services.stepfunctions.asl.errors import StatesError
from headwater.services.stepfunctions.distributed.resultwriter import (
    ChildResult,
    preview,
    transform,
    write,
)

RUN = "arn:aws:states:us-east-1:1:mapRun:m/L:run-id"
ok = ChildResult("arn:x:1", "1", "sm", "SUCCEEDED", {"i": 1}, [1, 2], start=0.0, stop=1.5)
bad = ChildResult("arn:x:2", "2", "sm", "FAILED", {"i": 2}, None, "E", "C", 0.0, 2.0)
never = ChildResult("", "", "sm", "PENDING", {"i": 3})


def test_write_files_per_status_and_the_manifest() -> None:
    written: dict[str, bytes] = {}

    def call(operation: str, params: dict[str, Any]) -> Any:
        written[params["Key"]] = params["Body"]
        return {}

    out = asyncio.run(write({"Resource": "arn:aws:states:::s3:putObject",
                             "Parameters": {"Bucket": "b", "Prefix": "p"}},
                            RUN, [ok, bad, never], call))
    assert out == {"MapRunArn": RUN,
                   "ResultWriterDetails": {"Bucket": "b", "Key": "p/run-id/manifest.json"}}
    manifest = orjson.loads(written["p/run-id/manifest.json"])
    assert manifest["DestinationBucket"] == "b" and manifest["MapRunArn"] == RUN
    assert [f["Key"] for s in ("SUCCEEDED", "FAILED", "PENDING")
            for f in manifest["ResultFiles"][s]] == [
        "p/run-id/SUCCEEDED_0.json", "p/run-id/FAILED_0.json", "p/run-id/PENDING_0.json"]
    [failed] = orjson.loads(written["p/run-id/FAILED_0.json"])
    assert failed["Error"] == "E" and failed["Cause"] == "C"
    assert failed["StopDate"] == "1970-01-01T00:00:02.000Z"
    [succeeded] = orjson.loads(written["p/run-id/SUCCEEDED_0.json"])
    assert succeeded["Output"] == "[1,2]" and succeeded["Input"] == '{"i":1}'


def test_a_missing_bucket_is_result_writer_failed() -> None:
    def call(operation: str, params: dict[str, Any]) -> Any:
        raise ServiceError("NoSuchBucket", "The specified bucket does not exist", 404)

    with pytest.raises(StatesError) as caught:
        asyncio.run(write({"Resource": "arn:aws:states:::s3:putObject",
                           "Parameters": {"Bucket": "nope"}}, RUN, [ok], call))
    assert caught.value.error == "States.ResultWriterFailed"


def test_transformations() -> None:
    assert transform([ok], "COMPACT") == [[1, 2]]
    assert transform([ok], "FLATTEN") == [1, 2]
    assert transform([bad], "FLATTEN")[0]["Status"] == "FAILED"
    assert preview({"WriterConfig": {"Transformation": "FLATTEN", "OutputType": "JSONL"}},
                   [ok]) == "1\n2\n"
