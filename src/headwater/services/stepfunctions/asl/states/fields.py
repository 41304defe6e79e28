"""Which fields each state type accepts in each query language, and the Map state's builder
(the state with the most fields).

Implements the per-type field tables of the ASL specification
(https://states-language.net/spec.html) with the JSONata additions of
https://docs.aws.amazon.com/step-functions/latest/dg/transforming-data.html : JSONPath-only
fields (InputPath, Parameters, ResultPath, ...) are rejected in JSONata states and vice versa.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from headwater.services.stepfunctions.asl.jsonata_ import is_expression
from headwater.services.stepfunctions.asl.states.base import JSONATA, Fields
from headwater.services.stepfunctions.asl.states.composite import Map
from headwater.services.stepfunctions.asl.states.distributed import check_distributed_fields

if TYPE_CHECKING:
    from headwater.services.stepfunctions.asl.parser import _Parser
    from headwater.services.stepfunctions.asl.states.base import State

_COMMON = {"Type", "Comment", "QueryLanguage"}
_FLOW = {"Next", "End"}
_IO = {"InputPath", "OutputPath"}
_RESULT = {"Parameters", "ResultPath", "ResultSelector"}
_ERRORS = {"Retry", "Catch"}
_JSONATA = {"Arguments", "Output", "Assign"}

ALLOWED: dict[str, set[str]] = {
    "Pass": _FLOW | _IO | {"Parameters", "ResultPath", "Result", "Assign", "Output"},
    "Task": _FLOW | _IO | _RESULT | _ERRORS | _JSONATA | {
        "Resource", "TimeoutSeconds", "TimeoutSecondsPath", "HeartbeatSeconds",
        "HeartbeatSecondsPath", "Credentials"},
    "Choice": _IO | {"Choices", "Default", "Assign", "Output"},
    "Wait": _FLOW | _IO | {"Seconds", "Timestamp", "SecondsPath", "TimestampPath", "Assign",
                           "Output"},
    "Succeed": _IO | {"Output"},
    "Fail": {"Error", "Cause", "ErrorPath", "CausePath"},
    "Parallel": _FLOW | _IO | _RESULT | _ERRORS | _JSONATA | {"Branches"},
    "Map": _FLOW | _IO | _RESULT | _ERRORS | _JSONATA | {
        "ItemProcessor", "Iterator", "ItemsPath", "Items", "ItemSelector", "MaxConcurrency",
        "MaxConcurrencyPath", "ItemReader", "ItemBatcher", "ResultWriter",
        "ToleratedFailurePercentage", "ToleratedFailurePercentagePath", "ToleratedFailureCount",
        "ToleratedFailureCountPath", "Label"},
}
JSONPATH_ONLY = {"InputPath", "OutputPath", "Parameters", "ResultPath", "ResultSelector",
                 "Result", "ItemsPath", "SecondsPath", "TimestampPath", "TimeoutSecondsPath",
                 "HeartbeatSecondsPath", "MaxConcurrencyPath", "ToleratedFailurePercentagePath",
                 "ToleratedFailureCountPath", "ErrorPath", "CausePath", "Iterator"}
JSONATA_ONLY = {"Arguments", "Output", "Items"}


def check_allowed(f: Fields, kind: str, language: str) -> None:
    allowed = ALLOWED[kind] | _COMMON
    for key in f.raw:
        if key not in allowed:
            f.problem(f"Field '{key}' is not supported", key)
        elif language == JSONATA and key in JSONPATH_ONLY:
            f.problem(f"The field '{key}' is not supported for the JSONata query language", key)
        elif language != JSONATA and key in JSONATA_ONLY:
            f.problem(f"The field '{key}' is not supported for the JSONPath query language. "
                      f"Set QueryLanguage to JSONata to use it", key)


def number(item: dict[str, Any], key: str, default: Any, *, minimum: float,
           integer: bool = False) -> Any:
    if key not in item:
        return default
    value = item[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (
            integer and not isinstance(value, int)):
        raise ValueError(f"The value for the field '{key}' must be a "
                         f"{'INTEGER' if integer else 'NUMBER'}")
    if value < minimum:
        raise ValueError(f"The value for the field '{key}' must be at least {minimum}")
    return value


def choice(item: dict[str, Any], key: str, options: tuple[str, ...], default: str) -> str:
    value = item.get(key, default)
    if value not in options:
        raise ValueError(f"The value for the field '{key}' must be one of {list(options)}")
    return str(value)


def build_map(parser: _Parser, f: Fields, name: str, language: str,
              common: dict[str, Any]) -> State:
    jsonata = language == JSONATA
    raw = f.raw
    key = "ItemProcessor" if "ItemProcessor" in raw else "Iterator"
    processor_raw = raw.get(key)
    if "ItemProcessor" in raw and "Iterator" in raw:
        f.problem("Only one of 'ItemProcessor' or 'Iterator' can be specified")
    mode, execution_type = "INLINE", "STANDARD"
    processor = None
    if not isinstance(processor_raw, dict):
        f.problem("These fields are required: [ItemProcessor]", key)
    else:
        config = processor_raw.get("ProcessorConfig") or {}
        if isinstance(config, dict):
            mode = config.get("Mode", "INLINE")
            execution_type = config.get("ExecutionType", "STANDARD")
            if mode not in ("INLINE", "DISTRIBUTED"):
                f.problem("The value for the field 'Mode' must be one of [INLINE, DISTRIBUTED]",
                          f"{key}/ProcessorConfig/Mode")
            if execution_type not in ("STANDARD", "EXPRESS"):
                f.problem("The value for the field 'ExecutionType' must be one of "
                          "[STANDARD, EXPRESS]", f"{key}/ProcessorConfig/ExecutionType")
        body = {k: v for k, v in processor_raw.items() if k != "ProcessorConfig"}
        location = f"{f.location}/{key}"
        sub_language = parser._language(body, language, location)
        processor = parser.branch(body, sub_language, location)
    values: dict[str, Any] = {}
    if jsonata:
        if "Items" in raw:
            values["items"] = f.template("Items", True)
        if "ItemSelector" in raw:
            values["item_selector"] = f.template("ItemSelector", True)
    else:
        values["items_path"] = f.path("ItemsPath")
        selector_key = "ItemSelector" if "ItemSelector" in raw else "Parameters"
        if "ItemSelector" in raw and "Parameters" in raw:
            f.problem("Only one of 'ItemSelector' or 'Parameters' can be specified")
        if selector_key in raw:
            values["item_selector"] = f.template(selector_key, False)
    for field, attr, minimum in (("MaxConcurrency", "max_concurrency", 0),
                                 ("ToleratedFailurePercentage", "tolerated_failure_percentage", 0),
                                 ("ToleratedFailureCount", "tolerated_failure_count", 0)):
        value = raw.get(field)
        if field in raw and field + "Path" in raw:
            f.problem(f"Only one of '{field}' or '{field}Path' can be specified")
        if jsonata and is_expression(value):
            values[attr] = f.template(field, True)
        elif value is not None:
            try:
                values[attr] = number(raw, field, None, minimum=minimum,
                                      integer=field != "ToleratedFailurePercentage")
            except ValueError as exc:
                f.problem(str(exc), field)
            if field == "ToleratedFailurePercentage" and isinstance(value, (int, float)) and \
                    value > 100:
                f.problem("The value for the field 'ToleratedFailurePercentage' must be at most "
                          "100", field)
        if not jsonata:
            values[attr + "_path"] = f.path(field + "Path")
    if values.get("max_concurrency") is None:
        values["max_concurrency"] = 0
    label = raw.get("Label")
    if label is not None and (not isinstance(label, str) or len(label) > 40):
        f.problem("The value for the field 'Label' must be a STRING of at most 40 characters",
                  "Label")
        label = None
    check_distributed_fields(raw, f.problem)
    return Map(name, language, processor=processor, mode=mode, execution_type=execution_type,
               label=label, item_reader=raw.get("ItemReader"),
               item_batcher=raw.get("ItemBatcher"), result_writer=raw.get("ResultWriter"),
               **values, **common)
