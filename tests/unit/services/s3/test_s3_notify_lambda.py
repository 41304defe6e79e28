"""S3 notifications to Lambda functions: destination checks (the function must exist and let
s3.amazonaws.com invoke it), no test event, the event JSON queued as an asynchronous invocation,
event and key filters, what happens without Lambda; and the overlap rules of every kind of
destination."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest
from s3_helpers import put

from headwater.core.errors import ServiceError
from headwater.services.s3.model import S3, Bucket
from headwater.services.s3.notifications import Notifier, check_overlaps

FN = "arn:aws:lambda:us-east-1:000000000000:function:thumbs"
QUEUE = "arn:aws:sqs:us-east-1:000000000000:events"


@dataclass
class FakeLambda:
    """The two calls S3 makes on the Lambda facade; ``grants`` maps a function ARN to the
    (principal, source ARN, source account) its policy allows."""

    grants: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    invoked: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def service_may_invoke(
        self, function_arn: str, service: str, *, source_arn: str, source_account: str
    ) -> bool:
        return self.grants.get(function_arn) == (service, source_arn, source_account)

    def invoke_event(self, function: str, payload: bytes) -> str:
        if function not in self.grants:
            raise ServiceError("ResourceNotFoundException", "Function not found", 404)
        self.invoked.append((function, orjson.loads(payload)))
        return "request-id"


@dataclass
class FakeSqs:
    """The calls S3 makes on the SQS facade; only ``QUEUE`` exists and lets this bucket send."""

    sent: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def service_may_send(
        self, queue: str, service: str, *, source_arn: str, source_account: str
    ) -> bool:
        return (queue, service, source_arn, source_account) == (
            QUEUE, "s3.amazonaws.com", "arn:aws:s3:::bucket", "000000000000")

    def queue(self, queue: str) -> str:
        if queue != QUEUE:
            raise ServiceError("AWS.SimpleQueueService.NonExistentQueue", "no such queue", 400)
        return queue

    def send_message(self, queue: str, body: str) -> dict[str, Any]:
        self.sent.append((queue, orjson.loads(body)))
        return {}


@pytest.fixture
def lambda_() -> FakeLambda:
    return FakeLambda({FN: ("s3.amazonaws.com", "arn:aws:s3:::bucket", "000000000000")})


@pytest.fixture
def sqs() -> FakeSqs:
    return FakeSqs()


@pytest.fixture
def notifier(lambda_: FakeLambda, sqs: FakeSqs) -> Notifier:
    return Notifier({"lambda": lambda_, "sqs": sqs}, "us-east-1", "000000000000")


def function_config(*events: str, prefix: str = "", suffix: str = "",
                    arn: str = FN, config_id: str = "thumbs") -> dict[str, Any]:
    rules = [{"Name": n, "Value": v} for n, v in (("prefix", prefix), ("suffix", suffix)) if v]
    config: dict[str, Any] = {"Id": config_id, "LambdaFunctionArn": arn,
                              "Events": list(events) or ["s3:ObjectCreated:*"]}
    if rules:
        config["Filter"] = {"Key": {"FilterRules": rules}}
    return config


def configure(s3: S3, bucket: Bucket, notifier: Notifier, *functions: dict[str, Any],
              queues: tuple[dict[str, Any], ...] = ()) -> Bucket:
    config: dict[str, Any] = {"LambdaFunctionConfigurations": list(functions)}
    if queues:
        config["QueueConfigurations"] = list(queues)
    notifier.check(bucket, config, "req-1", s3.clock.now())
    s3.set_config(bucket, "notification", config)
    return s3.bucket(bucket.name)


def emit(s3: S3, bucket: Bucket, notifier: Notifier, event: str, key: str,
         data: bytes = b"data") -> None:
    version = put(s3, bucket, key, data).version if event.startswith("ObjectCreated") else None
    notifier.emit(bucket, event, key, version, request_id="req-2", now=s3.clock.now(),
                  principal="AWS:test")


def test_an_allowed_function_is_accepted_and_gets_no_test_event(
    s3: S3, bucket: Bucket, notifier: Notifier, lambda_: FakeLambda, sqs: FakeSqs
) -> None:
    configure(s3, bucket, notifier, function_config())
    assert lambda_.invoked == [] and sqs.sent == []


def test_a_function_without_permission_or_existence_is_refused(
    s3: S3, bucket: Bucket, notifier: Notifier
) -> None:
    other = "arn:aws:lambda:us-east-1:000000000000:function:other"
    with pytest.raises(ServiceError) as caught:
        notifier.check(bucket, {
            "QueueConfigurations": [{"QueueArn": QUEUE + "-gone",
                                     "Events": ["s3:ObjectCreated:*"]}],
            "LambdaFunctionConfigurations": [function_config(), function_config(arn=other)],
        }, "req", s3.clock.now())
    error = caught.value
    assert (error.code, error.status) == ("InvalidArgument", 400)
    assert error.message == "Unable to validate the following destination configurations"
    # Every failed destination is listed, numbered; the function that may be invoked is not.
    assert error.fields == {
        "ArgumentName1": QUEUE + "-gone",
        "ArgumentValue1": "The destination queue does not exist",
        "ArgumentName2": f"{other}, null",
        "ArgumentValue2": f"Not authorized to invoke function [{other}]",
    }


def test_a_grant_for_another_bucket_does_not_count(s3: S3, notifier: Notifier) -> None:
    elsewhere = s3.create_bucket("elsewhere", "000000000000", "us-east-1", {})
    with pytest.raises(ServiceError):
        configure(s3, elsewhere, notifier, function_config())


def test_without_lambda_a_function_destination_is_refused(
    s3: S3, bucket: Bucket, sqs: FakeSqs
) -> None:
    notifier = Notifier({"sqs": sqs}, "us-east-1", "000000000000")
    with pytest.raises(ServiceError) as caught:
        configure(s3, bucket, notifier, function_config())
    assert caught.value.fields["ArgumentName1"] == f"{FN}, null"


def test_a_put_invokes_the_function_with_the_event_json(
    s3: S3, bucket: Bucket, notifier: Notifier, lambda_: FakeLambda
) -> None:
    bucket = configure(s3, bucket, notifier, function_config())
    emit(s3, bucket, notifier, "ObjectCreated:Put", "in/a b.jpg", b"12345")
    [(arn, event)] = lambda_.invoked
    assert arn == FN
    [record] = event["Records"]
    assert record["eventSource"] == "aws:s3"
    assert record["eventName"] == "ObjectCreated:Put"
    assert record["s3"]["configurationId"] == "thumbs"
    assert record["s3"]["bucket"]["arn"] == "arn:aws:s3:::bucket"
    assert record["s3"]["object"]["key"] == "in/a+b.jpg"
    assert record["s3"]["object"]["size"] == 5
    assert record["s3"]["object"]["sequencer"]
    assert record["userIdentity"] == {"principalId": "AWS:test"}


def test_prefix_suffix_and_event_filters(
    s3: S3, bucket: Bucket, notifier: Notifier, lambda_: FakeLambda
) -> None:
    bucket = configure(s3, bucket, notifier,
                       function_config("s3:ObjectCreated:Put", prefix="images/", suffix=".png"))
    emit(s3, bucket, notifier, "ObjectCreated:Put", "images/cat.png")
    emit(s3, bucket, notifier, "ObjectCreated:Put", "images/cat.txt")
    emit(s3, bucket, notifier, "ObjectCreated:Put", "docs/cat.png")
    emit(s3, bucket, notifier, "ObjectCreated:Copy", "images/copy.png")
    emit(s3, bucket, notifier, "ObjectRemoved:Delete", "images/cat.png")
    keys = [event["Records"][0]["s3"]["object"]["key"] for _, event in lambda_.invoked]
    assert keys == ["images/cat.png"]


@pytest.mark.parametrize("event", [
    "ObjectRemoved:Delete", "ObjectRemoved:DeleteMarkerCreated", "ObjectRestore:Post",
    "ObjectRestore:Completed", "LifecycleTransition", "LifecycleExpiration:Delete",
])
def test_every_event_family_reaches_a_function(
    s3: S3, bucket: Bucket, notifier: Notifier, lambda_: FakeLambda, event: str
) -> None:
    family = event.split(":")[0]
    pattern = f"s3:{family}:*" if ":" in event else f"s3:{event}"
    bucket = configure(s3, bucket, notifier, function_config(pattern))
    emit(s3, bucket, notifier, event, "key")
    [(_, delivered)] = lambda_.invoked
    assert delivered["Records"][0]["eventName"] == event


def test_queue_and_function_each_get_their_events(
    s3: S3, bucket: Bucket, notifier: Notifier, lambda_: FakeLambda, sqs: FakeSqs
) -> None:
    # Disjoint suffixes: S3 refuses configurations one event could match both of.
    bucket = configure(s3, bucket, notifier, function_config(suffix=".jpg"),
                       queues=({"Id": "q", "QueueArn": QUEUE, "Events": ["s3:ObjectCreated:*"],
                                "Filter": {"Key": {"FilterRules": [
                                    {"Name": "suffix", "Value": ".txt"}]}}},))
    sqs.sent.clear()  # the queue's s3:TestEvent
    emit(s3, bucket, notifier, "ObjectCreated:Put", "a.jpg")
    emit(s3, bucket, notifier, "ObjectCreated:Put", "b.txt")
    [(_, to_function)] = lambda_.invoked
    [(_, to_queue)] = sqs.sent
    function_record, queue_record = to_function["Records"][0], to_queue["Records"][0]
    assert (function_record["s3"]["configurationId"], function_record["s3"]["object"]["key"]) == (
        "thumbs", "a.jpg")
    assert (queue_record["s3"]["configurationId"], queue_record["s3"]["object"]["key"]) == (
        "q", "b.txt")


def _filtered(events: list[str], prefix: str = "", suffix: str = "") -> dict[str, Any]:
    rules = [{"Name": n, "Value": v} for n, v in (("prefix", prefix), ("suffix", suffix)) if v]
    entry: dict[str, Any] = {"QueueArn": QUEUE, "Events": events}
    if rules:
        entry["Filter"] = {"Key": {"FilterRules": rules}}
    return entry


@pytest.mark.parametrize(("first", "second"), [
    (_filtered(["s3:ObjectCreated:*"]), _filtered(["s3:ObjectRemoved:*"])),
    (_filtered(["s3:ObjectCreated:Put"]), _filtered(["s3:ObjectCreated:Copy"])),
    (_filtered(["s3:ObjectCreated:*"], prefix="a/"), _filtered(["s3:ObjectCreated:*"], prefix="b/")),
    (_filtered(["s3:ObjectCreated:*"], suffix=".jpg"), _filtered(["s3:ObjectCreated:*"], suffix=".png")),
    (_filtered(["s3:ObjectCreated:*"], prefix="a/", suffix=".jpg"),
     _filtered(["s3:ObjectCreated:*"], prefix="a/b/", suffix=".png")),
])
def test_configurations_no_event_can_match_twice_are_accepted(
    first: dict[str, Any], second: dict[str, Any]
) -> None:
    check_overlaps({"QueueConfigurations": [first], "LambdaFunctionConfigurations": [
        {**second, "LambdaFunctionArn": FN}]})


def test_unfiltered_configurations_sharing_an_event_type_overlap() -> None:
    with pytest.raises(ServiceError) as caught:
        check_overlaps({"QueueConfigurations": [_filtered(["s3:ObjectCreated:*"])],
                        "LambdaFunctionConfigurations": [
                            {"LambdaFunctionArn": FN, "Events": ["s3:ObjectCreated:Put"]}]})
    assert (caught.value.code, caught.value.status) == ("InvalidArgument", 400)
    assert caught.value.message.startswith("Configurations overlap.")
    assert caught.value.fields == {"ArgumentName": "Event",
                                   "ArgumentValue": "s3:ObjectCreated:*, s3:ObjectCreated:Put"}


@pytest.mark.parametrize(("first", "second"), [
    (_filtered(["s3:ObjectCreated:*"], prefix="a/"), _filtered(["s3:ObjectCreated:Put"])),
    (_filtered(["s3:ObjectCreated:*"], prefix="a/"), _filtered(["s3:ObjectCreated:*"], prefix="a/b")),
    (_filtered(["s3:ObjectRemoved:*"], suffix=".jpg"),
     _filtered(["s3:ObjectRemoved:Delete"], prefix="x", suffix="a.jpg")),
])
def test_filtered_configurations_an_event_could_match_both_of_are_ambiguous(
    first: dict[str, Any], second: dict[str, Any]
) -> None:
    with pytest.raises(ServiceError) as caught:
        check_overlaps({"QueueConfigurations": [first, second]})
    assert caught.value.code == "InvalidArgument"
    assert caught.value.message.startswith("Configuration is ambiguously defined.")


def test_a_revoked_permission_or_deleted_function_drops_the_event(
    s3: S3, bucket: Bucket, notifier: Notifier, lambda_: FakeLambda
) -> None:
    bucket = configure(s3, bucket, notifier, function_config())
    lambda_.grants.clear()
    emit(s3, bucket, notifier, "ObjectCreated:Put", "k")  # no exception reaches the PUT
    assert lambda_.invoked == []


def test_a_stored_function_destination_without_lambda_is_skipped(
    s3: S3, bucket: Bucket, sqs: FakeSqs
) -> None:
    notifier = Notifier({"sqs": sqs}, "us-east-1", "000000000000")
    s3.set_config(bucket, "notification", {"LambdaFunctionConfigurations": [function_config()]})
    emit(s3, s3.bucket(bucket.name), notifier, "ObjectCreated:Put", "k")
    assert sqs.sent == []
