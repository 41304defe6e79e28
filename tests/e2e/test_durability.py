"""Every acknowledged write survives ``kill -9``; SIGTERM shuts down cleanly.

Runs ``python -m headwater serve`` as users do, in a subprocess with its own data directory,
and talks to it with boto3.  A message counts as acknowledged once ``SendMessage`` (or its
entry of ``SendMessageBatch``) returned success, an object once ``PutObject`` did; the server
is then killed with SIGKILL while a sender is still sending, restarted on the same data
directory, and every acknowledged message must be received again, every acknowledged object
read back whole.
"""

from __future__ import annotations

import random
import threading
import time
from typing import Any

import pytest
from botocore.exceptions import BotoCoreError, ClientError
from served import Served, start

pytestmark = pytest.mark.e2e

BODY_SIZE = 256


def body(n: int) -> str:
    return f"message-{n:06d}-".ljust(BODY_SIZE, "x")


class Sender(threading.Thread):
    """Sends messages, single and batched, until told to stop or the server goes away."""

    def __init__(self, client: Any, queue_url: str) -> None:
        super().__init__(daemon=True)
        self.client = client
        self.queue_url = queue_url
        self.acked: dict[str, str] = {}  # body -> MessageId
        self.stop = threading.Event()
        self.error: BaseException | None = None
        self._n = 0

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                if self._n % 3 == 0:
                    self._single()
                else:
                    self._batch()
        except (BotoCoreError, ClientError) as exc:  # the server died under us: expected
            self.error = exc

    def _single(self) -> None:
        text = body(self._n)
        self._n += 1
        reply = self.client.send_message(QueueUrl=self.queue_url, MessageBody=text)
        self.acked[text] = reply["MessageId"]

    def _batch(self) -> None:
        texts = [body(self._n + i) for i in range(10)]
        self._n += 10
        reply = self.client.send_message_batch(
            QueueUrl=self.queue_url,
            Entries=[{"Id": str(i), "MessageBody": t} for i, t in enumerate(texts)],
        )
        for entry in reply.get("Successful", []):
            self.acked[texts[int(entry["Id"])]] = entry["MessageId"]


def drain(client: Any, queue_url: str, expected: int, timeout: float = 60) -> dict[str, str]:
    """Receive and delete until ``expected`` distinct messages were seen (or nothing is left)."""
    seen: dict[str, str] = {}
    deadline = time.monotonic() + timeout
    while len(seen) < expected and time.monotonic() < deadline:
        reply = client.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=300, WaitTimeSeconds=1
        )
        messages = reply.get("Messages", [])
        if not messages:
            break
        for message in messages:
            seen[message["Body"]] = message["MessageId"]
        deleted = client.delete_message_batch(
            QueueUrl=queue_url,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
        )
        assert not deleted.get("Failed"), deleted
    return seen


def kill_mid_write(served: Served, writer: Sender | S3Writer, at_least: int) -> dict[str, str]:
    """Start ``writer``, SIGKILL ``served`` once ``at_least`` writes were acknowledged (the
    writer still writing), and return what was acknowledged: what must survive."""
    writer.start()
    deadline = time.monotonic() + 60
    while len(writer.acked) < at_least and writer.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert writer.error is None, writer.error
    served.kill()
    writer.stop.set()
    writer.join(timeout=30)
    acked = dict(writer.acked)
    assert len(acked) >= at_least
    return acked


def test_acknowledged_messages_survive_kill_9(servers, tmp_path):
    data_dir = tmp_path / "data"
    first = start(servers, data_dir)
    client = first.client("sqs")
    client.create_queue(QueueName="durable")
    sender = Sender(client, client.get_queue_url(QueueName="durable")["QueueUrl"])
    acked = kill_mid_write(first, sender, at_least=400)

    second = start(servers, data_dir)
    client = second.client("sqs")
    queue_url = client.get_queue_url(QueueName="durable")["QueueUrl"]
    # Messages the dying server stored but never acknowledged may come back too; none of the
    # acknowledged ones may be missing.
    seen = drain(client, queue_url, expected=len(acked) + 11)
    missing = set(acked) - set(seen)
    assert not missing, f"{len(missing)} acknowledged messages lost, e.g. {sorted(missing)[:3]}"
    assert all(seen[text] == message_id for text, message_id in acked.items())

    # Deletes are writes too: after another kill -9 nothing deleted comes back.
    second.kill()
    third = start(servers, data_dir)
    client = third.client("sqs")
    queue_url = client.get_queue_url(QueueName="durable")["QueueUrl"]
    assert client.receive_message(QueueUrl=queue_url, WaitTimeSeconds=0).get("Messages", []) == []


def object_bytes(key: str) -> bytes:
    """The bytes the S3 writer stores under ``key``: sizes from inline (kept in the database)
    through a cached file to blobs past a block (written around the page cache)."""
    size = (1_000, 100_000, 2 * 1024 * 1024 + 12_345)[int(key.rsplit("-", 1)[1]) % 3]
    return random.Random(key).randbytes(size)


