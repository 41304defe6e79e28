"""Answers compared with S3's as recorded in LocalStack's AWS-validated snapshots: listings'
markers and parameters, version ids, write conditions, tagging a delete marker, part-copy
ranges, checksums of whole-object ranges, the governance-bypass header."""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from headwater.testing import RunningHeadwater


def refused(call: Any) -> tuple[int, str, dict[str, Any]]:
    with pytest.raises(ClientError) as err:
        call()
    found = err.value.response
    return found["ResponseMetadata"]["HTTPStatusCode"], found["Error"]["Code"], found["Error"]


# -- listings --------------------------------------------------------------------------------

FOLDER = ["folder/aSubfolder/subFile1", "folder/aSubfolder/subFile2", "folder/file1",
          "folder/file2"]


def test_a_key_marker_inside_a_rolled_up_prefix_skips_that_prefix(s3: Any, bucket: str) -> None:
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    for key in FOLDER:
        s3.put_object(Bucket=bucket, Key=key, Body=b"content 123")
    page = s3.list_object_versions(Bucket=bucket, Prefix="folder/", Delimiter="/", MaxKeys=1,
                                   KeyMarker="folder/aSubfolder/subFile1")
    assert [v["Key"] for v in page["Versions"]] == ["folder/file1"]
    assert "CommonPrefixes" not in page and page["NextKeyMarker"] == "folder/file1"
    v1 = s3.list_objects(Bucket=bucket, Prefix="folder/", Delimiter="/",
                         Marker="folder/aSubfolder/subFile1")
    assert [o["Key"] for o in v1["Contents"]] == ["folder/file1", "folder/file2"]
    assert "CommonPrefixes" not in v1


def test_a_version_id_marker_needs_a_key_marker(s3: Any, bucket: str) -> None:
    status, code, error = refused(lambda: s3.list_object_versions(
        Bucket=bucket, VersionIdMarker="0" * 32))
    assert (status, code) == (400, "InvalidArgument")
    assert error["Message"] == "A version-id marker cannot be specified without a key marker."
    assert error["ArgumentName"] == "version-id-marker"


def test_a_continuation_token_replaces_start_after(s3: Any, bucket: str) -> None:
    for i in range(4):
        s3.put_object(Bucket=bucket, Key=f"k{i}", Body=b"x")
    first = s3.list_objects_v2(Bucket=bucket, MaxKeys=2)
    rest = s3.list_objects_v2(Bucket=bucket, StartAfter="k0",
                              ContinuationToken=first["NextContinuationToken"])
    assert [o["Key"] for o in rest["Contents"]] == ["k2", "k3"] and "StartAfter" not in rest
    assert s3.list_objects_v2(Bucket=bucket, StartAfter="k2")["StartAfter"] == "k2"


def test_multipart_upload_listing_markers_and_encoding(s3: Any, bucket: str) -> None:
    empty = s3.list_multipart_uploads(Bucket=bucket)
    assert (empty["NextKeyMarker"], empty["NextUploadIdMarker"]) == ("", "")
    assert "Prefix" not in empty
    upload = s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
    whole = s3.list_multipart_uploads(Bucket=bucket, Prefix="k")
    assert whole["IsTruncated"] is False and whole["Prefix"] == "k"
    assert (whole["NextKeyMarker"], whole["NextUploadIdMarker"]) == ("k", upload)
    status, code, error = refused(lambda: s3.list_multipart_uploads(Bucket=bucket,
                                                                    EncodingType="value"))
    assert (status, code) == (400, "InvalidArgument")
    assert error["Message"] == "Invalid Encoding Method specified in Request"


# -- version ids -----------------------------------------------------------------------------


