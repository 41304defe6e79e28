"""SQS throughput and long-poll wake-up: headwater against ministack and moto, in one run.

Each server runs as its own process on a loopback port and is driven by one boto3 client from
this process, with 1 KiB messages:

- single   SendMessage, then ReceiveMessage (1 message) + DeleteMessage, message by message;
- batch    SendMessageBatch of 10, then ReceiveMessage (MaxNumberOfMessages=10) +
           DeleteMessageBatch until the queue is empty;
- wake-up  a consumer process blocked in ReceiveMessage(WaitTimeSeconds=20) while this
           process sends one message; the time from the start of the send to the return of
           the receive.

Throughput is messages per second, where a message counts once it has been sent, received
and deleted.  The peers run from their own virtualenv (``benchmarks/.peers-venv``, created on
first use from ``benchmarks/requirements.txt``, or ``--peers-python``), started exactly as
shared/design/PEERS.md says: loopback only, ministack without its MQTT and SFTP listeners.
moto is far slower, so it gets fewer messages, and its long poll is not measured (its
ReceiveMessage does not wake on a send).

Targets: headwater >= 1.2x ministack on batched send+receive+delete; wake-up p99 < 10 ms.

    python benchmarks/bench_sqs.py [--messages 2000] [--moto-messages 200] [--samples 200]
                                   [--servers headwater,ministack,moto] [--peers-python PATH]

Prints a table and writes benchmarks/results/bench_sqs.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from servers import HERE, SERVERS, Server, machine, make_server, peers_python, ratio

RESULTS = HERE / "results" / "bench_sqs.json"
BODY = ("0123456789abcdef" * 64)[:1024]  # 1 KiB


# -- the scenarios (servers are started by servers.py, as every benchmark starts them) -------


def sqs_client(endpoint: str) -> Any:
    return boto3.client(
        "sqs",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1}, read_timeout=60, max_pool_connections=4),
    )


# -- the scenarios ---------------------------------------------------------------------------


def new_queue(client: Any) -> str:
    name = f"bench-{uuid.uuid4().hex[:12]}"
    return str(client.create_queue(QueueName=name)["QueueUrl"])


def single(client: Any, messages: int) -> dict[str, float]:
    url = new_queue(client)
    start = time.perf_counter()
    for _ in range(messages):
        client.send_message(QueueUrl=url, MessageBody=BODY)
    sent = time.perf_counter()
    done = 0
    while done < messages:
        reply = client.receive_message(QueueUrl=url, MaxNumberOfMessages=1, WaitTimeSeconds=1)
        for message in reply.get("Messages", []):
            client.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            done += 1
    end = time.perf_counter()
    return {
        "messages": messages,
        "msg_per_s": messages / (end - start),
        "send_per_s": messages / (sent - start),
        "receive_delete_per_s": messages / (end - sent),
    }


def batch(client: Any, messages: int) -> dict[str, float]:
    url = new_queue(client)
    entries = [{"Id": str(i), "MessageBody": BODY} for i in range(10)]
    start = time.perf_counter()
    for _ in range(messages // 10):
        reply = client.send_message_batch(QueueUrl=url, Entries=entries)
        assert not reply.get("Failed"), reply
    sent = time.perf_counter()
    done = 0
    while done < messages:
        reply = client.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        received = reply.get("Messages", [])
        if not received:
            continue
        deleted = client.delete_message_batch(
            QueueUrl=url,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                     for i, m in enumerate(received)],
        )
        assert not deleted.get("Failed"), deleted
        done += len(received)
    end = time.perf_counter()
    total = (messages // 10) * 10
    return {
        "messages": total,
        "msg_per_s": total / (end - start),
        "send_per_s": total / (sent - start),
        "receive_delete_per_s": total / (end - sent),
    }


def _receiver(endpoint: str, url: str, requests: Any, replies: Any) -> None:
    """The consumer, in its own process: on each request, one 20 s long poll; replies with the
    monotonic time the receive returned and the message's receipt handle."""
    receiver = sqs_client(endpoint)
    while requests.recv():
        reply = receiver.receive_message(QueueUrl=url, WaitTimeSeconds=20)
        returned = time.perf_counter()
        messages = reply.get("Messages", [])
        replies.send((returned, messages[0]["ReceiptHandle"] if messages else None))


def wake_latency(endpoint: str, samples: int, park: float = 0.03) -> dict[str, float]:
    """Send-start to receive-return, with a receiver already parked in a 20 s long poll.

    The receiver runs in a separate process, as a consumer does.  In a thread of this process
    it would wait for the GIL while this thread parses the send's response, and CPython hands
    the GIL over only every 5 ms (``sys.getswitchinterval``): the figure would measure the
    interpreter's switch interval, not the server.  ``time.perf_counter`` is CLOCK_MONOTONIC on
    Linux, so the two processes' readings compare directly.
    """
    import multiprocessing

    sender = sqs_client(endpoint)
    url = new_queue(sender)
    context = multiprocessing.get_context("spawn")
    requests, their_requests = context.Pipe()
    their_replies, replies = context.Pipe()
    process = context.Process(
        target=_receiver, args=(endpoint, url, their_requests, their_replies), daemon=True
    )
    process.start()
    latencies: list[float] = []
    try:
        for _ in range(samples + 5):  # the first few warm the connections
            requests.send(True)
            time.sleep(park)  # let the receive reach the server and park
            began = time.perf_counter()
            sender.send_message(QueueUrl=url, MessageBody=BODY)
            if not replies.poll(30):
                raise RuntimeError("the long poll did not return")
            returned, handle = replies.recv()
            if handle is None:
                raise RuntimeError("the long poll returned without the message")
            sender.delete_message(QueueUrl=url, ReceiptHandle=handle)
            latencies.append(returned - began)
    finally:
        requests.send(False)
        process.join(timeout=30)
    latencies = sorted(latencies[5:])
    return {
        "samples": len(latencies),
        "p50_ms": 1000 * statistics.median(latencies),
        "p99_ms": 1000 * latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))],
        "max_ms": 1000 * latencies[-1],
    }


