"""Routing rest requests to operations: labels, query literals, specificity, S3 virtual hosts."""

from __future__ import annotations

import pytest
from botocore.model import ServiceModel

from headwater.protocol.http import HttpRequest
from headwater.protocol.rest_router import RestRouter, router_for, virtual_host_bucket
from headwater.protocol.specs import get_spec


def request(
    method: str, target: str, host: str = "localhost:4566", headers: dict[str, str] | None = None
) -> HttpRequest:
    path, _, query = target.partition("?")
    return HttpRequest(method, path, query, dict(headers or {}, host=host), b"", host)


def route(service: str, method: str, target: str, **kwargs: object) -> tuple[str, dict[str, str]]:
    found = router_for(get_spec(service)).match(request(method, target, **kwargs))  # type: ignore[arg-type]
    assert found is not None, f"{method} {target} did not route"
    return found[0].name, found[1]


# -- labels -----------------------------------------------------------------------------------


def test_greedy_label_takes_the_rest_of_the_path_slashes_included() -> None:
    assert route("s3", "GET", "/photos/2024/cats/tom.jpg") == (
        "GetObject",
        {"Bucket": "photos", "Key": "2024/cats/tom.jpg"},
    )


def test_labels_are_percent_decoded() -> None:
    name, params = route("s3", "GET", "/photos/a%20b/%C3%A9t%C3%A9%2Bplus")
    assert (name, params["Key"]) == ("GetObject", "a b/été+plus")


def test_trailing_slash_belongs_to_a_greedy_key() -> None:
    assert route("s3", "PUT", "/photos/folder/") == (
        "PutObject",
        {"Bucket": "photos", "Key": "folder/"},
    )


def test_trailing_slash_after_a_plain_label_is_optional() -> None:
    assert route("s3", "PUT", "/photos/")[0] == "CreateBucket"
    assert route("s3", "PUT", "/photos")[0] == "CreateBucket"


def test_lambda_paths() -> None:
    assert route("lambda", "GET", "/2015-03-31/functions/")[0] == "ListFunctions"
    assert route("lambda", "GET", "/2015-03-31/functions/my-fn") == (
        "GetFunction",
        {"FunctionName": "my-fn"},
    )
    assert route("lambda", "POST", "/2015-03-31/functions/my-fn/invocations")[0] == "Invoke"


def test_an_unknown_path_or_method_does_not_route() -> None:
    router = router_for(get_spec("lambda"))
    assert router.match(request("GET", "/nothing/here")) is None
    assert router.match(request("PATCH", "/2015-03-31/functions/")) is None


# -- specificity ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "target", "operation"),
    [
        ("GET", "/photos", "ListObjects"),
        ("GET", "/photos?list-type=2", "ListObjectsV2"),
        ("GET", "/photos?list-type=2&prefix=a", "ListObjectsV2"),
        ("GET", "/photos?uploads", "ListMultipartUploads"),
        ("GET", "/photos?versions", "ListObjectVersions"),
        ("GET", "/photos/cat.jpg?tagging", "GetObjectTagging"),
        ("PUT", "/photos?tagging", "PutBucketTagging"),
        ("POST", "/photos/cat.jpg?uploads", "CreateMultipartUpload"),
        ("DELETE", "/photos/cat.jpg", "DeleteObject"),
        ("DELETE", "/photos/cat.jpg?uploadId=u1", "AbortMultipartUpload"),
        ("PUT", "/photos/cat.jpg?partNumber=1&uploadId=u1", "UploadPart"),
        ("POST", "/photos?delete", "DeleteObjects"),
        ("GET", "/", "ListBuckets"),
        ("GET", "/?max-directory-buckets=5", "ListDirectoryBuckets"),
        # S3's deprecated GetBucketLifecycle has the same route; the current operation wins.
        ("GET", "/photos?lifecycle", "GetBucketLifecycleConfiguration"),
    ],
)
def test_the_most_specific_operation_wins(method: str, target: str, operation: str) -> None:
    assert route("s3", method, target)[0] == operation


def test_required_headers_tell_copies_from_uploads() -> None:
    copy = {"x-amz-copy-source": "/other/key"}
    assert route("s3", "PUT", "/photos/cat.jpg")[0] == "PutObject"
    assert route("s3", "PUT", "/photos/cat.jpg", headers=copy)[0] == "CopyObject"
    target = "/photos/cat.jpg?partNumber=1&uploadId=u1"
    assert route("s3", "PUT", target, headers=copy)[0] == "UploadPartCopy"