def test_a_version_id_never_issued_is_invalid(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    foreign = "HPniJFCxqTsMuIH9KX8K8wEjNUgmABCD"  # an S3-looking id no S3 made
    for call in (lambda: s3.get_object(Bucket=bucket, Key="k", VersionId=foreign),
                 lambda: s3.delete_object(Bucket=bucket, Key="k", VersionId=foreign)):
        status, code, error = refused(call)
        assert (status, code, error["Message"]) == (400, "InvalidArgument",
                                                   "Invalid version id specified")
        assert (error["ArgumentName"], error["ArgumentValue"]) == ("versionId", foreign)
    answer = s3.delete_objects(Bucket=bucket, Delete={"Objects": [
        {"Key": "k", "VersionId": foreign}]})
    assert "Deleted" not in answer
    assert [(e["Key"], e["Code"]) for e in answer["Errors"]] == [("k", "NoSuchVersion")]
    # One of the form this store issues, but unknown: nothing there to delete.
    s3.delete_object(Bucket=bucket, Key="k", VersionId="0" * 32)
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"x"


# -- write conditions ------------------------------------------------------------------------


@pytest.mark.parametrize(("conditions", "header"), [
    ({"IfMatch": "*"}, "If-Match"),
    ({"IfMatch": '"abc"', "IfNoneMatch": "*"}, "If-Match,If-None-Match"),
    ({"IfNoneMatch": '"abc"'}, "If-None-Match"),
])
def test_write_conditions_s3_does_not_serve(s3: Any, bucket: str, conditions: dict[str, str],
                                            header: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"one")
    status, code, error = refused(lambda: s3.put_object(Bucket=bucket, Key="k", Body=b"two",
                                                        **conditions))
    assert (status, code, error["Header"]) == (501, "NotImplemented", header)
    assert error["additionalMessage"]
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"one"


# -- tagging a delete marker -----------------------------------------------------------------


def test_tagging_a_delete_marker_is_not_allowed(s3: Any, bucket: str) -> None:
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    marker = s3.delete_object(Bucket=bucket, Key="k")["VersionId"]
    tags = {"TagSet": [{"Key": "a", "Value": "b"}]}
    for version in ({}, {"VersionId": marker}):
        for method, call in (
                ("GET", lambda v=version: s3.get_object_tagging(Bucket=bucket, Key="k", **v)),
                ("PUT", lambda v=version: s3.put_object_tagging(Bucket=bucket, Key="k",
                                                                 Tagging=tags, **v)),
                ("DELETE", lambda v=version: s3.delete_object_tagging(Bucket=bucket, Key="k",
                                                                       **v))):
            status, code, error = refused(call)
            assert (status, code) == (405, "MethodNotAllowed")
            assert (error["Method"], error["ResourceType"]) == (method, "DeleteMarker")


# -- ranges ----------------------------------------------------------------------------------


def test_part_copy_ranges_out_of_the_source(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="src", Body=b"0123456789")
    upload = s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]

    def copy(text: str) -> tuple[int, str, dict[str, Any]]:
        return refused(lambda: s3.upload_part_copy(
            Bucket=bucket, Key="k", UploadId=upload, PartNumber=1,
            CopySource={"Bucket": bucket, "Key": "src"}, CopySourceRange=text))

    status, code, error = copy("bytes=100-200")
    assert (status, code, error["Message"]) == (
        400, "InvalidRequest", "The specified copy range is invalid for the source object size")
    assert copy("bytes=1-0")[2]["Message"].startswith(
        "The x-amz-copy-source-range value must be of the form bytes=first-last")
    assert copy("bytes=0-100")[2]["Message"] == (
        "Range specified is not valid for source object of size: 10")


def test_a_range_covering_the_whole_object_has_its_checksum(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"0123456789abcde")
    whole = s3.head_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED")["ChecksumCRC32"]
    for text in ("bytes=-15", "bytes=0-100"):
        got = s3.get_object(Bucket=bucket, Key="k", Range=text, ChecksumMode="ENABLED")
        assert got["ContentRange"] == "bytes 0-14/15" and got["ChecksumCRC32"] == whole
    part = s3.get_object(Bucket=bucket, Key="k", Range="bytes=0-3", ChecksumMode="ENABLED")
    assert "ChecksumCRC32" not in part


# -- object lock's header --------------------------------------------------------------------


