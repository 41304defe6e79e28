"""S3 on the wire: one method per operation, assembled from the object, bucket, listing and
upload groups (``objects``, ``buckets``, ``key_listings``, ``uploads``).

The gateway has parsed the request into the operation's input shape (streaming bodies as
streams) and serializes the returned dict with the rest-xml serializer and S3's quirks
(``protocol.serialize.s3``).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

from headwater.config import Settings
from headwater.core.errors import ServiceError
from headwater.protocol.context import RequestContext
from headwater.services.s3.buckets import BucketOps
from headwater.services.s3.key_listings import ListingOps
from headwater.services.s3.model import S3
from headwater.services.s3.multipart import Multipart
from headwater.services.s3.notifications import Notifier
from headwater.services.s3.uploads import UploadOps


class S3Adapter(UploadOps, BucketOps, ListingOps):
    def __init__(self, s3: S3, settings: Settings, notifier: Notifier) -> None:
        self.s3 = s3
        self.settings = settings
        self.notifier = notifier
        self.multipart = Multipart(s3)

    def before_operation(self, operation: str, ctx: RequestContext, params: dict[str, Any]) -> None:
        """The bucket owner condition (``x-amz-expected-bucket-owner``, and for a copy's source
        ``x-amz-source-expected-bucket-owner``), which every bucket and object operation takes:
        an account id that is not the bucket's is 403 AccessDenied, a value that is no account
        id 400 InvalidBucketOwnerAWSAccountID
        (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-owner-condition.html;
        the message with the value in brackets as recorded from S3 by LocalStack's
        AWS-validated tests)."""
        expected = params.get("ExpectedBucketOwner")
        if expected is not None:
            self._check_owner(params["Bucket"], str(expected))
        expected = params.get("ExpectedSourceBucketOwner")
        if expected is not None and params.get("CopySource"):
            source = unquote(str(params["CopySource"])).lstrip("/").split("/", 1)[0]
            self._check_owner(source, str(expected))

    def _check_owner(self, bucket: str, expected: str) -> None:
        # The value is checked before the bucket is looked for (LocalStack's recordings).
        if not _ACCOUNT_ID.fullmatch(expected):
            raise ServiceError(
                "InvalidBucketOwnerAWSAccountID",
                f"The value of the expected bucket owner parameter must be an AWS Account ID... "
                f"[{expected}]", 400)
        if self.s3.bucket(bucket).account != expected:
            raise ServiceError("AccessDenied", "Access Denied", 403)


_ACCOUNT_ID = re.compile(r"\d{12}")
