"""Id factories and ARNs."""

import uuid

from headwater.core.ids import RandomIds, SequentialIds, arn, parse_arn


def test_sequential_ids_are_deterministic_and_distinct():
    a, b = SequentialIds(), SequentialIds()
    assert [a.uuid(), a.uuid()] == [b.uuid(), b.uuid()]
    assert a.uuid() != a.uuid()


def test_random_ids_look_like_uuids():
    value = RandomIds().uuid()
    assert len(value) == 36 and value.count("-") == 4


def test_random_ids_are_version_4_uuids_in_canonical_form():
    ids = RandomIds()
    values = [ids.uuid() for _ in range(200)]
    assert len(set(values)) == len(values)
    for value in values:
        parsed = uuid.UUID(value)
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122
        assert str(parsed) == value


def test_arn_round_trip():
    value = arn("sqs", "us-east-1", "000000000000", "jobs")
    assert value == "arn:aws:sqs:us-east-1:000000000000:jobs"
    assert parse_arn(value) == ("aws", "sqs", "us-east-1", "000000000000", "jobs")
    assert parse_arn("not-an-arn") is None
