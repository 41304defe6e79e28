"""Browser-based uploads: ``POST /<bucket>`` with a multipart/form-data body and a signed policy.

What it is: reading the form (fields, then the ``file`` part), checking the SigV4 signature of
the base64 policy and every policy condition (exact matches, ``starts-with``, ``eq``,
``content-length-range``, no unlisted fields, the expiration), then storing the file as
PutObject would, with the ``tagging`` field's Tagging document as its tags (``form_tags``),
and answering as S3 does (204 by default, ``success_action_status`` 200 or 201 with a
``PostResponse`` document, or a 303 to ``success_action_redirect``).  Fields stored as headers
that no response header could carry back are refused (``check_header_fields``); a body that is
not multipart/form-data fails S3's precondition (412, ``NOT_A_FORM``).

What it is not: streamed.  The gateway reads these bodies whole (``max_body_bytes``), which
fits what browsers post; the policy's ``content-length-range`` bounds them further.

References: https://docs.aws.amazon.com/AmazonS3/latest/API/RESTObjectPOST.html,
https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTConstructPolicy.html
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import string
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode
from xml.etree.ElementTree import Element, SubElement

import orjson

from headwater.core.errors import ServiceError
from headwater.protocol.auth_errors import auth_error
from headwater.protocol.http import HttpRequest, HttpResponse
from headwater.protocol.parse.rest_xml import local_name, read_xml
from headwater.protocol.rest_router import virtual_host_bucket
from headwater.protocol.serialize.rest_xml import host_id
from headwater.protocol.serialize.s3 import SERVER_HEADER
from headwater.protocol.serialize.xml_ import to_bytes
from headwater.protocol.sigv4 import AuthFailure
from headwater.protocol.sigv4_signature import signing_key
from headwater.protocol.specs import get_spec
from headwater.services.s3 import acl, checksums, encryption, errors, wire
from headwater.services.s3.model import S3
from headwater.services.s3.names import object_location
from headwater.services.s3.notifications import Notifier

# Fields a policy need not list (https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTConstructPolicy.html).
_EXEMPT = {"x-amz-signature", "file", "policy"}
# Fields stored as the object's system metadata, which GET and HEAD send back as headers.
_HEADER_FIELDS = ("content-type", "cache-control", "content-disposition", "content-encoding",
                  "expires")
# An HTTP field name (RFC 9110 "token"), lower-cased as form field names are read.
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9a-z-]+")
_DIGITS = re.compile(r"[0-9]+")
# S3's answer to a POST on a bucket whose body is not a form (LocalStack's AWS-validated
# test_post_object_with_wrong_content_type: the form sent with Content-Type: text/html).
NOT_A_FORM = "Bucket POST must be of the enclosure-type multipart/form-data"


def _denied(message: str) -> ServiceError:
    return ServiceError("AccessDenied", f"Invalid according to Policy: {message}", 403)


def parse_form(body: bytes, content_type: str) -> tuple[dict[str, str], bytes | None, str]:
    """(fields with lower-case names, the file's bytes, the file's name) of a form body."""
    boundary = ""
    for part in content_type.split(";")[1:]:
        name, _, value = part.strip().partition("=")
        if name.lower() == "boundary":
            boundary = value.strip('"')
    try:
        # Header text arrives decoded as latin-1 (ASGI); anything else cannot be on the wire.
        delimiter = b"--" + boundary.encode("latin-1")
    except UnicodeEncodeError:
        boundary = ""
    if not boundary:
        raise ServiceError("MalformedPOSTRequest", "The body of your POST request is not "
                           "well-formed multipart/form-data.", 400)
    fields: dict[str, str] = {}
    file_data: bytes | None = None
    file_name = ""
    for chunk in body.split(delimiter)[1:]:
        if chunk.startswith(b"--"):
            break
        head, sep, content = chunk.partition(b"\r\n\r\n")
        if not sep:
            continue
        if content.endswith(b"\r\n"):
            content = content[:-2]
        disposition = ""
        for line in head.decode("utf-8", "replace").split("\r\n"):
            key, _, value = line.partition(":")
            if key.strip().lower() == "content-disposition":
                disposition = value
        params = {}
        for item in disposition.split(";")[1:]:
            key, _, value = item.strip().partition("=")
            params[key.lower()] = value.strip('"')
        name = params.get("name", "").lower()
        if name == "file":
            file_data = content
            file_name = params.get("filename", "")
            break  # S3 ignores anything after the file
        fields[name] = content.decode("utf-8", "replace")
    return fields, file_data, file_name


# A SigV4 form's signing fields, in the order S3 asks for a missing one: recorded for a form
# without x-amz-signature, and one without x-amz-algorithm and x-amz-credential, which S3
# answered naming X-Amz-Algorithm (LocalStack test_s3.py, TestS3PresignedPost::
# test_post_request_missing_signature[s3v4], test_post_request_missing_fields[s3v4]).  Where
# X-Amz-Credential and X-Amz-Date come among them is not recorded.
_SIGV4_FIELDS = (("x-amz-algorithm", "X-Amz-Algorithm"), ("x-amz-credential", "X-Amz-Credential"),
                 ("x-amz-date", "X-Amz-Date"), ("x-amz-signature", "X-Amz-Signature"))
# A SigV2 form's, which headwater does not verify: such a form is answered as the regions
# that take SigV4 only answer it (recorded from S3 in FineUploader/react-fine-uploader#59 and
# benefitcloud/ember-uploader#143), as a SigV2 Authorization header is (docs/s3.md).
_SIGV2_FIELDS = ("awsaccesskeyid", "signature")


def check_signing_fields(fields: dict[str, str]) -> None:
    """Refuse a form that lacks the fields its signature needs, as S3 was recorded to.

    A form with none of them (recorded: only ``key`` and ``policy``) is an anonymous upload,
    403 AccessDenied; one with some is 400 InvalidArgument naming the first missing field,
    with an empty ``ArgumentValue``."""
    if not any(name in fields for name, _ in _SIGV4_FIELDS):
        if any(name in fields for name in _SIGV2_FIELDS):
            raise auth_error(get_spec("s3"), AuthFailure("sigv2"))
        raise errors.access_denied()
    for name, shown in _SIGV4_FIELDS:
        if name not in fields:
            raise ServiceError("InvalidArgument", f"Bucket POST must contain a field named "
                               f"'{shown}'.  If it is specified, please check the order of the "
                               "fields.", 400, fields={"ArgumentName": shown, "ArgumentValue": ""})


def check_signature(fields: dict[str, str], secrets: dict[str, str]) -> None:
    policy = fields.get("policy", "")
    credential = fields.get("x-amz-credential", "").split("/")
    if len(credential) != 5:
        raise ServiceError("InvalidArgument", "POST form fields x-amz-credential is malformed",
                           400)
    secret = secrets.get(credential[0])
    if secret is None:
        raise ServiceError("InvalidAccessKeyId", "The AWS Access Key Id you provided does not "
                           "exist in our records.", 403)
    key = signing_key(secret, credential[1], credential[2], credential[3])
    expected = hmac.new(key, policy.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, fields.get("x-amz-signature", "")):
        raise ServiceError("SignatureDoesNotMatch", "The request signature we calculated does "
                           "not match the signature you provided. Check your key and signing "
                           "method.", 403)


def _invalid_document(message: str = "Invalid JSON.") -> ServiceError:
    return ServiceError("InvalidPolicyDocument", f"Invalid Policy: {message}", 400)


def _condition_failed(condition: Any) -> ServiceError:
    """AWS's answer to a condition that does not hold, or that it cannot read (an unknown
    operator, the wrong number or kind of arguments), naming the condition."""
    if isinstance(condition, list):
        shown = "[" + ", ".join(orjson.dumps(item).decode() for item in condition) + "]"
    else:
        shown = orjson.dumps(condition).decode()
    return _denied(f"Policy Condition failed: {shown}")


def _expiration(policy: Any) -> float:
    try:
        return datetime.fromisoformat(str(policy["expiration"])).timestamp()
    except (ValueError, KeyError, TypeError, OverflowError, OSError):
        raise _invalid_document() from None


def _length_bound(value: Any) -> int | None:
    """A ``content-length-range`` bound: a number, or text of digits, which S3 also takes
    (["content-length-range", "5", "10"] was accepted, ["content-length-range", "test", "10"]
    refused as a failed condition: LocalStack's AWS-validated
    test_post_object_policy_validation_size)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _DIGITS.fullmatch(value):
        return int(value)
    return None