def test_bypassing_governance_needs_object_lock(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    status, code, error = refused(lambda: s3.delete_object(
        Bucket=bucket, Key="k", BypassGovernanceRetention=True))
    assert (status, code) == (400, "InvalidArgument")
    assert error["Message"] == ("x-amz-bypass-governance-retention is only applicable to "
                                "Object Lock enabled buckets.")
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"x"


# -- conditional completion of an upload whose key changed -----------------------------------


def _upload(s3: Any, bucket: str, key: str) -> tuple[str, list[dict[str, Any]]]:
    upload = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    part = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload, Body=b"test", PartNumber=1)
    return upload, [{"ETag": part["ETag"], "PartNumber": 1}]


def test_completing_after_the_key_changed_is_a_conflict(s3: Any, bucket: str) -> None:
    def complete(upload: str, parts: list[dict[str, Any]], **condition: str) -> Any:
        return lambda: s3.complete_multipart_upload(
            Bucket=bucket, Key="k", UploadId=upload, MultipartUpload={"Parts": parts},
            **condition)

    first = s3.put_object(Bucket=bucket, Key="k", Body=b"test")["ETag"]
    upload, parts = _upload(s3, bucket, "k")
    second = s3.put_object(Bucket=bucket, Key="k", Body=b"test2")["ETag"]
    # The condition is judged first: the current ETag is no longer the first one.
    assert refused(complete(upload, parts, IfMatch=first))[:2] == (412, "PreconditionFailed")
    # It holds, but the key was written after the upload began.
    status, code, error = refused(complete(upload, parts, IfMatch=second))
    assert (status, code) == (409, "ConditionalRequestConflict")
    assert (error["Condition"], error["Key"]) == ("If-Match", "k")
    assert error["Message"] == ("The conditional request cannot succeed due to a conflicting "
                                "operation against this resource.")
    # Deleted since: If-None-Match holds again, and still conflicts.
    upload, parts = _upload(s3, bucket, "gone")
    s3.put_object(Bucket=bucket, Key="gone", Body=b"x")
    s3.delete_object(Bucket=bucket, Key="gone")
    status, code, error = refused(lambda: s3.complete_multipart_upload(
        Bucket=bucket, Key="gone", UploadId=upload, MultipartUpload={"Parts": parts},
        IfNoneMatch="*"))
    assert (status, code, error["Condition"]) == (409, "ConditionalRequestConflict",
                                                  "If-None-Match")
    # Without a condition the same completion goes through, as ever.
    s3.complete_multipart_upload(Bucket=bucket, Key="gone", UploadId=upload,
                                 MultipartUpload={"Parts": parts})
    # An upload untouched since it began completes under its condition.
    upload, parts = _upload(s3, bucket, "fresh")
    s3.complete_multipart_upload(Bucket=bucket, Key="fresh", UploadId=upload,
                                 MultipartUpload={"Parts": parts}, IfNoneMatch="*")


# -- presigned URLs carry only what was signed -----------------------------------------------


def test_a_presigned_request_with_unsigned_amz_headers_is_refused(hw: RunningHeadwater,
                                                                 bucket: str) -> None:
    signer = hw.client("s3", config=Config(signature_version="s3v4"))
    url = signer.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "k"})
    request = urllib.request.Request(url, data=b"x", method="PUT",
                                     headers={"x-amz-expires": "5"})
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request)
    body = caught.value.read()
    assert caught.value.code == 403 and b"<Code>AccessDenied</Code>" in body
    assert b"There were headers present in the request which were not signed" in body
    assert b"<HeadersNotSigned>x-amz-expires</HeadersNotSigned>" in body
    with urllib.request.urlopen(urllib.request.Request(url, data=b"x", method="PUT")) as ok:
        assert ok.status == 200