@dataclass
class Plan:
    messages: int
    batch_messages: int
    samples: int
    long_poll: bool
    results: dict[str, Any] = field(default_factory=dict)


def run_server(server: Server, plan: Plan) -> dict[str, Any]:
    server.start()
    try:
        client = sqs_client(server.endpoint)
        warm = new_queue(client)
        for _ in range(20):  # connections, first-request imports, statement caches
            client.send_message(QueueUrl=warm, MessageBody=BODY)
        out: dict[str, Any] = {}
        for name, scenario in (("single", single), ("batch", batch)):
            count = plan.messages if name == "single" else plan.batch_messages
            print(f"  {server.name}: {name} ({count} messages) ...", flush=True)
            out[name] = scenario(client, count)
        if plan.long_poll:
            print(f"  {server.name}: long-poll wake-up ({plan.samples} samples) ...", flush=True)
            out["wake"] = wake_latency(server.endpoint, plan.samples)
        return out
    finally:
        server.stop()


# -- reporting -------------------------------------------------------------------------------


def report(results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    hw = results.get("headwater", {})
    ratios: dict[str, Any] = {}
    for peer in ("ministack", "moto"):
        other = results.get(peer)
        if not other or not hw:
            continue
        ratios[f"headwater/{peer}"] = {
            name: ratio(hw.get(name, {}).get("msg_per_s"), other.get(name, {}).get("msg_per_s"))
            for name in ("single", "batch")
        }

    def cell(server: str, scenario: str, key: str, fmt: str) -> str:
        value = results.get(server, {}).get(scenario, {}).get(key)
        return format(value, fmt) if value is not None else "-"

    names = [s for s in SERVERS if s in results]
    rows = [
        ("single send+receive+delete (msg/s)", "single", "msg_per_s", ",.0f"),
        ("batch-10 send+receive+delete (msg/s)", "batch", "msg_per_s", ",.0f"),
        ("long-poll wake p50 (ms)", "wake", "p50_ms", ".2f"),
        ("long-poll wake p99 (ms)", "wake", "p99_ms", ".2f"),
    ]
    width = max(len(r[0]) for r in rows)
    print()
    print(f"{'':<{width}}  " + "  ".join(f"{n:>12}" for n in names))
    for label, scenario, key, fmt in rows:
        print(f"{label:<{width}}  " + "  ".join(f"{cell(n, scenario, key, fmt):>12}" for n in names))
    for pair, values in ratios.items():
        shown = ", ".join(f"{k} {v:.2f}x" for k, v in values.items() if v is not None)
        print(f"{pair}: {shown}")
    checks = {}
    batch_ratio = ratios.get("headwater/ministack", {}).get("batch")
    if batch_ratio is not None:
        checks["batch >= 1.2x ministack"] = batch_ratio >= 1.2
    wake = hw.get("wake")
    if wake:
        checks["wake p99 < 10 ms"] = wake["p99_ms"] < 10
    for name, ok in checks.items():
        print(f"target {name}: {'met' if ok else 'NOT met'}")
    return {"ratios": ratios, "targets": checks}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", default=",".join(SERVERS))
    parser.add_argument("--messages", type=int, default=1000, help="single-message scenario")
    parser.add_argument("--batch-messages", type=int, default=5000, help="batched scenario")
    parser.add_argument("--moto-messages", type=int, default=100)
    parser.add_argument("--moto-batch-messages", type=int, default=300)
    parser.add_argument("--samples", type=int, default=200, help="long-poll wake-up samples")
    parser.add_argument("--peers-python", default=None)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    wanted = [s.strip() for s in args.servers.split(",") if s.strip()]
    peers = peers_python(args.peers_python) if set(wanted) - {"headwater"} else None
    results: dict[str, dict[str, Any]] = {}
    began = time.perf_counter()
    for name in wanted:
        if name == "moto":
            plan = Plan(args.moto_messages, args.moto_batch_messages, 0, long_poll=False)
        else:
            plan = Plan(args.messages, args.batch_messages, args.samples, long_poll=True)
        results[name] = run_server(make_server(name, peers), plan)
    summary = report(results)
    document = {
        "benchmark": "bench_sqs",
        "body_bytes": len(BODY),
        "machine": machine(),
        "seconds": time.perf_counter() - began,
        "results": results,
        **summary,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(document, indent=2) + "\n")
    print(f"wrote {args.output} ({document['seconds']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
