"""boto3 against headwater's S3: GetObject / HeadObject conditions on dates.

If-Modified-Since and If-Unmodified-Since, alone, at their boundaries, in the future, with
their entity-tag counterparts (the precedence the GetObject API reference documents), and in
the three HTTP date formats (RFC 7231 section 7.1.1.1).  The entity-tag conditions alone are
in test_s3_objects.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from headwater.testing import RunningHeadwater

pytestmark = pytest.mark.e2e

DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def status(error: pytest.ExceptionInfo[ClientError]) -> int:
    return int(error.value.response["ResponseMetadata"]["HTTPStatusCode"])


def failed_condition(error: pytest.ExceptionInfo[ClientError]) -> str:
    """The ``Condition`` of a GetObject 412 PreconditionFailed (asserted to be one)."""
    assert status(error) == 412
    assert error.value.response["Error"]["Code"] == "PreconditionFailed"
    return str(error.value.response["Error"].get("Condition"))


def put(s3: Any, bucket: str, key: str = "k") -> tuple[str, datetime]:
    """Store an object; its ETag and Last-Modified (whole seconds, as HTTP dates carry)."""
    etag = s3.put_object(Bucket=bucket, Key=key, Body=b"data")["ETag"]
    return etag, s3.head_object(Bucket=bucket, Key=key)["LastModified"]


def rfc1123(when: datetime) -> str:
    return format_datetime(when.astimezone(UTC), usegmt=True)  # Sun, 06 Nov 1994 08:49:37 GMT


def rfc850(when: datetime) -> str:
    t = when.astimezone(UTC)  # Sunday, 06-Nov-94 08:49:37 GMT
    return (f"{DAYS[t.weekday()]}, {t.day:02d}-{MONTHS[t.month - 1]}-{t.year % 100:02d} "
            f"{t:%H:%M:%S} GMT")


def asctime(when: datetime) -> str:
    t = when.astimezone(UTC)  # Sun Nov  6 08:49:37 1994
    return f"{DAYS[t.weekday()][:3]} {MONTHS[t.month - 1]} {t.day:2d} {t:%H:%M:%S} {t.year}"


@contextmanager
def raw_headers(client: Any, headers: dict[str, str]) -> Iterator[None]:
    """Send ``headers`` exactly as written on the client's requests (botocore would write
    its own date format)."""

    def rewrite(request: Any, **_: Any) -> None:
        for name, value in headers.items():
            if name in request.headers:
                request.headers.replace_header(name, value)
            else:
                request.headers[name] = value

    client.meta.events.register("before-sign.s3", rewrite)
    try:
        yield
    finally:
        client.meta.events.unregister("before-sign.s3", rewrite)


# -- If-Modified-Since -----------------------------------------------------------------------


def test_a_future_if_modified_since_is_ignored(s3: Any, bucket: str) -> None:
    # RFC 7232 section 3.3, and AWS (LocalStack's AWS-validated
    # test_s3_get_object_preconditions): a date later than the server's clock is no condition.
    etag, _ = put(s3, bucket)
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    assert s3.get_object(Bucket=bucket, Key="k", IfModifiedSince=tomorrow)["Body"].read() == b"data"
    in_an_hour = datetime.now(UTC) + timedelta(hours=1)
    head = s3.head_object(Bucket=bucket, Key="k", IfModifiedSince=in_an_hour)
    assert head["ResponseMetadata"]["HTTPStatusCode"] == 200 and head["ContentLength"] == 4
    # If-None-Match still decides when both are sent.
    with pytest.raises(ClientError) as err:
        s3.get_object(Bucket=bucket, Key="k", IfNoneMatch=etag, IfModifiedSince=tomorrow)
    assert status(err) == 304


def test_if_modified_since_in_the_past(s3: Any, bucket: str) -> None:
    etag, modified = put(s3, bucket)
    # Not modified since the date (it is the object's own Last-Modified): 304, with the
    # validators a 200 would carry and no body.
    for method in (s3.get_object, s3.head_object):
        with pytest.raises(ClientError) as err:
            method(Bucket=bucket, Key="k", IfModifiedSince=modified)
        assert status(err) == 304
        headers = err.value.response["ResponseMetadata"]["HTTPHeaders"]
        assert headers["etag"] == etag
    # Modified after the date: the object.
    before = modified - timedelta(seconds=1)
    assert s3.get_object(Bucket=bucket, Key="k", IfModifiedSince=before)["Body"].read() == b"data"
    assert s3.head_object(Bucket=bucket, Key="k", IfModifiedSince=before)["ContentLength"] == 4


# -- If-Unmodified-Since ---------------------------------------------------------------------


def test_if_unmodified_since(s3: Any, bucket: str) -> None:
    _, modified = put(s3, bucket)
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    # Unmodified since a future date, or since its own Last-Modified: the object.
    for when in (tomorrow, modified):
        got = s3.get_object(Bucket=bucket, Key="k", IfUnmodifiedSince=when)
        assert got["Body"].read() == b"data"
        assert s3.head_object(Bucket=bucket, Key="k", IfUnmodifiedSince=when)["ContentLength"] == 4
    # Changed after the date: 412, naming the header (HEAD has no body to name it in).
    before = modified - timedelta(seconds=1)
    with pytest.raises(ClientError) as err:
        s3.get_object(Bucket=bucket, Key="k", IfUnmodifiedSince=before)
    assert failed_condition(err) == "If-Unmodified-Since"
    with pytest.raises(ClientError) as err:
        s3.head_object(Bucket=bucket, Key="k", IfUnmodifiedSince=before)
    assert status(err) == 412


# -- with the entity-tag conditions (GetObject API reference, "Conditional requests") ------


def test_if_match_true_overrides_a_false_if_unmodified_since(s3: Any, bucket: str) -> None:
    etag, modified = put(s3, bucket)
    before = modified - timedelta(days=1)
    got = s3.get_object(Bucket=bucket, Key="k", IfMatch=etag, IfUnmodifiedSince=before)
    assert got["Body"].read() == b"data"
    head = s3.head_object(Bucket=bucket, Key="k", IfMatch=etag, IfUnmodifiedSince=before)
    assert head["ResponseMetadata"]["HTTPStatusCode"] == 200
    # A false If-Match is what fails then, whatever the date says.
    with pytest.raises(ClientError) as err:
        s3.get_object(Bucket=bucket, Key="k", IfMatch='"0000"',
                      IfUnmodifiedSince=datetime.now(UTC) + timedelta(days=1))
    assert failed_condition(err) == "If-Match"


def test_if_none_match_false_overrides_a_true_if_modified_since(s3: Any, bucket: str) -> None:
    etag, modified = put(s3, bucket)
    before = modified - timedelta(days=1)
    for method in (s3.get_object, s3.head_object):
        with pytest.raises(ClientError) as err:
            method(Bucket=bucket, Key="k", IfNoneMatch=etag, IfModifiedSince=before)
        assert status(err) == 304


def test_a_failed_if_unmodified_since_outranks_a_not_modified(s3: Any, bucket: str) -> None:
    # 412 before 304 (LocalStack's AWS-validated test_s3_get_object_preconditions).
    etag, modified = put(s3, bucket)
    with pytest.raises(ClientError) as err:
        s3.get_object(Bucket=bucket, Key="k", IfNoneMatch=etag, IfModifiedSince=modified,
                      IfUnmodifiedSince=modified - timedelta(days=1))
    assert failed_condition(err) == "If-Unmodified-Since"


# -- HTTP date formats -----------------------------------------------------------------------


@pytest.mark.parametrize("fmt", [rfc1123, rfc850, asctime], ids=["rfc1123", "rfc850", "asctime"])
def test_each_http_date_format_is_read(hw: RunningHeadwater, bucket: str, fmt: Any) -> None:
    client = hw.client("s3")
    _, modified = put(client, bucket)
    # An unreadable date would be no condition (a 200); each of these is read.
    with raw_headers(client, {"If-Modified-Since": fmt(modified)}):
        for method in (client.get_object, client.head_object):
            with pytest.raises(ClientError) as err:
                method(Bucket=bucket, Key="k")
            assert status(err) == 304
    with raw_headers(client, {"If-Unmodified-Since": fmt(modified - timedelta(days=1))}):
        with pytest.raises(ClientError) as err:
            client.get_object(Bucket=bucket, Key="k")
        assert failed_condition(err) == "If-Unmodified-Since"
    with raw_headers(client, {"If-Modified-Since": fmt(modified - timedelta(days=1))}):
        assert client.get_object(Bucket=bucket, Key="k")["Body"].read() == b"data"
