"""PutBucketAcl's refusals of grant headers and ACL documents as AWS recorded them, against
headwater's S3.

The cases and answers are LocalStack's recording against AWS (tests/aws/services/s3/test_s3.py,
``TestS3::test_s3_bucket_acl_exceptions``, and its snapshot file in localstack/localstack): a
grant header's bad grantee is named by its key (``uri``, ``id``), a header S3 cannot read is
"Argument format not recognized", and a document needs an ``Owner`` whose ``ID`` is a canonical
id.  PutObjectAcl reads the same headers and document (the same ``AccessControlPolicy`` and
``x-amz-grant-*`` members in the API model) and is held to the same rules here; its recording
of these cases was not read.

AWS page: https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketAcl.html
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

pytestmark = pytest.mark.e2e

LOG_DELIVERY = "http://acs.amazonaws.com/groups/s3/LogDelivery"
FAKE_GROUP = "http://acs.amazonaws.com/groups/s3/FakeGroup"
MALFORMED = {"Code": "MalformedACLError",
             "Message": "The XML you provided was not well-formed or did not validate against "
                        "our published schema"}


@pytest.fixture
def acl_bucket(s3: Any) -> str:
    """A bucket with ACLs enabled (the recording's bucket had its ownership controls removed)."""
    name = f"acl-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name, ObjectOwnership="ObjectWriter")
    return name


def _refusal(call: Any, **kwargs: Any) -> tuple[int, dict[str, Any]]:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    response = caught.value.response
    return response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]


def _acp(owner: dict[str, str] | None) -> dict[str, Any]:
    document: dict[str, Any] = {"Grants": [{"Grantee": {"URI": LOG_DELIVERY, "Type": "Group"},
                                            "Permission": "WRITE"}]}
    if owner is not None:
        document["Owner"] = owner
    return document


# -- grant headers --------------------------------------------------------------------------


def test_grant_header_with_an_unknown_group_names_uri(s3: Any, acl_bucket: str) -> None:
    assert _refusal(s3.put_bucket_acl, Bucket=acl_bucket,
                    GrantWrite=f'uri="{FAKE_GROUP}"') == (400, {
        "Code": "InvalidArgument", "Message": "Invalid group uri",
        "ArgumentName": "uri", "ArgumentValue": FAKE_GROUP})


def test_grant_header_it_cannot_read(s3: Any, acl_bucket: str) -> None:
    assert _refusal(s3.put_bucket_acl, Bucket=acl_bucket, GrantWrite='fakekey="1234"') == (400, {
        "Code": "InvalidArgument", "Message": "Argument format not recognized",
        "ArgumentName": "x-amz-grant-write", "ArgumentValue": 'fakekey="1234"'})


def test_grant_header_with_a_malformed_id_names_id(s3: Any, acl_bucket: str) -> None:
    assert _refusal(s3.put_bucket_acl, Bucket=acl_bucket, GrantWrite='id="wrong-id"') == (400, {
        "Code": "InvalidArgument", "Message": "Invalid id",
        "ArgumentName": "id", "ArgumentValue": "wrong-id"})


# -- AccessControlPolicy documents ----------------------------------------------------------


def test_document_without_owner_is_malformed(s3: Any, acl_bucket: str) -> None:
    assert _refusal(s3.put_bucket_acl, Bucket=acl_bucket,
                    AccessControlPolicy=_acp(None)) == (400, MALFORMED)


def test_empty_document_is_malformed(s3: Any, acl_bucket: str) -> None:
    assert _refusal(s3.put_bucket_acl, Bucket=acl_bucket,
                    AccessControlPolicy={}) == (400, MALFORMED)


def test_document_whose_owner_id_is_no_canonical_id(s3: Any, acl_bucket: str) -> None:
    assert _refusal(s3.put_bucket_acl, Bucket=acl_bucket,
                    AccessControlPolicy=_acp({"ID": "wrong-id"})) == (400, {
        "Code": "InvalidArgument", "Message": "Invalid id",
        "ArgumentName": "CanonicalUser/ID", "ArgumentValue": "wrong-id"})


def test_refused_documents_leave_the_acl_as_it_was(s3: Any, acl_bucket: str) -> None:
    before = s3.get_bucket_acl(Bucket=acl_bucket)["Grants"]
    for document in (_acp(None), {}, _acp({"ID": "wrong-id"})):
        _refusal(s3.put_bucket_acl, Bucket=acl_bucket, AccessControlPolicy=document)
    assert s3.get_bucket_acl(Bucket=acl_bucket)["Grants"] == before


def test_document_with_the_owner_is_taken(s3: Any, acl_bucket: str) -> None:
    owner = s3.list_buckets()["Owner"]
    s3.put_bucket_acl(Bucket=acl_bucket, AccessControlPolicy=_acp(owner))
    assert s3.get_bucket_acl(Bucket=acl_bucket)["Grants"] == [
        {"Grantee": {"Type": "Group", "URI": LOG_DELIVERY}, "Permission": "WRITE"}]


# -- PutObjectAcl: the same headers and document --------------------------------------------


def test_object_acl_is_held_to_the_same_rules(s3: Any, acl_bucket: str) -> None:
    s3.put_object(Bucket=acl_bucket, Key="k", Body=b"x")
    assert _refusal(s3.put_object_acl, Bucket=acl_bucket, Key="k",
                    AccessControlPolicy=_acp(None)) == (400, MALFORMED)
    assert _refusal(s3.put_object_acl, Bucket=acl_bucket, Key="k",
                    GrantRead='id="wrong-id"')[1]["ArgumentName"] == "id"
    owner = s3.list_buckets()["Owner"]
    s3.put_object_acl(Bucket=acl_bucket, Key="k", AccessControlPolicy=_acp(owner))
    assert s3.get_object_acl(Bucket=acl_bucket, Key="k")["Grants"] == [
        {"Grantee": {"Type": "Group", "URI": LOG_DELIVERY}, "Permission": "WRITE"}]