def check_policy(fields: dict[str, str], bucket: str, size: int, now: float) -> None:
    try:
        policy = orjson.loads(base64.b64decode(fields.get("policy", ""), validate=True))
    except (binascii.Error, ValueError, orjson.JSONDecodeError):
        raise _invalid_document() from None
    if not isinstance(policy, dict):
        raise _invalid_document()
    if now > _expiration(policy):
        raise _denied("Policy expired.")
    conditions = policy.get("conditions") or []
    if not isinstance(conditions, list):
        raise _invalid_document()
    values = dict(fields, bucket=bucket)
    covered = {"bucket"}
    for condition in conditions:
        if isinstance(condition, dict):
            if len(condition) != 1:
                # S3's answer to {"bucket": .., "success_action_redirect": ..} (LocalStack's
                # AWS-validated test_post_object_policy_conditions_validation_eq).
                raise _invalid_document("Invalid Simple-Condition: Simple-Conditions must have "
                                        "exactly one property specified.")
            for name, wanted in condition.items():
                if not isinstance(wanted, str):
                    raise _invalid_document("Invalid Simple-Condition: Value Must Be A String")
                covered.add(name.lower())
                if values.get(name.lower()) != wanted:
                    raise _denied(f'Policy Condition failed: ["eq", "${name}", "{wanted}"]')
            continue
        if not isinstance(condition, list) or len(condition) != 3:
            raise _condition_failed(condition)
        op, first, second = condition
        op = str(op).lower()
        if op == "content-length-range":
            low, high = _length_bound(first), _length_bound(second)
            if low is None or high is None:
                raise _condition_failed(condition)
            if size > high:
                raise errors.entity_too_large(size, high)
            if size < low:
                raise errors.entity_too_small(size, minimum=low)
            continue
        if op not in ("eq", "starts-with") or not isinstance(first, str) or (
                not first.startswith("$")) or not isinstance(second, str):
            raise _condition_failed(condition)
        name = first[1:].lower()
        covered.add(name)
        actual = values.get(name, "")
        if (op == "eq" and actual != second) or (op == "starts-with" and not actual.startswith(second)):
            raise _denied(f'Policy Condition failed: ["{op}", "${name}", "{second}"]')
    extra = [n for n in fields if n not in covered and n not in _EXEMPT
             and not n.startswith("x-ignore-")]
    if extra:
        raise _denied(f"Extra input fields: {extra[0]}")