@pytest.mark.parametrize("storage_class", ["OUTPOSTS", "SNOW", "EXPRESS_ONEZONE", "COLD"])
def test_classes_of_other_kinds_of_storage_are_refused(s3: Any, bucket: str,
                                                       storage_class: str) -> None:
    for call in (lambda: s3.put_object(Bucket=bucket, Key="k", Body=b"x",
                                       StorageClass=storage_class),
                 lambda: s3.create_multipart_upload(Bucket=bucket, Key="k",
                                                    StorageClass=storage_class)):
        status, code, error = refused(call)
        assert (status, code) == (400, "InvalidStorageClass")
        assert error["StorageClassRequested"] == storage_class


# -- multipart and copy refusals, as recorded ------------------------------------------------


def test_completion_refusals_name_the_upload(s3: Any, bucket: str) -> None:
    upload, _ = _upload(s3, bucket, "k")
    status, code, error = refused(lambda: s3.complete_multipart_upload(
        Bucket=bucket, Key="k", UploadId=upload))  # no document at all
    assert (status, code, error["Message"]) == (400, "InvalidRequest",
                                               "You must specify at least one part")
    status, code, _ = refused(lambda: s3.complete_multipart_upload(
        Bucket=bucket, Key="k", UploadId=upload, MultipartUpload={"Parts": []}))
    assert (status, code) == (400, "MalformedXML")  # a document naming no part
    wrong = [{"PartNumber": 1, "ETag": '"' + "0" * 32 + '"'}]
    status, code, error = refused(lambda: s3.complete_multipart_upload(
        Bucket=bucket, Key="k", UploadId=upload, MultipartUpload={"Parts": wrong}))
    assert (status, code) == (400, "InvalidPart")
    assert (error["UploadId"], error["PartNumber"], error["ETag"]) == (upload, "1", "0" * 32)


def test_a_part_past_the_count_names_both(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    status, code, error = refused(lambda: s3.get_object(Bucket=bucket, Key="k", PartNumber=10))
    assert (status, code) == (416, "InvalidPartNumber")
    assert (error["PartNumberRequested"], error["ActualPartCount"]) == ("10", "1")


def test_a_copy_source_may_not_name_a_delete_marker(s3: Any, bucket: str) -> None:
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    marker = s3.delete_object(Bucket=bucket, Key="k")["VersionId"]
    status, code, error = refused(lambda: s3.copy_object(
        Bucket=bucket, Key="c", CopySource={"Bucket": bucket, "Key": "k", "VersionId": marker}))
    assert (status, code, error["Message"]) == (
        400, "InvalidRequest",
        "The source of a copy request may not specifically refer to a delete marker by version id.")


# -- lifecycle configurations S3's schema refuses --------------------------------------------


@pytest.mark.parametrize(("rule", "answer"), [
    ({"Filter": {"Prefix": "a/", "And": {"Prefix": "b/", "Tags": [{"Key": "k", "Value": "v"}]}},
      "Expiration": {"Days": 1}}, ("MalformedXML", None)),
    ({"Filter": {"ObjectSizeGreaterThan": 10, "And": {"Prefix": "b/",
                                                        "ObjectSizeLessThan": 100}},
      "Expiration": {"Days": 1}}, ("MalformedXML", None)),
    ({"Filter": {"And": {"Prefix": "b/", "Tags": [{"Key": "k", "Value": "1"},
                                                  {"Key": "k", "Value": "2"}]}},
      "Expiration": {"Days": 1}}, ("InvalidRequest", "Duplicate Tag Keys are not allowed.")),
    ({"Filter": {}, "Expiration": {"Days": 1}, "NoncurrentVersionExpiration": {}},
     ("MalformedXML", None)),
])
def test_lifecycle_rules_s3s_schema_refuses(s3: Any, bucket: str, rule: dict[str, Any],
                                            answer: tuple[str, str | None]) -> None:
    status, code, error = refused(lambda: s3.put_bucket_lifecycle_configuration(
        Bucket=bucket, LifecycleConfiguration={"Rules": [{"ID": "r", "Status": "Enabled",
                                                          **rule}]}))
    assert (status, code) == (400, answer[0])
    if answer[1] is not None:
        assert error["Message"] == answer[1]
