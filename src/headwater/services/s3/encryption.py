"""Server-side encryption as headwater offers it: SSE-S3, and nothing that pretends to be more.

Since January 2023 S3 encrypts every new object with SSE-S3 (``AES256``) unless told
otherwise, so every object here reports ``AES256``; the bytes under the data dir are the
user's own and are not actually encrypted.  SSE-KMS and SSE-C are not implemented: a request
that asks for them is answered 501 ``NotImplemented`` naming what it asked for, instead of
being stored and then reported as something it is not.  Bucket default-encryption
configurations are stored and returned, SSE-KMS ones too; objects written under them still
report SSE-S3 (``docs/s3.md``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from headwater.core.errors import ServiceError
from headwater.services.s3 import errors

SSE_S3 = "AES256"
_KMS = ("aws:kms", "aws:kms:dsse")
# What PutBucketEncryption takes as SSEAlgorithm on a general purpose bucket.  botocore's
# enum also lists aws:fsx and aws:backup, which belong to FSx- and Backup-owned storage.
BUCKET_ALGORITHMS = (SSE_S3, *_KMS)


def _not_implemented(what: str) -> ServiceError:
    return ServiceError("NotImplemented", f"headwater does not implement {what}", 501,
                        sender_fault=False)


def check_write(params: Mapping[str, Any]) -> None:
    """The encryption a write asks for (PutObject, CopyObject, CreateMultipartUpload, a POST
    form): SSE-S3 or none.  An unknown method is S3's 400 InvalidArgument
    (aws/aws-sdk-cpp#1771, thoughtbot/paperclip#2243); the CopyObject reference: "Unrecognized
    or unsupported values won't write a destination object and will receive a 400 Bad
    Request response"."""
    asked = params.get("ServerSideEncryption")
    _check_combination(params, asked)
    if asked is not None and asked != SSE_S3:
        if asked in _KMS:
            raise _not_implemented(f"SSE-KMS (x-amz-server-side-encryption: {asked})")
        raise errors.invalid_argument("The encryption method specified is not supported",
                                      "x-amz-server-side-encryption", str(asked))
    if params.get("SSECustomerAlgorithm") is not None:
        raise _not_implemented("SSE-C (x-amz-server-side-encryption-customer-algorithm)")
    _check_source(params)


def _check_combination(params: Mapping[str, Any], asked: Any) -> None:
    """Headers that make no request together, refused as S3 refuses them whatever it
    implements (400 InvalidArgument):

    - a KMS key id without ``x-amz-server-side-encryption: aws:kms`` (mcohen01/amazonica#338,
      ceph/s3-tests test_sse_kms_not_declared);
    - an SSE-C key without its algorithm (aws/aws-sdk-php#1050, ceph/s3-tests
      test_encryption_key_no_sse_c);
    - SSE-C beside ``x-amz-server-side-encryption`` (aws/aws-sdk-ruby#1302).
    """
    if params.get("SSEKMSKeyId") is not None and asked not in _KMS:
        raise errors.invalid_argument("Server Side Encryption with AWS KMS managed key requires "
                                      "HTTP header x-amz-server-side-encryption : aws:kms")
    customer = params.get("SSECustomerAlgorithm")
    if customer is None and (params.get("SSECustomerKey") is not None
                             or params.get("SSECustomerKeyMD5") is not None):
        raise errors.invalid_argument("Requests specifying Server Side Encryption with Customer "
                                      "provided keys must provide a valid encryption algorithm.")
    if customer is not None and asked is not None:
        raise errors.invalid_argument("Server side encryption with customer provided key is "
                                      "incompatible with the encryption method specified.")


def _check_source(params: Mapping[str, Any]) -> None:
    """A copy whose source is named with an SSE-C key: no object here has one."""
    if params.get("CopySourceSSECustomerAlgorithm") is not None:
        raise _not_applicable()


def check_read(params: Mapping[str, Any], headers: Mapping[str, str]) -> None:
    """GetObject and HeadObject carry no encryption request headers for an SSE-S3 object:
    "you'll get an HTTP 400 Bad Request error" (API reference, GetObject and HeadObject).
    SSE-C parameters name a key for an object that has none: S3's InvalidRequest
    (boto/boto3#982, minio/minio#7332)."""
    if "x-amz-server-side-encryption" in headers:
        raise errors.invalid_argument(
            "x-amz-server-side-encryption header is not supported for this operation.")
    if params.get("SSECustomerAlgorithm") is not None:
        raise _not_applicable()


def check_part_copy(params: Mapping[str, Any]) -> None:
    """UploadPartCopy: its source, as for CopyObject."""
    _check_source(params)


def _not_applicable() -> ServiceError:
    return errors.invalid_request("The encryption parameters are not applicable to this object.")


def check_configuration(config: Mapping[str, Any]) -> None:
    """PutBucketEncryption: S3's answers to a document it does not take.

    - no rule, or more than one: MalformedXML (localstack's AWS-validated
      test_s3_default_bucket_encryption_exc, put-bucket-encryption-no-rules / -two-rules);
    - an SSEAlgorithm outside S3's schema: MalformedXML (the answer AWS gave for "SSE-KMS",
      aws-controllers-k8s/community#1505);
    - a KMSMasterKeyID with an algorithm that takes no key: InvalidArgument naming
      ApplyServerSideEncryptionByDefault (the same test, put-bucket-encryption-kms-with-aes).
    """
    rules = config.get("Rules") or []
    if len(rules) != 1:
        raise errors.malformed_xml()
    default = rules[0].get("ApplyServerSideEncryptionByDefault")
    if default is None:
        return
    algorithm = default.get("SSEAlgorithm")
    if algorithm not in BUCKET_ALGORITHMS:
        raise errors.malformed_xml()
    if default.get("KMSMasterKeyID") is not None and algorithm not in _KMS:
        raise errors.invalid_argument(
            "a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms or "
            "aws:kms:dsse", "ApplyServerSideEncryptionByDefault")
