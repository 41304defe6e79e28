"""Byte ranges as S3 reads them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from headwater.core.errors import ServiceError
from headwater.services.s3.conditions import parse_range


def test_range_forms() -> None:
    assert parse_range("bytes=0-9", 100) == (0, 10)
    assert parse_range("bytes=90-", 100) == (90, 100)
    assert parse_range("bytes=-10", 100) == (90, 100)
    assert parse_range("bytes=-1000", 100) == (0, 100)
    assert parse_range("bytes=50-5000", 100) == (50, 100)


def test_unparseable_ranges_are_ignored() -> None:
    for header in (None, "", "items=0-1", "bytes=5-2", "bytes=0-1,5-6", "bytes=-"):
        assert parse_range(header, 100) is None


def test_unsatisfiable_range_is_416() -> None:
    with pytest.raises(ServiceError) as err:
        parse_range("bytes=100-", 100)
    assert err.value.code == "InvalidRange" and err.value.status == 416
    assert err.value.fields["ActualObjectSize"] == "100"


def test_ranges_of_an_empty_object() -> None:
    assert parse_range("bytes=-5", 0) is None  # the whole (empty) object, 200
    for header in ("bytes=0-", "bytes=0-0"):
        with pytest.raises(ServiceError) as err:
            parse_range(header, 0)
        assert err.value.code == "InvalidRange"


@given(header=st.one_of(st.text(max_size=20), st.from_regex(r"\s*bytes=\d{0,3}-\d{0,3}\s*")),
       size=st.integers(0, 500))
def test_any_range_header_is_served_ignored_or_416(header: str, size: int) -> None:
    try:
        found = parse_range(header, size)
    except ServiceError as error:
        assert (error.code, error.status) == ("InvalidRange", 416)
        return
    if found is not None:
        start, end = found
        assert 0 <= start < end <= size
