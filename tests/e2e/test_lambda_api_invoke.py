"""Invoke through boto3 against a real headwater: results, function errors, timeouts,
throttling, log tails, payload limits, a handler that calls headwater's SQS, folder mode."""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from lambda_zip import zip_app

from headwater.testing import RunningHeadwater

pytestmark = pytest.mark.e2e

ROLE = "arn:aws:iam::000000000000:role/lambda-role"
SOURCE = """
import json, os, time
import boto3

def echo(event, context):
    print("got", json.dumps(event))
    return {"event": event, "name": context.function_name, "arn": context.invoked_function_arn,
            "remaining": context.get_remaining_time_in_millis(), "memory": context.memory_limit_in_mb,
            "region": os.environ["AWS_REGION"], "stage": os.environ.get("STAGE")}

def client(event, context):
    return context.client_context.custom if context.client_context else None

def crash(event, context):
    if event.get("crash"):
        os._exit(3)
    return "alive"

def fail(event, context):
    raise RuntimeError("it broke")

def slow(event, context):
    time.sleep(event.get("sleep", 5))
    return "done"

def big(event, context):
    return "x" * event["size"]

def unserializable(event, context):
    return {1, 2}

def send(event, context):
    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName=event["queue"])["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps(event["body"]))
    return {"sent": True}
"""


def package(source: str = SOURCE) -> bytes:
    return zip_app(source)


@pytest.fixture(scope="module")
def make(lam: Any) -> Callable[..., str]:
    def create(handler: str, **kwargs: Any) -> str:
        name = f"{handler}-{uuid.uuid4().hex[:8]}"
        kwargs.setdefault("Code", {"ZipFile": package()})
        lam.create_function(
            FunctionName=name, Runtime="python3.12", Role=ROLE, Handler=f"app.{handler}", **kwargs
        )
        return name

    return create


def error(call: Callable[[], Any]) -> tuple[dict[str, Any], int]:
    with pytest.raises(ClientError) as caught:
        call()
    response = caught.value.response
    return response["Error"], response["ResponseMetadata"]["HTTPStatusCode"]


def test_result_context_and_environment(lam: Any, make: Callable[..., str]) -> None:
    name = make("echo", Environment={"Variables": {"STAGE": "dev"}}, MemorySize=256, Timeout=10)
    result = lam.invoke(FunctionName=name, Payload=json.dumps({"n": 1}))
    assert result["StatusCode"] == 200
    assert "FunctionError" not in result
    assert result["ExecutedVersion"] == "$LATEST"
    body = json.loads(result["Payload"].read())
    assert body["event"] == {"n": 1}
    assert body["name"] == name
    assert body["arn"].endswith(f":function:{name}")
    assert 0 < body["remaining"] <= 10_000
    assert (body["memory"], body["region"], body["stage"]) == ("256", "us-east-1", "dev")


def test_no_payload_is_an_empty_object(lam: Any, make: Callable[..., str]) -> None:
    name = make("echo")
    assert json.loads(lam.invoke(FunctionName=name)["Payload"].read())["event"] == {}


def test_unhandled_error_document(lam: Any, make: Callable[..., str]) -> None:
    name = make("fail")
    result = lam.invoke(FunctionName=name)
    assert result["StatusCode"] == 200
    assert result["FunctionError"] == "Unhandled"
    doc = json.loads(result["Payload"].read())
    assert (doc["errorType"], doc["errorMessage"]) == ("RuntimeError", "it broke")
    assert doc["requestId"] and isinstance(doc["stackTrace"], list)


def test_log_tail(lam: Any, make: Callable[..., str]) -> None:
    name = make("echo")
    result = lam.invoke(FunctionName=name, Payload=b'{"hello": "logs"}', LogType="Tail")
    text = base64.b64decode(result["LogResult"]).decode()
    assert text.startswith("START RequestId:") or "\nSTART RequestId:" in text
    assert 'got {"hello": "logs"}' in text
    assert "END RequestId:" in text and "REPORT RequestId:" in text


