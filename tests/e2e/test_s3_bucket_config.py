"""boto3 against headwater's S3: bucket policies, ACLs and Object Ownership, default
encryption, and deleting CORS, lifecycle and tagging configurations."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

pytestmark = pytest.mark.e2e

ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
AUTHENTICATED_USERS = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
LOG_DELIVERY = "http://acs.amazonaws.com/groups/s3/LogDelivery"
EC2_READER = "6aa5a366c34c1cbe25dc49211496e913e0351eb0e8c37aa3477e40942ec6b97c"  # aws-exec-read


def error(err: pytest.ExceptionInfo[ClientError]) -> tuple[str, int, str]:
    """(code, HTTP status, message) of a refused request."""
    response = err.value.response
    return (str(response["Error"]["Code"]), int(response["ResponseMetadata"]["HTTPStatusCode"]),
            str(response["Error"].get("Message") or ""))


def new_bucket(s3: Any, **kwargs: Any) -> str:
    name = f"cfg-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name, **kwargs)
    return name


def acl_bucket(s3: Any, ownership: str = "ObjectWriter") -> str:
    """A bucket that takes public ACLs, made as S3 asks: ACLs enabled at creation, then Block
    Public Access (on for a new bucket) taken off."""
    name = new_bucket(s3, ObjectOwnership=ownership)
    s3.delete_public_access_block(Bucket=name)
    return name


def grant_set(grants: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """Each grant as (canonical user id or group URI, permission)."""
    return {(g["Grantee"].get("ID") or g["Grantee"]["URI"], g["Permission"]) for g in grants}


def owner_id(s3: Any, bucket: str) -> str:
    return str(s3.get_bucket_acl(Bucket=bucket)["Owner"]["ID"])


# -- bucket policy ------------------------------------------------------------------------------


def public_read(bucket: str) -> str:
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Sid": "PublicRead", "Effect": "Allow", "Principal": "*",
                       "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}],
    }, indent=2)


def test_a_public_policy_is_refused_while_public_policies_are_blocked(s3: Any,
                                                                      bucket: str) -> None:
    # A new bucket blocks them (Block Public Access, on by default since April 2023).
    with pytest.raises(ClientError) as err:
        s3.put_bucket_policy(Bucket=bucket, Policy=public_read(bucket))
    assert error(err) == ("AccessDenied", 403, "Access Denied")
    with pytest.raises(ClientError) as err:
        s3.get_bucket_policy(Bucket=bucket)
    assert error(err)[0] == "NoSuchBucketPolicy"  # nothing was stored
    blocks = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={
        **blocks, "BlockPublicPolicy": False})
    s3.put_bucket_policy(Bucket=bucket, Policy=public_read(bucket))


def test_public_acls_are_refused_while_public_acls_are_blocked(s3: Any) -> None:
    name = new_bucket(s3, ObjectOwnership="ObjectWriter")  # ACLs on, Block Public Access too
    s3.put_object(Bucket=name, Key="k", Body=b"x")
    everyone = f'uri="{ALL_USERS}"'
    for call in (
        lambda: s3.put_bucket_acl(Bucket=name, ACL="public-read"),
        lambda: s3.put_bucket_acl(Bucket=name, GrantRead=everyone),
        lambda: s3.put_object_acl(Bucket=name, Key="k", ACL="authenticated-read"),
        lambda: s3.put_object(Bucket=name, Key="new", Body=b"x", ACL="public-read"),
        lambda: s3.copy_object(Bucket=name, Key="new", CopySource=f"{name}/k",
                               GrantRead=everyone),
        lambda: s3.create_multipart_upload(Bucket=name, Key="new", ACL="public-read-write"),
    ):
        with pytest.raises(ClientError) as err:
            call()
        assert error(err) == ("AccessDenied", 403, "Access Denied")
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=name)["Contents"]] == ["k"]
    assert s3.list_multipart_uploads(Bucket=name).get("Uploads", []) == []
    s3.put_object_acl(Bucket=name, Key="k", ACL="aws-exec-read")  # not public: taken
    blocks = s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"]
    s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration={
        **blocks, "BlockPublicAcls": False})
    s3.put_bucket_acl(Bucket=name, ACL="public-read")
    s3.put_object(Bucket=name, Key="new", Body=b"x", ACL="public-read")


def test_bucket_policy_put_get_delete(s3: Any, bucket: str) -> None:
    s3.delete_public_access_block(Bucket=bucket)  # public policies are blocked until then
    policy = public_read(bucket)
    answer = s3.put_bucket_policy(Bucket=bucket, Policy=policy)
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 204  # as S3 answers
    assert s3.get_bucket_policy(Bucket=bucket)["Policy"] == policy  # the document as sent
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"] == {"IsPublic": True}
    s3.delete_bucket_policy(Bucket=bucket)
    for call in (s3.get_bucket_policy, s3.get_bucket_policy_status):
        with pytest.raises(ClientError) as err:
            call(Bucket=bucket)
        assert error(err)[:2] == ("NoSuchBucketPolicy", 404)


def test_principals_of_every_form_are_taken(s3: Any, bucket: str) -> None:
    principals = [
        {"AWS": "123456789012"},
        {"AWS": ["arn:aws:iam::123456789012:root", "arn:aws:iam::123456789012:user/a/b",
                 "arn:aws:sts::123456789012:assumed-role/r/s", "*"]},
        {"AWS": "arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity E2QWRUHEXAMPLE"},
        {"Service": ["logging.s3.amazonaws.com", "cloudfront.amazonaws.com"]},
        {"CanonicalUser": "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"},
        {"Federated": "cognito-identity.amazonaws.com"},
    ]
    for principal in principals:
        policy = {"Version": "2012-10-17", "Statement": [{
            "Effect": "Deny", "Principal": principal, "Action": "s3:DeleteBucket",
            "Resource": f"arn:aws:s3:::{bucket}"}]}
        s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))


def test_a_policy_pinned_to_a_source_is_not_public(s3: Any, bucket: str) -> None:
    # So it is taken while public policies are blocked, as they are on a new bucket.
    policy = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{bucket}/*",
        "Condition": {"IpAddress": {"aws:SourceIp": "192.0.2.0/24"}}}]}
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"] == {"IsPublic": False}


@pytest.mark.parametrize("principal", [
    # ceph/s3-tests test_bucket_policy_allow_notprincipal: no account has that id.
    {"NotPrincipal": {"AWS": "arn:aws:iam::s3tenant1:root"}},
    {"Principal": {"AWS": "AKIAIOSFODNN7EXAMPLE"}},  # an access key id
    {"Principal": "arn:aws:iam::123456789012:root"},  # a name without its type
    {"Principal": {"User": "bob"}},
    {"Principal": {"AWS": []}},
])
def test_a_principal_of_no_form_s3_takes_is_refused(s3: Any, bucket: str,
                                                    principal: dict[str, Any]) -> None:
    policy = {"Statement": [{"Effect": "Allow", **principal, "Action": "s3:ListBucket",
                             "Resource": f"arn:aws:s3:::{bucket}"}]}
    with pytest.raises(ClientError) as err:
        s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    assert error(err) == ("MalformedPolicy", 400, "Invalid principal in policy")


@pytest.mark.parametrize(("policy", "message"), [
    ("not json", "Policies must be valid JSON and the first byte must be '{'"),
    ('["Statement"]', "Policies must be valid JSON and the first byte must be '{'"),
    ('{"Version": "2012-10-17"}', "Missing required field Statement"),
    ('{"Version": "2012-10-17", "Statement": []}', "Could not parse the policy: Statement is empty!"),
    ('{"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}',
     "Missing required field Principal"),
])
def test_malformed_bucket_policy_is_refused(s3: Any, bucket: str, policy: str,
                                            message: str) -> None:
    with pytest.raises(ClientError) as err:
        s3.put_bucket_policy(Bucket=bucket, Policy=policy)
    assert error(err) == ("MalformedPolicy", 400, message)
    with pytest.raises(ClientError) as err:
        s3.get_bucket_policy(Bucket=bucket)
    assert error(err)[0] == "NoSuchBucketPolicy"  # nothing was stored


# -- ACLs and Object Ownership -------------------------------------------------------------------


def test_new_bucket_has_acls_disabled(s3: Any, bucket: str) -> None:
    controls = s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]
    assert controls == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    me = owner_id(s3, bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    attempts = [
        lambda: s3.put_bucket_acl(Bucket=bucket, ACL="public-read"),
        lambda: s3.put_bucket_acl(Bucket=bucket, ACL="private"),
        lambda: s3.put_bucket_acl(Bucket=bucket, GrantRead=f'uri="{ALL_USERS}"'),
        lambda: s3.put_object_acl(Bucket=bucket, Key="k", ACL="public-read"),
    ]
    for attempt in attempts:
        with pytest.raises(ClientError) as err:
            attempt()
        assert error(err) == ("AccessControlListNotSupported", 400, "The bucket does not allow ACLs")
    # Reads still work, and show the owner's FULL_CONTROL alone.
    assert grant_set(s3.get_bucket_acl(Bucket=bucket)["Grants"]) == {(me, "FULL_CONTROL")}
    assert grant_set(s3.get_object_acl(Bucket=bucket, Key="k")["Grants"]) == {(me, "FULL_CONTROL")}


# What each canned ACL grants besides the owner's FULL_CONTROL (AWS's canned ACL table).
CANNED = {
    "private": set(),
    "public-read": {(ALL_USERS, "READ")},
    "public-read-write": {(ALL_USERS, "READ"), (ALL_USERS, "WRITE")},
    "authenticated-read": {(AUTHENTICATED_USERS, "READ")},
    "aws-exec-read": {(EC2_READER, "READ")},
    "log-delivery-write": {(LOG_DELIVERY, "WRITE"), (LOG_DELIVERY, "READ_ACP")},
}


@pytest.mark.parametrize("canned", sorted(CANNED))
def test_canned_bucket_acl_grants(s3: Any, canned: str) -> None:
    name = acl_bucket(s3)
    me = owner_id(s3, name)
    s3.put_bucket_acl(Bucket=name, ACL=canned)
    found = s3.get_bucket_acl(Bucket=name)
    assert found["Owner"] == {"ID": me}  # no DisplayName since November 2025
    assert found["Grants"][0]["Grantee"] == {"ID": me, "Type": "CanonicalUser"}
    assert found["Grants"][0]["Permission"] == "FULL_CONTROL"
    assert grant_set(found["Grants"]) == {(me, "FULL_CONTROL")} | CANNED[canned]
    assert len(found["Grants"]) == 1 + len(CANNED[canned])


# The bucket owner owns every object too: bucket-owner-full-control adds nothing new.
OWNER = "the owner"
OBJECT_CANNED = {**CANNED, "bucket-owner-read": {(OWNER, "READ")}, "bucket-owner-full-control": set()}


@pytest.mark.parametrize("canned", sorted(OBJECT_CANNED))
def test_canned_object_acl_grants(s3: Any, canned: str) -> None:
    name = acl_bucket(s3, "BucketOwnerPreferred")
    me = owner_id(s3, name)
    s3.put_object(Bucket=name, Key="k", Body=b"x")
    s3.put_object_acl(Bucket=name, Key="k", ACL=canned)
    grants = s3.get_object_acl(Bucket=name, Key="k")["Grants"]
    expected = {(me if who == OWNER else who, permission)
                for who, permission in OBJECT_CANNED[canned]}
    assert grant_set(grants) == {(me, "FULL_CONTROL")} | expected
    assert len(grants) == 1 + len(expected)
    assert grants[0]["Permission"] == "FULL_CONTROL" and grants[0]["Grantee"]["ID"] == me


def test_bucket_canned_acl_for_objects_only_is_private(s3: Any) -> None:
    # "If you specify this canned ACL when creating a bucket, Amazon S3 ignores it."
    name = acl_bucket(s3)
    me = owner_id(s3, name)
    s3.put_bucket_acl(Bucket=name, ACL="public-read")
    for canned in ("bucket-owner-read", "bucket-owner-full-control"):
        s3.put_bucket_acl(Bucket=name, ACL=canned)
        grants = s3.get_bucket_acl(Bucket=name)["Grants"]
        assert grant_set(grants) == {(me, "FULL_CONTROL")} and len(grants) == 1


def test_create_bucket_with_acl(s3: Any) -> None:
    # Without ObjectOwnership a new bucket disables ACLs, so a public ACL is refused ...
    name = f"cfg-{uuid.uuid4().hex[:12]}"
    with pytest.raises(ClientError) as err:
        s3.create_bucket(Bucket=name, ACL="public-read")
    message = "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting"
    assert error(err) == ("InvalidBucketAclWithObjectOwnership", 400, message)
    with pytest.raises(ClientError) as err:
        s3.create_bucket(Bucket=name, ObjectOwnership="BucketOwnerEnforced",
                         GrantRead=f'uri="{ALL_USERS}"')
    assert error(err)[0] == "InvalidBucketAclWithObjectOwnership"
    with pytest.raises(ClientError) as err:
        s3.head_bucket(Bucket=name)
    assert error(err)[1] == 404  # and nothing was created
    # ... and with ACLs enabled a public one still is, by the new bucket's Block Public
    # Access ("If you try to create a bucket with a public ACL, the request will fail") ...
    blocked = ("InvalidBucketAclWithBlockPublicAccessError", 400,
               "Bucket cannot have public ACLs set with BlockPublicAccess enabled")
    with pytest.raises(ClientError) as err:
        s3.create_bucket(Bucket=name, ACL="public-read", ObjectOwnership="BucketOwnerPreferred")
    assert error(err) == blocked
    with pytest.raises(ClientError) as err:
        s3.create_bucket(Bucket=name, GrantRead=f'uri="{ALL_USERS}"', ObjectOwnership="ObjectWriter")
    assert error(err) == blocked
    with pytest.raises(ClientError) as err:
        s3.head_bucket(Bucket=name)
    assert error(err)[1] == 404
    # ... while any other is stored.
    name = new_bucket(s3, ACL="log-delivery-write", ObjectOwnership="BucketOwnerPreferred")
    me = owner_id(s3, name)
    assert grant_set(s3.get_bucket_acl(Bucket=name)["Grants"]) == {
        (me, "FULL_CONTROL"), (LOG_DELIVERY, "WRITE"), (LOG_DELIVERY, "READ_ACP")}
    # The owner-only ACLs are accepted with ACLs disabled.
    name = new_bucket(s3, ACL="private", ObjectOwnership="BucketOwnerEnforced")
    rules = s3.get_bucket_ownership_controls(Bucket=name)["OwnershipControls"]["Rules"]
    assert rules == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    # AWS quirk: a bucket created with x-amz-acl: private and no ownership has ACLs enabled.
    name = new_bucket(s3, ACL="private")
    rules = s3.get_bucket_ownership_controls(Bucket=name)["OwnershipControls"]["Rules"]
    assert rules == [{"ObjectOwnership": "BucketOwnerPreferred"}]
    s3.put_bucket_acl(Bucket=name, ACL="aws-exec-read")


def test_creating_your_own_bucket_again_resets_its_acl(s3: Any) -> None:
    # us-east-1 answers 200 "and resets the bucket access control lists" (API reference,
    # BucketAlreadyOwnedByYou): to what the repeat asks for, else private.
    name = acl_bucket(s3)
    me = owner_id(s3, name)
    s3.put_bucket_acl(Bucket=name, ACL="public-read")
    s3.create_bucket(Bucket=name)
    assert grant_set(s3.get_bucket_acl(Bucket=name)["Grants"]) == {(me, "FULL_CONTROL")}
    s3.create_bucket(Bucket=name, ACL="log-delivery-write", ObjectOwnership="ObjectWriter")
    assert grant_set(s3.get_bucket_acl(Bucket=name)["Grants"]) == {
        (me, "FULL_CONTROL"), (LOG_DELIVERY, "WRITE"), (LOG_DELIVERY, "READ_ACP")}
    # Not a public one, though this bucket's own block is gone (as recorded from AWS).
    with pytest.raises(ClientError) as err:
        s3.create_bucket(Bucket=name, ACL="authenticated-read", ObjectOwnership="ObjectWriter")
    assert error(err)[:2] == ("InvalidBucketAclWithBlockPublicAccessError", 400)


def test_owners_carry_no_display_name(s3: Any) -> None:
    # S3 stopped returning DisplayName on November 21, 2025 (API reference, Owner, Grantee).
    name = acl_bucket(s3)
    me = {"ID": owner_id(s3, name)}
    s3.put_object(Bucket=name, Key="k", Body=b"x", ACL="aws-exec-read")
    upload = s3.create_multipart_upload(Bucket=name, Key="m")["UploadId"]
    assert s3.list_buckets()["Owner"] == me
    assert s3.list_objects(Bucket=name)["Contents"][0]["Owner"] == me
    assert s3.list_objects_v2(Bucket=name, FetchOwner=True)["Contents"][0]["Owner"] == me
    assert s3.list_object_versions(Bucket=name)["Versions"][0]["Owner"] == me
    uploads = s3.list_multipart_uploads(Bucket=name)["Uploads"][0]
    assert uploads["Owner"] == me and "DisplayName" not in uploads["Initiator"]
    parts = s3.list_parts(Bucket=name, Key="m", UploadId=upload)
    assert parts["Owner"] == me and "DisplayName" not in parts["Initiator"]
    found = s3.get_object_acl(Bucket=name, Key="k")
    assert found["Owner"] == me
    assert all("DisplayName" not in g["Grantee"] for g in found["Grants"])
    assert {"ID": EC2_READER, "Type": "CanonicalUser"} in [g["Grantee"] for g in found["Grants"]]


def test_ownership_controls_put_get_delete(s3: Any, bucket: str) -> None:
    s3.delete_public_access_block(Bucket=bucket)  # public ACLs are blocked until then
    me = owner_id(s3, bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    s3.put_bucket_ownership_controls(
        Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]})
    assert s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"] == {
        "Rules": [{"ObjectOwnership": "ObjectWriter"}]}
    s3.put_object_acl(Bucket=bucket, Key="k", ACL="public-read")
    s3.delete_bucket_ownership_controls(Bucket=bucket)
    with pytest.raises(ClientError) as err:
        s3.get_bucket_ownership_controls(Bucket=bucket)
    assert error(err)[:2] == ("OwnershipControlsNotFoundError", 404)
    # No ownership controls: ACLs are enabled (object writer).
    s3.put_bucket_acl(Bucket=bucket, ACL="public-read")
    # ACLs cannot be disabled while the bucket ACL grants others.
    enforced = {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    with pytest.raises(ClientError) as err:
        s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls=enforced)
    assert error(err)[:2] == ("InvalidBucketAclWithObjectOwnership", 400)
    s3.put_bucket_acl(Bucket=bucket, ACL="private")
    s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls=enforced)
    assert grant_set(s3.get_object_acl(Bucket=bucket, Key="k")["Grants"]) == {(me, "FULL_CONTROL")}
    # Enabling ACLs again brings back the object's ACL.
    s3.put_bucket_ownership_controls(
        Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerPreferred"}]})
    assert grant_set(s3.get_object_acl(Bucket=bucket, Key="k")["Grants"]) == {
        (me, "FULL_CONTROL"), (ALL_USERS, "READ")}
    with pytest.raises(ClientError) as err:
        s3.put_bucket_ownership_controls(
            Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "Everyone"}]})
    assert error(err)[:2] == ("MalformedXML", 400)


def test_explicit_grants_are_stored_as_given(s3: Any) -> None:
    name = acl_bucket(s3)
    me = owner_id(s3, name)
    # Grant headers: exactly these grants (no implicit owner FULL_CONTROL).
    s3.put_bucket_acl(Bucket=name, GrantRead=f'uri="{ALL_USERS}", id="{me}"',
                      GrantWriteACP=f"uri={LOG_DELIVERY}")
    grants = s3.get_bucket_acl(Bucket=name)["Grants"]
    assert grant_set(grants) == {(ALL_USERS, "READ"), (me, "READ"), (LOG_DELIVERY, "WRITE_ACP")}
    assert len(grants) == 3
    # An AccessControlPolicy document round-trips.
    s3.put_object(Bucket=name, Key="k", Body=b"x")
    policy = s3.get_bucket_acl(Bucket=name)
    s3.put_object_acl(Bucket=name, Key="k",
                      AccessControlPolicy={"Owner": policy["Owner"], "Grants": policy["Grants"]})
    assert s3.get_object_acl(Bucket=name, Key="k")["Grants"] == policy["Grants"]


def test_writes_with_an_acl_on_a_bucket_without_acls(s3: Any, bucket: str) -> None:
    me = owner_id(s3, bucket)
    refused = [
        lambda: s3.put_object(Bucket=bucket, Key="k", Body=b"x", ACL="public-read"),
        lambda: s3.put_object(Bucket=bucket, Key="k", Body=b"x", ACL="private"),
        lambda: s3.put_object(Bucket=bucket, Key="k", Body=b"x", GrantRead=f"uri={ALL_USERS}"),
        lambda: s3.copy_object(Bucket=bucket, Key="k", ACL="public-read",
                               CopySource={"Bucket": bucket, "Key": "plain"}),
        lambda: s3.create_multipart_upload(Bucket=bucket, Key="k", ACL="authenticated-read"),
    ]
    s3.put_object(Bucket=bucket, Key="plain", Body=b"x")
    for write in refused:
        with pytest.raises(ClientError) as err:
            write()
        assert error(err) == ("AccessControlListNotSupported", 400, "The bucket does not allow ACLs")
    assert "k" not in [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    # The bucket owner's full control is what such a bucket accepts, canned or as a grant.
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", ACL="bucket-owner-full-control")
    s3.put_object(Bucket=bucket, Key="k2", Body=b"x", GrantFullControl=f'id="{me}"')
    assert grant_set(s3.get_object_acl(Bucket=bucket, Key="k")["Grants"]) == {(me, "FULL_CONTROL")}


def test_writes_set_the_new_objects_acl(hw: Any, s3: Any) -> None:
    name = acl_bucket(s3, "BucketOwnerPreferred")
    me = owner_id(s3, name)

    def shown(key: str) -> set[tuple[str, str]]:
        return grant_set(s3.get_object_acl(Bucket=name, Key=key)["Grants"])

    s3.put_object(Bucket=name, Key="public", Body=b"x", ACL="public-read")
    assert shown("public") == {(me, "FULL_CONTROL"), (ALL_USERS, "READ")}
    # A copy gets the ACL its request names, never the source's.
    s3.copy_object(Bucket=name, Key="copy", CopySource={"Bucket": name, "Key": "public"})
    assert shown("copy") == {(me, "FULL_CONTROL")}
    s3.copy_object(Bucket=name, Key="copy2", CopySource={"Bucket": name, "Key": "public"},
                   ACL="authenticated-read")
    assert shown("copy2") == {(me, "FULL_CONTROL"), (AUTHENTICATED_USERS, "READ")}
    upload = s3.create_multipart_upload(Bucket=name, Key="multi", ACL="public-read")["UploadId"]
    etag = s3.upload_part(Bucket=name, Key="multi", UploadId=upload, PartNumber=1,
                          Body=b"x")["ETag"]
    s3.complete_multipart_upload(Bucket=name, Key="multi", UploadId=upload,
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})
    assert shown("multi") == {(me, "FULL_CONTROL"), (ALL_USERS, "READ")}
    # A browser POST's acl field.
    import s3_forms
    from botocore.config import Config

    signer = hw.client("s3", config=Config(signature_version="s3v4"))
    post = signer.generate_presigned_post(name, "posted", Fields={"acl": "public-read"},
                                          Conditions=[{"acl": "public-read"}])
    answer = s3_forms.post(post["url"], post["fields"], b"posted bytes")
    assert answer.status == 204, answer.body
    assert shown("posted") == {(me, "FULL_CONTROL"), (ALL_USERS, "READ")}


def test_invalid_acl_requests_are_refused(s3: Any) -> None:
    name = acl_bucket(s3)
    me = owner_id(s3, name)
    s3.put_bucket_acl(Bucket=name, ACL="public-read")
    cases: list[tuple[dict[str, Any], tuple[str, int]]] = [
        ({"ACL": "public"}, ("InvalidArgument", 400)),
        ({"ACL": "private", "GrantRead": f'id="{me}"'}, ("InvalidRequest", 400)),
        ({"GrantRead": 'uri="http://acs.amazonaws.com/groups/global/Friends"'},
         ("InvalidArgument", 400)),
        ({"GrantRead": 'id="someone"'}, ("InvalidArgument", 400)),
        # E-mail grantees: discontinued by S3 on October 1, 2025.
        ({"GrantRead": 'emailAddress="someone@example.com"'}, ("MethodNotAllowed", 405)),
        ({}, ("MissingSecurityHeader", 400)),
    ]
    for given, expected in cases:
        with pytest.raises(ClientError) as err:
            s3.put_bucket_acl(Bucket=name, **given)
        assert error(err)[:2] == expected, given
    with pytest.raises(ClientError) as err:
        s3.put_bucket_acl(Bucket=name, ACL="bogus")
    assert err.value.response["Error"]["ArgumentName"] == "x-amz-acl"
    # Nothing refused was stored.
    assert grant_set(s3.get_bucket_acl(Bucket=name)["Grants"]) == {(me, "FULL_CONTROL"),
                                                                    (ALL_USERS, "READ")}


# -- default encryption -------------------------------------------------------------------------


def test_bucket_encryption_put_get_delete(s3: Any, bucket: str) -> None:
    default = {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"},
                          "BucketKeyEnabled": False}]}
    assert s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"] == default
    config = {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"},
                         "BucketKeyEnabled": True}]}
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration=config)
    assert s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"] == config
    s3.delete_bucket_encryption(Bucket=bucket)
    # AWS quirk: a bucket always has default encryption; deleting returns it to SSE-S3.
    assert s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"] == default


def test_objects_report_sse_s3(s3: Any, bucket: str) -> None:
    assert s3.put_object(Bucket=bucket, Key="k", Body=b"x")["ServerSideEncryption"] == "AES256"
    assert s3.get_object(Bucket=bucket, Key="k")["ServerSideEncryption"] == "AES256"
    assert s3.head_object(Bucket=bucket, Key="k")["ServerSideEncryption"] == "AES256"
    copied = s3.copy_object(Bucket=bucket, Key="c", CopySource={"Bucket": bucket, "Key": "k"})
    assert copied["ServerSideEncryption"] == "AES256"
    assert s3.head_object(Bucket=bucket, Key="c")["ServerSideEncryption"] == "AES256"


# -- deleting configurations --------------------------------------------------------------------


def test_delete_bucket_cors(s3: Any, bucket: str) -> None:
    rules = [{"AllowedMethods": ["GET"], "AllowedOrigins": ["*"]}]
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": rules})
    assert s3.get_bucket_cors(Bucket=bucket)["CORSRules"] == rules
    s3.delete_bucket_cors(Bucket=bucket)
    with pytest.raises(ClientError) as err:
        s3.get_bucket_cors(Bucket=bucket)
    assert error(err) == ("NoSuchCORSConfiguration", 404, "The CORS configuration does not exist")


def test_delete_bucket_lifecycle(s3: Any, bucket: str) -> None:
    rules = [{"ID": "old", "Status": "Enabled", "Filter": {"Prefix": "logs/"},
              "Expiration": {"Days": 30}}]
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": rules})
    assert s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"] == rules
    s3.delete_bucket_lifecycle(Bucket=bucket)
    with pytest.raises(ClientError) as err:
        s3.get_bucket_lifecycle_configuration(Bucket=bucket)
    assert error(err) == ("NoSuchLifecycleConfiguration", 404,
                          "The lifecycle configuration does not exist")


def test_delete_bucket_tagging(s3: Any, bucket: str) -> None:
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "env", "Value": "dev"}]})
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == [{"Key": "env", "Value": "dev"}]
    s3.delete_bucket_tagging(Bucket=bucket)
    with pytest.raises(ClientError) as err:
        s3.get_bucket_tagging(Bucket=bucket)
    assert error(err) == ("NoSuchTagSet", 404, "The TagSet does not exist")
