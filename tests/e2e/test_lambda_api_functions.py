"""Lambda's control plane through boto3 against a real headwater: functions, configuration,
versions, aliases, concurrency, permissions, tags, waiters and AWS's errors."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError
from lambda_zip import zip_app

from headwater.testing import RunningHeadwater

pytestmark = pytest.mark.e2e

ROLE = "arn:aws:iam::000000000000:role/lambda-role"
HANDLER = """
import os
VERSION = "{tag}"
def handler(event, context):
    return {{"tag": VERSION, "version": context.function_version, "event": event}}
"""


def package(tag: str = "one") -> bytes:
    return zip_app(HANDLER.format(tag=tag))


def create(lam: Any, **kwargs: Any) -> tuple[str, dict[str, Any]]:
    """A new function of the test handler: its name and CreateFunction's answer."""
    name = f"fn-{uuid.uuid4().hex[:10]}"
    created = lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": package()},
        **kwargs,
    )
    return name, created


@pytest.fixture
def fn(lam: Any) -> str:
    return create(lam)[0]


def error(call: Callable[[], Any]) -> dict[str, Any]:
    with pytest.raises(ClientError) as caught:
        call()
    return {
        **caught.value.response["Error"],
        "status": caught.value.response["ResponseMetadata"]["HTTPStatusCode"],
    }


def invoke(lam: Any, name: str, **kwargs: Any) -> Any:
    import json

    return json.loads(lam.invoke(FunctionName=name, **kwargs)["Payload"].read())


def test_create_reports_pending_then_active(lam: Any) -> None:
    name, created = create(
        lam,
        Environment={"Variables": {"STAGE": "test"}},
        Tags={"team": "data"},
        Timeout=5,
        MemorySize=256,
    )
    assert created["State"] == "Pending"
    assert created["StateReasonCode"] == "Creating"
    assert created["FunctionArn"] == f"arn:aws:lambda:us-east-1:000000000000:function:{name}"
    assert created["Version"] == "$LATEST"
    lam.get_waiter("function_active_v2").wait(FunctionName=name)
    got = lam.get_function(FunctionName=name)
    config = got["Configuration"]
    assert (config["State"], config["LastUpdateStatus"]) == ("Active", "Successful")
    assert config["Environment"] == {"Variables": {"STAGE": "test"}}
    assert (config["Timeout"], config["MemorySize"]) == (5, 256)
    assert config["CodeSha256"] == created["CodeSha256"]
    assert got["Tags"] == {"team": "data"}


def test_create_with_publish_answers_version_1_under_the_unqualified_arn(lam: Any) -> None:
    name, created = create(lam, Publish=True)
    # As AWS answers: version 1's configuration, but the FunctionArn carries no qualifier.
    assert created["Version"] == "1"
    assert created["FunctionArn"] == f"arn:aws:lambda:us-east-1:000000000000:function:{name}"
    assert created["State"] == "Pending" and "LastUpdateStatus" not in created
    versioned = lam.get_function_configuration(FunctionName=name, Qualifier="1")
    assert versioned["FunctionArn"] == f"{created['FunctionArn']}:1"
    versions = lam.list_versions_by_function(FunctionName=name)["Versions"]
    assert [v["Version"] for v in versions] == ["$LATEST", "1"]


def test_duplicate_and_missing_functions(lam: Any, fn: str) -> None:
    dup = error(
        lambda: lam.create_function(
            FunctionName=fn,
            Runtime="python3.12",
            Role=ROLE,
            Handler="app.handler",
            Code={"ZipFile": package()},
        )
    )
    assert (dup["Code"], dup["status"]) == ("ResourceConflictException", 409)
    assert dup["Message"] == f"Function already exist: {fn}"
    missing = error(lambda: lam.get_function(FunctionName="no-such-function"))
    assert (missing["Code"], missing["status"]) == ("ResourceNotFoundException", 404)
    assert missing["Message"] == (
        "Function not found: arn:aws:lambda:us-east-1:000000000000:function:no-such-function"
    )
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.invoke(FunctionName="no-such-function")


