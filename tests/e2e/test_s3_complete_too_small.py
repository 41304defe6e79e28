"""CompleteMultipartUpload with a part below 5 MiB that is not the last, answered as S3 did in
LocalStack's AWS-validated ``TestS3::test_multipart_complete_multipart_too_small``
(tests/aws/services/s3/test_s3.py and its snapshot in localstack/localstack, key
``complete-exc-too-small``): two parts of ``data``, completed together.

AWS page: https://docs.aws.amazon.com/AmazonS3/latest/API/API_CompleteMultipartUpload.html
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

pytestmark = pytest.mark.e2e


def test_too_small_part_names_its_size_number_and_unquoted_etag(s3: Any, bucket: str) -> None:
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="small")["UploadId"]
    parts = []
    for number in (1, 2):
        out = s3.upload_part(Bucket=bucket, Key="small", UploadId=upload_id, PartNumber=number,
                             Body=b"data")
        parts.append({"ETag": out["ETag"], "PartNumber": number})
    with pytest.raises(ClientError) as err:
        s3.complete_multipart_upload(Bucket=bucket, Key="small", UploadId=upload_id,
                                     MultipartUpload={"Parts": parts})
    response = err.value.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert response["Error"] == {
        "Code": "EntityTooSmall",
        "Message": "Your proposed upload is smaller than the minimum allowed size",
        "ProposedSize": "4", "MinSizeAllowed": "5242880", "PartNumber": "1",
        "ETag": "8d777f385d3dfec8815d20f7496026dc"}
