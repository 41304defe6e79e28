"""Queue URLs, ARNs, names and receipt handles."""

from __future__ import annotations

import pytest

from headwater.core.errors import ServiceError
from headwater.services.sqs import names


@pytest.mark.parametrize(
    ("url", "region"),
    [
        ("http://127.0.0.1:4566/000000000000/jobs", None),
        ("http://localhost:4566/000000000000/jobs", None),
        ("https://sqs.eu-west-1.amazonaws.com/000000000000/jobs", "eu-west-1"),
        ("https://eu-west-2.queue.amazonaws.com/000000000000/jobs", "eu-west-2"),
        ("https://queue.amazonaws.com/000000000000/jobs", "us-east-1"),
        ("https://sqs.us-east-2.api.aws/000000000000/jobs", "us-east-2"),
    ],
)
def test_any_queue_url_names_account_and_queue(url: str, region: str | None) -> None:
    ref = names.parse_queue_url(url)
    assert (ref.account, ref.name, ref.region) == ("000000000000", "jobs", region)


@pytest.mark.parametrize(
    "url", ["jobs", "http://localhost:4566/jobs", "http://h/notanaccount/jobs"]
)
def test_urls_without_account_and_name_are_invalid_addresses(url: str) -> None:
    with pytest.raises(ServiceError) as caught:
        names.parse_queue_url(url)
    assert (caught.value.code, caught.value.status) == ("InvalidAddress", 404)


def test_arns() -> None:
    arn = names.queue_arn("us-east-1", "000000000000", "jobs")
    assert arn == "arn:aws:sqs:us-east-1:000000000000:jobs"
    ref = names.parse_queue_arn(arn)
    assert ref == names.QueueRef("000000000000", "jobs", "us-east-1")
    assert names.parse_queue_arn("arn:aws:sns:us-east-1:000000000000:jobs") is None
    assert names.parse_queue_arn("not an arn") is None


@pytest.mark.parametrize("name", ["a", "A-b_9", "x" * 80])
def test_standard_names(name: str) -> None:
    names.check_queue_name(name, fifo=False)


@pytest.mark.parametrize("name", ["", "x" * 81, "has.dot", "sp ace", "x.fifo"])
def test_bad_standard_names(name: str) -> None:
    with pytest.raises(ServiceError) as caught:
        names.check_queue_name(name, fifo=False)
    assert caught.value.code == "InvalidParameterValue"


def test_fifo_names_end_with_fifo_and_count_the_suffix() -> None:
    names.check_queue_name("x" * 75 + ".fifo", fifo=True)
    for bad in ("x" * 76 + ".fifo", "plain", ".fifo"):
        with pytest.raises(ServiceError):
            names.check_queue_name(bad, fifo=True)


def test_receipt_handles_round_trip_and_reject_garbage() -> None:
    handle = names.encode_receipt(3, 12345, "token-0001")
    assert names.decode_receipt(handle) == names.Receipt(3, 12345, "token-0001")
    for bad in ("", "garbage!", "bm90LWEtaGFuZGxl", names.encode_receipt(3, 1, "x")[:-4]):
        assert names.decode_receipt(bad) is None


def test_batch_entry_ids() -> None:
    assert names.is_batch_entry_id("a-B_1")
    assert not names.is_batch_entry_id("")
    assert not names.is_batch_entry_id("x" * 81)
    assert not names.is_batch_entry_id("has space")
