"""Tags as S3 takes them (``wire.check_tag``, ``wire.tags_from_header``): any text gets one of
S3's answers, never a crash, and the answer names what was wrong."""

from __future__ import annotations

import unicodedata
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from headwater.core.errors import ServiceError
from headwater.services.s3 import wire


def _taken(text: str) -> bool:
    # S3's pattern, ^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$, spelled out by category.
    return all(unicodedata.category(ch)[:1] in ("L", "Z", "N") or ch in "_.:/=+-@"
               for ch in text)


@given(st.text(max_size=140), st.text(max_size=260))
def test_any_tag_is_taken_or_refused_naming_the_bad_part(key: str, value: str) -> None:
    good_key = 1 <= len(key) <= 128 and _taken(key)
    good_value = len(value) <= 256 and _taken(value)
    try:
        wire.check_tag(key, value)
    except ServiceError as refused:
        assert (refused.code, refused.status) == ("InvalidTag", 400)
        if not good_key:
            assert refused.message == "The TagKey you have provided is invalid"
            assert refused.fields == ({"TagKey": key} if key else {})
        else:
            assert not good_value
            assert refused.message == "The TagValue you have provided is invalid"
            assert refused.fields == {"TagKey": key, "TagValue": value}
    else:
        assert good_key and good_value


@given(st.dictionaries(st.text(st.characters(categories=("L", "N", "Zs")), min_size=1,
                               max_size=20),
                       st.text(st.characters(categories=("L", "N", "Zs")), max_size=20),
                       max_size=10))
def test_url_encoded_tags_come_back_as_sent(tags: dict[str, str]) -> None:
    header = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in tags.items())
    assert wire.tags_from_header(header) == tags


@given(st.text(max_size=60))
def test_any_header_is_taken_or_refused_with_s3s_answers(header: str) -> None:
    try:
        wire.tags_from_header(header)
    except ServiceError as refused:
        assert (refused.code, refused.status) in {
            ("InvalidArgument", 400), ("InvalidTag", 400), ("BadRequest", 400)}
        if refused.code == "InvalidArgument":
            assert refused.fields == {"ArgumentName": "x-amz-tagging", "ArgumentValue": header}


def test_the_recorded_header_is_not_query_parameters() -> None:
    header = "key1=val1,key2=val2"
    with pytest.raises(ServiceError) as refused:
        wire.tags_from_header(header)
    assert refused.value.code == "InvalidArgument"
    assert refused.value.fields["ArgumentValue"] == header
