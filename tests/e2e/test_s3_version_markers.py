"""ListObjectVersions resumed after a version that was deleted meanwhile, as S3 answers it
(LocalStack's AWS-validated test_list_objects_versions_with_prefix_only_and_pagination,
snapshot "list-object-version-prefix-page-2-after-delete"): the versions older than the
marker come back.  Emptying a versioned bucket page by page (s3fs's recursive rm, boto3's
``bucket.object_versions.delete()``) depends on it."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

pytestmark = pytest.mark.e2e


@pytest.fixture
def versioned(s3: Any) -> str:
    name = f"vm-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=name)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return name


def test_the_next_page_after_its_marker_was_deleted(s3: Any, versioned: str) -> None:
    for _ in range(5):
        s3.put_object(Bucket=versioned, Key="prefixed_key")
    s3.put_object(Bucket=versioned, Key="non_prefixed_key")
    first = s3.list_object_versions(Bucket=versioned, Prefix="prefix", MaxKeys=3)
    assert len(first["Versions"]) == 3 and first["IsTruncated"]
    s3.delete_objects(Bucket=versioned, Delete={"Objects": [
        {"Key": v["Key"], "VersionId": v["VersionId"]} for v in first["Versions"]]})
    second = s3.list_object_versions(Bucket=versioned, Prefix="prefix", MaxKeys=5,
                                     KeyMarker=first["NextKeyMarker"],
                                     VersionIdMarker=first["NextVersionIdMarker"])
    assert len(second["Versions"]) == 2 and not second["IsTruncated"]


def test_a_bucket_of_many_versions_empties_page_by_page(s3: Any, versioned: str) -> None:
    for _ in range(30):
        s3.put_object(Bucket=versioned, Key="k", Body=b"1")
    s3.delete_object(Bucket=versioned, Key="k")  # a delete marker among them
    kwargs: dict[str, Any] = {}
    while True:
        page = s3.list_object_versions(Bucket=versioned, MaxKeys=7, **kwargs)
        doomed = page.get("Versions", []) + page.get("DeleteMarkers", [])
        if doomed:
            s3.delete_objects(Bucket=versioned, Delete={"Objects": [
                {"Key": v["Key"], "VersionId": v["VersionId"]} for v in doomed]})
        if not page["IsTruncated"]:
            break
        kwargs = {"KeyMarker": page["NextKeyMarker"],
                  "VersionIdMarker": page["NextVersionIdMarker"]}
    assert "Versions" not in s3.list_object_versions(Bucket=versioned)
    s3.delete_bucket(Bucket=versioned)
