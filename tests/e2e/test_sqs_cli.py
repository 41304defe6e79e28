"""The aws command line against headwater's SQS, as a user drives it.

The aws executable is the one installed next to the running Python (the test extra installs
awscli); the environment carries the server's endpoint and loopback credentials and isolates
the CLI from any config or credentials on the machine.

AWS quirk (aws CLI v1): for ``sqs`` the CLI replaces the endpoint with the region's legacy
``*.queue.amazonaws.com`` host unless ``--endpoint-url`` is given on the command line, so
``AWS_ENDPOINT_URL`` alone is ignored; the tests pass ``--endpoint-url`` as v1 users must.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from headwater.testing import RunningHeadwater, running_headwater

pytestmark = pytest.mark.e2e

AWS = Path(sys.executable).parent / "aws"


@pytest.fixture(scope="module")
def hw() -> Iterator[RunningHeadwater]:
    if not AWS.exists():
        pytest.skip(f"no aws executable at {AWS}")
    with running_headwater() as server:
        yield server


def aws(env: dict[str, str], *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(AWS), "sqs", *args, "--output", "json", "--endpoint-url", env["AWS_ENDPOINT_URL"]],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    if ok:
        assert result.returncode == 0, result.stderr
    return result


def out(result: subprocess.CompletedProcess[str]) -> Any:
    return json.loads(result.stdout) if result.stdout.strip() else {}


def test_queue_and_message_round_trip(env: dict[str, str], hw: RunningHeadwater) -> None:
    name = f"cli-{uuid.uuid4().hex[:8]}"
    url = out(
        aws(env, "create-queue", "--queue-name", name, "--attributes", "VisibilityTimeout=40")
    )["QueueUrl"]
    assert url == f"{hw.endpoint}/000000000000/{name}"
    assert url in out(aws(env, "list-queues", "--queue-name-prefix", name))["QueueUrls"]
    attrs = out(aws(env, "get-queue-attributes", "--queue-url", url, "--attribute-names", "All"))
    assert attrs["Attributes"]["VisibilityTimeout"] == "40"
    sent = out(
        aws(
            env,
            "send-message",
            "--queue-url",
            url,
            "--message-body",
            "hello from the cli",
            "--message-attributes",
            '{"kind": {"DataType": "String", "StringValue": "greeting"}}',
        )
    )
    assert sent["MD5OfMessageBody"]
    received = out(
        aws(
            env,
            "receive-message",
            "--queue-url",
            url,
            "--message-attribute-names",
            "All",
            "--attribute-names",
            "All",
            "--wait-time-seconds",
            "1",
        )
    )
    [message] = received["Messages"]
    assert message["Body"] == "hello from the cli"
    assert message["MessageAttributes"]["kind"]["StringValue"] == "greeting"
    assert message["MD5OfMessageAttributes"] == sent["MD5OfMessageAttributes"]
    aws(env, "delete-message", "--queue-url", url, "--receipt-handle", message["ReceiptHandle"])
    assert "Messages" not in out(aws(env, "receive-message", "--queue-url", url))
    aws(env, "delete-queue", "--queue-url", url)


def test_batch_tags_and_purge(env: dict[str, str]) -> None:
    url = out(aws(env, "create-queue", "--queue-name", f"cli-{uuid.uuid4().hex[:8]}"))["QueueUrl"]
    entries = json.dumps([{"Id": "a", "MessageBody": "1"}, {"Id": "b", "MessageBody": "2"}])
    batch = out(aws(env, "send-message-batch", "--queue-url", url, "--entries", entries))
    assert sorted(e["Id"] for e in batch["Successful"]) == ["a", "b"]
    aws(env, "tag-queue", "--queue-url", url, "--tags", "team=core")
    assert out(aws(env, "list-queue-tags", "--queue-url", url))["Tags"] == {"team": "core"}
    aws(env, "purge-queue", "--queue-url", url)
    counts = out(
        aws(
            env,
            "get-queue-attributes",
            "--queue-url",
            url,
            "--attribute-names",
            "ApproximateNumberOfMessages",
        )
    )
    assert counts["Attributes"]["ApproximateNumberOfMessages"] == "0"


def test_fifo_from_the_cli(env: dict[str, str]) -> None:
    url = out(
        aws(
            env,
            "create-queue",
            "--queue-name",
            f"cli-{uuid.uuid4().hex[:8]}.fifo",
            "--attributes",
            "FifoQueue=true,ContentBasedDeduplication=true",
        )
    )["QueueUrl"]
    sent = out(
        aws(
            env,
            "send-message",
            "--queue-url",
            url,
            "--message-body",
            "x",
            "--message-group-id",
            "g",
        )
    )
    assert sent["SequenceNumber"]


def test_errors_reach_the_cli_with_sqs_codes(env: dict[str, str]) -> None:
    result = aws(env, "get-queue-url", "--queue-name", "no-such-queue-here", ok=False)
    assert result.returncode != 0
    assert "AWS.SimpleQueueService.NonExistentQueue" in result.stderr
    assert "The specified queue does not exist." in result.stderr
