"""The local process-pool executor, with real worker processes."""

from __future__ import annotations

import asyncio
import io
import json
import time
import zipfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

from headwater.runtime.code import extract_zip
from headwater.runtime.executor import THROTTLE_RESERVED, FunctionSpec, InvocationContext
from headwater.runtime.local import LocalExecutor

T = TypeVar("T")
MakeSpec = Callable[..., FunctionSpec]


def run(body: Callable[[LocalExecutor], Awaitable[T]], **options: Any) -> T:
    async def main() -> T:
        async with LocalExecutor(**options) as executor:
            return await body(executor)

    return asyncio.run(main())


def ctx(request_id: str = "11111111-2222-4333-8444-555555555555", **kw: Any) -> InvocationContext:
    return InvocationContext(request_id, **kw)


def test_identity_round_trip_and_lambda_log_lines(make_spec: MakeSpec) -> None:
    spec = make_spec()

    async def body(ex: LocalExecutor) -> Any:
        first = await ex.invoke(spec, b'{"a": [1, 2.5, "x"]}', ctx("req-1"))
        second = await ex.invoke(spec, b'"again"', ctx("req-2"))
        return first, second, ex.worker_count(spec)

    first, second, workers = run(body)
    assert first.ok and first.error is None and first.function_error is None
    assert json.loads(first.payload) == {"a": [1, 2.5, "x"]}
    assert second.payload == b'"again"'
    assert workers == 1  # the second call reused the warm worker
    # Cold start: output of the import comes first, then START, END and REPORT with Init Duration.
    assert first.logs.startswith("loading handlers\nSTART RequestId: req-1 Version: $LATEST\n")
    assert "END RequestId: req-1\n" in first.logs
    report = first.logs.splitlines()[-1]
    assert report.startswith("REPORT RequestId: req-1\tDuration: ")
    assert "\tBilled Duration: " in report and "\tMemory Size: 128 MB\tMax Memory Used: " in report
    assert "\tInit Duration: " in report and first.init_duration_ms is not None
    # Warm call: no import output, no Init Duration.
    assert second.logs.startswith("START RequestId: req-2 Version: $LATEST\n")
    assert "Init Duration" not in second.logs and second.init_duration_ms is None
    assert second.billed_duration_ms >= 1 and second.max_memory_used_mb > 0


def test_context_and_environment(make_spec: MakeSpec, code_dir: Path) -> None:
    spec = make_spec(
        "handlers.context_info",
        memory_size=256,
        timeout=7,
        environment={"GREETING": "hi", "AWS_REGION": "user-cannot-override"},
        region="eu-west-1",
        endpoint_url="http://127.0.0.1:4566",
        access_key_id="AKIDLOCAL",
        secret_access_key="s3cret",
    )
    arn = spec.function_arn + ":live"
    result = run(lambda ex: ex.invoke(spec, b"{}", ctx("rid-7", invoked_function_arn=arn)))
    info = json.loads(result.payload)
    assert info["function_name"] == "fn"
    assert info["function_version"] == "$LATEST"
    assert info["invoked_function_arn"] == arn
    assert info["memory_limit_in_mb"] == "256"  # a string, as in Lambda
    assert info["aws_request_id"] == "rid-7"
    assert info["log_group_name"] == "/aws/lambda/fn"
    assert info["log_stream_name"].endswith("[$LATEST]" + info["log_stream_name"][-32:])
    assert 5000 < info["remaining"] <= 7000
    assert info["env"] == {
        "AWS_LAMBDA_FUNCTION_NAME": "fn",
        "AWS_REGION": "eu-west-1",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:4566",
        "AWS_ACCESS_KEY_ID": "AKIDLOCAL",
        "AWS_SECRET_ACCESS_KEY": "s3cret",
        "GREETING": "hi",
        "HEADWATER_CREDENTIALS": None,  # the server's own settings never reach user code
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
    }
    assert Path(info["cwd"]) == code_dir and Path(info["path0"]) == code_dir


