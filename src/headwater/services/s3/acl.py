"""Access control lists of buckets and objects, and the Object Ownership setting that turns
them off.

An ACL is stored as the request gave it: a canned ACL's name, or the list of explicit grants
(``x-amz-grant-*`` headers or an ``AccessControlPolicy`` document).  ``grants`` expands it
into what GetBucketAcl / GetObjectAcl return.  ACLs are stored and returned, never enforced
(docs/s3.md).

Object Ownership ``BucketOwnerEnforced`` (what a bucket gets when CreateBucket names no
ownership, as on S3 since April 2023) disables ACLs: reads show the owner's FULL_CONTROL
only, writes answer ``AccessControlListNotSupported``.  Disabling keeps the stored ACLs, and
enabling ACLs again brings them back, as S3 does.

References: https://docs.aws.amazon.com/AmazonS3/latest/userguide/acl-overview.html (grantees,
canned ACLs), https://docs.aws.amazon.com/AmazonS3/latest/userguide/about-object-ownership.html,
https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-ownership-error-responses.html
"""

from __future__ import annotations

import re
from typing import Any

from headwater.core.errors import ServiceError
from headwater.services.s3 import errors
from headwater.services.s3.model import Bucket
from headwater.services.s3.names import owner

ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
AUTHENTICATED_USERS = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
LOG_DELIVERY = "http://acs.amazonaws.com/groups/s3/LogDelivery"
GROUPS = (ALL_USERS, AUTHENTICATED_USERS, LOG_DELIVERY)
# The canonical user S3 names for aws-exec-read: Amazon EC2, reading machine image bundles.
EC2_READER = "6aa5a366c34c1cbe25dc49211496e913e0351eb0e8c37aa3477e40942ec6b97c"
PERMISSIONS = ("FULL_CONTROL", "WRITE", "WRITE_ACP", "READ", "READ_ACP")
OWNERSHIPS = ("BucketOwnerPreferred", "ObjectWriter", "BucketOwnerEnforced")
ENFORCED = "BucketOwnerEnforced"
_OWNER = "owner"  # the resource owner in the table below
# Canned ACL -> what it grants besides the owner's FULL_CONTROL.  bucket-owner-read and
# bucket-owner-full-control grant the bucket's owner, who here always owns the object too.
_CANNED: dict[str, tuple[tuple[str, str], ...]] = {
    "private": (),
    "public-read": ((ALL_USERS, "READ"),),
    "public-read-write": ((ALL_USERS, "READ"), (ALL_USERS, "WRITE")),
    "aws-exec-read": ((EC2_READER, "READ"),),
    "authenticated-read": ((AUTHENTICATED_USERS, "READ"),),
    "bucket-owner-read": ((_OWNER, "READ"),),
    "bucket-owner-full-control": ((_OWNER, "FULL_CONTROL"),),
    "log-delivery-write": ((LOG_DELIVERY, "WRITE"), (LOG_DELIVERY, "READ_ACP")),
}
# "If you specify this canned ACL when creating a bucket, Amazon S3 ignores it."
_OBJECT_ONLY = ("bucket-owner-read", "bucket-owner-full-control")
# Request member -> the permission its x-amz-grant-* header grants.
_GRANT_HEADERS = {"GrantFullControl": "FULL_CONTROL", "GrantRead": "READ", "GrantReadACP": "READ_ACP",
                  "GrantWrite": "WRITE", "GrantWriteACP": "WRITE_ACP"}
_HEADER_NAMES = {"GrantFullControl": "x-amz-grant-full-control", "GrantRead": "x-amz-grant-read",
                 "GrantReadACP": "x-amz-grant-read-acp", "GrantWrite": "x-amz-grant-write",
                 "GrantWriteACP": "x-amz-grant-write-acp"}
# One grantee of a header: id="...", uri="..." or emailAddress="..." (quotes optional).
_GRANTEE = re.compile(r'\s*(id|uri|emailAddress)\s*=\s*(?:"([^"]*)"|([^",\s]+))\s*(?:,|$)')
_CANONICAL_ID = re.compile(r"^[0-9a-f]{64}$")


# -- errors -----------------------------------------------------------------------------------

def not_supported() -> ServiceError:
    return ServiceError("AccessControlListNotSupported", "The bucket does not allow ACLs", 400)


def conflicts_with_enforced() -> ServiceError:
    return ServiceError("InvalidBucketAclWithObjectOwnership",
                        "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced "
                        "setting", 400)


