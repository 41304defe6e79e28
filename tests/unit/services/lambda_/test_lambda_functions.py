"""The function registry: code folders, updates, versions, deletes, concurrency, tags."""

from __future__ import annotations

from pathlib import Path

import pytest
from lambda_helpers import create_params, package, ref

from headwater.core.clock import ManualClock
from headwater.core.errors import ServiceError
from headwater.services.lambda_.functions import Functions


def folders(functions: Functions) -> set[str]:
    root = functions.code_root / "000000000000" / "us-east-1" / "fn"
    return {p.name for p in root.iterdir()} if root.exists() else set()


def test_create_unpacks_the_code(functions: Functions) -> None:
    latest = functions.create(ref(), create_params())
    assert latest.version == "$LATEST"
    folder = functions.code_dir(ref(), latest.code)
    assert (folder / "app.py").read_text().startswith("def handler")
    assert latest.code.size == len(package())


def test_names_are_unique(functions: Functions) -> None:
    functions.create(ref(), create_params())
    with pytest.raises(ServiceError) as caught:
        functions.create(ref(), create_params())
    assert (caught.value.code, caught.value.message) == (
        "ResourceConflictException",
        "Function already exist: fn",
    )


def test_a_failed_create_leaves_nothing(functions: Functions) -> None:
    with pytest.raises(ServiceError):
        functions.create(ref(), create_params(Environment={"Variables": {"AWS_REGION": "x"}}))
    with pytest.raises(ServiceError):
        functions.create(ref(), create_params(Code={"ZipFile": b"junk"}))
    assert functions.store.function(Functions.key(ref())) is None
    assert folders(functions) == set()


def test_update_code_replaces_the_folder_unless_a_version_uses_it(functions: Functions) -> None:
    first = functions.create(ref(), create_params())
    second = functions.update_code(ref(), {"ZipFile": package("x = 2\n")})
    assert folders(functions) == {second.code.code_id}
    assert second.revision_id != first.revision_id
    functions.publish(ref(), {})
    third = functions.update_code(ref(), {"ZipFile": package("x = 3\n")})
    assert folders(functions) == {second.code.code_id, third.code.code_id}


def test_published_versions_do_not_change(functions: Functions, clock: ManualClock) -> None:
    functions.create(ref(), create_params())
    v1 = functions.publish(ref(), {"Description": "first"})
    assert functions.publish(ref(), {}).version == "1"  # unchanged $LATEST: same version
    clock.advance(5)
    functions.update_config(ref(), {"Timeout": 30})
    v2 = functions.publish(ref(), {})
    assert (v2.version, v2.config.timeout) == ("2", 30)
    assert functions.version(ref(), "1") == v1
    assert [v.version for v in functions.versions(ref())] == ["$LATEST", "1", "2"]


def test_publish_checks_sha_and_revision(functions: Functions) -> None:
    latest = functions.create(ref(), create_params())
    with pytest.raises(ServiceError) as caught:
        functions.publish(ref(), {"CodeSha256": "other"})
    assert caught.value.message.startswith("CodeSHA256 (other) is different")
    with pytest.raises(ServiceError) as caught:
        functions.publish(ref(), {"RevisionId": "stale"})
    assert (caught.value.code, caught.value.status) == ("PreconditionFailedException", 412)
    assert functions.publish(ref(), {"RevisionId": latest.revision_id}).version == "1"


def test_delete_a_version_or_everything(functions: Functions) -> None:
    functions.create(ref(), create_params())
    functions.publish(ref(), {})
    with pytest.raises(ServiceError) as caught:
        functions.delete(ref(qualifier="$LATEST"))
    assert caught.value.code == "InvalidParameterValueException"
    functions.delete(ref(qualifier="1"))
    with pytest.raises(ServiceError) as caught:
        functions.version(ref(), "1")
    assert (
        caught.value.message
        == "Function not found: arn:aws:lambda:us-east-1:000000000000:function:fn:1"
    )
    functions.delete(ref())
    assert folders(functions) == set()
    with pytest.raises(ServiceError) as caught:
        functions.function(ref())
    assert caught.value.status == 404


def test_folder_mode(functions: Functions, tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    latest = functions.create(
        ref(), create_params(Code={"S3Bucket": "hot-reload", "S3Key": str(tmp_path / "src")})
    )
    assert functions.code_dir(ref(), latest.code) == tmp_path / "src"
    with pytest.raises(ServiceError) as caught:
        functions.create(
            ref("other"), create_params(Code={"S3Bucket": "hot-reload", "S3Key": "relative"})
        )
    assert "absolute path" in caught.value.message


def test_code_from_s3_needs_the_s3_service(functions: Functions) -> None:
    with pytest.raises(ServiceError) as caught:
        functions.create(ref(), create_params(Code={"S3Bucket": "b", "S3Key": "k.zip"}))
    assert "headwater does not support function code from S3" in caught.value.message


def test_code_from_s3_is_fetched_and_s3_errors_are_wrapped(functions: Functions) -> None:
    objects = {("b", "k.zip"): create_params()["Code"]["ZipFile"]}

    def fetch(bucket: str, key: str, version_id: str | None) -> bytes:
        if (bucket, key) not in objects:
            raise ServiceError("NoSuchKey", "The specified key does not exist.", 404)
        return objects[(bucket, key)]

    functions.fetch_object = fetch
    created = functions.create(ref(), create_params(Code={"S3Bucket": "b", "S3Key": "k.zip"}))
    assert created is not None
    with pytest.raises(ServiceError) as caught:
        functions.create(ref("x"), create_params(Code={"S3Bucket": "b", "S3Key": "gone.zip"}))
    assert caught.value.code == "InvalidParameterValueException"
    assert caught.value.message == (
        "Error occurred while GetObject. S3 Error Code: NoSuchKey. "
        "S3 Error Message: The specified key does not exist."
    )


def test_reserved_concurrency_keeps_100_unreserved(functions: Functions) -> None:
    functions.create(ref("a"), create_params())
    functions.create(ref("b"), create_params())
    functions.put_concurrency(ref("a"), 800)
    with pytest.raises(ServiceError) as caught:
        functions.put_concurrency(ref("b"), 101)
    assert "minimum value of [100]" in caught.value.message
    functions.put_concurrency(ref("b"), 100)
    functions.delete_concurrency(ref("a"))
    assert functions.function(ref("a")).concurrency is None


def test_tags(functions: Functions) -> None:
    functions.create(ref(), create_params(Tags={"a": "1"}))
    functions.tag(ref(), {"b": "2"})
    functions.untag(ref(), ["a"])
    assert functions.function(ref()).tags == {"b": "2"}


def test_dry_run_code_changes_nothing(functions: Functions) -> None:
    latest = functions.create(ref(), create_params())
    other = package("x = 1\n")
    preview = functions.dry_run_code(ref(), {"ZipFile": other})
    assert preview.code.sha256 != latest.code.sha256
    assert functions.version(ref(), "$LATEST") == latest


def test_deleting_a_version_that_does_not_exist_succeeds(functions: Functions) -> None:
    functions.create(ref(), create_params())
    assert functions.delete(ref(qualifier="7")) == []
