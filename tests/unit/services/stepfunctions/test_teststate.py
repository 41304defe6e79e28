"""TestState's inspection data, on an in-memory driver: what each data-flow stage made of
the state's input and result, and the variables after the state."""

from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace
from typing import Any

import orjson

from headwater.core.clock import ManualClock
from headwater.core.ids import SequentialIds
from headwater.services.stepfunctions.asl import parse_definition
from headwater.services.stepfunctions.driver import Driver
from headwater.services.stepfunctions.integrations import Integrations
from headwater.services.stepfunctions.store import SfnStore
from headwater.services.stepfunctions.teststate import test_state as run_test_state
from headwater.store import open_store


def _test_state(**params: Any) -> dict[str, Any]:
    clock = ManualClock(1_700_000_000.0)
    ids = SequentialIds()
    store = SfnStore(open_store(None))
    integrations = Integrations(clock, ids, "us-east-1", "000000000000")
    driver = Driver(store, clock, ids, integrations,
                    lambda sha: parse_definition(store.definition(sha)))
    sfn: Any = SimpleNamespace(region="us-east-1", account="000000000000", ids=ids,
                               driver=driver)
    params.setdefault("roleArn", "arn:aws:iam::000000000000:role/r")
    params["definition"] = json.dumps(params["definition"])
    return asyncio.run(run_test_state(sfn, params))


TASK = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "InputPath": "$.order",
        "Parameters": {"FunctionName": "f", "Payload": {"id.$": "$.id", "who.$": "$customer"}},
        "ResultSelector": {"total.$": "$.Payload.total"},
        "ResultPath": "$.priced", "Assign": {"lastTotal.$": "$.total"}, "End": True}
MOCK = {"result": '{"Payload": {"total": 12}, "StatusCode": 200}'}
INPUT = '{"order": {"id": 7}, "note": "x"}'


def test_debug_reports_every_data_flow_stage() -> None:
    reply = _test_state(definition=TASK, input=INPUT, mock=MOCK, inspectionLevel="DEBUG",
                        variables='{"customer": "ann"}')
    data = {key: orjson.loads(value) for key, value in reply["inspectionData"].items()}
    assert data == {
        "input": {"order": {"id": 7}, "note": "x"},
        "afterInputPath": {"id": 7},
        "afterParameters": {"FunctionName": "f", "Payload": {"id": 7, "who": "ann"}},
        "result": {"Payload": {"total": 12}, "StatusCode": 200},
        "afterResultSelector": {"total": 12},
        # ResultPath puts the result into the state's raw input, not what InputPath chose.
        "afterResultPath": {"order": {"id": 7}, "note": "x", "priced": {"total": 12}},
        "variables": {"customer": "ann", "lastTotal": 12},
    }
    assert orjson.loads(reply["output"]) == data["afterResultPath"]


def test_info_has_no_inspection_data_and_trace_matches_debug() -> None:
    info = _test_state(definition=TASK, input=INPUT, mock=MOCK, variables='{"customer": "a"}')
    assert "inspectionData" not in info and info["status"] == "SUCCEEDED"
    debug = _test_state(definition=TASK, input=INPUT, mock=MOCK, inspectionLevel="DEBUG",
                        variables='{"customer": "a"}')
    # No HTTP Task in headwater: TRACE has no request/response to add, revealSecrets no secret.
    trace = _test_state(definition=TASK, input=INPUT, mock=MOCK, inspectionLevel="TRACE",
                        variables='{"customer": "a"}', revealSecrets=True)
    assert trace["inspectionData"] == debug["inspectionData"]


def test_jsonata_reports_arguments_and_no_jsonpath_stages() -> None:
    state = {"Type": "Task", "QueryLanguage": "JSONata",
             "Resource": "arn:aws:states:::lambda:invoke",
             "Arguments": {"FunctionName": "f", "Payload": "{% $states.input.n * $k %}"},
             "Assign": {"seen": "{% $states.result.Payload %}"},
             "Output": "{% $states.result.Payload %}", "End": True}
    reply = _test_state(definition=state, input='{"n": 3}', variables='{"k": 2}',
                        mock={"result": '{"Payload": 6}'}, inspectionLevel="DEBUG")
    data = reply["inspectionData"]
    assert set(data) == {"input", "afterArguments", "result", "variables"}
    assert orjson.loads(data["afterArguments"]) == {"FunctionName": "f", "Payload": 6}
    assert orjson.loads(data["variables"]) == {"k": 2, "seen": 6}
