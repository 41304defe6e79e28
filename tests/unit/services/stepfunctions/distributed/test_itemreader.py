"""The ItemReader's formats: CSV (header row or given, delimiters, short and long rows), JSON,
JSONL, S3 Inventory manifests, listObjectsV2 entries, MaxItems, and AWS's failure causes."""

from __future__ import annotations

import asyncio
import gzip
from typing import Any

import orjson
import pytest

from headwater.core.errors import ServiceError
from headwater.services.stepfunctions.asl.errors import StatesError
from headwater.services.stepfunctions.distributed.itemreader import csv_items, read_items


def s3_with(objects: dict[tuple[str, str], bytes]) -> Any:
    def call(operation: str, params: dict[str, Any]) -> Any:
        if operation == "ListObjectsV2":
            start = int(params.get("ContinuationToken") or 0)
            keys = sorted(k for b, k in objects if b == params["Bucket"])
            page = keys[start:start + 2]  # small pages: the reader must follow the token
            out: dict[str, Any] = {
                "Contents": [{"Key": k, "ETag": '"abc"', "Size": 3, "StorageClass": "STANDARD",
                              "LastModified": 1_700_000_123.9} for k in page],
                "IsTruncated": start + 2 < len(keys)}
            if out["IsTruncated"]:
                out["NextContinuationToken"] = str(start + 2)
            return out
        body = objects.get((params["Bucket"], params["Key"]))
        if body is None:
            raise ServiceError("NoSuchKey", "The specified key does not exist.", 404)

        async def reply() -> dict[str, Any]:  # the adapter may answer asynchronously
            return {"Body": body}

        return reply()

    return call


def read(reader: dict[str, Any], objects: dict[tuple[str, str], bytes]) -> list[Any]:
    return asyncio.run(read_items(reader, s3_with(objects)))


def get(config: dict[str, Any]) -> dict[str, Any]:
    return {"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": config,
            "Parameters": {"Bucket": "b", "Key": "k"}}


def test_csv_given_headers_keep_short_and_long_rows() -> None:
    text = "Value1,Value2,Value3\n,,,\nNull,None,\n   \n"
    assert csv_items(text, {"CSVHeaderLocation": "GIVEN", "CSVHeaders": ["H1", "H2", "H3"]}) \
        == [{"H1": "Value1", "H2": "Value2", "H3": "Value3"}, {"H1": "", "H2": "", "H3": ""},
            {"H1": "Null", "H2": "None", "H3": ""}, {"H1": "   ", "H2": "", "H3": ""}]


def test_csv_first_row_delimiter_and_max_items() -> None:
    body = b"a|b\n1|2\n3|4\n"
    assert read(get({"InputType": "CSV", "CSVDelimiter": "PIPE", "MaxItems": 1}),
                {("b", "k"): body}) == [{"a": "1", "b": "2"}]


def test_json_and_jsonl() -> None:
    assert read(get({"InputType": "JSON"}), {("b", "k"): b"[1, {\"a\": 2}]"}) == [1, {"a": 2}]
    assert read(get({"InputType": "JSONL"}), {("b", "k"): b'{"a": 1}\n\n[2]\n'}) == [
        {"a": 1}, [2]]


def test_a_json_object_is_not_iterable() -> None:
    with pytest.raises(StatesError) as caught:
        read(get({"InputType": "JSON"}), {("b", "k"): b'{"Hello": "world"}'})
    assert caught.value.error == "States.ItemReaderFailed"
    assert caught.value.cause == "Attempting to map over non-iterable node."


def test_a_missing_object_fails_the_reader() -> None:
    with pytest.raises(StatesError) as caught:
        read(get({"InputType": "JSON"}), {})
    assert caught.value.error == "States.ItemReaderFailed"
    assert "NoSuchKey" in (caught.value.cause or "")


def test_list_objects_follows_pages_and_shapes_items_as_aws() -> None:
    objects = {("b", f"k{i}"): b"abc" for i in range(5)}
    items = read({"Resource": "arn:aws:states:::s3:listObjectsV2",
                  "Parameters": {"Bucket": "b"}, "ReaderConfig": {"MaxItems": 3}}, objects)
    assert [i["Key"] for i in items] == ["k0", "k1", "k2"]
    assert items[0] == {"Etag": '"abc"', "Key": "k0", "LastModified": 1_700_000_123,
                        "Size": 3, "StorageClass": "STANDARD"}


def test_an_inventory_manifest_lists_its_data_files() -> None:
    manifest = {"sourceBucket": "src", "destinationBucket": "arn:aws:s3:::inv",
                "fileFormat": "CSV", "files": [{"key": "data/1.csv.gz"}]}
    objects = {("b", "k"): orjson.dumps(manifest),
               ("inv", "data/1.csv.gz"): gzip.compress(b'"src","a.txt","1"\n"src","b.txt","2"\n')}
    assert read(get({"InputType": "MANIFEST"}), objects) == [
        {"Bucket": "src", "Key": "a.txt"}, {"Bucket": "src", "Key": "b.txt"}]
