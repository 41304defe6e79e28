"""The validator rejects a distributed Map's bad ItemReader, ItemBatcher and ResultWriter."""

from __future__ import annotations

from typing import Any

import pytest

from headwater.services.stepfunctions.asl import validate_definition


def problems(**fields: Any) -> list[str | None]:
    definition = {"StartAt": "M", "States": {"M": {
        "Type": "Map", "End": True, **fields,
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED"}, "StartAt": "P",
                          "States": {"P": {"Type": "Pass", "End": True}}}}}}
    return [d.location for d in validate_definition(definition) if d.severity == "ERROR"]


GET = "arn:aws:states:::s3:getObject"


@pytest.mark.parametrize(("fields", "where"), [
    ({"ItemReader": {"Resource": "arn:aws:states:::s3:nope"}}, "/States/M/ItemReader/Resource"),
    ({"ItemReader": {"Resource": GET, "ReaderConfig": {"InputType": "XML"}}},
     "/States/M/ItemReader/ReaderConfig/InputType"),
    ({"ItemReader": {"Resource": GET, "ReaderConfig": {"InputType": "CSV",
                                                       "CSVHeaderLocation": "GIVEN"}}},
     "/States/M/ItemReader/ReaderConfig/CSVHeaders"),
    ({"ItemReader": {"Resource": GET, "ReaderConfig": {"InputType": "JSON", "MaxItems": -1}}},
     "/States/M/ItemReader/ReaderConfig/MaxItems"),
    ({"ItemBatcher": {"MaxItemsPerBatch": "two"}}, "/States/M/ItemBatcher/MaxItemsPerBatch"),
    ({"ResultWriter": {}}, "/States/M/ResultWriter"),
    ({"ResultWriter": {"Resource": "arn:aws:states:::s3:getObject"}},
     "/States/M/ResultWriter/Resource"),
])
def test_bad_fields_are_reported_where_they_are(fields: dict[str, Any], where: str) -> None:
    assert problems(**fields) == [where]


def test_good_fields_pass() -> None:
    assert problems(
        ItemReader={"Resource": "arn:aws:states:::s3:listObjectsV2",
                    "Parameters": {"Bucket": "b"}, "ReaderConfig": {"MaxItems": 10}},
        ItemBatcher={"MaxItemsPerBatch": 2, "BatchInput": {"a": 1}},
        ResultWriter={"Resource": "arn:aws:states:::s3:putObject",
                      "Parameters": {"Bucket": "b"}, "WriterConfig": {"OutputType": "JSON"}},
    ) == []
