"""Step Functions: the Pass/Choice counter loop and 10,000 waiting executions, headwater
against ministack and moto in one run.

Scenarios:

- loop      a counter loop (Pass -> Choice -> Pass ... Succeed) of 10,003 state transitions:
            EXPRESS through StartSyncExecution, STANDARD through StartExecution + polling
            DescribeExecution every 5 ms; on headwater also in-process (the engine through
            ``runner.Runner``, no server).  moto runs STANDARD only (its StartSyncExecution
            fails) after ``POST /moto-api/config {"stepfunctions": {"execute_state_machine":
            true}}``.  Transitions per second = 10,003 / wall time from the start call to the
            end being observed (the best of ``--repeat`` runs).
- waiting   10,000 STANDARD executions, each a 1-second Wait, started from two client
            processes while this process lists the RUNNING ones every 0.2 s: no execution may
            be seen running more than 5 s past its deadline (its StartExecution's return + 1 s).
            (stopDate is no measure here: a timer's events carry its deadline, see
            docs/stepfunctions.md.)  The server's RSS is read from /proc before, at its peak
            and after.  headwater only (durable: every event is in SQLite).
- burst     the same number of executions all waiting for one common timestamp (a Wait with
            TimestampPath): RSS with all of them held at once, and how long after that instant
            the last one ended.

The peers run from ``benchmarks/.peers-venv`` (created from requirements.txt on first use),
started by ``bench_sqs``'s helpers exactly as shared/design/PEERS.md says.

    python benchmarks/bench_sfn.py [--servers headwater,ministack,moto] [--repeat 3]
                                   [--waiting 10000] [--peers-python PATH]

Prints a table and writes benchmarks/results/bench_sfn.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import threading
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_sqs import SERVERS, Server, make_server, peers_python, ratio

RESULTS = Path(__file__).resolve().parent / "results" / "bench_sfn.json"
ROLE = "arn:aws:iam::000000000000:role/bench"
LIMIT = 5000  # loop iterations: 1 + 2 * 5000 + 1 + 1 = 10,003 transitions
TRANSITIONS = 2 * LIMIT + 3
COUNTER = {
    "StartAt": "Init",
    "States": {
        "Init": {"Type": "Pass", "Result": {"i": 0}, "Next": "Loop"},
        "Loop": {"Type": "Choice", "Default": "Done",
                 "Choices": [{"Variable": "$.i", "NumericLessThan": LIMIT, "Next": "Inc"}]},
        "Inc": {"Type": "Pass", "Parameters": {"i.$": "States.MathAdd($.i, 1)"}, "Next": "Loop"},
        "Done": {"Type": "Succeed"},
    },
}
WAIT = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 1, "End": True}}}


def client(endpoint: str) -> Any:
    return boto3.client(
        "stepfunctions", endpoint_url=endpoint, region_name="us-east-1",
        aws_access_key_id="test", aws_secret_access_key="test",
        # StartSyncExecution's "sync-" host prefix cannot go in front of a loopback IP.
        config=Config(inject_host_prefix=False, retries={"max_attempts": 1}, read_timeout=300,
                      max_pool_connections=32))


def create(sfn: Any, definition: dict[str, Any], kind: str) -> str:
    name = f"bench-{kind.lower()}-{uuid.uuid4().hex[:8]}"
    return str(sfn.create_state_machine(name=name, definition=json.dumps(definition),
                                        roleArn=ROLE, type=kind)["stateMachineArn"])


# -- the loop ----------------------------------------------------------------------------------


def loop_express(sfn: Any, arn: str) -> float:
    began = time.perf_counter()
    reply = sfn.start_sync_execution(stateMachineArn=arn, input="{}")
    took = time.perf_counter() - began
    assert reply["status"] == "SUCCEEDED", reply
    assert json.loads(reply["output"]) == {"i": LIMIT}, reply["output"]
    return took


def loop_standard(sfn: Any, arn: str) -> float:
    began = time.perf_counter()
    # Always named: moto names an unnamed execution "None", so a second one would collide.
    execution = sfn.start_execution(stateMachineArn=arn, input="{}",
                                    name=uuid.uuid4().hex)["executionArn"]
    while True:
        described = sfn.describe_execution(executionArn=execution)
        if described["status"] != "RUNNING":
            break
        time.sleep(0.005)
    took = time.perf_counter() - began
    assert described["status"] == "SUCCEEDED", described
    assert json.loads(described["output"]) == {"i": LIMIT}, described.get("output")
    return took


def best_rate(run: Any, repeat: int) -> dict[str, float]:
    times = [run() for _ in range(repeat)]
    return {"transitions": TRANSITIONS, "best_s": min(times), "median_s": statistics.median(times),
            "transitions_per_s": TRANSITIONS / min(times)}


def in_process(repeat: int) -> dict[str, Any]:
    from headwater.core.clock import ManualClock
    from headwater.core.ids import RandomIds
    from headwater.services.stepfunctions.asl import parse_definition
    from headwater.services.stepfunctions.runner import Runner

    program = parse_definition(json.dumps(COUNTER))
    out: dict[str, Any] = {}
    for kind, record in (("EXPRESS", False), ("STANDARD", True)):
        runner = Runner(program, clock=ManualClock(time.time()), ids=RandomIds(),
                        record_history=record)

        def run(runner: Runner = runner, kind: str = kind) -> float:
            began = time.perf_counter()
            result = runner.run({}, execution_type=kind)
            took = time.perf_counter() - began
            assert result.output == {"i": LIMIT} and result.transitions == TRANSITIONS
            return took

        out[kind.lower()] = best_rate(run, repeat)
    return out


# -- 10,000 waiting executions -----------------------------------------------------------------


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _start_many(endpoint: str, arn: str, n: int, text: str = "{}") -> list[tuple[str, float]]:
    """Start ``n`` executions; (execution ARN, wall time its StartExecution returned)."""
    sfn = client(endpoint)
    out = []
    for _ in range(n):
        execution = sfn.start_execution(stateMachineArn=arn, input=text)["executionArn"]
        out.append((execution, time.time()))
    return out


def waiting(server: Server, count: int, processes: int = 2) -> dict[str, Any]:
    """Start ``count`` 1-second waits from client processes (boto3 is CPU-bound: threads of
    one process would measure the GIL) while this process watches which are still RUNNING."""
    from concurrent.futures import ProcessPoolExecutor

    sfn = client(server.endpoint)
    arn = create(sfn, WAIT, "STANDARD")
    pid = server.process.pid if server.process else 0
    rss_before = rss_mb(pid)
    last_seen: dict[str, float] = {}  # execution -> last time it was seen RUNNING
    rss_peak = [rss_before]
    done = threading.Event()

    def watch() -> None:
        watcher = client(server.endpoint)
        while not done.is_set():
            now = time.time()
            token = None
            while True:
                page = watcher.list_executions(stateMachineArn=arn, statusFilter="RUNNING",
                                               maxResults=1000,
                                               **({"nextToken": token} if token else {}))
                for execution in page["executions"]:
                    last_seen[execution["executionArn"]] = now
                token = page.get("nextToken")
                if not token:
                    break
            rss_peak[0] = max(rss_peak[0], rss_mb(pid))
            time.sleep(0.2)

    observer = threading.Thread(target=watch, daemon=True)
    observer.start()
    began = time.perf_counter()
    shares = [count // processes + (1 if i < count % processes else 0) for i in range(processes)]
    with ProcessPoolExecutor(processes) as pool:
        started = [item for part in pool.map(_start_many, [server.endpoint] * processes,
                                             [arn] * processes, shares) for item in part]
    started_in = time.perf_counter() - began
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if not sfn.list_executions(stateMachineArn=arn, statusFilter="RUNNING",
                                   maxResults=1)["executions"]:
            break
        time.sleep(0.1)
    all_done = time.time()
    done.set()
    observer.join()
    # Lateness seen from outside: how long past its deadline (start + 1 s) an execution was
    # still observed RUNNING (0 when never seen late); plus when the very last one ended.
    late = [max(0.0, last_seen.get(execution, 0.0) - (at + 1.0)) for execution, at in started]
    succeeded = sum(len(page["executions"]) for page in sfn.get_paginator(
        "list_executions").paginate(stateMachineArn=arn, statusFilter="SUCCEEDED"))
    return {
        "executions": count, "succeeded": succeeded, "start_seconds": started_in,
        "starts_per_s": count / started_in,
        "observed_lateness_max_s": max(late),
        "observed_lateness_p99_s": sorted(late)[int(len(late) * 0.99) - 1],
        "last_done_after_last_deadline_s": all_done - (max(at for _, at in started) + 1.0),
        "all_within_5s": succeeded == count and max(late) <= 5.0,
        "rss_mb_before": rss_before, "rss_mb_peak": rss_peak[0], "rss_mb_after": rss_mb(pid),
    }


def burst(server: Server, count: int, starts_per_s: float, processes: int = 2) -> dict[str, Any]:
    """``count`` STANDARD executions all waiting for one common timestamp: all of them held
    at once (RSS), then all their timers due in the same instant."""
    from concurrent.futures import ProcessPoolExecutor

    sfn = client(server.endpoint)
    definition = {"StartAt": "W", "States": {"W": {"Type": "Wait", "TimestampPath": "$.at",
                                                   "End": True}}}
    arn = create(sfn, definition, "STANDARD")
    pid = server.process.pid if server.process else 0
    rss_before = rss_mb(pid)
    deadline = time.time() + count / starts_per_s * 1.5 + 5
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(deadline) + 1))
    deadline = float(int(deadline) + 1)
    shares = [count // processes + (1 if i < count % processes else 0) for i in range(processes)]
    with ProcessPoolExecutor(processes) as pool:
        list(pool.map(_start_many, [server.endpoint] * processes, [arn] * processes, shares,
                      [json.dumps({"at": stamp})] * processes))
    started_by = time.time()
    rss_waiting = rss_mb(pid)
    while time.time() < deadline:
        time.sleep(0.05)
    while sfn.list_executions(stateMachineArn=arn, statusFilter="RUNNING",
                              maxResults=1)["executions"]:
        time.sleep(0.05)
    done_after = time.time() - deadline
    return {"executions": count, "all_started_before_deadline": started_by < deadline,
            "all_done_after_deadline_s": done_after, "within_5s": done_after <= 5.0,
            "rss_mb_before": rss_before, "rss_mb_all_waiting": rss_waiting,
            "rss_mb_after": rss_mb(pid)}


# -- running each server -----------------------------------------------------------------------


def run_server(server: Server, repeat: int, waiting_count: int) -> dict[str, Any]:
    server.start()
    try:
        sfn = client(server.endpoint)
        out: dict[str, Any] = {}
        if server.name == "moto":
            request = urllib.request.Request(
                f"{server.endpoint}/moto-api/config", method="POST",
                data=json.dumps({"stepfunctions": {"execute_state_machine": True}}).encode(),
                headers={"Content-Type": "application/json"})
            urllib.request.urlopen(request, timeout=10).read()
        kinds = ["STANDARD"] if server.name == "moto" else ["EXPRESS", "STANDARD"]
        for kind in kinds:
            arn = create(sfn, COUNTER, kind)
            run = loop_express if kind == "EXPRESS" else loop_standard
            run(sfn, arn)  # warm-up: imports, caches, connections
            print(f"  {server.name}: {kind} loop x{repeat} ...", flush=True)
            out[f"api_{kind.lower()}"] = best_rate(lambda r=run, a=arn: r(sfn, a), repeat)
        if server.name == "headwater" and waiting_count:
            print(f"  headwater: {waiting_count} waiting executions ...", flush=True)
            out["waiting"] = waiting(server, waiting_count)
            print(f"  headwater: {waiting_count} executions waiting for one timestamp ...",
                  flush=True)
            out["burst"] = burst(server, waiting_count, out["waiting"]["starts_per_s"])
        return out
    finally:
        server.stop()


def report(results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    hw = results.get("headwater", {})

    def rate(server: str, key: str) -> float | None:
        value = results.get(server, {}).get(key, {})
        return value.get("transitions_per_s") if isinstance(value, dict) else None

    rows = [("in-process EXPRESS (transitions/s)", "headwater", "inproc_express"),
            ("in-process STANDARD (transitions/s)", "headwater", "inproc_standard")]
    names = [s for s in SERVERS if s in results]
    print()
    for label, key in (("API EXPRESS (transitions/s)", "api_express"),
                       ("API STANDARD (transitions/s)", "api_standard")):
        print(f"{label:<38}" + "".join(
            f"{n}={rate(n, key):,.0f}  " if rate(n, key) else f"{n}=-  " for n in names))
    for label, server, key in rows:
        if rate(server, key):
            print(f"{label:<38}headwater={rate(server, key):,.0f}")
    ratios: dict[str, Any] = {}
    for peer in ("ministack", "moto"):
        if peer not in results:
            continue
        ratios[f"headwater/{peer}"] = {
            key: ratio(rate("headwater", key), rate(peer, key))
            for key in ("api_express", "api_standard")}
        ratios[f"headwater in-process/{peer}"] = {
            "express": ratio(rate("headwater", "inproc_express"), rate(peer, "api_express")),
            "standard": ratio(rate("headwater", "inproc_standard"), rate(peer, "api_standard"))}
    for pair, values in ratios.items():
        shown = ", ".join(f"{k} {v:.2f}x" for k, v in values.items() if v is not None)
        print(f"{pair}: {shown}")
    checks: dict[str, bool] = {}
    mini = ratios.get("headwater/ministack", {})
    if mini.get("api_express") is not None:
        checks["EXPRESS >= 5x ministack"] = mini["api_express"] >= 5
    if mini.get("api_standard") is not None:
        checks["STANDARD (durable) >= 1x ministack"] = mini["api_standard"] >= 1
    wait = hw.get("waiting")
    if wait:
        print(f"waiting: {wait['succeeded']}/{wait['executions']} succeeded; seen running past "
              f"the deadline at most {wait['observed_lateness_max_s']:.2f} s; the last ended "
              f"{wait['last_done_after_last_deadline_s']:.2f} s after the last deadline; "
              f"started at {wait['starts_per_s']:,.0f}/s; server RSS "
              f"{wait['rss_mb_before']:.0f} -> peak {wait['rss_mb_peak']:.0f} -> "
              f"{wait['rss_mb_after']:.0f} MB")
        checks["10,000 waits all within 5 s of their deadline"] = wait["all_within_5s"]
    spike = hw.get("burst")
    if spike:
        print(f"burst: {spike['executions']} waiting at once: server RSS "
              f"{spike['rss_mb_before']:.0f} -> {spike['rss_mb_all_waiting']:.0f} -> "
              f"{spike['rss_mb_after']:.0f} MB; all done {spike['all_done_after_deadline_s']:.2f}"
              f" s after their common deadline")
        checks["10,000 simultaneous deadlines all done within 5 s"] = spike["within_5s"]
    for name, ok in checks.items():
        print(f"target {name}: {'met' if ok else 'NOT met'}")
    return {"ratios": ratios, "targets": checks}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", default=",".join(SERVERS))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--waiting", type=int, default=10_000)
    parser.add_argument("--peers-python", default=None)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    wanted = [s.strip() for s in args.servers.split(",") if s.strip()]
    peers = peers_python(args.peers_python) if set(wanted) - {"headwater"} else None
    results: dict[str, dict[str, Any]] = {}
    began = time.perf_counter()
    for name in wanted:
        try:
            results[name] = run_server(make_server(name, peers), args.repeat,
                                       args.waiting if name == "headwater" else 0)
        except Exception as exc:  # noqa: BLE001 - one peer failing must not lose the others
            print(f"  {name}: failed: {exc!r}", flush=True)
            results[name] = {"error": repr(exc)}
        if name == "headwater":
            print("  headwater: in-process loop ...", flush=True)
            for kind, value in in_process(args.repeat).items():
                results[name][f"inproc_{kind}"] = value
    summary = report(results)
    document = {
        "benchmark": "bench_sfn",
        "transitions": TRANSITIONS,
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                    "python": platform.python_version()},
        "seconds": time.perf_counter() - began,
        "results": results,
        **summary,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(document, indent=2, default=str) + "\n")
    print(f"wrote {args.output} ({document['seconds']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
