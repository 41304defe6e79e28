"""Message content rules and the MD5 digests SDKs check."""

from __future__ import annotations

import hashlib

import pytest

from headwater.core.errors import ServiceError
from headwater.services.sqs import content
from headwater.services.sqs.content import AttributeValue


def number(value: str) -> dict[str, str]:
    return {"DataType": "Number", "StringValue": value}


# Digests recorded from AWS for these attributes (pinned by moto's and localstack's suites).
@pytest.mark.parametrize(
    ("name", "value", "digest"),
    [
        ("timestamp", "1493147359900", "235c5c510d26fb653d073faed50ae77c"),
        ("timestamp", "1493147359901", "994258b45346a2cc3f9cbb611aa7af30"),
        ("SOME_Valid.attribute-Name", "1493147359900", "36655e7e9d7c0e8479fa3f3f42247ae7"),
    ],
)
def test_attribute_digest_matches_aws(name: str, value: str, digest: str) -> None:
    attributes = content.parse_attributes({name: number(value)})
    assert content.md5_of_attributes(attributes) == digest


def test_body_digest_is_md5_of_utf8() -> None:
    assert content.md5_of_body("derp") == "58fd9edd83341c29f1aebba81c31e257"
    assert content.md5_of_body("Héllo😀") == hashlib.md5("Héllo😀".encode()).hexdigest()


def test_attribute_digest_sorts_names_and_marks_binary() -> None:
    a = {
        "b": AttributeValue("String", string="x"),
        "a": AttributeValue("Binary", binary=b"\x00\x01"),
    }
    expected = hashlib.md5(
        b"\x00\x00\x00\x01a"
        + b"\x00\x00\x00\x06Binary"
        + b"\x02"
        + b"\x00\x00\x00\x02\x00\x01"
        + b"\x00\x00\x00\x01b"
        + b"\x00\x00\x00\x06String"
        + b"\x01"
        + b"\x00\x00\x00\x01x"
    ).hexdigest()
    assert content.md5_of_attributes(a) == expected
    assert content.md5_of_attributes({}) is None


@pytest.mark.parametrize("body", ["", None])
def test_empty_body_is_a_missing_parameter(body: str | None) -> None:
    with pytest.raises(ServiceError) as caught:
        content.check_body(body)
    assert caught.value.code == "MissingParameter"


@pytest.mark.parametrize("bad", ["\x00", "a\x08b", "\ufffe", "\x1f"])
def test_characters_outside_the_xml_set_are_refused(bad: str) -> None:
    with pytest.raises(ServiceError) as caught:
        content.check_body(bad)
    assert caught.value.code == "InvalidMessageContents"


def test_tab_newline_and_astral_characters_are_fine() -> None:
    content.check_body("a\tb\nc\rd 😀 \ue000")


@pytest.mark.parametrize(
    ("wire", "fragment"),
    [
        ({"AWS.x": number("1")}, "reserved"),
        ({"amazon.x": number("1")}, "reserved"),
        ({".x": number("1")}, "is invalid"),
        ({"x.": number("1")}, "is invalid"),
        ({"a..b": number("1")}, "is invalid"),
        ({"sp ace": number("1")}, "is invalid"),
        ({"x": {"DataType": "Text", "StringValue": "1"}}, "type"),
        ({"x": {"DataType": "", "StringValue": "1"}}, "type"),
        ({"x": {"DataType": "String", "StringValue": ""}}, "non-empty"),
        ({"x": {"DataType": "Binary", "StringValue": "1"}}, "non-empty"),
        ({"x": number("twelve")}, "number"),
    ],
)
def test_bad_message_attributes_are_refused(wire: dict, fragment: str) -> None:
    with pytest.raises(ServiceError) as caught:
        content.parse_attributes(wire)
    assert caught.value.code == "InvalidParameterValue"
    assert fragment in caught.value.message


def test_at_most_ten_message_attributes() -> None:
    wire = {f"a{i}": number(str(i)) for i in range(11)}
    with pytest.raises(ServiceError) as caught:
        content.parse_attributes(wire)
    assert "[11] exceeds the allowed maximum [10]" in caught.value.message


def test_custom_type_labels_are_kept() -> None:
    parsed = content.parse_attributes(
        {"price": {"DataType": "Number.float", "StringValue": "1.5e3"}}
    )
    assert parsed["price"].data_type == "Number.float"


def test_only_the_trace_header_is_a_system_attribute() -> None:
    ok = content.parse_system_attributes(
        {
            "AWSTraceHeader": {
                "DataType": "String",
                "StringValue": "Root=1-5759e988-bd862e3fe1be46a994272793",
            }
        }
    )
    assert set(ok) == {"AWSTraceHeader"}
    with pytest.raises(ServiceError):
        content.parse_system_attributes({"Other": {"DataType": "String", "StringValue": "x"}})
    with pytest.raises(ServiceError):
        content.parse_system_attributes(
            {"AWSTraceHeader": {"DataType": "Number", "StringValue": "1"}}
        )


def test_size_counts_body_and_attribute_names_types_and_values() -> None:
    attributes = content.parse_attributes({"k": {"DataType": "String", "StringValue": "v"}})
    assert content.message_size("abc", attributes) == 3 + 1 + 6 + 1
    assert content.message_size("é", {}) == 2


def test_select_attributes_all_exact_and_prefix() -> None:
    attrs = {
        name: AttributeValue("String", string=name) for name in ("a", "foo.x", "foo.y", "foobar")
    }
    assert set(content.select_attributes(attrs, ["All"])) == set(attrs)
    assert set(content.select_attributes(attrs, [".*"])) == set(attrs)
    assert set(content.select_attributes(attrs, ["foo.*"])) == {"foo.x", "foo.y"}
    assert set(content.select_attributes(attrs, ["a", "missing"])) == {"a"}
    assert content.select_attributes(attrs, []) == {}


def test_attributes_round_trip_through_the_store_encoding() -> None:
    attrs = {
        "b": AttributeValue("Binary", binary=b"\xff\x00"),
        "s": AttributeValue("String", string="é"),
    }
    assert content.decode_attributes(content.encode_attributes(attrs)) == attrs
    assert content.encode_attributes({}) is None


@pytest.mark.parametrize("token", ["", "a" * 129, "has space", "tab\t", "é"])
def test_group_and_dedup_ids_are_1_to_128_printable_ascii(token: str) -> None:
    with pytest.raises(ServiceError):
        content.check_token("MessageGroupId", token)
    content.check_token("MessageGroupId", "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~aZ09")


def test_content_deduplication_id_is_sha256_of_the_body() -> None:
    assert content.content_dedup_id("x") == hashlib.sha256(b"x").hexdigest()
