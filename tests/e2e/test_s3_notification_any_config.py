"""Any notification configuration S3 takes delivers exactly the events it asks for.

Hypothesis builds queue configurations (any set of the model's event types, prefix and
suffix rules of any text, with or without an Id) and keys of any text; each configuration
PutBucketNotificationConfiguration keeps is followed by puts, copies, tagging and deletes of
those keys.  Every message the queue then holds must be JSON; every record must name an event
and a key that one of the configurations matches; every write a configuration matches must
have its record; and the server must log no failure on the way.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote_plus

import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from test_gateway_fuzz import _Failures
from test_s3_notifications import allow_s3, drain, new_queue

from headwater.protocol.specs import get_spec
from headwater.testing import RunningHeadwater

pytestmark = pytest.mark.e2e

EVENTS = sorted(get_spec("s3").model.shape_for("Event").enum)
keys = st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"),
               min_size=1, max_size=20) | st.sampled_from(["in/a.csv", "in/b b.txt", "out/c.csv"])
rules = st.lists(st.fixed_dictionaries({
    "Name": st.sampled_from(["prefix", "suffix", "Prefix", "Suffix"]),
    "Value": st.sampled_from(["in/", ".csv", "", "ü"]) | st.text(max_size=4),
}), max_size=2)
queue_configs = st.lists(st.fixed_dictionaries(
    {"Events": st.lists(st.sampled_from(EVENTS), min_size=1, max_size=3, unique=True)},
    optional={"Id": st.sampled_from(["a", "b"]), "Filter": rules.map(
        lambda found: {"Key": {"FilterRules": found}})},
), min_size=1, max_size=2)


@pytest.fixture(scope="module")
def failures() -> Iterator[_Failures]:
    handler = _Failures()
    logger = logging.getLogger("headwater")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


@pytest.fixture(scope="module")
def setup(hw: RunningHeadwater) -> dict[str, Any]:
    s3, sqs = hw.client("s3"), hw.client("sqs")
    bucket = f"any-config-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    url, arn = new_queue(sqs)
    allow_s3(sqs, url, arn, bucket)
    return {"s3": s3, "sqs": sqs, "bucket": bucket, "url": url, "arn": arn}


def _matches(config: dict[str, Any], event: str, key: str) -> bool:
    """Whether ``config`` asks for ``event`` (``s3:...``) on ``key``, by S3's documented rules:
    an event type or its ``*`` family, and the key's prefix and suffix."""
    if not any(wanted == event or (wanted.endswith("*") and event.startswith(wanted[:-1]))
               for wanted in config["Events"]):
        return False
    for rule in (config.get("Filter") or {}).get("Key", {}).get("FilterRules", []):
        name, value = rule["Name"].lower(), rule["Value"]
        if (name == "prefix" and not key.startswith(value)) or (
                name == "suffix" and not key.endswith(value)):
            return False
    return True


EXAMPLES = int(os.environ.get("HEADWATER_NOTIFY_FUZZ_EXAMPLES", "25"))


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(configs=queue_configs, written=st.lists(keys, min_size=1, max_size=3, unique=True))
def test_any_kept_configuration_delivers_what_it_asks_for(
    setup: dict[str, Any], failures: _Failures, configs: list[dict[str, Any]], written: list[str]
) -> None:
    delivered = _deliveries(setup, failures, configs, written)
    event("refused" if delivered is None else "kept")


def test_a_plain_configuration_is_kept_and_delivers(setup: dict[str, Any],
                                                    failures: _Failures) -> None:
    # The property above passes for any configuration refused; this one must be kept and
    # deliver what it asks for (the CSV's creations, not the text file's or the deletes).
    delivered = _deliveries(setup, failures, [{
        "Events": ["s3:ObjectCreated:*"],
        "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "in/"},
                                           {"Name": "suffix", "Value": ".csv"}]}}}],
        ["in/a.csv", "in/b b.txt"])
    assert sorted(delivered or []) == [("s3:ObjectCreated:Copy", "in/a.csv"),
                                       ("s3:ObjectCreated:Put", "in/a.csv")]


def _deliveries(setup: dict[str, Any], failures: _Failures, configs: list[dict[str, Any]],
                written: list[str]) -> list[tuple[str, str]] | None:
    """The (event, key) records ``configs`` delivered for writes of ``written``, checked
    against what they ask for; None when the configuration was refused."""
    s3, sqs, bucket, url = setup["s3"], setup["sqs"], setup["bucket"], setup["url"]
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={})
    drain(sqs, url)
    before = len(failures.records)
    configs = [{**config, "QueueArn": setup["arn"]} for config in configs]
    try:
        s3.put_bucket_notification_configuration(
            Bucket=bucket, NotificationConfiguration={"QueueConfigurations": configs})
    except ClientError as refused:
        assert refused.response["ResponseMetadata"]["HTTPStatusCode"] == 400
        return None
    done: list[tuple[str, str]] = []
    for key in written:
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
        done.append(("s3:ObjectCreated:Put", key))
        s3.copy_object(Bucket=bucket, Key=key, CopySource={"Bucket": bucket, "Key": key},
                       MetadataDirective="REPLACE")
        done.append(("s3:ObjectCreated:Copy", key))
        s3.put_object_tagging(Bucket=bucket, Key=key, Tagging={"TagSet": [
            {"Key": "k", "Value": "v"}]})
        done.append(("s3:ObjectTagging:Put", key))
        s3.delete_object(Bucket=bucket, Key=key)
        done.append(("s3:ObjectRemoved:Delete", key))
    bodies = drain(sqs, url)
    assert not failures.records[before:], [r.getMessage() for r in failures.records[before:]]
    delivered = []
    for body in bodies:
        if body.get("Event") == "s3:TestEvent":
            continue
        for record in body["Records"]:
            name = "s3:" + record["eventName"]
            key = unquote_plus(record["s3"]["object"]["key"])
            assert any(_matches(config, name, key) for config in configs), (name, key)
            delivered.append((name, key))
    wanted = [(name, key) for name, key in done
              if any(_matches(config, name, key) for config in configs)]
    assert sorted(delivered) == sorted(wanted)
    return delivered