def missing() -> ServiceError:
    """A PutBucketAcl / PutObjectAcl with no canned ACL, grant header or body."""
    return ServiceError("MissingSecurityHeader", "Your request was missing a required header",
                        400, fields={"MissingHeaderName": "x-amz-acl"})


def _malformed() -> ServiceError:
    return ServiceError("MalformedACLError", "The XML you provided was not well-formed or did "
                        "not validate against our published schema", 400)


def _email_grantee() -> ServiceError:
    # "As of October 1, 2025, Amazon S3 has discontinued support for Email Grantee Access
    # Control Lists ... the request will receive an HTTP 405 (Method Not Allowed) error"
    # (botocore's model, PutBucketAcl and the other operations that take grants).  The code and
    # message are S3's usual ones for a 405; AWS does not document the body.
    return ServiceError("MethodNotAllowed",
                        "The specified method is not allowed against this resource.", 405)


# -- ownership --------------------------------------------------------------------------------

def ownership(bucket: Bucket) -> str | None:
    """The bucket's ObjectOwnership (None: no ownership controls, which is ObjectWriter)."""
    rules = (bucket.config.get("ownership") or {}).get("Rules") or [{}]
    found: str | None = rules[0].get("ObjectOwnership")
    return found


def enabled(bucket: Bucket) -> bool:
    return ownership(bucket) != ENFORCED


# -- requests ---------------------------------------------------------------------------------

def requested(params: dict[str, Any]) -> str | list[dict[str, Any]] | None:
    """The ACL a request sets, in its stored form (None: the request sets none).

    A canned ACL (``x-amz-acl``), grant headers or an ``AccessControlPolicy`` body: one of them.
    """
    canned = params.get("ACL")
    headers = [name for name in _GRANT_HEADERS if params.get(name)]
    body = params.get("AccessControlPolicy")
    if body is not None and (canned or headers):
        raise ServiceError("UnexpectedContent", "This request does not support content", 400)
    if canned and headers:
        raise errors.invalid_request("Specifying both Canned ACLs and Header Grants is not allowed")
    if canned:
        if canned not in _CANNED:
            raise errors.invalid_argument("", "x-amz-acl", str(canned))
        return str(canned)
    if headers:
        return [grant for name in headers for grant in _from_header(name, str(params[name]))]
    if body is not None:
        _owner_checked(body)
        return [_checked(grant) for grant in body.get("Grants") or []]
    return None


def check_not_blocked(bucket: Bucket, stored: Any, *, for_bucket: bool) -> None:
    """Refuse a public ACL while ``bucket`` blocks public ACLs
    (``BlockPublicAcls``, on for every new bucket): "PUT Bucket acl and PUT Object acl calls
    fail if the specified access control list (ACL) is public. PUT Object calls fail if the
    request includes a public ACL" (PublicAccessBlockConfiguration), with 403 AccessDenied
    (CreateBucket's own answer is ``buckets``').  Public: anything granted to AllUsers or
    AuthenticatedUsers (The meaning of "public", S3 User Guide)."""
    if (bucket.config.get("public_access_block") or {}).get("BlockPublicAcls") and is_public(
            stored, for_bucket=for_bucket):
        raise errors.access_denied()


def is_public(stored: Any, *, for_bucket: bool) -> bool:
    anyone = {"ID": ""}  # the owner's own grant is not what makes an ACL public
    return any(g["Grantee"].get("URI") in (ALL_USERS, AUTHENTICATED_USERS)
               for g in grants(stored, anyone, bucket=for_bucket))


def set_for_new_object(meta: dict[str, Any], bucket: Bucket, params: dict[str, Any]) -> None:
    """Put in ``meta`` the ACL a write names for the object it creates (PutObject, CopyObject,
    CreateMultipartUpload, a browser POST); none stored is the default, private.

    With ACLs disabled a write may name no ACL or the bucket owner's full control only
    (``bucket-owner-full-control`` or the same as grants), which is then not stored; any other
    ACL, ``private`` included, is AccessControlListNotSupported
    (https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html, "x-amz-acl")."""
    wanted = requested(params)
    if wanted is None:
        return
    if enabled(bucket):
        check_not_blocked(bucket, wanted, for_bucket=False)
        meta["acl"] = wanted
        return
    who = owner(bucket.account)
    owner_full_control = wanted == "bucket-owner-full-control" or (
        isinstance(wanted, list) and bool(wanted) and all(
            g["Grantee"].get("ID") == who["ID"] and g["Permission"] == "FULL_CONTROL"
            for g in wanted))
    if not owner_full_control:
        raise not_supported()


