"""The errors S3 answers with: code, HTTP status and the message AWS words them with.

Every wire-visible S3 failure is a ``ServiceError`` built here.  Codes, statuses and messages
follow https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html; the extra elements
S3 puts in some error documents (``BucketName``, ``Key``, ``ActualObjectSize`` ...) travel in
``fields`` and are written by the rest-xml serializer.
"""

from __future__ import annotations

from headwater.core.errors import ServiceError


def no_such_bucket(name: str) -> ServiceError:
    return ServiceError("NoSuchBucket", "The specified bucket does not exist", 404,
                        fields={"BucketName": name})


def no_such_key(key: str, delete_marker: bool = False) -> ServiceError:
    headers = {"x-amz-delete-marker": "true"} if delete_marker else None
    return ServiceError("NoSuchKey", "The specified key does not exist.", 404,
                        fields={"Key": key}, headers=headers)


def no_such_version(key: str, version_id: str) -> ServiceError:
    return ServiceError("NoSuchVersion",
                        "The specified version does not exist.", 404,
                        fields={"Key": key, "VersionId": version_id})


def invalid_version_id(version_id: str) -> ServiceError:
    return ServiceError("InvalidArgument", "Invalid version id specified", 400,
                        fields={"ArgumentName": "versionId", "ArgumentValue": version_id})


def bucket_owned(name: str) -> ServiceError:
    return ServiceError(
        "BucketAlreadyOwnedByYou",
        "Your previous request to create the named bucket succeeded and you already own it.",
        409,
        fields={"BucketName": name},
    )


def bucket_exists(name: str) -> ServiceError:
    return ServiceError(
        "BucketAlreadyExists",
        "The requested bucket name is not available. The bucket namespace is shared by all "
        "users of the system. Please select a different name and try again.",
        409,
        fields={"BucketName": name},
    )


def bucket_not_empty(name: str, versioning: str | None = None) -> ServiceError:
    """DeleteBucket of a bucket with objects left.  A bucket that has had versioning turned on
    (``versioning`` Enabled or Suspended) is told to delete all versions: S3's recorded answers
    in localstack's AWS-validated test_delete_versioned_bucket_with_objects (an Enabled bucket
    with versions, or with only a delete marker) and test_delete_bucket_with_objects (a
    never-versioned one, the plain message).  Suspended is not recorded; it keeps versions as
    an Enabled bucket does, so it is answered the same."""
    message = "The bucket you tried to delete is not empty"
    if versioning is not None:
        message += ". You must delete all versions in the bucket."
    return ServiceError("BucketNotEmpty", message, 409, fields={"BucketName": name})


def invalid_bucket_name(name: str) -> ServiceError:
    return ServiceError("InvalidBucketName", "The specified bucket is not valid.", 400,
                        fields={"BucketName": name})


def key_too_long(size: int) -> ServiceError:
    return ServiceError("KeyTooLongError", "Your key is too long", 400,
                        fields={"Size": str(size), "MaxSizeAllowed": "1024"})


def metadata_too_large(size: int) -> ServiceError:
    return ServiceError("MetadataTooLarge",
                        "Your metadata headers exceed the maximum allowed metadata size", 400,
                        fields={"Size": str(size), "MaxSizeAllowed": "2048"})


def entity_too_large(size: int, limit: int) -> ServiceError:
    return ServiceError("EntityTooLarge", "Your proposed upload exceeds the maximum allowed size",
                        400, fields={"ProposedSize": str(size), "MaxSizeAllowed": str(limit)})


def invalid_range(requested: str, size: int) -> ServiceError:
    return ServiceError("InvalidRange", "The requested range is not satisfiable", 416,
                        fields={"RangeRequested": requested, "ActualObjectSize": str(size)},
                        headers={"Content-Range": f"bytes */{size}"})


def precondition_failed(condition: str) -> ServiceError:
    return ServiceError("PreconditionFailed",
                        "At least one of the pre-conditions you specified did not hold", 412,
                        fields={"Condition": condition})


def not_modified(headers: dict[str, str]) -> ServiceError:
    # Rendered without a body (serialize/s3.py): a 304 carries none.
    return ServiceError("NotModified", "Not Modified", 304, headers=headers)


def invalid_object_state(storage_class: str) -> ServiceError:
    return ServiceError("InvalidObjectState",
                        "The operation is not valid for the object's storage class", 403,
                        fields={"StorageClass": storage_class})


def archived_copy_source(storage_class: str) -> ServiceError:
    """A copy (CopyObject, UploadPartCopy) whose source is archived and not restored.  Not
    the ObjectNotInActiveTierError botocore's model names: S3 answers InvalidObjectState
    (Hadoop's S3A troubleshooting guide quotes a real response; LocalStack's AWS-validated
    provider sends the class too)."""
    return ServiceError("InvalidObjectState",
                        "Operation is not valid for the source object's storage class", 403,
                        fields={"StorageClass": storage_class})


