"""Executor throughput: trivial invocations through LocalExecutor, without HTTP.

An identity handler (``return event``) runs in warm worker processes; the benchmark measures
invocations per second and per-call latency with 1 caller and with 8 concurrent callers (8
warm workers), and, in the same run, the same handler called directly in this process, bare
and with the JSON decode + encode every Lambda runtime performs.  The ratio of the two is the
executor's overhead: process isolation, the socket round trip, the context object and the
START / END / REPORT bookkeeping.

Target (issue 4): >= 2,000 invocations/s through the executor on a 2-core machine.

    python benchmarks/bench_lambda_executor.py [--seconds 3]

Prints a table and writes benchmarks/results/bench_lambda_executor.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from headwater.runtime.executor import FunctionSpec, InvocationContext
from headwater.runtime.local import LocalExecutor

EVENT = b'{"id": 42, "name": "trivial", "tags": ["a", "b"]}'
HANDLER = "def handler(event, context):\n    return event\n"


def identity(event: Any, context: Any) -> Any:
    return event


def measure_direct(seconds: float) -> dict[str, float]:
    """The same handler without any executor: a plain call, then a call with JSON both ways."""
    results: dict[str, float] = {}
    for name, call in (
        ("direct_call", lambda: identity(EVENT, None)),
        ("direct_call_json", lambda: json.dumps(identity(json.loads(EVENT), None)).encode()),
    ):
        n, start = 0, time.perf_counter()
        deadline = start + seconds
        while time.perf_counter() < deadline:
            for _ in range(1000):
                call()
            n += 1000
        results[name] = n / (time.perf_counter() - start)
    return results


async def measure_executor(spec: FunctionSpec, callers: int, seconds: float) -> dict[str, float]:
    async with LocalExecutor(concurrency_per_function=max(callers, 1)) as executor:
        await executor.warm(spec, callers)
        for _ in range(200):  # let every worker import and settle
            await executor.invoke(spec, EVENT, InvocationContext("warmup"))
        latencies: list[float] = []
        errors = 0
        deadline = time.perf_counter() + seconds

        async def caller(index: int) -> None:
            nonlocal errors
            i = 0
            while time.perf_counter() < deadline:
                t0 = time.perf_counter()
                result = await executor.invoke(
                    spec, EVENT, InvocationContext(f"{index}-{i}"), wait=True
                )
                latencies.append(time.perf_counter() - t0)
                if not result.ok or result.payload != EVENT:
                    errors += 1
                i += 1

        start = time.perf_counter()
        await asyncio.gather(*(caller(i) for i in range(callers)))
        elapsed = time.perf_counter() - start
    latencies.sort()
    return {
        "invocations": len(latencies),
        "invocations_per_s": len(latencies) / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "errors": errors,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="measuring time per scenario")
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).parent / "results" / "bench_lambda_executor.json"
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "app.py").write_text(HANDLER)
        spec = FunctionSpec(
            "bench",
            "arn:aws:lambda:us-east-1:000000000000:function:bench",
            "app.handler",
            Path(folder),
        )
        direct = measure_direct(args.seconds)
        scenarios = {
            f"executor_{n}_caller{'s' if n > 1 else ''}": asyncio.run(
                measure_executor(spec, n, args.seconds)
            )
            for n in (1, 8)
        }

    print(f"{'scenario':<24}{'invocations/s':>15}{'p50 ms':>9}{'p99 ms':>9}{'overhead x':>12}")
    for name, rate in direct.items():
        print(f"{name:<24}{rate:>15,.0f}")
    for name, row in scenarios.items():
        print(
            f"{name:<24}{row['invocations_per_s']:>15,.0f}{row['p50_ms']:>9.3f}{row['p99_ms']:>9.3f}"
            f"{direct['direct_call'] / row['invocations_per_s']:>12,.0f}"
        )
    report = {
        "benchmark": "lambda_executor",
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
        },
        "seconds_per_scenario": args.seconds,
        "direct": direct,
        "executor": scenarios,
        # How many direct calls fit in the time of one executor invocation.
        "overhead_ratio": {
            name: {
                "vs_direct_call": direct["direct_call"] / row["invocations_per_s"],
                "vs_direct_call_json": direct["direct_call_json"] / row["invocations_per_s"],
            }
            for name, row in scenarios.items()
        },
        "target_invocations_per_s": 2000,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