def test_invalid_requests(lam: Any) -> None:
    bad_zip = error(
        lambda: lam.create_function(
            FunctionName="badzip",
            Runtime="python3.12",
            Role=ROLE,
            Handler="app.handler",
            Code={"ZipFile": b"not a zip"},
        )
    )
    assert bad_zip["Code"] == "InvalidParameterValueException"
    reserved = error(
        lambda: lam.create_function(
            FunctionName="reserved",
            Runtime="python3.12",
            Role=ROLE,
            Handler="app.handler",
            Code={"ZipFile": package()},
            Environment={"Variables": {"AWS_REGION": "x"}},
        )
    )
    assert reserved["Code"] == "InvalidParameterValueException"
    assert "Reserved keys used in this request: AWS_REGION" in reserved["Message"]
    s3 = error(
        lambda: lam.create_function(
            FunctionName="froms3",
            Runtime="python3.12",
            Role=ROLE,
            Handler="app.handler",
            Code={"S3Bucket": "bucket", "S3Key": "key.zip"},
        )
    )
    assert s3["Code"] == "InvalidParameterValueException"
    assert "S3 Error Code: NoSuchBucket" in s3["Message"]
    runtime = error(
        lambda: lam.create_function(
            FunctionName="node",
            Runtime="nodejs20.x",
            Role=ROLE,
            Handler="index.handler",
            Code={"ZipFile": package()},
        )
    )
    assert runtime["Code"] == "InvalidParameterValueException"


def test_update_code_and_configuration(lam: Any, fn: str) -> None:
    assert invoke(lam, fn)["tag"] == "one"
    updated = lam.update_function_code(FunctionName=fn, ZipFile=package("two"))
    assert updated["LastUpdateStatus"] == "InProgress"
    lam.get_waiter("function_updated_v2").wait(FunctionName=fn)
    assert invoke(lam, fn)["tag"] == "two"
    config = lam.update_function_configuration(
        FunctionName=fn, Description="new", Environment={"Variables": {"A": "1"}}
    )
    assert config["Description"] == "new"
    current = lam.get_function_configuration(FunctionName=fn)
    assert current["Environment"]["Variables"] == {"A": "1"}
    assert current["RevisionId"] == config["RevisionId"]
    stale = error(
        lambda: lam.update_function_configuration(FunctionName=fn, Timeout=9, RevisionId="stale")
    )
    assert (stale["Code"], stale["status"]) == ("PreconditionFailedException", 412)