def test_exception_is_shaped_as_lambda_shapes_it(make_spec: MakeSpec) -> None:
    result = run(lambda ex: ex.invoke(make_spec("handlers.fail"), b"42", ctx("req-9")))
    assert result.function_error == "Unhandled"
    doc = json.loads(result.payload)
    assert list(doc) == ["errorMessage", "errorType", "requestId", "stackTrace"]
    assert doc["errorMessage"] == "the answer is 42"
    assert doc["errorType"] == "ValueError"
    assert doc["requestId"] == "req-9"
    assert len(doc["stackTrace"]) == 1  # only the user's frame, none of the host's
    assert doc["stackTrace"][0].startswith('  File "') and ", in fail\n" in doc["stackTrace"][0]
    assert result.error is not None and result.error.error_type == "ValueError"
    # The runtime's [ERROR] entry, with the traceback indented by no-break spaces.
    assert (
        "[ERROR] ValueError: the answer is 42\nTraceback (most recent call last):\n\u00a0\u00a0File"
        in result.logs
    )


def test_output_of_every_kind_is_captured_in_order(make_spec: MakeSpec) -> None:
    result = run(lambda ex: ex.invoke(make_spec("handlers.chatty"), b"{}", ctx("req-c")))
    body = result.logs.split("START RequestId: req-c Version: $LATEST\n")[1].split("END RequestId")[
        0
    ]
    lines = body.splitlines()
    assert lines[0] == "to stdout" and lines[1] == "to stderr"
    assert lines[2].startswith("[WARNING]\t") and lines[2].endswith("\treq-c\tlogged 42")
    assert lines[3] == "raw fd write"


def test_timeout_kills_and_replaces_the_worker(make_spec: MakeSpec) -> None:
    spec = make_spec("handlers.sleepy", timeout=0.5)

    async def body(ex: LocalExecutor) -> Any:
        await ex.invoke(spec, b"0", ctx("warm"))
        started = time.monotonic()
        timed_out = await ex.invoke(spec, b"30", ctx("req-t"))
        elapsed = time.monotonic() - started
        after = await ex.invoke(spec, b"0", ctx("after"))
        return timed_out, elapsed, after

    timed_out, elapsed, after = run(body)
    assert elapsed < 3
    assert timed_out.timed_out and not timed_out.worker_crashed
    assert json.loads(timed_out.payload) == {
        "errorMessage": "RequestId: req-t Error: Task timed out after 0.50 seconds",
        "errorType": "Sandbox.Timedout",
    }
    assert "going to sleep\n" in timed_out.logs
    assert " req-t Task timed out after 0.50 seconds\nEND RequestId: req-t\n" in timed_out.logs
    assert "\tStatus: timeout\t" in timed_out.logs
    # The next call runs on a fresh worker (a cold start again).
    assert after.ok and after.payload == b'"woke"' and after.init_duration_ms is not None


@pytest.mark.parametrize(
    ("handler", "reason"),
    [
        ("handlers.exits", "Runtime exited with error: exit status 3"),
        ("handlers.segfault", "Runtime exited with error: signal: segmentation fault"),
    ],
)
def test_crash_is_reported_and_the_worker_replaced(
    make_spec: MakeSpec, handler: str, reason: str
) -> None:
    crashing, healthy = make_spec(handler), make_spec("handlers.pid")

    async def body(ex: LocalExecutor) -> Any:
        crashed = await ex.invoke(crashing, b"{}", ctx("req-x"))
        again = await ex.invoke(crashing, b"{}", ctx("req-y"))
        fine = await ex.invoke(healthy, b"{}", ctx("req-z"))
        return crashed, again, fine

    crashed, again, fine = run(body)
    assert crashed.worker_crashed and not crashed.timed_out
    assert json.loads(crashed.payload) == {
        "errorMessage": f"RequestId: req-x Error: {reason}",
        "errorType": "Runtime.ExitError",
    }
    assert "\tStatus: error\tError Type: Runtime.ExitError\t" in crashed.logs
    if handler == "handlers.exits":
        assert "about to exit\n" in crashed.logs
    assert again.worker_crashed  # a new worker was started for the second call
    assert fine.ok