def _model(operations: dict[str, str]) -> ServiceModel:
    ops = {
        name: {"name": name, "http": {"method": "GET", "requestUri": uri}}
        for name, uri in operations.items()
    }
    return ServiceModel(
        {
            "metadata": {"protocol": "rest-xml", "apiVersion": "2020-01-01"},
            "operations": ops,
            "shapes": {},
        },
        service_name="test",
    )


def test_x_id_must_match_when_present_but_may_be_absent() -> None:
    router = RestRouter(_model({"GetThing": "/{Bucket}/{Key+}?x-id=GetThing"}))
    assert router.match(request("GET", "/b/k")) is not None
    assert router.match(request("GET", "/b/k?x-id=GetThing")) is not None
    assert router.match(request("GET", "/b/k?x-id=PutThing")) is None


def test_other_query_literals_are_required() -> None:
    router = RestRouter(_model({"Tagged": "/{Bucket}?tagging", "Typed": "/{Bucket}?type=2"}))
    assert router.match(request("GET", "/b")) is None
    assert router.match(request("GET", "/b?type=3")) is None
    assert router.match(request("GET", "/b?type=2"))[0].name == "Typed"  # type: ignore[index]
    assert router.match(request("GET", "/b?tagging"))[0].name == "Tagged"  # type: ignore[index]


def test_equal_routes_go_to_the_operation_listed_first() -> None:
    # Routes are indexed by the query key they require; a request naming both keys reaches
    # both, and the tie goes to the model's order, not to the order of the request's keys.
    router = RestRouter(_model({"Acl": "/{Bucket}?acl", "Tags": "/{Bucket}?tagging"}))
    assert router.match(request("GET", "/b?tagging&acl"))[0].name == "Acl"  # type: ignore[index]
    assert router.match(request("GET", "/b?acl&tagging"))[0].name == "Acl"  # type: ignore[index]
    flipped = RestRouter(_model({"Tags": "/{Bucket}?tagging", "Acl": "/{Bucket}?acl"}))
    assert flipped.match(request("GET", "/b?acl&tagging"))[0].name == "Tags"  # type: ignore[index]


def test_literal_path_text_beats_a_label() -> None:
    router = RestRouter(_model({"Named": "/things/special", "Any": "/things/{Name}"}))
    assert router.match(request("GET", "/things/special"))[0].name == "Named"  # type: ignore[index]
    assert router.match(request("GET", "/things/other"))[0].name == "Any"  # type: ignore[index]


# -- S3 virtual-hosted addressing -----------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "bucket"),
    [
        ("photos.localhost:4566", "photos"),
        ("photos.localhost", "photos"),
        ("photos.s3.localhost.localstack.cloud:4566", "photos"),
        ("my.dotted.bucket.s3.us-east-1.amazonaws.com", "my.dotted.bucket"),
        ("photos.s3-us-west-2.amazonaws.com", "photos"),
        ("localhost:4566", None),
        ("s3.localhost:4566", None),
        ("s3.us-east-1.amazonaws.com", None),
        ("127.0.0.1:4566", None),
        ("[::1]:4566", None),
        ("headwater.internal:4566", None),
        # Buckets whose names look like endpoint labels (rclone with a bucket "s3-data").
        ("s3-data.s3.amazonaws.com", "s3-data"),
        ("s3-data.localhost:4566", "s3-data"),
        ("localhost.localhost:4566", "localhost"),
        ("s3-us-west-2.amazonaws.com", None),
        ("s3.localhost.localstack.cloud:4566", None),
    ],
)
def test_virtual_host_bucket(host: str, bucket: str | None) -> None:
    assert virtual_host_bucket(host) == bucket


def test_virtual_hosted_requests_route_as_path_style() -> None:
    assert route("s3", "GET", "/2024/tom.jpg", host="photos.localhost:4566") == (
        "GetObject",
        {"Bucket": "photos", "Key": "2024/tom.jpg"},
    )
    assert route("s3", "GET", "/?list-type=2", host="photos.s3.localhost:4566") == (
        "ListObjectsV2",
        {"Bucket": "photos"},
    )
    assert route("s3", "PUT", "/", host="photos.localhost")[0] == "CreateBucket"


def test_only_s3_reads_the_host() -> None:
    name, params = route("lambda", "GET", "/2015-03-31/functions/f", host="fn.localhost:4566")
    assert (name, params) == ("GetFunction", {"FunctionName": "f"})


def test_router_is_compiled_once_per_service() -> None:
    assert router_for(get_spec("s3")) is router_for(get_spec("s3"))
