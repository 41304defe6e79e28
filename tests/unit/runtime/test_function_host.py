"""The worker-side host's formats, exercised in-process (no worker needed)."""

from __future__ import annotations

import decimal
import sys
from pathlib import Path

import pytest

from headwater.runtime import host
from headwater.runtime.host import (
    Fault,
    LambdaContext,
    Marshaller,
    error_from_exception,
    error_log_lines,
)


def test_marshaller_matches_the_python_runtime() -> None:
    ascii_only = Marshaller(ensure_ascii=True)
    assert ascii_only.encode({"a": [1, None, True], "é": "x"}) == (
        b'{"a": [1, null, true], "\\u00e9": "x"}',
        "application/json",
    )
    assert ascii_only.encode(None) == (b"null", "application/json")
    assert ascii_only.encode(b"\x00raw") == (b"\x00raw", "application/unknown")
    assert ascii_only.encode([decimal.Decimal("1.10"), decimal.Decimal("NaN")])[0] == b"[1.10, NaN]"
    with pytest.raises(Fault) as caught:
        ascii_only.encode({"when": object()})
    assert caught.value.error_type == "Runtime.MarshalError"
    assert (
        caught.value.message
        == "Unable to marshal response: Object of type object is not JSON serializable"
    )
    with pytest.raises(Fault) as caught:
        ascii_only.decode(b"{not json")
    assert caught.value.error_type == "Runtime.UnmarshalError"
    assert caught.value.message.startswith("Unable to unmarshal input: Expecting property name")


def test_error_document_and_log_entry() -> None:
    def handler() -> None:
        raise KeyError("missing")

    try:
        handler()
    except KeyError as e:
        doc = error_from_exception(e, "rid")
    assert doc["errorType"] == "KeyError" and doc["errorMessage"] == "'missing'"
    assert doc["requestId"] == "rid"
    entry = error_log_lines(doc)
    lines = entry.splitlines()
    assert lines[0] == "[ERROR] KeyError: 'missing'"
    assert lines[1] == "Traceback (most recent call last):"
    assert all(line.startswith("\u00a0\u00a0") for line in lines[2:])


def test_handler_loading_faults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "broken.py").write_text("def handler(:\n")
    (tmp_path / "good.py").write_text("def handler(e, c):\n    return e\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    cases = {
        "nodot": (
            "Runtime.MalformedHandlerName",
            "Bad handler 'nodot': not enough values to unpack (expected 2, got 1)",
        ),
        "sys.handler": (
            "Runtime.BuiltInModuleConflict",
            "Cannot use built-in module sys as a handler module",
        ),
        "good.nothere": ("Runtime.HandlerNotFound", "Handler 'nothere' missing on module 'good'"),
    }
    for name, (kind, message) in cases.items():
        with pytest.raises(Fault) as caught:
            host.load_handler(name)
        assert (caught.value.error_type, caught.value.message) == (kind, message)
    with pytest.raises(Fault) as caught:
        host.load_handler("broken.handler")
    assert caught.value.error_type == "Runtime.UserCodeSyntaxError"
    assert caught.value.message.startswith("Syntax error in module 'broken': ")
    assert host.load_handler("good.handler")(1, None) == 1
    sys.modules.pop("good", None)


def test_context_object(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "f")
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512")
    context = LambdaContext(
        "rid",
        "arn:aws:lambda:us-east-1:000000000000:function:f:prod",
        deadline_ms=0,
        client_context='{"custom": {"k": "v"}, "client": {"app_title": "t"}}',
        cognito_identity='{"cognitoIdentityId": "id-1"}',
    )
    assert context.function_name == "f" and context.memory_limit_in_mb == "512"
    assert context.get_remaining_time_in_millis() == 0  # never negative
    assert context.client_context is not None and context.client_context.custom == {"k": "v"}
    assert isinstance(context.client_context.client, host.Client)
    assert context.client_context.client.app_title == "t"
    assert context.identity.cognito_identity_id == "id-1"
    with pytest.raises(Fault) as caught:
        LambdaContext("rid", "arn", 0, client_context="{bad")
    assert caught.value.error_type == "Runtime.LambdaContextUnmarshalError"
