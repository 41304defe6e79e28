"""Warm synchronous Invoke through boto3: headwater (and ministack, when it runs here).

An identity handler (``return event``) is deployed as a zip; after a warm-up, boto3 clients
call ``Invoke`` in a loop for a fixed time, from 1 thread and from 8 threads (one client per
thread), and the script reports p50 / p99 latency and invocations per second.  In the same
run it times the handler called directly in this process (with the JSON decode and encode every
Lambda runtime performs), and prints the overhead ratio: how many direct calls fit in the
time of one Invoke.

Each server runs as its own process on a loopback port (``servers.py``); headwater's
function runs in its own worker processes (never in the server).  ministack is measured when
``--servers`` names it and its virtualenv (``benchmarks/.peers-venv``) exists.

Target (issue 4): p50 <= 3 ms through boto3 on loopback.

    python benchmarks/bench_lambda.py [--seconds 3] [--servers headwater,ministack]

Prints a table and writes benchmarks/results/bench_lambda.json.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import threading
import time
import zipfile
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError
from servers import HERE, PEERS_VENV, machine, make_server

EVENT = b'{"id": 42, "name": "trivial", "tags": ["a", "b"]}'
HANDLER = "def handler(event, context):\n    return event\n"
ROLE = "arn:aws:iam::000000000000:role/bench"
THREADS = (1, 8)


def identity(event: Any, context: Any) -> Any:
    return event


def client(endpoint: str) -> Any:
    return boto3.client(
        "lambda",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1}, read_timeout=60, max_pool_connections=2),
    )


def deploy(endpoint: str) -> str:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", HANDLER)
    lam = client(endpoint)
    lam.create_function(
        FunctionName="bench-identity",
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": buffer.getvalue()},
        Timeout=30,
    )
    lam.get_waiter("function_active_v2").wait(FunctionName="bench-identity")
    return "bench-identity"


def measure(endpoint: str, name: str, threads: int, seconds: float) -> dict[str, Any]:
    clients = [client(endpoint) for _ in range(threads)]
    # Warm every worker the callers will use (and each client's connection).
    warm = [
        threading.Thread(
            target=lambda c=c: [c.invoke(FunctionName=name, Payload=EVENT) for _ in range(20)]
        )
        for c in clients
    ]
    for t in warm:
        t.start()
    for t in warm:
        t.join()
    latencies: list[list[float]] = [[] for _ in range(threads)]
    errors = [0] * threads
    start_gate = threading.Barrier(threads + 1)
    deadline = 0.0

    def run(index: int) -> None:
        lam = clients[index]
        start_gate.wait()
        mine = latencies[index]
        while time.perf_counter() < deadline:
            t0 = time.perf_counter()
            try:
                response = lam.invoke(FunctionName=name, Payload=EVENT)
                body = response["Payload"].read()
                if response.get("FunctionError") or json.loads(body) != json.loads(EVENT):
                    errors[index] += 1
            except ClientError:
                errors[index] += 1
            mine.append(time.perf_counter() - t0)

    workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for t in workers:
        t.start()
    deadline = time.perf_counter() + seconds
    began = time.perf_counter()
    start_gate.wait()
    for t in workers:
        t.join()
    elapsed = time.perf_counter() - began
    every = sorted(x for per in latencies for x in per)
    return {
        "invocations": len(every),
        "invocations_per_s": len(every) / elapsed,
        "p50_ms": statistics.median(every) * 1000,
        "p99_ms": every[max(0, int(len(every) * 0.99) - 1)] * 1000,
        "errors": sum(errors),
    }


def measure_direct(seconds: float) -> dict[str, float]:
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for _ in range(1000):
            json.dumps(identity(json.loads(EVENT), None)).encode()
        n += 1000
    elapsed = time.perf_counter() - start
    return {"calls_per_s": n / elapsed, "per_call_us": elapsed / n * 1e6}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--servers", default="headwater,ministack")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "bench_lambda.json")
    args = parser.parse_args()

    direct = measure_direct(min(args.seconds, 1.0))
    results: dict[str, Any] = {}
    for name in args.servers.split(","):
        if name == "ministack" and not (PEERS_VENV / "bin" / "ministack").exists():
            results[name] = {"skipped": f"no {PEERS_VENV}/bin/ministack"}
            continue
        # Enough warm headwater workers for 8 callers whatever the core count.
        extra_env = {"HEADWATER_LAMBDA_CONCURRENCY": str(max(THREADS))}
        server = make_server(name, PEERS_VENV / "bin" / "python", extra_env)
        try:
            server.start()
            function = deploy(server.endpoint)
            results[name] = {
                f"{n}_thread{'s' if n > 1 else ''}": measure(
                    server.endpoint, function, n, args.seconds
                )
                for n in THREADS
            }
        except Exception as exc:  # noqa: BLE001 - a peer that cannot run Lambda here is reported
            results[name] = {"skipped": f"{type(exc).__name__}: {exc}"[:500]}
        finally:
            server.stop()

    print(f"direct call with JSON both ways: {direct['per_call_us']:.2f} us")
    print(
        f"{'server':<12}{'threads':>8}{'invokes/s':>12}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}{'overhead x':>12}"
    )
    for name, rows in results.items():
        if "skipped" in rows:
            print(f"{name:<12} skipped: {rows['skipped']}")
            continue
        for scenario, row in rows.items():
            row["overhead_vs_direct"] = row["p50_ms"] * 1000 / direct["per_call_us"]
            print(
                f"{name:<12}{scenario.split('_')[0]:>8}{row['invocations_per_s']:>12,.0f}"
                f"{row['p50_ms']:>9.2f}{row['p99_ms']:>9.2f}{row['errors']:>8}"
                f"{row['overhead_vs_direct']:>12,.0f}"
            )
    report = {
        "benchmark": "lambda_invoke",
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": machine(),
        "seconds_per_scenario": args.seconds,
        "direct": direct,
        "servers": results,
        "target_p50_ms": 3.0,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
