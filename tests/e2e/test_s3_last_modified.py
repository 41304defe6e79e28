"""boto3 against headwater's S3: one Last-Modified, to the second, wherever it shows.

S3 keeps an object's Last-Modified to the whole second.  The header is an HTTP date (seconds)
and every listing's ``<LastModified>`` ends in ``.000Z`` (the API reference's samples and SDK
fixtures recorded from AWS), so a client that compares a listing with a HEAD (aws s3 sync,
s3fs, rclone) sees one time.  So for PutObject, CopyObject, CompleteMultipartUpload and a
delete marker; ListParts' and ListMultipartUploads' times are whole seconds too.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

pytestmark = pytest.mark.e2e

_ELEMENT = re.compile(r"<(LastModified|Initiated)>([^<]*)</")


@contextmanager
def raw_times(s3: Any) -> Iterator[list[str]]:
    """The ``<LastModified>`` and ``<Initiated>`` texts of the responses the client reads
    meanwhile, as they were on the wire."""
    seen: list[str] = []

    def keep(http_response: Any, **_: Any) -> None:
        seen.extend(m.group(2) for m in _ELEMENT.finditer(http_response.content.decode()))

    s3.meta.events.register("after-call.s3", keep)
    try:
        yield seen
    finally:
        s3.meta.events.unregister("after-call.s3", keep)


def head_time(s3: Any, bucket: str, key: str) -> datetime:
    modified: datetime = s3.head_object(Bucket=bucket, Key=key)["LastModified"]
    return modified


def listed(s3: Any, bucket: str, key: str) -> list[datetime]:
    """``key``'s LastModified in ListObjectsV2, ListObjects and ListObjectVersions, and the
    texts on the wire each time end in .000Z."""
    with raw_times(s3) as wire:
        found = [
            *(o["LastModified"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=key)["Contents"]),
            *(o["LastModified"] for o in s3.list_objects(Bucket=bucket, Prefix=key)["Contents"]),
            *(v["LastModified"] for v in s3.list_object_versions(Bucket=bucket, Prefix=key)
              .get("Versions", []) if v["IsLatest"]),
        ]
    assert len(wire) == 3 and all(text.endswith(".000Z") for text in wire), wire
    return found


def test_a_put_object_lists_at_the_time_its_head_shows(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"data")
    assert listed(s3, bucket, "k") == [head_time(s3, bucket, "k")] * 3


def test_a_copy_lists_at_the_time_its_head_and_result_show(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="src", Body=b"data")
    with raw_times(s3) as wire:
        result = s3.copy_object(Bucket=bucket, Key="copy", CopySource=f"{bucket}/src")
    assert [text[-5:] for text in wire] == [".000Z"]
    head = head_time(s3, bucket, "copy")
    assert result["CopyObjectResult"]["LastModified"] == head
    assert listed(s3, bucket, "copy") == [head] * 3


def test_a_multipart_upload_its_parts_and_the_object_show_whole_seconds(
    s3: Any, bucket: str
) -> None:
    upload = s3.create_multipart_upload(Bucket=bucket, Key="big")["UploadId"]
    etag = s3.upload_part(Bucket=bucket, Key="big", UploadId=upload, PartNumber=1,
                          Body=b"part")["ETag"]
    with raw_times(s3) as wire:
        uploads = s3.list_multipart_uploads(Bucket=bucket)["Uploads"]
        parts = s3.list_parts(Bucket=bucket, Key="big", UploadId=upload)["Parts"]
    # ListMultipartUploads' Initiated and ListParts' LastModified, as AWS lists them.
    assert len(wire) == 2 and all(text.endswith(".000Z") for text in wire), wire
    assert uploads[0]["Initiated"].microsecond == parts[0]["LastModified"].microsecond == 0
    s3.complete_multipart_upload(Bucket=bucket, Key="big", UploadId=upload,
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})
    assert listed(s3, bucket, "big") == [head_time(s3, bucket, "big")] * 3


def test_a_delete_marker_lists_at_the_time_a_head_of_it_shows(s3: Any, bucket: str) -> None:
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket=bucket, Key="k", Body=b"data")
    marker = s3.delete_object(Bucket=bucket, Key="k")["VersionId"]
    with raw_times(s3) as wire:
        markers = s3.list_object_versions(Bucket=bucket)["DeleteMarkers"]
    assert len(wire) == 2 and all(text.endswith(".000Z") for text in wire), wire
    # S3 answers a HEAD of a delete marker with its Last-Modified: 404 for the key, 405 for
    # the marker's version id.
    answers = []
    for version in ({}, {"VersionId": marker}):
        with pytest.raises(ClientError) as err:
            s3.head_object(Bucket=bucket, Key="k", **version)
        headers = err.value.response["ResponseMetadata"]["HTTPHeaders"]
        assert headers["x-amz-delete-marker"] == "true"
        answers.append(parsedate_to_datetime(headers["last-modified"]))
    assert [m["VersionId"] for m in markers] == [marker]
    assert answers == [markers[0]["LastModified"]] * 2


def test_a_head_last_modified_is_not_modified_since_itself(s3: Any, bucket: str) -> None:
    # The header's own date as If-Modified-Since: 304; as If-Unmodified-Since: the object.
    s3.put_object(Bucket=bucket, Key="k", Body=b"data")
    modified = listed(s3, bucket, "k")[0]
    with pytest.raises(ClientError) as err:
        s3.get_object(Bucket=bucket, Key="k", IfModifiedSince=modified)
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 304
    got = s3.get_object(Bucket=bucket, Key="k", IfUnmodifiedSince=modified)
    assert got["Body"].read() == b"data"