def invalid_storage_class(requested: str) -> ServiceError:
    return ServiceError("InvalidStorageClass", "The storage class you specified is not valid",
                        400, fields={"StorageClassRequested": requested})


def method_not_allowed(method: str, resource: str, allow: str | None = None) -> ServiceError:
    """405 for ``method`` on a resource of type ``resource``, with ``Allow`` (what HTTP asks
    of a 405, RFC 9110) when S3's is recorded."""
    return ServiceError("MethodNotAllowed",
                        "The specified method is not allowed against this resource.", 405,
                        fields={"Method": method, "ResourceType": resource},
                        headers={} if allow is None else {"Allow": allow})


def delete_marker_not_allowed(method: str) -> ServiceError:
    """A read of a delete marker named by version id: S3 says it is one, and that DELETE is
    what it allows (moto's AWS-verified tests)."""
    error = method_not_allowed(method, "DeleteMarker", "DELETE")
    error.headers["x-amz-delete-marker"] = "true"
    return error


def header_not_implemented(header: str, additional: str | None = None) -> ServiceError:
    """S3's 501 for a header value it does not serve, naming the header (``Header``) and why
    (``additionalMessage``), as recorded from S3 in LocalStack's AWS-validated
    test_put_object_if_match_validation and its neighbours; S3's answer to
    ``Transfer-Encoding`` has no ``additionalMessage`` (``wire.declared_size``)."""
    fields = {"Header": header}
    if additional is not None:
        fields["additionalMessage"] = additional
    return ServiceError("NotImplemented",
                        "A header you provided implies functionality that is not implemented", 501,
                        sender_fault=False, fields=fields)


def missing_content_length() -> ServiceError:
    """411 MissingContentLength, S3's answer to a body whose length is not declared in a
    form it takes (recorded in versity/versitygw#1043 and #1656)."""
    return ServiceError("MissingContentLength", "You must provide the Content-Length HTTP header.",
                        411)


def invalid_tag(key: str, value: str | None = None) -> ServiceError:
    """A tag key (``value`` None) or a tag's value too long, empty (a key) or holding a
    character S3 does not take.  The elements are S3's recorded ones (localstack's
    AWS-validated test_tagging_validation: ``TagKey`` for a bad key, ``TagKey`` and
    ``TagValue`` for a bad value; versity/versitygw#2039 and #1663 show the same).  S3's answer
    quoted in versity/versitygw#1232, for an empty or an over-long key (which of the two is not
    said), has no ``TagKey``: an empty key gets none, an over-long one keeps it (not recorded)."""
    if value is None:
        return ServiceError("InvalidTag", "The TagKey you have provided is invalid", 400,
                            fields={"TagKey": key} if key else {})
    return ServiceError("InvalidTag", "The TagValue you have provided is invalid", 400,
                        fields={"TagKey": key, "TagValue": value})


def too_many_tags() -> ServiceError:
    return ServiceError("BadRequest", "Object tags cannot be greater than 10", 400)


def invalid_argument(message: str, name: str | None = None, value: str | None = None) -> ServiceError:
    fields: dict[str, str] = {}
    if name is not None:
        fields["ArgumentName"] = name
    if value is not None:
        fields["ArgumentValue"] = value
    return ServiceError("InvalidArgument", message, 400, fields=fields)


def access_denied() -> ServiceError:
    return ServiceError("AccessDenied", "Access Denied", 403)


def invalid_request(message: str) -> ServiceError:
    return ServiceError("InvalidRequest", message, 400)


def no_such_upload(upload_id: str) -> ServiceError:
    return ServiceError(
        "NoSuchUpload",
        "The specified upload does not exist. The upload ID may be invalid, or the upload may "
        "have been aborted or completed.",
        404,
        fields={"UploadId": upload_id},
    )


def entity_too_small(size: int, part: int | None = None, etag: str | None = None,
                     minimum: int = 5242880) -> ServiceError:
    """An upload below its minimum: a part that is not the last under 5 MiB at
    CompleteMultipartUpload (``part`` and ``etag`` given; the ETag shown unquoted, as recorded
    in LocalStack's AWS-validated test_multipart_complete_multipart_too_small), or a browser
    POST under its policy's content-length-range (``minimum``; recorded in
    test_post_object_policy_validation_size).  Both recordings word the message alike."""
    fields = {"ProposedSize": str(size), "MinSizeAllowed": str(minimum)}
    if part is not None:
        fields["PartNumber"] = str(part)
    if etag is not None:
        fields["ETag"] = etag.strip('"')
    return ServiceError("EntityTooSmall",
                        "Your proposed upload is smaller than the minimum allowed size", 400,
                        fields=fields)


def invalid_part(part: int, etag: str, upload_id: str) -> ServiceError:
    """The ETag shown unquoted, with the upload's id, as recorded from S3 (LocalStack's
    AWS-validated test_multipart_complete_multipart_wrong_part)."""
    return ServiceError(
        "InvalidPart",
        "One or more of the specified parts could not be found.  The part may not have been "
        "uploaded, or the specified entity tag may not match the part's entity tag.",
        400,
        fields={"UploadId": upload_id, "PartNumber": str(part), "ETag": etag.strip('"')},
    )


