"""The characters S3 takes in a tag key or value, and its answers to the others.

S3 takes Unicode letters, numbers and white space (``\\p{L}``, ``\\p{N}``, ``\\p{Z}``) and
``+ - = . _ : / @`` (https://docs.aws.amazon.com/AmazonS3/latest/API/API_control_S3Tag.html).
The answers are S3's recorded ones in localstack's AWS-validated test_tagging_validation and
test_object_tagging_exc: InvalidTag with ``TagKey`` (a bad key) or ``TagKey`` and ``TagValue``
(a bad value) in a Tagging document; InvalidArgument naming the ``x-amz-tagging`` header, with
the header as ``ArgumentValue``, for header text that is not URL query parameters or repeats a
key."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from headwater.testing import RunningHeadwater

BAD_KEY = ("InvalidTag", 400, "The TagKey you have provided is invalid")
BAD_VALUE = ("InvalidTag", 400, "The TagValue you have provided is invalid")
BAD_HEADER = ("InvalidArgument", 400,
              ("The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query "
              "parameters without tag name duplicates."))
# Letters and numbers of any script, separators, and the punctuation S3 names.
ACCEPTED = ["Key1", "clé", "ключ", "キー", "مفتاح١٢", "a b", "a\u00a0b", "Ⅻ", "+-=._:/@"]
# A comma (the recorded case), other punctuation, a tab (a control character, not \p{Z}), a
# symbol, a combining mark on its own code point (\p{M}, not \p{L}).
REFUSED = ["Key1,Key2", "a!b", "a(b)", "a*b", "a\tb", "a€", "a😀", "e\u0301", "a%b"]


def refused(call: Callable[[], Any]) -> tuple[tuple[str, int, str], dict[str, str]]:
    """The (code, status, message) of a refused call and the error's other elements."""
    with pytest.raises(ClientError) as err:
        call()
    error = dict(err.value.response["Error"])
    status = err.value.response["ResponseMetadata"]["HTTPStatusCode"]
    answer = (error.pop("Code"), status, error.pop("Message"))
    return answer, error


@pytest.fixture
def tagged(s3: Any, bucket: str) -> str:
    s3.put_object(Bucket=bucket, Key="t", Body=b"x")
    return bucket


def tag_set(*pairs: tuple[str, str]) -> dict[str, Any]:
    return {"TagSet": [{"Key": k, "Value": v} for k, v in pairs]}


@pytest.mark.parametrize("text", ACCEPTED)
def test_letters_numbers_spaces_and_the_named_punctuation_are_taken(s3: Any, tagged: str,
                                                                    text: str) -> None:
    s3.put_object_tagging(Bucket=tagged, Key="t", Tagging=tag_set((text, text)))
    assert s3.get_object_tagging(Bucket=tagged, Key="t")["TagSet"] == [
        {"Key": text, "Value": text}]
    s3.put_bucket_tagging(Bucket=tagged, Tagging=tag_set((text, text)))
    assert s3.get_bucket_tagging(Bucket=tagged)["TagSet"] == [{"Key": text, "Value": text}]


@pytest.mark.parametrize("text", REFUSED)
def test_a_key_with_another_character_is_an_invalid_tag(s3: Any, tagged: str, text: str) -> None:
    expected = (BAD_KEY, {"TagKey": text})
    assert refused(lambda: s3.put_object_tagging(
        Bucket=tagged, Key="t", Tagging=tag_set((text, "Val1")))) == expected
    assert refused(lambda: s3.put_bucket_tagging(
        Bucket=tagged, Tagging=tag_set((text, "Val1")))) == expected
    assert s3.get_object_tagging(Bucket=tagged, Key="t")["TagSet"] == []
    with pytest.raises(ClientError):
        s3.get_bucket_tagging(Bucket=tagged)


@pytest.mark.parametrize("text", REFUSED)
def test_a_value_with_another_character_is_an_invalid_tag(s3: Any, tagged: str,
                                                          text: str) -> None:
    expected = (BAD_VALUE, {"TagKey": "Key1", "TagValue": text})
    assert refused(lambda: s3.put_object_tagging(
        Bucket=tagged, Key="t", Tagging=tag_set(("Key1", text)))) == expected
    assert refused(lambda: s3.put_bucket_tagging(
        Bucket=tagged, Tagging=tag_set(("Key1", text)))) == expected


def test_bucket_tags_have_the_object_length_limits(s3: Any, bucket: str) -> None:
    s3.put_bucket_tagging(Bucket=bucket, Tagging=tag_set(("k" * 128, "v" * 256)))
    assert refused(lambda: s3.put_bucket_tagging(
        Bucket=bucket, Tagging=tag_set(("k" * 129, "v"))))[0] == BAD_KEY
    assert refused(lambda: s3.put_bucket_tagging(
        Bucket=bucket, Tagging=tag_set(("k", "v" * 257)))) == (
            BAD_VALUE, {"TagKey": "k", "TagValue": "v" * 257})
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == [
        {"Key": "k" * 128, "Value": "v" * 256}]


def test_an_empty_key_names_no_key(hw: RunningHeadwater, tagged: str) -> None:
    # botocore refuses an empty key itself; S3 answers it with no TagKey element.
    s3 = hw.client("s3", config=Config(parameter_validation=False, retries={"max_attempts": 1}))
    assert refused(lambda: s3.put_object_tagging(
        Bucket=tagged, Key="t", Tagging=tag_set(("", "v")))) == (BAD_KEY, {})


@pytest.mark.parametrize("header", [
    "key1=val1,key2=val2",  # the recorded case: a second "=" in one field
    "key1=val1&key1=val2",  # a repeated key, recorded with the header as ArgumentValue
    "=", "=v", "key%", "k=v%2",
])
def test_header_text_that_is_not_query_parameters_names_the_header(s3: Any, bucket: str,
                                                                   header: str) -> None:
    assert refused(lambda: s3.put_object(Bucket=bucket, Key="out", Body=b"x",
                                         Tagging=header)) == (
        BAD_HEADER, {"ArgumentName": "x-amz-tagging", "ArgumentValue": header})
    assert refused(lambda: s3.create_multipart_upload(Bucket=bucket, Key="out",
                                                      Tagging=header))[0] == BAD_HEADER
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="out")
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


@pytest.mark.parametrize(("header", "answer"), [
    ("k=metal%2Copenstack", (BAD_VALUE, {"TagKey": "k", "TagValue": "metal,openstack"})),
    ("k=val!", (BAD_VALUE, {"TagKey": "k", "TagValue": "val!"})),
    ("key?=val", (BAD_KEY, {"TagKey": "key?"})),
    ("k%C3%A9%09=v", (BAD_KEY, {"TagKey": "ké\t"})),
])
def test_decoded_header_tags_get_the_document_answers(s3: Any, bucket: str, header: str,
                                                      answer: Any) -> None:
    assert refused(lambda: s3.put_object(Bucket=bucket, Key="out", Body=b"x",
                                         Tagging=header)) == answer


def test_encoded_header_tags_are_decoded(s3: Any, bucket: str) -> None:
    header = "cl%C3%A9=a%3Db&sp+ace=x%20y&at@=%2F&bare"
    s3.put_object(Bucket=bucket, Key="t", Body=b"x", Tagging=header)
    tags = s3.get_object_tagging(Bucket=bucket, Key="t")["TagSet"]
    assert {t["Key"]: t["Value"] for t in tags} == {
        "clé": "a=b", "sp ace": "x y", "at@": "/", "bare": ""}
