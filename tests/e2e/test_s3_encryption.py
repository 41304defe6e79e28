"""Server-side encryption requests: SSE-S3 is taken, SSE-KMS and SSE-C are refused as not
implemented, and what S3 refuses is refused with S3's answer (found by an out-of-tree run of
ceph/s3-tests' SSE-S3 section and probes around it)."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest
import s3_forms
from botocore.config import Config
from botocore.exceptions import ClientError

from headwater.testing import RunningHeadwater

KEY = os.urandom(32)  # an SSE-C key


def error(err: pytest.ExceptionInfo[ClientError]) -> tuple[str, int, str]:
    found = err.value.response
    return (found["Error"]["Code"], found["ResponseMetadata"]["HTTPStatusCode"],
            found["Error"].get("Message", ""))


def refused(call: Callable[[], Any]) -> tuple[str, int, str]:
    with pytest.raises(ClientError) as err:
        call()
    return error(err)


def gone(s3: Any, bucket: str, key: str) -> bool:
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        return exc.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    return False


@pytest.mark.parametrize("method", ["AES192", "aes256", "garbage", ""])
def test_an_unknown_method_is_refused_and_writes_nothing(s3: Any, bucket: str,
                                                         method: str) -> None:
    s3.put_object(Bucket=bucket, Key="src", Body=b"x")
    unsupported = ("InvalidArgument", 400, "The encryption method specified is not supported")
    with pytest.raises(ClientError) as err:
        s3.put_object(Bucket=bucket, Key="k", Body=b"x", ServerSideEncryption=method)
    assert error(err) == unsupported
    assert err.value.response["Error"]["ArgumentName"] == "x-amz-server-side-encryption"
    assert refused(lambda: s3.copy_object(
        Bucket=bucket, Key="c", CopySource={"Bucket": bucket, "Key": "src"},
        ServerSideEncryption=method)) == unsupported
    assert refused(lambda: s3.create_multipart_upload(
        Bucket=bucket, Key="m", ServerSideEncryption=method)) == unsupported
    assert gone(s3, bucket, "k") and gone(s3, bucket, "c")
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


@pytest.mark.parametrize("method", ["aws:kms", "aws:kms:dsse"])
def test_sse_kms_is_not_implemented(s3: Any, bucket: str, method: str) -> None:
    code, status, message = refused(lambda: s3.put_object(
        Bucket=bucket, Key="k", Body=b"x", ServerSideEncryption=method))
    assert (code, status) == ("NotImplemented", 501) and "SSE-KMS" in message
    assert gone(s3, bucket, "k")


def test_a_kms_key_without_the_kms_method_is_refused_and_writes_nothing(s3: Any,
                                                                       bucket: str) -> None:
    # ceph/s3-tests test_sse_kms_not_declared: stored before, where S3 refuses the request.
    code, status, message = refused(lambda: s3.put_object(
        Bucket=bucket, Key="k", Body=b"x", SSEKMSKeyId="testkey-2"))
    assert (code, status) == ("InvalidArgument", 400) and "aws:kms" in message
    assert gone(s3, bucket, "k")


def test_sse_c_writes_are_not_implemented(s3: Any, bucket: str) -> None:
    code, status, message = refused(lambda: s3.put_object(
        Bucket=bucket, Key="k", Body=b"x", SSECustomerAlgorithm="AES256", SSECustomerKey=KEY))
    assert (code, status) == ("NotImplemented", 501) and "SSE-C" in message
    code, status, _ = refused(lambda: s3.create_multipart_upload(
        Bucket=bucket, Key="m", SSECustomerAlgorithm="AES256", SSECustomerKey=KEY))
    assert (code, status) == ("NotImplemented", 501)
    assert gone(s3, bucket, "k")


def test_sse_s3_asked_for_is_taken(s3: Any, bucket: str) -> None:
    put = s3.put_object(Bucket=bucket, Key="k", Body=b"x", ServerSideEncryption="AES256")
    assert put["ServerSideEncryption"] == "AES256"
    assert s3.head_object(Bucket=bucket, Key="k")["ServerSideEncryption"] == "AES256"


def test_reads_carrying_the_encryption_header_are_refused(hw: RunningHeadwater, bucket: str) -> None:
    s3 = hw.client("s3")
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")

    def add_header(request: Any, **_: Any) -> None:
        request.headers["x-amz-server-side-encryption"] = "AES256"

    s3.meta.events.register("before-sign.s3.GetObject", add_header)
    s3.meta.events.register("before-sign.s3.HeadObject", add_header)
    unsupported = "x-amz-server-side-encryption header is not supported for this operation."
    assert refused(lambda: s3.get_object(Bucket=bucket, Key="k")) == (
        "InvalidArgument", 400, unsupported)
    _, status, _ = refused(lambda: s3.head_object(Bucket=bucket, Key="k"))
    assert status == 400  # a HEAD answer has no body to name the code


def test_sse_c_parameters_do_not_apply_to_an_object_without_that_key(s3: Any,
                                                                     bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    not_applicable = ("InvalidRequest", 400,
                      "The encryption parameters are not applicable to this object.")
    assert refused(lambda: s3.get_object(
        Bucket=bucket, Key="k", SSECustomerAlgorithm="AES256", SSECustomerKey=KEY)
    ) == not_applicable
    assert refused(lambda: s3.copy_object(
        Bucket=bucket, Key="c", CopySource={"Bucket": bucket, "Key": "k"},
        CopySourceSSECustomerAlgorithm="AES256", CopySourceSSECustomerKey=KEY)
    ) == not_applicable
    upload = s3.create_multipart_upload(Bucket=bucket, Key="m")["UploadId"]
    assert refused(lambda: s3.upload_part_copy(
        Bucket=bucket, Key="m", UploadId=upload, PartNumber=1,
        CopySource={"Bucket": bucket, "Key": "k"},
        CopySourceSSECustomerAlgorithm="AES256", CopySourceSSECustomerKey=KEY)
    ) == not_applicable


def test_a_form_upload_asking_for_an_unknown_method_is_refused(hw: RunningHeadwater,
                                                               bucket: str) -> None:
    signer = hw.client("s3", config=Config(signature_version="s3v4"))
    s3 = hw.client("s3")
    for method, status in (("AES192", 400), ("AES256", 204)):
        fields = {"x-amz-server-side-encryption": method}
        post = signer.generate_presigned_post(bucket, f"up/{method}", Fields=fields,
                                              Conditions=[fields])
        answer = s3_forms.post(post["url"], post["fields"], b"hello")
        assert answer.status == status
        if status == 400:
            assert answer.error()["Code"] == "InvalidArgument"
            assert gone(s3, bucket, f"up/{method}")
    assert s3.head_object(Bucket=bucket, Key="up/AES256")["ServerSideEncryption"] == "AES256"


def test_bucket_encryption_takes_only_s3s_algorithms(s3: Any, bucket: str) -> None:
    def config(algorithm: str) -> dict[str, Any]:
        return {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": algorithm}}]}

    for wrong in ("AES128", "SSE-KMS", "aes256"):
        assert refused(lambda w=wrong: s3.put_bucket_encryption(
            Bucket=bucket, ServerSideEncryptionConfiguration=config(w)))[:2] == (
            "MalformedXML", 400)
    stored = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]
    assert stored["Rules"][0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration=config("aws:kms"))
    stored = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]
    assert stored == config("aws:kms")
    # Objects under an SSE-KMS default still report what headwater does: SSE-S3.
    assert s3.put_object(Bucket=bucket, Key="k", Body=b"x")["ServerSideEncryption"] == "AES256"


def test_bucket_encryption_takes_exactly_one_rule(s3: Any, bucket: str) -> None:
    # S3's recorded answers (localstack's AWS-validated test_s3_default_bucket_encryption_exc,
    # put-bucket-encryption-no-rules / -two-rules).
    two = [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"},
            "BucketKeyEnabled": True},
           {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
    for rules in ([], two):
        assert refused(lambda r=rules: s3.put_bucket_encryption(
            Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": r}))[:2] == (
            "MalformedXML", 400)
    stored = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]
    assert stored["Rules"] == [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"},
                                "BucketKeyEnabled": False}]


def test_a_kms_key_needs_a_kms_algorithm(s3: Any, bucket: str) -> None:
    # put-bucket-encryption-kms-with-aes in the same recording.
    def config(algorithm: str) -> dict[str, Any]:
        return {"Rules": [{"ApplyServerSideEncryptionByDefault": {
            "SSEAlgorithm": algorithm, "KMSMasterKeyID": "randomkeyid"}}]}

    with pytest.raises(ClientError) as err:
        s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration=config("AES256"))
    assert error(err) == (
        "InvalidArgument", 400,
        ("a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms or "
        "aws:kms:dsse"))
    assert err.value.response["Error"]["ArgumentName"] == "ApplyServerSideEncryptionByDefault"
    assert "ArgumentValue" not in err.value.response["Error"]
    for kms in ("aws:kms", "aws:kms:dsse"):
        s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration=config(kms))
        stored = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]
        assert stored == config(kms)
