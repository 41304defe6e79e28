"""S3 bucket operations on the wire: create, delete, head, list, location, versioning,
tagging and the stored configurations (the key listings: ``key_listings``).

Bucket configurations (CORS, lifecycle, policy, encryption, ownership, notifications) are
stored as the documents the client sent and returned as they were; which of them also take
effect is listed in docs/s3.md.  ACLs and the Object Ownership that turns them off: ``acl``.

Operations: https://docs.aws.amazon.com/AmazonS3/latest/API/API_Operations_Amazon_Simple_Storage_Service.html
"""

from __future__ import annotations

import base64
import re
from typing import Any

import orjson

from headwater.core.errors import ServiceError
from headwater.protocol import sigv4
from headwater.protocol.context import RequestContext
from headwater.protocol.serialize.s3 import STATUS_KEY
from headwater.services.s3 import (
    acl,
    cors,
    encryption,
    errors,
    lifecycle,
    lifecycle_rules,
    listing,
    public,
    wire,
)
from headwater.services.s3.model import S3
from headwater.services.s3.names import owner
from headwater.services.s3.notifications import Notifier, check_overlaps, normalise

Params = dict[str, Any]
Result = dict[str, Any]

# config name -> (request member, output member, error code and message when absent)
_CONFIGS: dict[str, tuple[str, str, str, str]] = {
    "cors": ("CORSConfiguration", "CORSRules", "NoSuchCORSConfiguration",
             "The CORS configuration does not exist"),
    "lifecycle": ("LifecycleConfiguration", "Rules", "NoSuchLifecycleConfiguration",
                  "The lifecycle configuration does not exist"),
    "encryption": ("ServerSideEncryptionConfiguration", "ServerSideEncryptionConfiguration",
                   "ServerSideEncryptionConfigurationNotFoundError",
                   "The server side encryption configuration was not found"),
    "ownership": ("OwnershipControls", "OwnershipControls", "OwnershipControlsNotFoundError",
                  "The bucket ownership controls were not found"),
    "public_access_block": ("PublicAccessBlockConfiguration", "PublicAccessBlockConfiguration",
                            "NoSuchPublicAccessBlockConfiguration",
                            "The public access block configuration was not found"),
    "website": ("WebsiteConfiguration", "", "NoSuchWebsiteConfiguration",
                "The specified bucket does not have a website configuration"),
}


# PublicAccessBlockConfiguration's members: all four are on for a new bucket.
_BLOCK_SETTINGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy",
                   "RestrictPublicBuckets")


MINIMUM_SIZE = lifecycle.MINIMUM_SIZE_MEMBER


def _check_policy(text: str) -> dict[str, Any]:
    """S3's structural checks of a bucket policy, with its MalformedPolicy messages (the policy
    is stored as sent, and not evaluated); the parsed document."""
    try:
        document = orjson.loads(text)
    except orjson.JSONDecodeError:
        raise errors.malformed_policy() from None
    if not isinstance(document, dict):
        raise errors.malformed_policy()
    if "Statement" not in document:
        raise ServiceError("MalformedPolicy", "Missing required field Statement", 400)
    found = document["Statement"]
    statements = found if isinstance(found, list) else [found]
    if not statements:
        raise ServiceError("MalformedPolicy", "Could not parse the policy: Statement is empty!",
                           400)
    for statement in statements:
        if not isinstance(statement, dict):
            raise errors.malformed_policy()
        # A bucket policy is a resource policy: each statement names who it applies to.
        if not {"Principal", "NotPrincipal"} & statement.keys():
            raise ServiceError("MalformedPolicy", "Missing required field Principal", 400)
        for field in ("Principal", "NotPrincipal"):
            if field in statement and not _valid_principal(statement[field]):
                raise ServiceError("MalformedPolicy", "Invalid principal in policy", 400)
    return document


