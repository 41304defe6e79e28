"""The ItemReader of a distributed map: the items, read from headwater's S3.

Implements https://docs.aws.amazon.com/step-functions/latest/dg/input-output-itemreader.html
for ``arn:aws:states:::s3:listObjectsV2`` (one item per object: ``Etag``, ``Key``,
``LastModified`` as epoch seconds, ``Size``, ``StorageClass``, as the Map receives them) and
``arn:aws:states:::s3:getObject`` with ReaderConfig InputType CSV (CSVHeaderLocation
FIRST_ROW or GIVEN with CSVHeaders, CSVDelimiter), JSON (a top-level array), JSONL (one value a
line) and MANIFEST (an S3 Inventory ``manifest.json``: every CSV data file it names, each row
``{"Bucket", "Key"}``); MaxItems keeps the first N. PARQUET is not read.

S3 is reached the way ``aws-sdk:s3:*`` tasks reach it: through the S3 adapter with the API's
member names (``Integrations.call``), so nothing here knows S3's internals. A failure is
``States.ItemReaderFailed`` with AWS's cause where it is known (a JSON object that is not an
array: ``Attempting to map over non-iterable node.``).
"""

from __future__ import annotations

import csv
import gzip
import inspect
import io
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import orjson

from headwater.core.errors import ServiceError
from headwater.services.stepfunctions.asl import errors
from headwater.services.stepfunctions.asl.errors import StatesError

# Calls an S3 operation by name with the API's members; the reply may be awaitable.
S3Call = Callable[[str, dict[str, Any]], Any]

NON_ITERABLE = "Attempting to map over non-iterable node."


def failed(cause: str) -> StatesError:
    return StatesError(errors.ITEM_READER_FAILED, cause)


