"""In-process Lambda functions as task handlers: payloads, the lambda:invoke wrapper, AWS's
error documents, unknown functions, virtual sleeping."""

from __future__ import annotations

import json
from typing import Any

from headwater.core.clock import ManualClock
from headwater.core.ids import SequentialIds
from headwater.services.stepfunctions.asl import parse_definition
from headwater.services.stepfunctions.local_lambda import INVOKE_ARN, LocalFunctions
from headwater.services.stepfunctions.runner import Runner, RunResult

RAISE = 'def handler(event, context):\n    raise ValueError("bad " + str(event))\n'
SLOW = "def handler(event, context):\n    time.sleep(120)\n    return event\n"


def run(definition: dict[str, Any], execution_input: Any, **sources: str) -> RunResult:
    clock, ids = ManualClock(), SequentialIds()
    functions = LocalFunctions(ids, clock)
    functions.add("echo", lambda event, context: event)
    for name, source in sources.items():
        functions.add_source(name, source)
    runner = Runner(parse_definition(definition), functions.handlers(), clock=clock, ids=ids)
    return runner.run(execution_input)


def invoke(function: str, **extra: Any) -> dict[str, Any]:
    return {"StartAt": "T", "States": {"T": {
        "Type": "Task", "Resource": INVOKE_ARN, "End": True,
        "Parameters": {"FunctionName": function, "Payload.$": "$"}, **extra}}}


def test_function_arn_resource_passes_the_result_through() -> None:
    arn = "arn:aws:lambda:us-east-1:000000000000:function:echo"
    result = run({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": arn,
                                                   "End": True}}}, {"a": [1]})
    assert result.output == {"a": [1]}
    assert [e.type for e in result.history][2:5] == [
        "LambdaFunctionScheduled", "LambdaFunctionStarted", "LambdaFunctionSucceeded"]


def test_lambda_invoke_wraps_the_payload() -> None:
    result = run(invoke("echo"), {"a": 1})
    assert result.output["Payload"] == {"a": 1}
    assert result.output["StatusCode"] == 200
    assert result.output["SdkHttpMetadata"]["HttpHeaders"]["Content-Length"] == str(
        len(json.dumps({"a": 1})))
    scheduled = result.history[2]
    assert scheduled.type == "TaskScheduled"
    assert scheduled.details is not None and scheduled.details["resourceType"] == "lambda"


def test_exceptions_become_the_runtime_error_document() -> None:
    arn = "arn:aws:lambda:us-east-1:000000000000:function:boom"
    result = run({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": arn,
                                                   "End": True}}}, 1, boom=RAISE)
    assert result.error == "ValueError"
    document = json.loads(result.cause or "")
    assert document["errorMessage"] == "bad 1"
    assert document["stackTrace"] == [(
        '  File "/var/task/handler.py", line 2, in handler\n'
        '    raise ValueError("bad " + str(event))\n')]


def test_unknown_function() -> None:
    result = run(invoke("nope"), {})
    assert result.error == "Lambda.ResourceNotFoundException"
    assert result.cause is not None and result.cause.startswith(
        "Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope:$LATEST")


def test_sleeping_costs_virtual_time_only() -> None:
    result = run(invoke("slow", TimeoutSeconds=10), {}, slow=SLOW)
    assert result.error == "States.Timeout"
    result = run(invoke("slow"), {"x": 1}, slow=SLOW)
    assert result.output["Payload"] == {"x": 1}
    assert result.history[-1].timestamp - result.history[0].timestamp == 120
