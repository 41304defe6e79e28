"""Object Lock as headwater has it: no bucket has it.

A bucket cannot be created with Object Lock (501, ``buckets.create_bucket``), so every bucket
here is one without it, and S3's answers for such a bucket are known: the requests about
locks get them, rather than a 501 that would tell a client (a compliance check, an IaC tool
reading the bucket) something other than what S3 tells it.  Only turning Object Lock on for an
existing bucket, which S3 allows once versioning is Enabled, stays not implemented.
"""

from __future__ import annotations

from typing import Any

from headwater.core.errors import ServiceError
from headwater.protocol.context import RequestContext
from headwater.services.s3 import errors
from headwater.services.s3.model import S3

Params = dict[str, Any]

# GetObjectRetention, GetObjectLegalHold and their Puts on such a bucket: 400 InvalidRequest,
# recorded from S3 (adobe/S3Mock LegalHoldIT, @S3VerifiedSuccess 2025).  Not the wording of a
# PutObject asking for a lock ("...ObjectLockConfiguration", ``wire.check_no_object_lock``).
_MISSING = "Bucket is missing Object Lock Configuration"


class ObjectLockOps:
    s3: S3

    def get_object_lock_configuration(self, ctx: RequestContext, params: Params) -> Any:
        self.s3.bucket(params["Bucket"])
        # getmoto/moto's ObjectLockConfigurationNotFoundError, as AWS words it.
        raise ServiceError("ObjectLockConfigurationNotFoundError",
                           "Object Lock configuration does not exist for this bucket", 404)

    def put_object_lock_configuration(self, ctx: RequestContext, params: Params) -> Any:
        bucket = self.s3.bucket(params["Bucket"])
        if bucket.versioning != "Enabled":
            # moto's AWS-verified test_put_object_lock_with_versioning_disabled.
            raise ServiceError(
                "InvalidBucketState",
                "Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration",
                409)
        raise ServiceError("NotImplemented",
                           "headwater does not implement Object Lock (PutObjectLockConfiguration)",
                           501, sender_fault=False)

    def _refuse(self, params: Params) -> Any:
        self.s3.bucket(params["Bucket"])
        raise errors.invalid_request(_MISSING)

    def get_object_retention(self, ctx: RequestContext, params: Params) -> Any:
        return self._refuse(params)

    def put_object_retention(self, ctx: RequestContext, params: Params) -> Any:
        return self._refuse(params)

    def get_object_legal_hold(self, ctx: RequestContext, params: Params) -> Any:
        return self._refuse(params)

    def put_object_legal_hold(self, ctx: RequestContext, params: Params) -> Any:
        return self._refuse(params)