def test_memory_error_is_reported_and_the_worker_retired(make_spec: MakeSpec) -> None:
    spec = make_spec("handlers.memory_error")
    pid_spec = make_spec("handlers.pid")

    async def body(ex: LocalExecutor) -> Any:
        result = await ex.invoke(spec, b"{}", ctx("req-m"))
        return result, ex.worker_count(spec), await ex.invoke(pid_spec, b"{}", ctx())

    result, workers_after, other = run(body)
    doc = json.loads(result.payload)
    assert doc["errorType"] == "MemoryError" and doc["requestId"] == "req-m"
    assert workers_after == 0  # retired rather than reused
    assert other.ok


def test_memory_hog_is_killed_at_its_memory_size(make_spec: MakeSpec) -> None:
    hog, healthy = make_spec("handlers.hog", memory_size=128, timeout=20), make_spec("handlers.pid")

    async def body(ex: LocalExecutor) -> Any:
        return await ex.invoke(hog, b"{}", ctx("req-h")), await ex.invoke(healthy, b"{}", ctx())

    result, fine = run(body)
    assert result.worker_crashed and result.max_memory_used_mb == 128
    assert json.loads(result.payload) == {
        "errorMessage": "RequestId: req-h Error: Runtime exited with error: signal: killed",
        "errorType": "Runtime.OutOfMemory",
    }
    assert fine.ok  # and this process, the server, is still here to say so


def test_non_serializable_result_and_decimal(make_spec: MakeSpec) -> None:
    async def body(ex: LocalExecutor) -> Any:
        bad = await ex.invoke(make_spec("handlers.not_serializable"), b"{}", ctx("req-s"))
        dec = await ex.invoke(make_spec("handlers.decimals"), b"{}", ctx())
        return bad, dec

    bad, dec = run(body)
    assert json.loads(bad.payload) == {
        "errorMessage": "Unable to marshal response: Object of type set is not JSON serializable",
        "errorType": "Runtime.MarshalError",
        "requestId": "req-s",
        "stackTrace": [],
    }
    # json.dumps separators, Decimal as its digits, and python3.12 leaves non-ASCII unescaped.
    assert dec.payload == '{"price": 12.50, "n": 3, "text": "café"}'.encode()


def test_import_failure_is_reported_per_call(make_spec: MakeSpec) -> None:
    async def body(ex: LocalExecutor) -> Any:
        missing = await ex.invoke(make_spec("nosuchmodule.handler"), b"{}", ctx())
        no_attr = await ex.invoke(make_spec("handlers.nope"), b"{}", ctx())
        return missing, no_attr

    missing, no_attr = run(body)
    assert json.loads(missing.payload) == {
        "errorMessage": "Unable to import module 'nosuchmodule': No module named 'nosuchmodule'",
        "errorType": "Runtime.ImportModuleError",
        "requestId": "",
        "stackTrace": [],
    }
    assert "LAMBDA_WARNING: Unhandled exception." in missing.logs
    assert json.loads(no_attr.payload)["errorType"] == "Runtime.HandlerNotFound"
    assert (
        json.loads(no_attr.payload)["errorMessage"] == "Handler 'nope' missing on module 'handlers'"
    )


def test_concurrency_limit_throttles_or_queues(make_spec: MakeSpec) -> None:
    spec = make_spec("handlers.sleepy", concurrency=1, timeout=5)

    async def body(ex: LocalExecutor) -> Any:
        busy = asyncio.create_task(ex.invoke(spec, b"0.4", ctx("busy")))
        await asyncio.sleep(0.2)  # the first call holds the only worker
        throttled = await ex.invoke(spec, b"0", ctx("extra"))
        queued = await ex.invoke(spec, b"0", ctx("patient"), wait=True)
        return await busy, throttled, queued, ex.worker_count(spec)

    busy, throttled, queued, workers = run(body)
    assert busy.ok and queued.ok
    assert (
        throttled.throttled and not throttled.ok and throttled.throttle_reason == THROTTLE_RESERVED
    )
    assert throttled.payload == b"" and throttled.logs == ""
    assert workers == 1