# An AWS principal: an account id, or an IAM or STS ARN in an account (or CloudFront's origin
# access identities, "arn:aws:iam::cloudfront:user/...").  Whether it exists, which S3 checks
# too, headwater cannot know; only the form is checked.
_AWS_PRINCIPAL = re.compile(r"\d{12}|arn:aws(?:-[a-z]+)*:(?:iam|sts)::(?:\d{12}|cloudfront):.+")
_CANONICAL_USER = re.compile(r"[0-9a-f]{64}")


def _valid_principal(principal: Any) -> bool:
    """Whether a statement's Principal / NotPrincipal has a form S3 takes: ``"*"``, or a map
    of principal types to a name or a list of names (Principal, IAM User Guide).  S3's
    answer otherwise is 400 MalformedPolicy "Invalid principal in policy"
    (versity/versitygw#649; ceph/s3-tests test_bucket_policy_allow_notprincipal)."""
    if principal == "*":
        return True
    if not isinstance(principal, dict) or not principal:
        return False
    for kind, found in principal.items():
        names = found if isinstance(found, list) else [found]
        if not names or not all(isinstance(n, str) and n for n in names):
            return False
        if kind == "AWS":
            if not all(n == "*" or _AWS_PRINCIPAL.fullmatch(n) for n in names):
                return False
        elif kind == "CanonicalUser":
            if not all(_CANONICAL_USER.fullmatch(n) for n in names):
                return False
        elif kind not in ("Service", "Federated"):
            return False
    return True


def _bucket_region(ctx: RequestContext, constraint: str | None) -> str:
    """The region a CreateBucket makes its bucket in, from its LocationConstraint and the
    region it was sent to (the SigV4 credential scope's, as S3's regional endpoints are).

    Sent to us-east-1 (S3's global endpoint), no constraint is us-east-1, any other region is
    taken, and us-east-1 itself is refused (InvalidLocationConstraint).  Sent to any other
    region, the constraint must name that region (IllegalLocationConstraintException).  The
    sources are in ``errors``.  A request that names no region (SigV2, or unsigned where
    signatures are not checked) keeps the lenient rule: the constraint, else the server's."""
    # "EU" is the legacy name of eu-west-1 (GetBucketLocation's doc).  Taking it at the
    # eu-west-1 endpoint is not recorded from AWS; it was taken anywhere before.
    wanted = "eu-west-1" if constraint == "EU" else constraint
    if sigv4.credential_scope(ctx.request) is None:
        return wanted or ctx.region
    if ctx.region == "us-east-1":
        if wanted == "us-east-1":
            raise errors.invalid_location_constraint(constraint or "")
        return wanted or "us-east-1"
    if wanted != ctx.region:
        raise errors.illegal_location_constraint(constraint)
    return ctx.region