class S3Writer(threading.Thread):
    """Puts objects (and overwrites a few) until told to stop or the server goes away."""

    def __init__(self, client: Any, bucket: str) -> None:
        super().__init__(daemon=True)
        self.client = client
        self.bucket = bucket
        self.acked: dict[str, str] = {}  # key -> ETag
        self.stop = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        n = 0
        try:
            while not self.stop.is_set():
                key = f"obj-{n:05d}"
                reply = self.client.put_object(Bucket=self.bucket, Key=key, Body=object_bytes(key))
                self.acked[key] = reply["ETag"]
                n += 1
        except (BotoCoreError, ClientError) as exc:  # the server died under us: expected
            self.error = exc


def test_acknowledged_objects_survive_kill_9(servers, tmp_path):
    data_dir = tmp_path / "data"
    first = start(servers, data_dir)
    client = first.client("s3")
    client.create_bucket(Bucket="durable")
    # A completed multipart upload (parts are blobs of their own) before the writes start.
    parts = [random.Random(i).randbytes(5 * 1024 * 1024 + i) for i in range(2)]
    upload = client.create_multipart_upload(Bucket="durable", Key="multipart")["UploadId"]
    etags = [client.upload_part(Bucket="durable", Key="multipart", UploadId=upload,
                                PartNumber=i + 1, Body=part)["ETag"] for i, part in enumerate(parts)]
    client.complete_multipart_upload(Bucket="durable", Key="multipart", UploadId=upload,
                                     MultipartUpload={"Parts": [
                                         {"PartNumber": i + 1, "ETag": e} for i, e in enumerate(etags)]})
    acked = kill_mid_write(first, S3Writer(client, "durable"), at_least=30)

    second = start(servers, data_dir)
    client = second.client("s3")
    for key, etag in acked.items():
        got = client.get_object(Bucket="durable", Key=key, ChecksumMode="ENABLED")
        assert got["ETag"] == etag and got["Body"].read() == object_bytes(key), key
    # The put the kill cut short is absent or whole, never partial.
    listed = {o["Key"]: o["Size"] for o in client.list_objects_v2(Bucket="durable")["Contents"]}
    for key, size in listed.items():
        if key not in acked and key != "multipart":
            assert size == len(object_bytes(key))
            assert client.get_object(Bucket="durable", Key=key)["Body"].read() == object_bytes(key)
    assert client.get_object(Bucket="durable", Key="multipart")["Body"].read() == b"".join(parts)
    assert client.head_object(Bucket="durable", Key="multipart")["ETag"].endswith('-2"')


def test_serve_prints_endpoint_and_credentials(servers, tmp_path):
    served = start(servers, tmp_path / "data")
    out = served.stdout
    assert f"listening on {served.endpoint}" in out
    assert f"export AWS_ENDPOINT_URL={served.endpoint}" in out
    assert "export AWS_ACCESS_KEY_ID=test" in out
    assert "export AWS_SECRET_ACCESS_KEY=test" in out
    assert str((tmp_path / "data").resolve()) in out


def test_sigterm_stops_cleanly_and_closes_the_store(servers, tmp_path):
    data_dir = tmp_path / "data"
    first = start(servers, data_dir)
    client = first.client("sqs")
    queue_url = client.create_queue(QueueName="graceful")["QueueUrl"]
    client.send_message(QueueUrl=queue_url, MessageBody="kept across a clean restart")

    assert first.terminate() == 0, first.stderr
    assert "Traceback" not in first.stderr
    # Closing the last connection checkpoints the WAL into the database file and removes it.
    wal = data_dir / "headwater.db-wal"
    assert not wal.exists() or wal.stat().st_size == 0

    second = start(servers, data_dir)
    client = second.client("sqs")
    queue_url = client.get_queue_url(QueueName="graceful")["QueueUrl"]
    messages = client.receive_message(QueueUrl=queue_url, WaitTimeSeconds=1)["Messages"]
    assert [m["Body"] for m in messages] == ["kept across a clean restart"]


def test_sigterm_during_a_long_poll_exits_promptly(servers, tmp_path):
    served = start(servers, tmp_path / "data")
    client = served.client("sqs")
    queue_url = client.create_queue(QueueName="waiting")["QueueUrl"]
    replies: list[Any] = []
    poller = threading.Thread(
        target=lambda: replies.append(client.receive_message(QueueUrl=queue_url, WaitTimeSeconds=20)),
        daemon=True,
    )
    poller.start()
    time.sleep(0.5)  # the receive is parked on the server
    began = time.monotonic()
    assert served.terminate() == 0, served.stderr
    # The long poll is answered (empty) at shutdown rather than holding it for 20 s.
    assert time.monotonic() - began < 10
    poller.join(timeout=10)
    assert replies and replies[0].get("Messages", []) == []