def _owner_checked(body: dict[str, Any]) -> None:
    """The ``Owner`` of an ``AccessControlPolicy`` document, as S3 was recorded to check it
    (LocalStack test_s3.py, test_s3_bucket_acl_exceptions): a document without one (an empty
    document too) is MalformedACLError, an ID that is no canonical id is InvalidArgument
    "Invalid id".  Whether S3 refuses a well-formed id of another account is not recorded; it
    is not refused here."""
    owner_ = body.get("Owner")
    if not owner_:
        raise _malformed()
    owner_id = owner_.get("ID")
    if owner_id is not None and not _CANONICAL_ID.match(str(owner_id)):
        raise errors.invalid_argument("Invalid id", "CanonicalUser/ID", str(owner_id))


def _from_header(member: str, text: str) -> list[dict[str, Any]]:
    grants: list[dict[str, Any]] = []
    position = 0
    while position < len(text):
        found = _GRANTEE.match(text, position)
        if found is None or found.end() == position:
            # Recorded (test_s3_bucket_acl_exceptions, put-bucket-grant-acl-fake-key).
            raise errors.invalid_argument("Argument format not recognized",
                                          _HEADER_NAMES[member], text)
        kind, value = found.group(1), found.group(2) if found.group(2) is not None else found.group(3)
        grantee = ({"Type": "CanonicalUser", "ID": value} if kind == "id"
                   else {"Type": "Group", "URI": value} if kind == "uri"
                   else {"Type": "AmazonCustomerByEmail", "EmailAddress": value})
        # A header's grantee is named by its key in the errors ("id", "uri"), a document's by
        # its element path (recorded: put-bucket-grant-acl-fake-uri / -wrong-id and
        # put-bucket-acp-acl-4 / -5).
        grants.append(_checked({"Grantee": grantee, "Permission": _GRANT_HEADERS[member]},
                               id_name="id", uri_name="uri"))
        position = found.end()
    return grants


def _checked(grant: dict[str, Any], *, id_name: str = "CanonicalUser/ID",
             uri_name: str = "Group/URI") -> dict[str, Any]:
    """One grant as stored: its grantee reduced to what identifies it."""
    grantee = grant.get("Grantee") or {}
    permission = grant.get("Permission")
    kind = grantee.get("Type")
    if permission not in PERMISSIONS:
        raise _malformed()
    if kind == "CanonicalUser":
        user_id = str(grantee.get("ID") or "")
        if not _CANONICAL_ID.match(user_id):
            raise errors.invalid_argument("Invalid id", id_name, user_id)
        return {"Grantee": {"Type": kind, "ID": user_id}, "Permission": permission}
    if kind == "Group":
        uri = str(grantee.get("URI") or "")
        if uri not in GROUPS:
            raise errors.invalid_argument("Invalid group uri", uri_name, uri)
        return {"Grantee": {"Type": kind, "URI": uri}, "Permission": permission}
    if kind == "AmazonCustomerByEmail":
        raise _email_grantee()
    raise _malformed()


# -- what GetBucketAcl / GetObjectAcl show -------------------------------------------------

def grants(stored: Any, who: dict[str, str], *, bucket: bool) -> list[dict[str, Any]]:
    """The Grants of an ACL stored by ``requested`` (None: the default, private).

    ``who`` is the owner; a canned ACL's grants come owner first, as in S3's table, each
    (grantee, permission) once."""
    if isinstance(stored, list):
        return list(stored)
    name = str(stored or "private")
    if bucket and name in _OBJECT_ONLY:
        name = "private"
    pairs: list[tuple[str, str]] = [(_OWNER, "FULL_CONTROL")]
    for pair in _CANNED.get(name, ()):
        if pair not in pairs:
            pairs.append(pair)
    out: list[dict[str, Any]] = []
    for grantee, permission in pairs:
        if grantee == _OWNER:
            shown: dict[str, Any] = {**who, "Type": "CanonicalUser"}
        elif grantee == EC2_READER:
            shown = {"ID": EC2_READER, "Type": "CanonicalUser"}
        else:
            shown = {"URI": grantee, "Type": "Group"}
        out.append({"Grantee": shown, "Permission": permission})
    return out


def owner_only(stored: Any, who: dict[str, str], *, bucket: bool) -> bool:
    """Whether an ACL grants nothing to anyone but the owner (what BucketOwnerEnforced allows)."""
    return all(g["Grantee"].get("ID") == who["ID"] for g in grants(stored, who, bucket=bucket))