def test_vendored_package_in_a_zip_is_importable(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("vendored/__init__.py", "VALUE = 'from the zip'\n")
        archive.writestr("vendored/sub/__init__.py", "def twice(x):\n    return 2 * x\n")
        archive.writestr(
            "app.py",
            "import vendored\nfrom vendored.sub import twice\n"
            "def handler(event, context):\n    return [vendored.VALUE, twice(event)]\n",
        )
    folder = tmp_path / "deployed"
    extract_zip(buffer.getvalue(), folder)
    spec = FunctionSpec(
        "z", "arn:aws:lambda:us-east-1:000000000000:function:z", "app.handler", folder
    )
    result = run(lambda ex: ex.invoke(spec, b"21", ctx()))
    assert json.loads(result.payload) == ["from the zip", 42]


def test_folder_mode_picks_up_an_edit(tmp_path: Path) -> None:
    folder = tmp_path / "dev"
    folder.mkdir()
    source = folder / "app.py"
    source.write_text("def handler(event, context):\n    return 'first'\n")
    spec = FunctionSpec(
        "d", "arn:aws:lambda:us-east-1:000000000000:function:d", "app.handler", folder, watch=True
    )

    async def body(ex: LocalExecutor) -> Any:
        before = await ex.invoke(spec, b"{}", ctx())
        source.write_text("def handler(event, context):\n    return 'second, edited'\n")
        after = await ex.invoke(spec, b"{}", ctx())
        return before, after

    before, after = run(body, watch_interval=0.0)
    assert before.payload == b'"first"'
    assert after.payload == b'"second, edited"' and after.init_duration_ms is not None


def test_discard_stops_the_workers(make_spec: MakeSpec) -> None:
    spec = make_spec()

    async def body(ex: LocalExecutor) -> Any:
        await ex.warm(spec, 2)
        warmed = ex.worker_count()
        await ex.discard(spec.function_arn)
        return warmed, ex.worker_count()

    assert run(body) == (2, 0)


def test_a_cancelled_caller_leaves_the_handler_running_and_the_worker_reusable(
    make_spec: MakeSpec,
) -> None:
    spec = make_spec("handlers.sleepy", concurrency=1)

    async def body(ex: LocalExecutor) -> Any:
        await ex.warm(spec)
        call = asyncio.create_task(ex.invoke(spec, b"0.3", ctx("gone")))
        await asyncio.sleep(0.15)
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        # The handler still holds the only worker; a patient caller gets it when it is done.
        later = await ex.invoke(spec, b"0", ctx("next"), wait=True)
        return later, ex.worker_count(spec)

    later, workers = run(body)
    assert later.ok and later.init_duration_ms is None  # the same warm worker
    assert workers == 1


def test_reserved_concurrency_caps_the_function_across_versions(make_spec: MakeSpec) -> None:
    # Lambda applies a reservation to the function as a whole, not to each version.
    v1 = make_spec("handlers.sleepy", concurrency=1, timeout=5, version="1")
    latest = make_spec("handlers.sleepy", concurrency=1, timeout=5)
    other = make_spec(
        "handlers.sleepy", function_arn="arn:aws:lambda:us-east-1:000000000000:function:other"
    )

    async def body(ex: LocalExecutor) -> Any:
        busy = asyncio.create_task(ex.invoke(v1, b"0.6", ctx("busy")))
        await asyncio.sleep(0.3)  # version 1 holds the function's only reserved slot
        throttled = await ex.invoke(latest, b"0", ctx("latest"))
        unrelated = await ex.invoke(other, b"0", ctx("other"))
        queued = await ex.invoke(latest, b"0", ctx("patient"), wait=True)
        return await busy, throttled, unrelated, queued

    busy, throttled, unrelated, queued = run(body)
    assert busy.ok and unrelated.ok and queued.ok
    assert throttled.throttled and throttled.throttle_reason == THROTTLE_RESERVED

