"""S3 on the wire: one method per operation, assembled from the object, bucket, listing,
upload and Object Lock groups (``objects``, ``buckets``, ``key_listings``, ``uploads``,
``object_lock``).

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
from headwater.protocol import sigv4
from headwater.protocol.context import RequestContext
from headwater.protocol.specs import get_spec
from headwater.services.s3 import checksums, errors
from headwater.services.s3.buckets import BucketOps
from headwater.services.s3.key_listings import ListingOps
from headwater.services.s3.model import S3
from headwater.services.s3.multipart import Multipart
from headwater.services.s3.notifications import Notifier
from headwater.services.s3.object_lock import ObjectLockOps
from headwater.services.s3.uploads import UploadOps


class S3Adapter(UploadOps, BucketOps, ListingOps, ObjectLockOps):
    def __init__(self, s3: S3, settings: Settings, notifier: Notifier) -> None:
        self.s3 = s3
        self.settings = settings
        self.notifier = notifier
        self.multipart = Multipart(s3)

    def before_operation(self, operation: str, ctx: RequestContext, params: dict[str, Any]) -> None:
        """What every bucket and object operation checks first: the region it was signed for
        (``_check_region``); the bucket owner condition (``x-amz-expected-bucket-owner``, and
        for a copy's source ``x-amz-source-expected-bucket-owner``): an account id that is not
        the bucket's is 403 AccessDenied, a value that is no account id 400
        InvalidBucketOwnerAWSAccountID
        (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-owner-condition.html;
        the message with the value in brackets as recorded from S3 by LocalStack's
        AWS-validated tests); then a document's Content-MD5 or checksum
        (``checksums.check_body``)."""
        owner = params.get("ExpectedBucketOwner")
        source_owner = params.get("ExpectedSourceBucketOwner")
        # The values are checked before the bucket is looked for (LocalStack's recordings).
        for value in (owner, source_owner):
            if value is not None and not _ACCOUNT_ID.fullmatch(str(value)):
                raise ServiceError(
                    "InvalidBucketOwnerAWSAccountID",
                    f"The value of the expected bucket owner parameter must be an AWS Account "
                    f"ID... [{value}]", 400)
        if operation not in _ANY_REGION and "Bucket" in params:
            self._check_region(ctx, params["Bucket"])
        if owner is not None and self.s3.bucket(params["Bucket"]).account != owner:
            raise errors.access_denied()
        if source_owner is not None and params.get("CopySource"):
            source = unquote(str(params["CopySource"])).lstrip("/").split("/", 1)[0]
            if self.s3.bucket(source).account != source_owner:
                raise errors.access_denied()
        if operation in _CHECKSUMMED:
            checksums.check_body(ctx.request.headers, ctx.request.body,
                                 required=operation == "DeleteObjects")

    def _check_region(self, ctx: RequestContext, name: str) -> None:
        """A request signed for another region than its bucket's: S3's 400 naming both
        (recorded: jsoma/flatware#10 for the header, minio-java and aws-sdk-js reports for a
        presigned URL), with the bucket's region in ``x-amz-bucket-region`` and ``Region``,
        which SDKs read to sign again for the right region.  Unsigned requests name no
        region; S3 has no region of its own to compare."""
        scope = sigv4.credential_scope(ctx.request)
        if scope is None:
            return
        region = self.s3.bucket(name).region
        if scope.region == region:
            return
        wrong = f"the region '{scope.region}' is wrong; expecting '{region}'"
        if "authorization" in ctx.request.headers:
            code, message = "AuthorizationHeaderMalformed", f"The authorization header is malformed; {wrong}"
        else:
            code, message = ("AuthorizationQueryParametersError",
                             f"Error parsing the X-Amz-Credential parameter; {wrong}")
        raise ServiceError(code, message, 400, fields={"Region": region},
                           headers={"x-amz-bucket-region": region})


_ACCOUNT_ID = re.compile(r"\d{12}")
# Operations S3 answers whatever region they were signed for: CreateBucket has its own rule
# (``buckets._bucket_region``), and GetBucketLocation is how a client learns the region.
_ANY_REGION = frozenset({"CreateBucket", "GetBucketLocation"})
# Operations whose document's integrity headers S3 checks (the model's
# requestChecksumRequired: DeleteObjects and the configuration PUTs).
_MODEL = get_spec("s3").model
_CHECKSUMMED = frozenset(name for name in _MODEL.operation_names
                         if _MODEL.operation_model(name).http_checksum.get("requestChecksumRequired"))