async def _resolve(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


async def read_items(reader: dict[str, Any], call: S3Call) -> list[Any]:
    """The items the reader gives, MaxItems applied; raises ``StatesError``."""
    resource = str(reader.get("Resource") or "")
    params = reader.get("Parameters")
    params = dict(params) if isinstance(params, dict) else {}
    config = reader.get("ReaderConfig") or {}
    max_items = config.get("MaxItems")
    action = resource.rsplit(":", 1)[-1]
    if not resource.startswith("arn:aws:states:::s3:"):
        raise failed(f"headwater does not implement the ItemReader resource {resource!r}")
    try:
        if action == "listObjectsV2":
            items = await _list_objects(params, call, max_items)
        elif action == "getObject":
            body = await _get_body(params, call)
            items = await _parse(body, config, call)
        else:
            raise failed(f"The ItemReader resource {resource!r} is not supported")
    except ServiceError as error:
        raise failed(_sdk_cause(error)) from None
    if isinstance(max_items, int) and max_items > 0:
        items = items[:max_items]
    return items


def _sdk_cause(error: ServiceError) -> str:
    return f"{error.message} (Service: S3, Status Code: {error.status}, Error Code: " \
           f"{error.code})"


async def _get_body(params: dict[str, Any], call: S3Call) -> bytes:
    reply = await _resolve(call("GetObject", params))
    body = reply.get("Body", b"")
    if isinstance(body, (bytes, bytearray)):
        return bytes(body)
    if isinstance(body, str):
        return body.encode()
    if hasattr(body, "__aiter__"):
        chunks = [bytes(chunk) async for chunk in body]
        return b"".join(chunks)
    if hasattr(body, "read"):
        return bytes(await _resolve(body.read()))
    return b"".join(bytes(chunk) for chunk in body)


async def _list_objects(params: dict[str, Any], call: S3Call,
                        max_items: int | None) -> list[Any]:
    items: list[Any] = []
    request = {k: v for k, v in params.items() if k in ("Bucket", "Prefix", "StartAfter",
                                                        "Delimiter", "RequestPayer")}
    while True:
        page = await _resolve(call("ListObjectsV2", request))
        for entry in page.get("Contents") or []:
            items.append(_object_item(entry))
        if isinstance(max_items, int) and 0 < max_items <= len(items):
            return items
        token = page.get("NextContinuationToken")
        if not page.get("IsTruncated") or not token:
            return items
        request["ContinuationToken"] = token


def _object_item(entry: dict[str, Any]) -> dict[str, Any]:
    # AWS quirk: the item names the entity tag "Etag" (not ListObjectsV2's "ETag") and gives
    # LastModified as epoch seconds.
    modified = entry.get("LastModified")
    if isinstance(modified, datetime):
        seconds: Any = int(modified.timestamp())
    elif isinstance(modified, (int, float)):
        seconds = int(modified)
    else:
        seconds = modified
    return {"Etag": entry.get("ETag"), "Key": entry.get("Key"), "LastModified": seconds,
            "Size": entry.get("Size"), "StorageClass": entry.get("StorageClass", "STANDARD")}


async def _parse(body: bytes, config: dict[str, Any], call: S3Call) -> list[Any]:
    kind = config.get("InputType")
    if kind == "JSON":
        return _json_items(body)
    if kind == "JSONL":
        return _jsonl_items(body)
    if kind == "CSV":
        return csv_items(body.decode("utf-8-sig", errors="replace"), config)
    if kind == "MANIFEST":
        return await _manifest_items(body, call)
    if kind is None:
        raise failed("The field 'InputType' is required in ReaderConfig for s3:getObject")
    raise failed(f"headwater does not read InputType {kind!r} yet")


def _json_items(body: bytes) -> list[Any]:
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise failed(f"The file is not valid JSON: {exc}") from None
    if not isinstance(value, list):
        raise failed(NON_ITERABLE)
    return value


def _jsonl_items(body: bytes) -> list[Any]:
    items = []
    for number, line in enumerate(body.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            items.append(orjson.loads(line))
        except orjson.JSONDecodeError:
            raise failed(f"The line {number} of the JSONL file is not valid JSON") from None
    return items


def csv_items(text: str, config: dict[str, Any]) -> list[dict[str, str]]:
    """Rows as objects keyed by the headers. A row with more fields than headers keeps the
    first ones; a short row gets empty strings (the conformance recording shows both)."""
    delimiter = {"COMMA": ",", "PIPE": "|", "SEMICOLON": ";", "SPACE": " ",
                 "TAB": "\t"}.get(str(config.get("CSVDelimiter") or "COMMA"), ",")
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    location = config.get("CSVHeaderLocation", "FIRST_ROW")
    if location == "GIVEN":
        headers = config.get("CSVHeaders")
        if not isinstance(headers, list) or not headers:
            raise failed("CSVHeaders must be given when CSVHeaderLocation is GIVEN")
        headers = [str(h) for h in headers]
    else:
        if not rows:
            return []
        headers, rows = rows[0], rows[1:]
    if len(set(headers)) != len(headers):
        raise failed("The CSV headers are not unique")
    return [{h: (row[i] if i < len(row) else "") for i, h in enumerate(headers)}
            for row in rows if row]


async def _manifest_items(body: bytes, call: S3Call) -> list[Any]:
    """An S3 Inventory manifest: its CSV data files (gzipped), each row Bucket, Key, ..."""
    try:
        manifest = orjson.loads(body)
        files = manifest["files"]
        source_bucket = manifest.get("sourceBucket")
        destination = str(manifest.get("destinationBucket", "")).split(":")[-1]
        if manifest.get("fileFormat", "CSV") != "CSV":
            raise failed("Only CSV S3 Inventory reports can be read")
    except (orjson.JSONDecodeError, KeyError, TypeError):
        raise failed("The manifest is not a valid S3 Inventory manifest.json") from None
    items: list[Any] = []
    for entry in files:
        data = await _get_body({"Bucket": destination, "Key": entry["key"]}, call)
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        for row in csv.reader(io.StringIO(data.decode("utf-8", errors="replace"))):
            if len(row) >= 2:
                items.append({"Bucket": row[0] or source_bucket, "Key": row[1]})
    return items


Reader = Callable[[dict[str, Any]], Awaitable[list[Any]]]

__all__ = ["NON_ITERABLE", "S3Call", "csv_items", "failed", "read_items"]
