"""Function names, partial and full ARNs, qualifiers, and Lambda's timestamp formats."""

from __future__ import annotations

import pytest

from headwater.core.errors import ServiceError
from headwater.services.lambda_.names import iso_millis, parse_function, timestamp

ACCOUNT, REGION = "000000000000", "us-east-1"


@pytest.mark.parametrize(
    ("value", "qualifier", "expected"),
    [
        ("fn", None, ("fn", None)),
        ("fn:live", None, ("fn", "live")),
        ("fn:$LATEST", None, ("fn", "$LATEST")),
        ("000000000000:function:fn", None, ("fn", None)),
        ("arn:aws:lambda:us-east-1:000000000000:function:fn:7", None, ("fn", "7")),
        ("fn", "3", ("fn", "3")),
        ("fn:3", "3", ("fn", "3")),
    ],
)
def test_every_way_to_name_a_function(
    value: str, qualifier: str | None, expected: tuple[str, str | None]
) -> None:
    ref = parse_function(value, ACCOUNT, REGION, qualifier)
    assert (ref.name, ref.qualifier) == expected
    assert ref.arn == "arn:aws:lambda:us-east-1:000000000000:function:fn"


def test_a_qualifier_in_the_name_must_match_the_parameter() -> None:
    with pytest.raises(ServiceError) as caught:
        parse_function("fn:1", ACCOUNT, REGION, "2")
    assert caught.value.code == "InvalidParameterValueException"
    assert "derived qualifier" in caught.value.message


def test_another_accounts_function_does_not_exist_here() -> None:
    with pytest.raises(ServiceError) as caught:
        parse_function("arn:aws:lambda:us-east-1:123456789012:function:fn", ACCOUNT, REGION)
    assert caught.value.code == "ResourceNotFoundException"


def test_garbage_is_an_invalid_parameter() -> None:
    with pytest.raises(ServiceError) as caught:
        parse_function("not a/name", ACCOUNT, REGION)
    assert caught.value.status == 400


def test_timestamps() -> None:
    assert timestamp(1_700_000_000.25) == "2023-11-14T22:13:20.250+0000"
    assert iso_millis(1_700_000_000.25) == "2023-11-14T22:13:20.250Z"