def invalid_part_order() -> ServiceError:
    return ServiceError("InvalidPartOrder",
                        "The list of parts was not in ascending order. Parts must be ordered by "
                        "part number.", 400)


def malformed_xml() -> ServiceError:
    return ServiceError("MalformedXML",
                        "The XML you provided was not well-formed or did not validate against "
                        "our published schema", 400)


def no_such_config(code: str, message: str, bucket: str) -> ServiceError:
    return ServiceError(code, message, 404, fields={"BucketName": bucket})


def internal_error() -> ServiceError:
    return ServiceError("InternalError", "We encountered an internal error. Please try again.",
                        500, sender_fault=False)


def restore_in_progress() -> ServiceError:
    return ServiceError("RestoreAlreadyInProgress", "Object restore is already in progress", 409)


def invalid_part_number(requested: int, count: int) -> ServiceError:
    """With the part asked for and the object's count, as recorded from S3 (LocalStack's
    AWS-validated test_get_object_part)."""
    return ServiceError("InvalidPartNumber", "The requested partnumber is not satisfiable", 416,
                        fields={"PartNumberRequested": str(requested),
                                "ActualPartCount": str(count)})


def malformed_policy() -> ServiceError:
    return ServiceError("MalformedPolicy", "Policies must be valid JSON and the first byte must "
                        "be '{'", 400)


def invalid_location_constraint(constraint: str) -> ServiceError:
    """CreateBucket naming us-east-1 as its LocationConstraint (moto's AWS-verified
    test_bucket_create_force_us_east_1; S3's raw document, with the LocationConstraint element,
    in minio/minio-py#166 and versity/versitygw#1645)."""
    return ServiceError("InvalidLocationConstraint",
                        "The specified location-constraint is not valid", 400,
                        fields={"LocationConstraint": constraint})


def illegal_location_constraint(constraint: str | None) -> ServiceError:
    """CreateBucket sent to a regional endpoint other than us-east-1 whose LocationConstraint
    is another region, or absent ("unspecified"): moto's AWS-verified
    test_create_bucket_with_wrong_location_constraint and
    test_bucket_create_empty_location_constraint_non_standard_region_should_return_error; S3's
    raw document, without extra elements, in versity/versitygw#2246."""
    return ServiceError(
        "IllegalLocationConstraintException",
        f"The {constraint or 'unspecified'} location constraint is incompatible for the region "
        "specific endpoint this request was sent to.", 400)


def duplicate_tag_keys() -> ServiceError:
    """A Tagging document (PutObjectTagging, PutBucketTagging) naming a key twice: moto's
    AWS-verified test_put_bucket_tagging; aws/aws-sdk-java#1583 for PutObjectTagging."""
    return ServiceError("InvalidTag", "Cannot provide multiple Tags with the same key", 400)


def system_tag(on_bucket: bool) -> ServiceError:
    """A tag key starting ``aws:``, which only AWS may set.  The messages differ by resource:
    moto's AWS-verified test_put_bucket_tagging (bucket) and test_put_object_with_tagging
    (x-amz-tagging on PutObject)."""
    if on_bucket:
        return ServiceError("InvalidTag", "System tags cannot be added/updated by requester", 400)
    return ServiceError("InvalidTag", "Your TagKey cannot be prefixed with aws:", 400)


def invalid_tagging_header(header: str) -> ServiceError:
    """An ``x-amz-tagging`` header that is not URL query text or names a key twice.  AWS keeps
    InvalidArgument for the header form (the document form is InvalidTag): S3's answer to
    ``--tagging 'a=&a='`` quoted in open-io/swift3#92, versity/versitygw#1215 for PutObject and
    CreateMultipartUpload, and localstack's AWS-validated test_object_tagging_exc
    (put-obj-duplicate-tagging, put-obj-wrong-format), which records the header sent back as
    ``ArgumentValue``."""
    return ServiceError("InvalidArgument",
                        "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL "
                        "query parameters without tag name duplicates.", 400,
                        fields={"ArgumentName": "x-amz-tagging", "ArgumentValue": header})


def illegal_versioning_configuration() -> ServiceError:
    """PutBucketVersioning with an empty VersioningConfiguration: S3's recorded answer in
    localstack's AWS-validated test_bucket_versioning_crud (put-versioning-empty)."""
    return ServiceError("IllegalVersioningConfigurationException",
                        "The Versioning element must be specified", 400)


def conditional_conflict(condition: str, key: str) -> ServiceError:
    """A conditional write whose key changed under it (CompleteMultipartUpload of an upload
    that began before the key's latest write or delete)."""
    return ServiceError("ConditionalRequestConflict",
                        "The conditional request cannot succeed due to a conflicting operation "
                        "against this resource.", 409, fields={"Condition": condition, "Key": key})