def check_header_fields(fields: dict[str, str]) -> None:
    """Refuse the fields that would be stored and no response header could carry back.

    A PutObject cannot send such text (its headers are ISO-8859-1 bytes), but a form's fields
    are UTF-8 text.  AWS documents no answer for them; S3 refuses a ``response-*`` override
    beyond ISO-8859-1 with ``InvalidArgument`` naming it, and so is a field here.  User
    metadata values need no check (they are returned as RFC 2047 encoded-words, or left out
    and counted), but their names are header names.
    """
    for name in _HEADER_FIELDS:
        value = fields.get(name)
        if value is not None:
            wire.check_header_value(name, value)
    for name in fields:
        if name.startswith("x-amz-meta-") and not _TOKEN.fullmatch(name):
            raise errors.invalid_argument("Metadata names must be valid HTTP header names.",
                                          name)


def form_tags(tagging: str | None) -> dict[str, str]:
    """The tags of a form's ``tagging`` field, a Tagging document as PutObjectTagging takes.

    Text that is not XML is MalformedXML and nothing is stored; well-formed XML whose root is
    not ``Tagging`` tags nothing and the object is stored (both recorded in LocalStack's
    AWS-validated test_post_object_with_tags: "not-xml", "<InvalidXmlTagging>...").  A Tag
    without its Key or Value fails the schema, as a PutObjectTagging body would."""
    if tagging is None:
        return {}
    root = read_xml(tagging.encode("utf-8"))
    if local_name(root.tag) != "Tagging":
        return {}
    pairs: list[tuple[str, str]] = []
    for tag_set in root:
        if local_name(tag_set.tag) != "TagSet":
            continue
        for tag in tag_set:
            if local_name(tag.tag) != "Tag":
                continue
            parts = {local_name(child.tag): child.text or "" for child in tag}
            if "Key" not in parts or "Value" not in parts:
                raise errors.malformed_xml()
            pairs.append((parts["Key"], parts["Value"]))
    return wire.check_tags(pairs)