class BucketOps:
    s3: S3
    notifier: Notifier

    # -- buckets ------------------------------------------------------------------------

    def create_bucket(self, ctx: RequestContext, params: Params) -> Result:
        if params.get("ObjectLockEnabledForBucket"):
            # Object Lock is not served (docs/s3.md): a bucket made without it would let the
            # caller believe its objects are locked.
            raise errors.header_not_implemented("x-amz-bucket-object-lock-enabled")
        config = params.get("CreateBucketConfiguration") or {}
        region = _bucket_region(ctx, config.get("LocationConstraint") or None)
        self.s3.create_bucket(params["Bucket"], ctx.account_id, region,
                              self._new_bucket_config(ctx, params))
        return {"Location": f"/{params['Bucket']}"}

    @staticmethod
    def _new_bucket_config(ctx: RequestContext, params: Params) -> dict[str, Any]:
        """The ownership, ACL and public access block a new bucket starts with.

        Without ``x-amz-object-ownership`` a bucket is BucketOwnerEnforced (ACLs disabled), as
        on S3 since April 2023, and an ACL granting anyone but the owner is refused.  Since then
        too, all four Block Public Access settings are on for a new bucket until
        DeletePublicAccessBlock (https://aws.amazon.com/blogs/aws/heads-up-amazon-s3-security-changes-are-coming-in-april-of-2023/).
        They are stored here, not made up on read, so a bucket created before headwater did
        this keeps answering NoSuchPublicAccessBlockConfiguration."""
        chosen = params.get("ObjectOwnership")
        if chosen is not None and chosen not in acl.OWNERSHIPS:
            # The value in the message, ArgumentName alone: S3's recorded answers in
            # localstack's AWS-validated test_bucket_ownership_controls_exc ("RandomValue", "").
            raise errors.invalid_argument(f"Invalid x-amz-object-ownership header: {chosen}",
                                          "x-amz-object-ownership")
        who = owner(ctx.account_id)
        wanted = acl.requested(params)
        if wanted is not None and chosen is None and acl.owner_only(wanted, who, bucket=True):
            # AWS quirk (observed, not documented): a new bucket created with x-amz-acl:
            # private (rclone's default) and no ownership has ACLs enabled, BucketOwnerPreferred.
            chosen = "BucketOwnerPreferred"
        ownership = chosen or acl.ENFORCED
        stored: dict[str, Any] = {"ownership": {"Rules": [{"ObjectOwnership": ownership}]},
                                  "public_access_block": dict.fromkeys(_BLOCK_SETTINGS, True)}
        if wanted is not None:
            if ownership == acl.ENFORCED:
                if not acl.owner_only(wanted, who, bucket=True):
                    raise acl.conflicts_with_enforced()
            else:
                # "If you try to create a bucket with a public ACL, the request will fail"
                # (CreateBucket reference), a new bucket blocking public ACLs from the start;
                # also when it exists already (recorded from AWS in both cases by the
                # rustfs gateway's AWS-backed CreateBucket checks).
                if acl.is_public(wanted, for_bucket=True):
                    raise ServiceError("InvalidBucketAclWithBlockPublicAccessError",
                                       "Bucket cannot have public ACLs set with "
                                       "BlockPublicAccess enabled", 400)
                stored["acl"] = wanted
        return stored

    def delete_bucket(self, ctx: RequestContext, params: Params) -> Result:
        self.s3.delete_bucket(params["Bucket"])
        return {}

    def head_bucket(self, ctx: RequestContext, params: Params) -> Result:
        bucket = self.s3.bucket(params["Bucket"])
        return {"BucketRegion": bucket.region, "AccessPointAlias": False}

    def list_buckets(self, ctx: RequestContext, params: Params) -> Result:
        prefix = params.get("Prefix") or ""
        after = listing.key_of(params["ContinuationToken"]) if params.get("ContinuationToken") else ""
        # 0 is taken as no limit given (botocore's model allows 1 to 10,000).
        limit = wire.page_size(params, "MaxBuckets", "max-buckets", 10_000) or 10_000
        found = self.s3.list_buckets(ctx.account_id, prefix, after, limit + 1,
                                     params.get("BucketRegion") or None)
        page = found[:limit]
        out: Result = {
            "Buckets": [{"Name": b.name, "CreationDate": b.created, "BucketRegion": b.region}
                        for b in page],
            "Owner": owner(ctx.account_id),
        }
        if prefix:
            out["Prefix"] = prefix
        if len(found) > limit and page:
            out["ContinuationToken"] = listing.token_for(page[-1].name)
        return out

    def get_bucket_location(self, ctx: RequestContext, params: Params) -> Result:
        bucket = self.s3.bucket(params["Bucket"])
        # AWS quirk: us-east-1 is reported as no constraint at all.
        return {"LocationConstraint": None if bucket.region == "us-east-1" else bucket.region}

    # -- versioning and tagging ---------------------------------------------------------

    def get_bucket_versioning(self, ctx: RequestContext, params: Params) -> Result:
        bucket = self.s3.bucket(params["Bucket"])
        return {"Status": bucket.versioning} if bucket.versioning else {}

    def put_bucket_versioning(self, ctx: RequestContext, params: Params) -> Result:
        bucket = self.s3.bucket(params["Bucket"])
        config = params.get("VersioningConfiguration")
        if config == {}:
            # An empty document: S3's recorded answer (errors.illegal_versioning_configuration).
            # One naming only MFADelete is not recorded and stays MalformedXML.
            raise errors.illegal_versioning_configuration()
        status = (config or {}).get("Status")
        if status not in ("Enabled", "Suspended"):
            raise errors.malformed_xml()
        self.s3.set_versioning(bucket, status)
        return {}

    def get_bucket_tagging(self, ctx: RequestContext, params: Params) -> Result:
        bucket = self.s3.bucket(params["Bucket"])
        tags = bucket.config.get("tags")
        if not tags:
            raise errors.no_such_config("NoSuchTagSet", "The TagSet does not exist", bucket.name)
        return {"TagSet": wire.tag_set(tags)}

    def put_bucket_tagging(self, ctx: RequestContext, params: Params) -> Result:
        bucket = self.s3.bucket(params["Bucket"])
        pairs = [(t["Key"], t["Value"]) for t in (params.get("Tagging") or {}).get("TagSet", [])]
        tags: dict[str, str] = {}
        for key, value in pairs:
            if key in tags:
                raise errors.duplicate_tag_keys()
            wire.check_tag(key, value)
            if key.startswith("aws:"):
                raise errors.system_tag(on_bucket=True)
            tags[key] = value
        if len(tags) > 50:
            raise errors.invalid_argument("Bucket tag count cannot be greater than 50")
        self.s3.set_config(bucket, "tags", tags)
        # 204, as S3 answers (moto's AWS-verified test_put_bucket_tagging); the model names
        # no status for it.
        return {STATUS_KEY: 204}

    def delete_bucket_tagging(self, ctx: RequestContext, params: Params) -> Result:
        self.s3.set_config(self.s3.bucket(params["Bucket"]), "tags", None)
        return {}

    # -- stored configurations ----------------------------------------------------------

    def _get_config(self, params: Params, name: str) -> Any:
        bucket = self.s3.bucket(params["Bucket"])
        found = bucket.config.get(name)
        if found is None:
            _, _, code, message = _CONFIGS[name]
            raise errors.no_such_config(code, message, bucket.name)
        return found

    def _put_config(self, params: Params, name: str) -> Result:
        bucket = self.s3.bucket(params["Bucket"])
        member = _CONFIGS[name][0]
        self.s3.set_config(bucket, name, params.get(member) or {})
        return {}

    def _delete_config(self, params: Params, name: str) -> Result:
        self.s3.set_config(self.s3.bucket(params["Bucket"]), name, None)
        return {}

    def get_bucket_cors(self, ctx: RequestContext, params: Params) -> Result:
        return {"CORSRules": self._get_config(params, "cors").get("CORSRules", [])}

    def put_bucket_cors(self, ctx: RequestContext, params: Params) -> Result:
        self.s3.bucket(params["Bucket"])  # NoSuchBucket before the document is weighed
        cors.check_configuration(params.get("CORSConfiguration"))
        return self._put_config(params, "cors")

    def delete_bucket_cors(self, ctx: RequestContext, params: Params) -> Result:
        return self._delete_config(params, "cors")

    def get_bucket_lifecycle_configuration(self, ctx: RequestContext, params: Params) -> Result:
        found = self._get_config(params, "lifecycle")
        return {"Rules": found.get("Rules", []),
                MINIMUM_SIZE: found.get(MINIMUM_SIZE) or lifecycle.MINIMUM_SIZES[0]}

    def put_bucket_lifecycle_configuration(self, ctx: RequestContext, params: Params) -> Result:
        config = dict(params.get("LifecycleConfiguration") or {})
        lifecycle_rules.validate(config)
        minimum = params.get(MINIMUM_SIZE) or lifecycle.MINIMUM_SIZES[0]
        if minimum not in lifecycle.MINIMUM_SIZES:
            raise errors.invalid_argument(
                "Invalid value for x-amz-transition-default-minimum-object-size",
                "x-amz-transition-default-minimum-object-size", str(minimum))
        config[MINIMUM_SIZE] = minimum  # kept beside the rules; the worker reads it there
        config["Rules"] = [rule if rule.get("ID") else {**rule, "ID": self._new_rule_id()}
                           for rule in config["Rules"]]
        self.s3.set_config(self.s3.bucket(params["Bucket"]), "lifecycle", config)
        return {MINIMUM_SIZE: minimum}

    def _new_rule_id(self) -> str:
        """The ID S3 gives a lifecycle rule sent without one, which GetBucketLifecycleConfiguration
        then returns ("If you don't provide one, Amazon S3 will assign an ID",
        aws-controllers-k8s/community#1540; "AWS does not require ID field.. but it generates a
        random one", minio/minio#10084).  Its form is not documented: here 48 letters and digits,
        the base64 of a random UUID's text (apache/ozone assigns 48 alphanumerics too)."""
        return base64.b64encode(self.s3.ids.uuid().encode("ascii")).decode("ascii")

    def delete_bucket_lifecycle(self, ctx: RequestContext, params: Params) -> Result:
        return self._delete_config(params, "lifecycle")

    def get_bucket_encryption(self, ctx: RequestContext, params: Params) -> Result:
        bucket = self.s3.bucket(params["Bucket"])
        # AWS quirk: every bucket has SSE-S3 by default since January 2023.
        found = bucket.config.get("encryption") or {
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"},
                       "BucketKeyEnabled": False}]
        }
        return {"ServerSideEncryptionConfiguration": found}

    def put_bucket_encryption(self, ctx: RequestContext, params: Params) -> Result:
        self.s3.bucket(params["Bucket"])  # NoSuchBucket before a look at the document
        encryption.check_configuration(params.get("ServerSideEncryptionConfiguration") or {})
        return self._put_config(params, "encryption")

    def delete_bucket_encryption(self, ctx: RequestContext, params: Params) -> Result:
        return self._delete_config(params, "encryption")

    def get_bucket_ownership_controls(self, ctx: RequestContext, params: Params) -> Result:
        return {"OwnershipControls": self._get_config(params, "ownership")}

    def put_bucket_ownership_controls(self, ctx: RequestContext, params: Params) -> Result:
        bucket = self.s3.bucket(params["Bucket"])
        rules = (params.get("OwnershipControls") or {}).get("Rules") or []
        if len(rules) != 1 or rules[0].get("ObjectOwnership") not in acl.OWNERSHIPS:
            raise errors.malformed_xml()
        chosen = rules[0]["ObjectOwnership"]
        # Disabling ACLs needs a bucket ACL that grants the owner alone (object ACLs are kept,
        # and come back if ACLs are enabled again).
        if chosen == acl.ENFORCED and not acl.owner_only(bucket.config.get("acl"),
                                                         owner(bucket.account), bucket=True):
            raise acl.conflicts_with_enforced()
        self.s3.set_config(bucket, "ownership", {"Rules": [{"ObjectOwnership": chosen}]})
        return {}

    def delete_bucket_ownership_controls(self, ctx: RequestContext, params: Params) -> Result:
        return self._delete_config(params, "ownership")

    def get_public_access_block(self, ctx: RequestContext, params: Params) -> Result:
        return {"PublicAccessBlockConfiguration": self._get_config(params, "public_access_block")}

    def put_public_access_block(self, ctx: RequestContext, params: Params) -> Result:
        return self._put_config(params, "public_access_block")

    def delete_public_access_block(self, ctx: RequestContext, params: Params) -> Result:
        return self._delete_config(params, "public_access_block")

    def get_bucket_website(self, ctx: RequestContext, params: Params) -> Result:
        found: Result = self._get_config(params, "website")
        return found

    def put_bucket_website(self, ctx: RequestContext, params: Params) -> Result:
        return self._put_config(params, "website")

    def delete_bucket_website(self, ctx: RequestContext, params: Params) -> Result:
        return self._delete_config(params, "website")

    # Read by infrastructure tools on every refresh; S3's answers for a bucket that never set
    # them (stored settings are not kept for these yet).
    def get_bucket_accelerate_configuration(self, ctx: RequestContext, params: Params) -> Result:
        self.s3.bucket(params["Bucket"])
        return {}

    def get_bucket_request_payment(self, ctx: RequestContext, params: Params) -> Result:
        self.s3.bucket(params["Bucket"])
        return {"Payer": "BucketOwner"}

    def get_bucket_logging(self, ctx: RequestContext, params: Params) -> Result:
        self.s3.bucket(params["Bucket"])
        return {}

    def get_bucket_policy(self, ctx: RequestContext, params: Params) -> Result:
        bucket = self.s3.bucket(params["Bucket"])
        policy = bucket.config.get("policy")
        if policy is None:
            raise errors.no_such_config("NoSuchBucketPolicy", "The bucket policy does not exist",
                                        bucket.name)
        return {"Policy": policy}

    def get_bucket_policy_status(self, ctx: RequestContext, params: Params) -> Result:
        document = orjson.loads(self.get_bucket_policy(ctx, params)["Policy"])
        return {"PolicyStatus": {"IsPublic": public.is_public(document)}}

    def put_bucket_policy(self, ctx: RequestContext, params: Params) -> Result:
        bucket = self.s3.bucket(params["Bucket"])
        policy = params.get("Policy") or ""
        document = _check_policy(policy)
        block = bucket.config.get("public_access_block") or {}
        if block.get("BlockPublicPolicy") and public.is_public(document):
            # "Amazon S3 rejects calls to PUT Bucket policy if the specified bucket policy
            # allows public access" (PublicAccessBlockConfiguration); the answer recorded in
            # torchbox/buckup#18.  On for every new bucket, as on S3 since April 2023.
            raise errors.access_denied()
        self.s3.set_config(bucket, "policy", policy)
        # 204, as S3 answers (the API reference's sample; captured in versity/versitygw#1712);
        # the model names no status for it.
        return {STATUS_KEY: 204}

    def delete_bucket_policy(self, ctx: RequestContext, params: Params) -> Result:
        self.s3.set_config(self.s3.bucket(params["Bucket"]), "policy", None)
        return {}

    def get_bucket_notification_configuration(self, ctx: RequestContext, params: Params) -> Result:
        bucket = self.s3.bucket(params["Bucket"])
        found: Result = bucket.config.get("notification") or {}
        return found

    def put_bucket_notification_configuration(self, ctx: RequestContext, params: Params) -> Result:
        bucket = self.s3.bucket(params["Bucket"])
        # The form is checked first, skipped validation or not (notifications.normalise).
        config = normalise(params.get("NotificationConfiguration") or {},
                           self._new_notification_id)
        check_overlaps(config)
        if not params.get("SkipDestinationValidation"):
            self.notifier.check(bucket, config, ctx.request_id, self.s3.clock.now())
        self.s3.set_config(bucket, "notification", config)
        return {}

    def _new_notification_id(self) -> str:
        """The Id S3 gives a notification configuration sent without one.  The recordings
        show only that it is non-empty (their transformers replace it); its form is not
        documented: here as for lifecycle rules, the base64 of a random UUID's text."""
        return base64.b64encode(self.s3.ids.uuid().encode("ascii")).decode("ascii")

    def get_bucket_acl(self, ctx: RequestContext, params: Params) -> Result:
        bucket = self.s3.bucket(params["Bucket"])
        who = owner(bucket.account)
        # With ACLs disabled S3 shows the owner's FULL_CONTROL alone, whatever was stored.
        stored = bucket.config.get("acl") if acl.enabled(bucket) else None
        return {"Owner": who, "Grants": acl.grants(stored, who, bucket=True)}

    def put_bucket_acl(self, ctx: RequestContext, params: Params) -> Result:
        bucket = self.s3.bucket(params["Bucket"])
        if not acl.enabled(bucket):
            raise acl.not_supported()
        wanted = acl.requested(params)
        if wanted is None:
            raise acl.missing()
        acl.check_not_blocked(bucket, wanted, for_bucket=True)
        self.s3.set_config(bucket, "acl", wanted)
        return {}