def test_timeout_kills_and_replaces_the_worker(lam: Any, make: Callable[..., str]) -> None:
    name = make("slow", Timeout=1)
    started = time.monotonic()
    result = lam.invoke(FunctionName=name, Payload=b'{"sleep": 30}')
    assert time.monotonic() - started < 10
    assert result["FunctionError"] == "Unhandled"
    doc = json.loads(result["Payload"].read())
    assert doc["errorType"] == "Sandbox.Timedout"
    assert doc["errorMessage"].endswith("Task timed out after 1.00 seconds")
    again = lam.invoke(FunctionName=name, Payload=b'{"sleep": 0}')
    assert json.loads(again["Payload"].read()) == "done"


def test_reserved_concurrency_zero_throttles(lam: Any, make: Callable[..., str]) -> None:
    name = make("echo")
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    err, status = error(lambda: lam.invoke(FunctionName=name))
    assert (err["Code"], status) == ("TooManyRequestsException", 429)
    assert err["Message"] == "Rate Exceeded."
    with pytest.raises(lam.exceptions.TooManyRequestsException) as caught:
        lam.invoke(FunctionName=name)
    assert caught.value.response["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"


def test_concurrent_calls_beyond_reservation_are_throttled(
    lam: Any, make: Callable[..., str]
) -> None:
    name = make("slow", Timeout=10)
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=1)
    lam.invoke(FunctionName=name, Payload=b'{"sleep": 0}')  # warm the one worker
    outcomes: list[str] = []

    def call() -> None:
        try:
            lam.invoke(FunctionName=name, Payload=b'{"sleep": 2.5}')
            outcomes.append("ok")
        except lam.exceptions.TooManyRequestsException:
            outcomes.append("throttled")

    first = threading.Thread(target=call)
    first.start()
    time.sleep(1.0)  # the first call holds the only worker by now
    call()
    first.join()
    assert sorted(outcomes) == ["ok", "throttled"]


def test_reservation_is_shared_by_all_versions(lam: Any, make: Callable[..., str]) -> None:
    name = make("slow", Timeout=10)
    version = lam.publish_version(FunctionName=name)["Version"]
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=1)
    lam.invoke(FunctionName=name, Qualifier=version, Payload=b'{"sleep": 0}')  # warm it
    held = threading.Thread(
        target=lambda: lam.invoke(FunctionName=name, Qualifier=version, Payload=b'{"sleep": 2.5}')
    )
    held.start()
    time.sleep(1.0)  # version 1 holds the function's only reserved slot by now
    try:
        with pytest.raises(lam.exceptions.TooManyRequestsException) as caught:
            lam.invoke(FunctionName=name, Payload=b'{"sleep": 0}')  # $LATEST
        assert caught.value.response["Reason"] == (
            "ReservedFunctionConcurrentInvocationLimitExceeded"
        )
    finally:
        held.join()
    assert json.loads(lam.invoke(FunctionName=name, Payload=b'{"sleep": 0}')["Payload"].read())


def test_invoke_body_is_labelled_json(lam: Any, make: Callable[..., str]) -> None:
    name = make("echo")
    result = lam.invoke(FunctionName=name, Payload=b'{"a": 1}')
    assert result["ResponseMetadata"]["HTTPHeaders"]["content-type"] == "application/json"
    failed = lam.invoke(FunctionName=make("fail"))
    assert failed["ResponseMetadata"]["HTTPHeaders"]["content-type"] == "application/json"

def test_payload_limits_and_bad_json(lam: Any, make: Callable[..., str]) -> None:
    name = make("echo")
    err, status = error(
        lambda: lam.invoke(FunctionName=name, Payload=json.dumps("x" * (6 * 1024 * 1024)))
    )
    assert (err["Code"], status) == ("RequestEntityTooLargeException", 413)
    assert (
        err["Message"]
        == "Request must be smaller than 6291456 bytes for the InvokeFunction operation"
    )
    err, status = error(
        lambda: lam.invoke(
            FunctionName=name, InvocationType="Event", Payload=json.dumps("x" * 300_000)
        )
    )
    assert (err["Code"], status) == ("RequestEntityTooLargeException", 413)
    assert "too large for the Event invocation type (limit 262144 bytes)" in err["Message"]
    err, status = error(lambda: lam.invoke(FunctionName=name, Payload=b"{not json"))
    assert (err["Code"], status) == ("InvalidRequestContentException", 400)