class BrowserPost:
    def __init__(self, s3: S3, secrets: dict[str, str], notifier: Notifier) -> None:
        self.s3 = s3
        self.secrets = secrets
        self.notifier = notifier

    def handle(self, request: HttpRequest, request_id: str) -> HttpResponse:
        content_type = request.headers.get("content-type", "")
        if content_type.split(";")[0].strip().lower() != "multipart/form-data":
            # Checked before the bucket: whether S3 names a missing bucket first is not recorded.
            raise errors.precondition_failed(NOT_A_FORM)
        bucket_name = virtual_host_bucket(request.host) or request.path.strip("/").split("/")[0]
        bucket = self.s3.bucket(bucket_name)
        fields, data, file_name = parse_form(request.body, content_type)
        if data is None:
            raise ServiceError("InvalidArgument", "POST requires exactly one file upload per "
                               "request.", 400, fields={"ArgumentName": "file"})
        check_signing_fields(fields)
        check_signature(fields, self.secrets)
        check_policy(fields, bucket.name, len(data), self.s3.clock.now())
        key = fields.get("key", "").replace("${filename}", file_name)
        if not key:
            raise ServiceError("InvalidArgument", "Bucket POST must contain a field named "
                               "'key'.  If it is specified, please check the order of the "
                               "fields.", 400, fields={"ArgumentName": "key"})
        check_header_fields(fields)
        tags = form_tags(fields.get("tagging"))
        params: dict[str, Any] = {
            "ContentType": fields.get("content-type"),
            "CacheControl": fields.get("cache-control"),
            "ContentDisposition": fields.get("content-disposition"),
            "ContentEncoding": fields.get("content-encoding"),
            "Expires": fields.get("expires"),
            "Metadata": {n[len("x-amz-meta-"):]: v for n, v in fields.items()
                         if n.startswith("x-amz-meta-")},
            "StorageClass": fields.get("x-amz-storage-class"),
            "ACL": fields.get("acl"),
            "ServerSideEncryption": fields.get("x-amz-server-side-encryption"),
            "SSECustomerAlgorithm": fields.get("x-amz-server-side-encryption-customer-algorithm"),
        }
        encryption.check_write(params)
        meta = wire.stored_meta(params)
        if tags:
            meta["tags"] = tags
        acl.set_for_new_object(meta, bucket, params)
        if "content-md5" in fields:
            # "Amazon S3 checks the object against the provided MD5 value" (POST Object).
            checksums.check_md5(fields["content-md5"], hashlib.md5(data).digest())
        staged = self.s3.blobs.stage_bytes(data, (checksums.DEFAULT_ALGORITHM,))
        meta["checksum"] = {"algorithm": checksums.DEFAULT_ALGORITHM,
                            "value": staged.checksums[checksums.DEFAULT_ALGORITHM],
                            "type": "FULL_OBJECT"}
        written = self.s3.put(bucket, key, staged, etag=f'"{staged.md5.hex()}"',
                              storage_class=wire.storage_class(params), meta=meta)
        version = written.version
        if bucket.config.get("notification"):
            # The uploader is whoever signed the form's policy, as for any signed request.
            signer = fields.get("x-amz-credential", "").split("/")[0]
            self.notifier.emit(bucket, "ObjectCreated:Post", key, version,
                               request_id=request_id, now=self.s3.clock.now(),
                               principal=f"AWS:{signer}")
        headers = [("x-amz-request-id", request_id), ("x-amz-id-2", host_id(request_id)),
                   SERVER_HEADER, ("ETag", version.etag)]
        version_id = wire.written_version_id(bucket, version)
        if version_id is not None:
            headers.append(("x-amz-version-id", version_id))
        location = object_location(f"{request.scheme}://{request.host}", request.host,
                                   bucket.name, key)
        headers.append(("Location", location))
        redirect = fields.get("success_action_redirect")
        if redirect:
            # Sent back in a header: what a header cannot carry is percent-encoded (as UTF-8),
            # as a browser encodes a URL typed with such characters.
            redirect = quote(redirect, safe=string.punctuation)
            query = urlencode({"bucket": bucket.name, "key": key, "etag": version.etag})
            joiner = "&" if "?" in redirect else "?"
            headers.append(("Location", f"{redirect}{joiner}{query}"))
            headers = [h for h in headers if not (h[0] == "Location" and h[1] == location)]
            return HttpResponse(303, headers, b"")
        status = fields.get("success_action_status", "204")
        if status == "201":
            # PostResponse is in no botocore model, so it is written here.
            root = Element("PostResponse")
            for name, value in (("Location", location), ("Bucket", bucket.name), ("Key", key),
                                ("ETag", version.etag)):
                SubElement(root, name).text = value
            body = to_bytes(root)
            return HttpResponse(201, [*headers, ("Content-Type", "application/xml")], body)
        return HttpResponse(200 if status == "200" else 204, headers, b"")