def test_versions_are_immutable_and_aliases_route(lam: Any, fn: str) -> None:
    v1 = lam.publish_version(FunctionName=fn, Description="first")
    assert (v1["Version"], v1["State"]) == ("1", "Pending")
    assert v1["FunctionArn"].endswith(f":function:{fn}:1")
    assert "LastUpdateStatus" not in lam.get_function_configuration(FunctionName=fn, Qualifier="1")
    qualified = lam.get_function(FunctionName=fn, Qualifier="$LATEST")["Configuration"]
    assert qualified["FunctionArn"].endswith(f":function:{fn}:$LATEST")
    assert lam.publish_version(FunctionName=fn)["Version"] == "1"  # nothing changed
    lam.update_function_code(FunctionName=fn, ZipFile=package("two"))
    v2 = lam.publish_version(FunctionName=fn)
    assert v2["Version"] == "2"
    assert invoke(lam, fn, Qualifier="1")["tag"] == "one"
    assert invoke(lam, fn, Qualifier="2")["tag"] == "two"
    assert invoke(lam, f"{fn}:1")["version"] == "1"
    versions = lam.list_versions_by_function(FunctionName=fn)["Versions"]
    assert [v["Version"] for v in versions] == ["$LATEST", "1", "2"]
    assert versions[0]["FunctionArn"].endswith(":$LATEST")

    alias = lam.create_alias(FunctionName=fn, Name="live", FunctionVersion="1")
    assert alias["AliasArn"].endswith(f"function:{fn}:live")
    result = lam.invoke(FunctionName=fn, Qualifier="live")
    assert result["ExecutedVersion"] == "1"
    lam.update_alias(
        FunctionName=fn, Name="live", RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}}
    )
    ran = {lam.invoke(FunctionName=fn, Qualifier="live")["ExecutedVersion"] for _ in range(30)}
    assert ran == {"1", "2"}  # a miss has probability 2**-29
    weights = lam.get_alias(FunctionName=fn, Name="live")["RoutingConfig"]
    assert weights == {"AdditionalVersionWeights": {"2": 0.5}}
    with pytest.raises(ClientError) as caught:
        lam.update_alias(
            FunctionName=fn, Name="live", RoutingConfig={"AdditionalVersionWeights": {"2": 1.0}}
        )
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    lam.update_alias(
        FunctionName=fn,
        Name="live",
        FunctionVersion="2",
        RoutingConfig={"AdditionalVersionWeights": {}},
    )
    assert lam.get_alias(FunctionName=fn, Name="live")["FunctionVersion"] == "2"
    assert [a["Name"] for a in lam.list_aliases(FunctionName=fn)["Aliases"]] == ["live"]

    conflict = error(lambda: lam.delete_function(FunctionName=fn, Qualifier="2"))
    assert conflict["Code"] == "ResourceConflictException"
    lam.delete_function(FunctionName=fn, Qualifier="1")
    gone = error(lambda: lam.get_function(FunctionName=fn, Qualifier="1"))
    assert gone["Message"].endswith(f"function:{fn}:1")
    missing_alias = error(lambda: lam.get_alias(FunctionName=fn, Name="nope"))
    assert missing_alias["Code"] == "ResourceNotFoundException"
    assert (
        error(lambda: lam.create_alias(FunctionName=fn, Name="live", FunctionVersion="2"))["Code"]
        == "ResourceConflictException"
    )
    lam.delete_alias(FunctionName=fn, Name="live")
    assert lam.list_aliases(FunctionName=fn)["Aliases"] == []


def test_list_functions_pages(lam: Any) -> None:
    names = set()
    for _ in range(3):
        name = f"page-{uuid.uuid4().hex[:8]}"
        lam.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=ROLE,
            Handler="app.handler",
            Code={"ZipFile": package()},
        )
        names.add(name)
    seen = []
    for page in lam.get_paginator("list_functions").paginate(PaginationConfig={"PageSize": 2}):
        seen.extend(f["FunctionName"] for f in page["Functions"])
    assert names <= set(seen)
    assert len(seen) == len(set(seen))
    listed = lam.list_functions()["Functions"][0]
    assert "State" not in listed and "LastUpdateStatus" not in listed  # GetFunction has them


def test_concurrency_permissions_tags(lam: Any, fn: str) -> None:
    assert lam.get_function_concurrency(FunctionName=fn).get("ReservedConcurrentExecutions") is None
    lam.put_function_concurrency(FunctionName=fn, ReservedConcurrentExecutions=3)
    assert lam.get_function_concurrency(FunctionName=fn)["ReservedConcurrentExecutions"] == 3
    assert lam.get_function(FunctionName=fn)["Concurrency"] == {"ReservedConcurrentExecutions": 3}
    lam.delete_function_concurrency(FunctionName=fn)
    assert "Concurrency" not in lam.get_function(FunctionName=fn)

    assert error(lambda: lam.get_policy(FunctionName=fn))["Code"] == "ResourceNotFoundException"
    lam.add_permission(
        FunctionName=fn,
        StatementId="s3",
        Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com",
        SourceArn="arn:aws:s3:::bucket",
    )
    import json

    policy = json.loads(lam.get_policy(FunctionName=fn)["Policy"])
    [statement] = policy["Statement"]
    assert statement["Principal"] == {"Service": "s3.amazonaws.com"}
    assert statement["Condition"] == {"ArnLike": {"AWS:SourceArn": "arn:aws:s3:::bucket"}}
    dup = error(
        lambda: lam.add_permission(
            FunctionName=fn,
            StatementId="s3",
            Action="lambda:InvokeFunction",
            Principal="s3.amazonaws.com",
        )
    )
    assert dup["Code"] == "ResourceConflictException"
    lam.remove_permission(FunctionName=fn, StatementId="s3")
    assert error(lambda: lam.remove_permission(FunctionName=fn, StatementId="s3"))["Code"] == (
        "ResourceNotFoundException"
    )

    arn = lam.get_function(FunctionName=fn)["Configuration"]["FunctionArn"]
    lam.tag_resource(Resource=arn, Tags={"a": "1", "b": "2"})
    lam.untag_resource(Resource=arn, TagKeys=["a"])
    assert lam.list_tags(Resource=arn)["Tags"] == {"b": "2"}


