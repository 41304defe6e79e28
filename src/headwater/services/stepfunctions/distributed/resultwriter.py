"""The ResultWriter of a distributed map: the children's results, written to headwater's S3.

Implements https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultwriter.html:
under ``<Prefix>/<map run id>/`` one ``SUCCEEDED_n.json``, ``FAILED_n.json`` and
``PENDING_n.json`` per status that has children (a JSON array of what DescribeExecution
shows for each: ``ExecutionArn``, ``Input``, ``InputDetails``, ``Name``, ``Output`` or
``Error``/``Cause``, ``StartDate``, ``StateMachineArn``, ``Status``, ``StopDate``, redrive
fields), and ``manifest.json`` naming them (``DestinationBucket``, ``MapRunArn``,
``ResultFiles`` by status, each file's ``Key`` and ``Size``). The Map's output is then
``{"MapRunArn", "ResultWriterDetails": {"Bucket", "Key"}}``.

WriterConfig (``Transformation`` NONE / COMPACT / FLATTEN, ``OutputType`` JSON / JSONL): with
no Resource the transformed results become the Map's output; with both, the transformed
results are what the files hold. Writing goes through the S3 adapter (``PutObject``); a
failure is ``States.ResultWriterFailed``.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from headwater.core.errors import ServiceError
from headwater.services.stepfunctions.asl import errors
from headwater.services.stepfunctions.asl.errors import StatesError
from headwater.services.stepfunctions.distributed.itemreader import S3Call

# AWS splits result files at 5 GB; headwater's runs are far smaller, but the numbering stays.
_STATUSES = ("SUCCEEDED", "FAILED", "PENDING")


@dataclass(frozen=True, slots=True)
class ChildResult:
    """What a result file says about one child execution."""

    execution_arn: str
    name: str
    state_machine_arn: str
    status: str  # SUCCEEDED, FAILED (also TIMED_OUT and ABORTED), or PENDING (never started)
    input: Any
    output: Any = None
    error: str | None = None
    cause: str | None = None
    start: float | None = None
    stop: float | None = None


def _iso(seconds: float | None) -> str | None:
    if seconds is None:
        return None
    moment = datetime.fromtimestamp(seconds, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def describe(child: ChildResult) -> dict[str, Any]:
    """One entry of a result file (Transformation NONE): DescribeExecution's members."""
    out: dict[str, Any] = {
        "ExecutionArn": child.execution_arn,
        "Input": orjson.dumps(child.input).decode(),
        "InputDetails": {"Included": True},
        "Name": child.name,
    }
    if child.status == "SUCCEEDED":
        out["Output"] = orjson.dumps(child.output).decode()
        out["OutputDetails"] = {"Included": True}
    if child.error is not None:
        out["Error"] = child.error
    if child.cause is not None:
        out["Cause"] = child.cause
    out["RedriveCount"] = 0
    if child.status in ("SUCCEEDED", "PENDING"):
        out["RedriveStatus"] = "NOT_REDRIVABLE"
        out["RedriveStatusReason"] = f"Execution is {child.status} and cannot be redriven"
    else:
        out["RedriveStatus"] = "REDRIVABLE"
    if child.start is not None:
        out["StartDate"] = _iso(child.start)
    out["StateMachineArn"] = child.state_machine_arn
    out["Status"] = child.status
    if child.stop is not None:
        out["StopDate"] = _iso(child.stop)
    return out


def transform(children: list[ChildResult], transformation: str) -> list[Any]:
    """The results as WriterConfig's Transformation shapes them (failed children unchanged)."""
    if transformation == "NONE":
        return [describe(c) for c in children]
    out: list[Any] = []
    for child in children:
        if child.status != "SUCCEEDED":
            out.append(describe(child))
        elif transformation == "FLATTEN" and isinstance(child.output, list):
            out.extend(child.output)
        else:
            out.append(child.output)
    return out


def _encode(values: list[Any], output_type: str) -> bytes:
    if output_type == "JSONL":
        return b"".join(orjson.dumps(v) + b"\n" for v in values)
    return orjson.dumps(values)


def writes_to_s3(writer: dict[str, Any] | None) -> bool:
    return bool(writer and writer.get("Resource"))


def preview(writer: dict[str, Any], children: list[ChildResult]) -> Any:
    """WriterConfig without a Resource: the transformed results are the Map's output."""
    config = writer.get("WriterConfig") or {}
    values = transform(children, str(config.get("Transformation", "COMPACT")))
    if config.get("OutputType") == "JSONL":
        return _encode(values, "JSONL").decode()
    return values


async def write(writer: dict[str, Any], map_run_arn: str, children: list[ChildResult],
                call: S3Call) -> dict[str, Any]:
    """Write the result files and the manifest; the Map's output. Raises ``StatesError``."""
    params = writer.get("Parameters") or {}
    bucket = params.get("Bucket")
    if not isinstance(bucket, str) or not bucket:
        raise StatesError(errors.RESULT_WRITER_FAILED,
                          "The ResultWriter Parameters must name a Bucket")
    prefix = str(params.get("Prefix") or "")
    run_id = map_run_arn.rsplit(":", 1)[-1]
    base = f"{prefix.rstrip('/')}/{run_id}" if prefix else run_id
    config = writer.get("WriterConfig") or {}
    transformation = str(config.get("Transformation", "NONE"))
    output_type = str(config.get("OutputType", "JSON"))
    extension = "jsonl" if output_type == "JSONL" else "json"
    files: dict[str, list[dict[str, Any]]] = {status: [] for status in ("FAILED", "PENDING",
                                                                         "SUCCEEDED")}
    for status in _STATUSES:
        chosen = [c for c in children if (c.status if c.status in _STATUSES else "FAILED")
                  == status]
        if not chosen:
            continue
        body = _encode(transform(chosen, transformation if status == "SUCCEEDED" else "NONE"),
                       output_type)
        key = f"{base}/{status}_0.{extension}"
        await _put(call, bucket, key, body)
        files[status].append({"Key": key, "Size": len(body)})
    manifest = {"DestinationBucket": bucket, "MapRunArn": map_run_arn, "ResultFiles": files}
    manifest_key = f"{base}/manifest.json"
    await _put(call, bucket, manifest_key, orjson.dumps(manifest))
    return {"MapRunArn": map_run_arn,
            "ResultWriterDetails": {"Bucket": bucket, "Key": manifest_key}}


async def _put(call: S3Call, bucket: str, key: str, body: bytes) -> None:
    try:
        reply = call("PutObject", {"Bucket": bucket, "Key": key, "Body": body,
                                   "ContentType": "application/json"})
        if inspect.isawaitable(reply):
            await reply
    except ServiceError as error:
        raise StatesError(errors.RESULT_WRITER_FAILED,
                          f"{error.message} (Service: S3, Status Code: {error.status}, "
                          f"Error Code: {error.code})") from None


__all__ = ["ChildResult", "describe", "preview", "transform", "write", "writes_to_s3"]
