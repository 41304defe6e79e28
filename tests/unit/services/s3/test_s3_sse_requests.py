"""What encryption a request may ask for: any text gets S3's answer, never a crash."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from headwater.core.errors import ServiceError
from headwater.services.s3 import encryption


@given(st.text(max_size=40))
def test_any_method_is_taken_or_refused_with_s3s_answer(method: str) -> None:
    try:
        encryption.check_write({"ServerSideEncryption": method})
    except ServiceError as refused:
        if method in ("aws:kms", "aws:kms:dsse"):
            assert (refused.code, refused.status) == ("NotImplemented", 501)
        else:
            assert (refused.code, refused.status) == ("InvalidArgument", 400)
            assert refused.fields == {"ArgumentName": "x-amz-server-side-encryption",
                                      "ArgumentValue": method}
    else:
        assert method == "AES256"


@given(st.one_of(st.none(), st.text(max_size=20), st.integers(), st.lists(st.text())))
def test_any_bucket_algorithm_is_stored_or_malformed(algorithm: object) -> None:
    config = {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": algorithm}}]}
    try:
        encryption.check_configuration(config)
    except ServiceError as refused:
        assert (refused.code, refused.status) == ("MalformedXML", 400)
        assert algorithm not in encryption.BUCKET_ALGORITHMS
    else:
        assert algorithm in encryption.BUCKET_ALGORITHMS


def test_a_rule_without_a_default_is_left_to_the_schema() -> None:
    encryption.check_configuration({"Rules": [{"BucketKeyEnabled": True}]})


def _rule(algorithm: str, key: str | None = None) -> dict[str, object]:
    default: dict[str, object] = {"SSEAlgorithm": algorithm}
    if key is not None:
        default["KMSMasterKeyID"] = key
    return {"ApplyServerSideEncryptionByDefault": default}


@pytest.mark.parametrize("config", [{}, {"Rules": []}, {"Rules": [_rule("AES256")] * 2},
                                    {"Rules": [_rule("aws:kms"), _rule("AES256")]}])
def test_anything_but_one_rule_is_malformed(config: dict[str, object]) -> None:
    with pytest.raises(ServiceError) as refused:
        encryption.check_configuration(config)
    assert (refused.value.code, refused.value.status) == ("MalformedXML", 400)


@given(st.sampled_from(encryption.BUCKET_ALGORITHMS), st.one_of(st.none(), st.text(max_size=20)))
def test_a_kms_key_is_taken_only_with_a_kms_algorithm(algorithm: str, key: str | None) -> None:
    try:
        encryption.check_configuration({"Rules": [_rule(algorithm, key)]})
    except ServiceError as refused:
        assert key is not None and algorithm == "AES256"
        assert (refused.code, refused.status) == ("InvalidArgument", 400)
        assert refused.fields == {"ArgumentName": "ApplyServerSideEncryptionByDefault"}
    else:
        assert key is None or algorithm != "AES256"


@pytest.mark.parametrize("params", [{"SSECustomerAlgorithm": "AES256"},
                                    {"CopySourceSSECustomerAlgorithm": "AES256"}])
def test_reads_naming_an_sse_c_key_do_not_apply(params: dict[str, str]) -> None:
    with pytest.raises(ServiceError) as refused:
        if "CopySourceSSECustomerAlgorithm" in params:
            encryption.check_part_copy(params)
        else:
            encryption.check_read(params, {})
    assert refused.value.code == "InvalidRequest"


@pytest.mark.parametrize(("params", "message"), [
    ({"SSEKMSKeyId": "testkey-2"}, "requires HTTP header x-amz-server-side-encryption : aws:kms"),
    ({"ServerSideEncryption": "AES256", "SSEKMSKeyId": "k"}, "requires HTTP header"),
    ({"SSECustomerKey": "a2V5", "SSECustomerKeyMD5": "bWQ1"}, "must provide a valid encryption"),
    ({"SSECustomerKeyMD5": "bWQ1"}, "must provide a valid encryption algorithm."),
    ({"ServerSideEncryption": "AES256", "SSECustomerAlgorithm": "AES256"},
     "incompatible with the encryption method specified."),
])
def test_headers_that_make_no_request_together_are_refused_as_s3_does(
        params: dict[str, str], message: str) -> None:
    # Refused for what they are, not answered 501 or taken: S3 refuses them whatever it serves.
    with pytest.raises(ServiceError) as refused:
        encryption.check_write(params)
    assert (refused.value.code, refused.value.status) == ("InvalidArgument", 400)
    assert message in refused.value.message