def test_event_invoke_config_crud(lam: Any, fn: str) -> None:
    missing = error(lambda: lam.get_function_event_invoke_config(FunctionName=fn))
    assert missing["Code"] == "ResourceNotFoundException"
    put = lam.put_function_event_invoke_config(
        FunctionName=fn, MaximumRetryAttempts=0, MaximumEventAgeInSeconds=60
    )
    assert put["MaximumRetryAttempts"] == 0
    lam.update_function_event_invoke_config(FunctionName=fn, MaximumRetryAttempts=1)
    got = lam.get_function_event_invoke_config(FunctionName=fn)
    assert (got["MaximumRetryAttempts"], got["MaximumEventAgeInSeconds"]) == (1, 60)
    listed = lam.list_function_event_invoke_configs(FunctionName=fn)["FunctionEventInvokeConfigs"]
    assert len(listed) == 1
    lam.delete_function_event_invoke_config(FunctionName=fn)
    assert (
        lam.list_function_event_invoke_configs(FunctionName=fn)["FunctionEventInvokeConfigs"] == []
    )


def test_delete_function(lam: Any, fn: str) -> None:
    lam.delete_function(FunctionName=fn)
    assert error(lambda: lam.get_function(FunctionName=fn))["Code"] == "ResourceNotFoundException"
    assert (
        error(lambda: lam.delete_function(FunctionName=fn))["Code"] == "ResourceNotFoundException"
    )


def test_account_settings(lam: Any, fn: str) -> None:
    lam.put_function_concurrency(FunctionName=fn, ReservedConcurrentExecutions=10)
    settings = lam.get_account_settings()
    assert settings["AccountLimit"]["ConcurrentExecutions"] == 1000
    assert settings["AccountLimit"]["UnreservedConcurrentExecutions"] <= 990
    assert settings["AccountUsage"]["FunctionCount"] >= 1
    assert settings["AccountUsage"]["TotalCodeSize"] > 0


def test_code_from_s3_bucket_and_key(hw: RunningHeadwater, lam: Any) -> None:
    s3 = hw.client("s3")
    bucket = f"code-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="builds/app.zip", Body=package("from-s3"))
    name = f"fn-{uuid.uuid4().hex[:10]}"
    lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"S3Bucket": bucket, "S3Key": "builds/app.zip"},
    )
    assert invoke(lam, name)["tag"] == "from-s3"

    s3.put_object(Bucket=bucket, Key="builds/app2.zip", Body=package("updated"))
    lam.update_function_code(FunctionName=name, S3Bucket=bucket, S3Key="builds/app2.zip")
    assert invoke(lam, name)["tag"] == "updated"


def test_code_from_a_missing_s3_key_is_refused_as_aws_does(hw: RunningHeadwater, lam: Any) -> None:
    s3 = hw.client("s3")
    bucket = f"code-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=bucket)
    failure = error(
        lambda: lam.create_function(
            FunctionName=f"fn-{uuid.uuid4().hex[:10]}",
            Runtime="python3.12",
            Role=ROLE,
            Handler="app.handler",
            Code={"S3Bucket": bucket, "S3Key": "nope.zip"},
        )
    )
    assert failure["Code"] == "InvalidParameterValueException"
    assert failure["status"] == 400
    assert failure["Message"] == (
        "Error occurred while GetObject. S3 Error Code: NoSuchKey. "
        "S3 Error Message: The specified key does not exist."
    )
