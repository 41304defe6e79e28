"""Definition checks for a distributed Map's ItemReader, ItemBatcher and ResultWriter, run by
the parser so CreateStateMachine / ValidateStateMachineDefinition reject a bad field instead
of the execution failing later.

Follows the field lists of input-output-itemreader.html, input-output-itembatcher.html and
input-output-resultwriter.html. The wording follows the validator's other messages ("The
value for the field 'X' must be ..."); AWS's exact text for these fields is not known.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

READER_RESOURCES = ("arn:aws:states:::s3:getObject", "arn:aws:states:::s3:listObjectsV2")
INPUT_TYPES = ("CSV", "JSON", "JSONL", "MANIFEST", "PARQUET")
Problem = Callable[[str, str], None]


def check_distributed_fields(raw: dict[str, Any], problem: Problem) -> None:
    """Report each problem as ``problem(message, field path)``."""
    reader = raw.get("ItemReader")
    if reader is not None:
        _reader(reader, problem)
    batcher = raw.get("ItemBatcher")
    if batcher is not None:
        if not isinstance(batcher, dict):
            problem("The value for the field 'ItemBatcher' must be an OBJECT", "ItemBatcher")
        else:
            for name in ("MaxItemsPerBatch", "MaxInputBytesPerBatch"):
                _non_negative(batcher, name, f"ItemBatcher/{name}", problem)
    writer = raw.get("ResultWriter")
    if writer is not None:
        if not isinstance(writer, dict):
            problem("The value for the field 'ResultWriter' must be an OBJECT", "ResultWriter")
        elif "Resource" not in writer and "WriterConfig" not in writer:
            problem("The field 'ResultWriter' must have a Resource or a WriterConfig",
                    "ResultWriter")
        elif writer.get("Resource") not in (None, "arn:aws:states:::s3:putObject"):
            problem("The value for the field 'Resource' must be "
                    "arn:aws:states:::s3:putObject", "ResultWriter/Resource")


def _reader(reader: Any, problem: Problem) -> None:
    if not isinstance(reader, dict):
        problem("The value for the field 'ItemReader' must be an OBJECT", "ItemReader")
        return
    resource = reader.get("Resource")
    if resource not in READER_RESOURCES:
        problem(f"The value for the field 'Resource' must be one of {list(READER_RESOURCES)}",
                "ItemReader/Resource")
    config = reader.get("ReaderConfig") or {}
    if not isinstance(config, dict):
        problem("The value for the field 'ReaderConfig' must be an OBJECT",
                "ItemReader/ReaderConfig")
        return
    kind = config.get("InputType")
    if resource == "arn:aws:states:::s3:getObject" and kind not in INPUT_TYPES:
        problem(f"The value for the field 'InputType' must be one of [{', '.join(INPUT_TYPES)}]",
                "ItemReader/ReaderConfig/InputType")
    location = config.get("CSVHeaderLocation")
    if location not in (None, "FIRST_ROW", "GIVEN"):
        problem("The value for the field 'CSVHeaderLocation' must be one of [FIRST_ROW, GIVEN]",
                "ItemReader/ReaderConfig/CSVHeaderLocation")
    headers = config.get("CSVHeaders")
    if location == "GIVEN" and not (isinstance(headers, list) and headers and
                                    all(isinstance(h, str) for h in headers)):
        problem("The field 'CSVHeaders' must be a non-empty array of strings when "
                "'CSVHeaderLocation' is GIVEN", "ItemReader/ReaderConfig/CSVHeaders")
    _non_negative(config, "MaxItems", "ItemReader/ReaderConfig/MaxItems", problem)


def _non_negative(block: dict[str, Any], name: str, where: str, problem: Problem) -> None:
    value = block.get(name)
    if value is None or (isinstance(value, str) and value.startswith("{%")):
        return
    if type(value) is not int or value < 0:
        problem(f"The value for the field '{name}' must be a non-negative INTEGER", where)


__all__ = ["check_distributed_fields"]
