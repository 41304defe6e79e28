"""Scalars read from wire text (headers, query strings, labels, XML text)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.model import Shape

from headwater.core.errors import ServiceError
from headwater.protocol.parse.text import from_text, split_header_list


def shape(kind: str, **serialization: Any) -> Shape:
    return Shape("S", {"type": kind, **serialization})


@pytest.mark.parametrize(
    ("kind", "text", "value"),
    [
        ("integer", " 42 ", 42),
        ("long", "1099511627776", 2**40),
        ("double", "2.5", 2.5),
        ("boolean", "TRUE", True),
        ("boolean", "false", False),
        ("blob", "aGk=", b"hi"),
        ("string", " kept as is ", " kept as is "),
        ("timestamp", "2019-12-16T23:48:18Z", datetime(2019, 12, 16, 23, 48, 18, tzinfo=UTC)),
        (
            "timestamp",
            "Mon, 16 Dec 2019 23:48:18 GMT",
            datetime(2019, 12, 16, 23, 48, 18, tzinfo=UTC),
        ),
        ("timestamp", "1576540098", datetime(2019, 12, 16, 23, 48, 18, tzinfo=UTC)),
    ],
)
def test_from_text(kind: str, text: str, value: Any) -> None:
    assert from_text(shape(kind), text, "Member", "E") == value


def test_special_floats_use_aws_spelling_only() -> None:
    assert from_text(shape("double"), "-Infinity", "m", "E") == float("-inf")
    with pytest.raises(ServiceError):
        from_text(shape("double"), "inf", "m", "E")


@pytest.mark.parametrize(("kind", "text"), [("integer", "4.5"), ("boolean", "yes"), ("blob", "@@")])
def test_unreadable_text_raises_the_protocol_code(kind: str, text: str) -> None:
    with pytest.raises(ServiceError) as info:
        from_text(shape(kind), text, "Member", "InvalidArgument")
    assert (info.value.code, info.value.status) == ("InvalidArgument", 400)
    assert "'Member'" in info.value.message


def test_header_lists_honour_quotes() -> None:
    text = '"b,c", "\\"def\\"", a ,  " x "'
    assert split_header_list(text, shape("string")) == ["b,c", '"def"', "a", " x "]
    assert split_header_list("", shape("string")) == []


def test_header_lists_of_http_dates_are_repaired() -> None:
    text = "Mon, 16 Dec 2019 23:48:18 GMT, Tue, 17 Dec 2019 23:48:18 GMT"
    assert split_header_list(text, shape("timestamp")) == [
        "Mon, 16 Dec 2019 23:48:18 GMT",
        "Tue, 17 Dec 2019 23:48:18 GMT",
    ]
    assert split_header_list("1576540098, 1576540099", shape("timestamp")) == [
        "1576540098",
        "1576540099",
    ]