def test_response_too_large(lam: Any, make: Callable[..., str]) -> None:
    name = make("big", MemorySize=512)
    result = lam.invoke(FunctionName=name, Payload=json.dumps({"size": 6_300_000}))
    assert result["FunctionError"] == "Unhandled"
    assert json.loads(result["Payload"].read())["errorType"] == "Function.ResponseSizeTooLarge"


def test_result_that_is_not_json(lam: Any, make: Callable[..., str]) -> None:
    result = lam.invoke(FunctionName=make("unserializable"))
    assert result["FunctionError"] == "Unhandled"
    assert json.loads(result["Payload"].read())["errorType"] == "Runtime.MarshalError"


def test_dry_run_and_event(lam: Any, make: Callable[..., str]) -> None:
    name = make("echo")
    assert lam.invoke(FunctionName=name, InvocationType="DryRun")["StatusCode"] == 204
    assert lam.invoke(FunctionName=name, InvocationType="Event")["StatusCode"] == 202


def test_handler_calls_headwater_sqs(
    hw: RunningHeadwater, lam: Any, make: Callable[..., str]
) -> None:
    sqs = hw.client("sqs")
    queue = f"from-lambda-{uuid.uuid4().hex[:8]}"
    url = sqs.create_queue(QueueName=queue)["QueueUrl"]
    name = make("send", Timeout=30)
    result = lam.invoke(FunctionName=name, Payload=json.dumps({"queue": queue, "body": {"k": 1}}))
    assert "FunctionError" not in result, result["Payload"].read()
    [message] = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)["Messages"]
    assert json.loads(message["Body"]) == {"k": 1}


def test_folder_mode_picks_up_edits(lam: Any, tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("def handler(event, context):\n    return 'v1'\n")
    name = f"folder-{uuid.uuid4().hex[:8]}"
    lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"S3Bucket": "hot-reload", "S3Key": str(tmp_path)},
    )
    assert json.loads(lam.invoke(FunctionName=name)["Payload"].read()) == "v1"
    time.sleep(0.05)
    (tmp_path / "app.py").write_text("def handler(event, context):\n    return 'version two'\n")
    deadline = time.monotonic() + 10
    while True:
        got = json.loads(lam.invoke(FunctionName=name)["Payload"].read())
        if got == "version two" or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert got == "version two"


def test_headwater_logs_prints_each_invocation(
    hw: RunningHeadwater, lam: Any, make: Callable[..., str]
) -> None:
    from click.testing import CliRunner

    from headwater.cli import main

    name = make("echo")
    lam.invoke(FunctionName=name, Payload=b'{"first": 1}')
    lam.invoke(FunctionName=name, Payload=b'{"second": 2}')
    result = CliRunner().invoke(main, ["logs", name, "--data-dir", str(hw.data_dir)])
    assert result.exit_code == 0
    assert result.output.count("START RequestId:") == 2
    assert 'got {"second": 2}' in result.output and "REPORT RequestId:" in result.output
    last = CliRunner().invoke(main, ["logs", name, "--data-dir", str(hw.data_dir), "--tail", "1"])
    assert 'got {"first": 1}' not in last.output and 'got {"second": 2}' in last.output


def test_client_context_reaches_the_handler(lam: Any, make: Callable[..., str]) -> None:
    name = make("client")
    encoded = base64.b64encode(json.dumps({"custom": {"user": "ada"}}).encode()).decode()
    result = lam.invoke(FunctionName=name, ClientContext=encoded)
    assert json.loads(result["Payload"].read()) == {"user": "ada"}


def test_a_crashing_handler_does_not_take_the_server_down(
    lam: Any, make: Callable[..., str]
) -> None:
    name = make("crash")
    result = lam.invoke(FunctionName=name, Payload=b'{"crash": true}')
    assert result["FunctionError"] == "Unhandled"
    doc = json.loads(result["Payload"].read())
    assert doc["errorType"] == "Runtime.ExitError"
    assert doc["errorMessage"].endswith("Runtime exited with error: exit status 3")
    assert json.loads(lam.invoke(FunctionName=name)["Payload"].read()) == "alive"
