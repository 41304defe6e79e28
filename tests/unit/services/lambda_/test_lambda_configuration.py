"""Configuration checks and the FunctionConfiguration document."""

from __future__ import annotations

import pytest

from headwater.core.errors import ServiceError
from headwater.services.lambda_.configuration import (
    Code,
    Config,
    Version,
    check_environment,
    check_runtime,
    config_from_create,
    to_wire,
)

ROLE = "arn:aws:iam::000000000000:role/r"


def test_reserved_environment_names_are_refused() -> None:
    with pytest.raises(ServiceError) as caught:
        check_environment({"AWS_REGION": "x", "OK": "1", "AWS_LAMBDA_FUNCTION_NAME": "y"})
    assert caught.value.message.endswith(
        "Reserved keys used in this request: AWS_LAMBDA_FUNCTION_NAME, AWS_REGION"
    )


def test_environment_over_4_kb_is_refused() -> None:
    with pytest.raises(ServiceError) as caught:
        check_environment({"BIG": "x" * 5000})
    assert "exceeded the 4KB limit" in caught.value.message


@pytest.mark.parametrize("runtime", ["python3.7", "nodejs20.x", "java21"])
def test_runtimes_headwater_cannot_run(runtime: str) -> None:
    with pytest.raises(ServiceError) as caught:
        check_runtime(runtime)
    assert caught.value.code == "InvalidParameterValueException"


def test_zip_functions_need_a_handler() -> None:
    with pytest.raises(ServiceError) as caught:
        config_from_create({"Runtime": "python3.12", "Role": ROLE})
    assert "Handler is required" in caught.value.message


def test_layers_and_images_are_named_as_not_supported() -> None:
    with pytest.raises(ServiceError) as caught:
        config_from_create(
            {"Runtime": "python3.12", "Role": ROLE, "Handler": "a.b", "Layers": ["arn:x"]}
        )
    assert "headwater does not support layers" in caught.value.message


def test_update_keeps_what_it_does_not_name() -> None:
    config = config_from_create(
        {"Runtime": "python3.12", "Role": ROLE, "Handler": "a.b", "Timeout": 9}
    )
    updated = config.updated({"MemorySize": 512, "Environment": {"Variables": {"A": "1"}}})
    assert (updated.timeout, updated.memory_size, dict(updated.environment)) == (9, 512, {"A": "1"})
    assert Config.from_json(updated.to_json()) == updated


def test_wire_states() -> None:
    version = Version(
        "$LATEST", Config("python3.12", ROLE, "a.b"), Code("sha", 10, "c1"), "rev", 0.0
    )
    arn = "arn:aws:lambda:us-east-1:000000000000:function:fn"
    created = to_wire("fn", arn, version, state="Pending")
    assert (created["State"], created["StateReasonCode"]) == ("Pending", "Creating")
    assert "LastUpdateStatus" not in created
    updating = to_wire("fn", arn, version, update_status="InProgress")
    assert updating["LastUpdateStatusReasonCode"] == "Creating"
    settled = to_wire("fn", arn, version)
    assert (settled["State"], settled["LastUpdateStatus"]) == ("Active", "Successful")
    assert settled["FunctionArn"] == arn
    published = to_wire("fn", arn, Version("3", version.config, version.code, "r", 0.0))
    assert published["FunctionArn"] == f"{arn}:3"
