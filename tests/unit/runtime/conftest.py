"""Shared helpers for the runtime tests: a folder of handlers and specs pointing at it."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from headwater.runtime.executor import FunctionSpec

HANDLERS = textwrap.dedent(
    """
    import ctypes
    import decimal
    import logging
    import os
    import sys
    import time

    print("loading handlers")

    def identity(event, context):
        return event

    def context_info(event, context):
        return {
            "function_name": context.function_name,
            "function_version": context.function_version,
            "invoked_function_arn": context.invoked_function_arn,
            "memory_limit_in_mb": context.memory_limit_in_mb,
            "aws_request_id": context.aws_request_id,
            "log_group_name": context.log_group_name,
            "log_stream_name": context.log_stream_name,
            "remaining": context.get_remaining_time_in_millis(),
            "env": {k: os.environ.get(k) for k in (
                "AWS_LAMBDA_FUNCTION_NAME", "AWS_REGION", "AWS_DEFAULT_REGION",
                "AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                "GREETING", "HEADWATER_CREDENTIALS", "AWS_EXECUTION_ENV")},
            "cwd": os.getcwd(),
            "path0": sys.path[0],
        }

    def fail(event, context):
        raise ValueError("the answer is " + str(event))

    def chatty(event, context):
        print("to stdout")
        print("to stderr", file=sys.stderr)
        logging.getLogger().warning("logged %s", 42)
        os.write(1, b"raw fd write\\n")
        return "done"

    def sleepy(event, context):
        print("going to sleep")
        time.sleep(event)
        return "woke"

    def pid(event, context):
        return os.getpid()

    def exits(event, context):
        print("about to exit")
        os._exit(3)

    def segfault(event, context):
        ctypes.string_at(0)

    def memory_error(event, context):
        return len(bytearray(1 << 44))

    def hog(event, context):
        chunks = []
        for _ in range(100):
            chunks.append(b"x" * (16 << 20))
            time.sleep(0.01)
        return len(chunks)

    def not_serializable(event, context):
        return {"items": {1, 2}}

    def decimals(event, context):
        return {"price": decimal.Decimal("12.50"), "n": 3, "text": "caf\\u00e9"}
    """
)


@pytest.fixture
def code_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "fn"
    folder.mkdir()
    (folder / "handlers.py").write_text(HANDLERS)
    return folder


@pytest.fixture
def make_spec(code_dir: Path) -> Callable[..., FunctionSpec]:
    def make(handler: str = "handlers.identity", **changes: Any) -> FunctionSpec:
        values: dict[str, Any] = {
            "function_name": "fn",
            "function_arn": "arn:aws:lambda:us-east-1:000000000000:function:fn",
            "handler": handler,
            "code_dir": code_dir,
        }
        values.update(changes)
        return FunctionSpec(**values)

    return make
