"""S3 throughput: headwater against ministack (disk persistence) and moto, in one run.

Each server runs as its own process on a loopback port.  Two kinds of client drive it:

- wire     ``s3_wire.WireClient``: the requests boto3 sends (SigV4 over the payload hash, CRC32
           checksum header on PUT, checksum mode on GET) on a keep-alive connection, and no
           more.  boto3 costs ~3 ms of CPU per small request on a 2-core machine -- more than
           the servers -- so the wire client is what shows the servers' own speed.  The
           small-object requests are signed and encoded before the clock starts: the timed
           loop sends each and reads its answer;
- boto3    boto3 clients with their default integrity settings (CRC32 on every PUT, checksum
           validation on GET), reported beside it so the end-to-end figure is there too.

Workloads:

- small    4 KiB PutObject, then GetObject of each key, with 1 and with 4 client threads,
           after an untimed warm-up of ``WARMUP`` pairs;
           operations per second, each PUT and each GET counting once, and the server
           process's CPU time per operation (from /proc).  Taken in ``--rounds`` rounds
           that visit the servers in turn (round 1 on each server, then round 2 on each, ...)
           and reported as each figure's median over its rounds: a few seconds of load from
           elsewhere on a shared machine then spoils one round of one server instead of that
           server's whole figure.  Each round starts after a pause and a ``sync``, so the
           previous round's writes (another server's) are not flushed during it.  Every
           round's figures are kept in the results file;
- list     ListObjectsV2 pages of 1,000 over a bucket of ``--list-keys`` keys (loaded with
           4 wire threads, not timed), walked once by each client; keys listed per second;
- large    a ``--large-mib`` file uploaded with ``upload_file`` and fetched with
           ``download_file`` (the transfer manager: 8 MiB parts, 10 threads); MB/s each way,
           the CPU seconds boto3 (this process) and the server spent on it, and the bound
           those imply: cores x size / (client + server CPU), the rate the pair could not
           beat on this machine even if their work overlapped perfectly.
           Then the same file as one signed wire PUT and GET stream (its SHA-256 and CRC32
           computed before the clock starts), which shows what the server itself sustains.
           boto3 spends ~5 s of CPU per GiB either way on the 2-core development VM (over
           plain HTTP it hashes the payload it signs, SHA-256 and CRC32; downloading, the
           kernel fills fresh page-cache pages for the file it writes), so there the bound
           stays under 500 MB/s whatever the server does.  The server hashes SHA-256 (the
           signed payload), MD5 (the ETag) and the checksums;
- rss      the server process's peak resident memory (VmHWM) after everything above.

All servers run for the whole benchmark and each workload runs on each server in turn, so
a change of load on the machine during the run affects every server alike.

The peers come from the virtualenv bench_sqs.py creates (``benchmarks/.peers-venv``, from
``benchmarks/requirements.txt``) and are started as shared/design/PEERS.md says: loopback
only, ministack without MQTT/SFTP and with ``S3_PERSIST=1`` so its objects go to disk as
headwater's do.  moto keeps everything in memory and is slow, so it gets fewer small
operations and a smaller listing (``--moto-ops``, ``--moto-list-keys``); listing rates are
per key and so stay comparable.

Targets (issue 3): small ops/s >= 2.5x ministack and >= 5x moto; listing >= 20x moto;
large PUT and GET >= 500 MB/s.

    python benchmarks/bench_s3.py [--ops 3000] [--moto-ops 300] [--rounds 5]
        [--list-keys 100000] [--moto-list-keys 10000] [--large-mib 1024]
        [--servers headwater,ministack,moto] [--pin-cpu N]

Prints a table and writes benchmarks/results/bench_s3.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_sqs import Server, make_server, peers_python, ratio
from s3_wire import FileHashes, WireClient

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "bench_s3.json"
SERVERS = ("headwater", "ministack", "moto")
SMALL = os.urandom(4096)
WARMUP = 50  # PUT+GET pairs each client kind sends each server before a small-ops timing
SETTLE_SECONDS = 1.5  # pause before each small-ops round (``settle``)
MiB = 1024 * 1024


def s3_client(endpoint: str) -> Any:
    return boto3.client(
        "s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1}, read_timeout=300, max_pool_connections=16,
                      s3={"addressing_style": "path"}),
    )


def new_bucket(client: Any) -> str:
    name = f"bench-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=name)
    return name


def cpu_seconds(server: Server) -> float:
    """User + system CPU time the server process has used so far."""
    if server.process is None:
        return 0.0
    fields = Path(f"/proc/{server.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def small_ops(server: Server, ops: int, threads: int, kind: str) -> dict[str, float]:
    """4 KiB PUTs then GETs of every key, ``threads`` clients of ``kind`` (wire or boto3)."""
    keys = [f"small/{i:08d}" for i in range(ops)]
    shards = [keys[i::threads] for i in range(threads)]
    if kind == "wire":
        wires = [WireClient(server.endpoint) for _ in range(threads)]
        bucket = f"bench-{uuid.uuid4().hex[:12]}"
        wires[0].create_bucket(bucket)
        for i in range(WARMUP):
            wires[i % threads].put(bucket, f"warm/{i:04d}", SMALL)
            wires[i % threads].get(bucket, f"warm/{i:04d}")
        # Signed and encoded before the clock starts, so the timed loop is the exchange.
        prepared = {key: (wires[t].prepare_put(bucket, key, SMALL),
                          wires[t].prepare_get(bucket, key))
                    for t in range(threads) for key in shards[t]}
        put_one = [lambda k, w=w: w.send(prepared[k][0]) for w in wires]
        get_one = [lambda k, w=w: w.send(prepared[k][1]) for w in wires]
    else:
        clients = [s3_client(server.endpoint) for _ in range(threads)]
        bucket = new_bucket(clients[0])
        put_one = [lambda k, c=c: c.put_object(Bucket=bucket, Key=k, Body=SMALL) for c in clients]
        get_one = [lambda k, c=c: c.get_object(Bucket=bucket, Key=k)["Body"].read()
                   for c in clients]
        for i in range(WARMUP):
            put_one[i % threads](f"warm/{i:04d}")
            get_one[i % threads](f"warm/{i:04d}")

    def put(index: int) -> None:
        for key in shards[index]:
            put_one[index](key)

    def get(index: int) -> None:
        for key in shards[index]:
            assert get_one[index](key) == SMALL

    with ThreadPoolExecutor(threads) as pool:
        cpu0 = cpu_seconds(server)
        start = time.perf_counter()
        list(pool.map(put, range(threads)))
        put_s = time.perf_counter() - start
        cpu1 = cpu_seconds(server)
        start = time.perf_counter()
        list(pool.map(get, range(threads)))
        get_s = time.perf_counter() - start
        cpu2 = cpu_seconds(server)
    return {"put_ops_s": ops / put_s, "get_ops_s": ops / get_s,
            "ops_s": 2 * ops / (put_s + get_s),
            "server_cpu_ms_put": 1000 * (cpu1 - cpu0) / ops,
            "server_cpu_ms_get": 1000 * (cpu2 - cpu1) / ops}


def listing(server: Server, keys: int) -> dict[str, float]:
    loaders = [WireClient(server.endpoint) for _ in range(4)]
    bucket = f"bench-{uuid.uuid4().hex[:12]}"
    loaders[0].create_bucket(bucket)

    def load(index: int) -> None:
        for i in range(index, keys, 4):
            loaders[index].put(bucket, f"dir{i % 100:02d}/key{i:08d}", b"")

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(load, range(4)))
    cpu0 = cpu_seconds(server)
    start = time.perf_counter()
    seen, pages = WireClient(server.endpoint).list_all(bucket)
    wire_s = time.perf_counter() - start
    cpu1 = cpu_seconds(server)
    assert seen == keys, (seen, keys)
    seen = 0
    start = time.perf_counter()
    for page in s3_client(server.endpoint).get_paginator("list_objects_v2").paginate(
            Bucket=bucket):
        seen += len(page.get("Contents", []))
    boto_s = time.perf_counter() - start
    assert seen == keys, (seen, keys)
    return {"keys": keys, "keys_s": keys / wire_s, "ms_per_page": 1000 * wire_s / pages,
            "server_cpu_ms_per_page": 1000 * (cpu1 - cpu0) / pages,
            "boto3_keys_s": keys / boto_s}


def large(server: Server, mib: int, scratch: Path) -> dict[str, float]:
    """boto3's transfer manager both ways, then one signed wire stream each way."""
    client = s3_client(server.endpoint)
    bucket = new_bucket(client)
    source = scratch / "large.bin"
    with open(source, "wb") as handle:
        block = os.urandom(MiB)
        handle.writelines(block for _ in range(mib))
    config = TransferConfig(multipart_chunksize=8 * MiB, max_concurrency=10)
    target = scratch / "back.bin"
    found: dict[str, float] = {"mib": mib}
    size_mb = mib * MiB / 1e6
    for way, transfer in (
        ("put", lambda: client.upload_file(str(source), bucket, "large", Config=config)),
        ("get", lambda: client.download_file(bucket, "large", str(target), Config=config)),
    ):
        client_cpu, server_cpu = own_cpu_seconds(), cpu_seconds(server)
        start = time.perf_counter()
        transfer()
        found[f"{way}_mb_s"] = size_mb / (time.perf_counter() - start)
        client_cpu, server_cpu = own_cpu_seconds() - client_cpu, cpu_seconds(server) - server_cpu
        found[f"{way}_client_cpu_s"] = client_cpu
        found[f"{way}_server_cpu_s"] = server_cpu
        # The fastest this client and server could go if the machine's cores did nothing
        # else: their CPU time per byte shared out over every core.
        found[f"{way}_bound_mb_s"] = (os.cpu_count() or 1) * size_mb / (client_cpu + server_cpu)
    assert target.stat().st_size == source.stat().st_size
    target.unlink()
    wire = WireClient(server.endpoint)
    hashes = FileHashes.of(str(source))
    start = time.perf_counter()
    wire.put_file(bucket, "wire-large", str(source), hashes)
    wire_put_s = time.perf_counter() - start
    start = time.perf_counter()
    assert wire.get_size(bucket, "wire-large") == hashes.size
    wire_get_s = time.perf_counter() - start
    source.unlink()
    found.update(wire_put_mb_s=size_mb / wire_put_s, wire_get_mb_s=size_mb / wire_get_s)
    return found


def own_cpu_seconds() -> float:
    """User + system CPU time of this process (boto3's transfer threads included)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_rss_mib(server: Server) -> float | None:
    if server.process is None:
        return None
    try:
        for line in Path(f"/proc/{server.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def run_all(servers: list[Server], args: argparse.Namespace, scratch: Path) -> dict[str, Any]:
    """Every workload on every server, one after the other per workload, so a change in the
    machine's load during the run touches all servers alike (they all run throughout)."""
    results: dict[str, dict[str, Any]] = {s.name: {} for s in servers}
    for server in servers:
        server.start()
    try:
        for kind in ("wire", "boto3"):
            for threads in (1, 4):
                rounds: dict[str, list[dict[str, float]]] = {s.name: [] for s in servers}
                for _ in range(args.rounds):
                    for server in servers:
                        ops = args.moto_ops if server.name == "moto" else args.ops
                        settle()
                        rounds[server.name].append(
                            small_ops(server, max(1, ops // args.rounds), threads, kind))
                for server in servers:
                    found = medians(rounds[server.name])
                    results[server.name][f"small_{kind}_{threads}"] = {
                        **found, "rounds": rounds[server.name]}
                    print(f"  {server.name} small {kind} x{threads}: {_brief(found)}", flush=True)
        for server in servers:
            keys = args.moto_list_keys if server.name == "moto" else args.list_keys
            results[server.name]["list"] = listing(server, keys)
            print(f"  {server.name} list: {_brief(results[server.name]['list'])}", flush=True)
        for server in servers:
            if args.large_mib and not (server.name == "moto" and args.skip_moto_large):
                results[server.name]["large"] = large(server, args.large_mib, scratch)
                print(f"  {server.name} large: {results[server.name]['large']}", flush=True)
        for server in servers:
            results[server.name]["peak_rss_mib"] = peak_rss_mib(server)
    finally:
        for server in servers:
            server.stop()
    return results


def settle() -> None:
    """Let the last round's writes land before the next round starts: headwater checkpoints
    its WAL within a second of a write, and the kernel writes dirty pages back in the
    background; left to run into the next round, they slow whichever server it measures."""
    time.sleep(SETTLE_SECONDS)
    os.sync()


def medians(rounds: list[dict[str, float]]) -> dict[str, float]:
    """Each figure's median over the rounds."""
    return {name: statistics.median(r[name] for r in rounds) for name in rounds[0]}


def _brief(found: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.2f}" for k, v in found.items())


def report(results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    hw = results.get("headwater", {})

    def get(name: str, *path: str) -> float | None:
        value: Any = results.get(name, {})
        for part in path:
            value = value.get(part) if isinstance(value, dict) else None
        return value if isinstance(value, (int, float)) else None

    rows = [("small x1 ops/s", ("small_wire_1", "ops_s")),
            ("small x4 ops/s", ("small_wire_4", "ops_s")),
            ("list keys/s", ("list", "keys_s")), ("large PUT MB/s", ("large", "put_mb_s")),
            ("large GET MB/s", ("large", "get_mb_s")),
            ("boto3 small x1", ("small_boto3_1", "ops_s")),
            ("boto3 small x4", ("small_boto3_4", "ops_s")),
            ("boto3 list keys/s", ("list", "boto3_keys_s")),
            ("wire large PUT MB/s", ("large", "wire_put_mb_s")),
            ("wire large GET MB/s", ("large", "wire_get_mb_s")),
            ("srv ms/PUT (x4)", ("small_wire_4", "server_cpu_ms_put")),
            ("srv ms/GET (x4)", ("small_wire_4", "server_cpu_ms_get")),
            ("srv ms/list page", ("list", "server_cpu_ms_per_page")),
            ("large PUT client s", ("large", "put_client_cpu_s")),
            ("large PUT server s", ("large", "put_server_cpu_s")),
            ("large PUT bound MB/s", ("large", "put_bound_mb_s")),
            ("large GET client s", ("large", "get_client_cpu_s")),
            ("large GET server s", ("large", "get_server_cpu_s")),
            ("large GET bound MB/s", ("large", "get_bound_mb_s")),
            ("peak RSS MiB", ("peak_rss_mib",))]
    print(f"{'':20}" + "".join(f"{n:>14}" for n in results))
    for label, path in rows:
        print(f"{label:20}" + "".join(
            f"{get(n, *path) or 0:>14.2f}" for n in results))
    ratios = {}
    for peer in ("ministack", "moto"):
        if peer in results and hw:
            ratios[peer] = {label: ratio(get("headwater", *path), get(peer, *path))
                            for label, path in rows[:10]}
            print(f"headwater / {peer}: " + ", ".join(
                f"{k} {v:.2f}x" for k, v in ratios[peer].items() if v))
    return ratios


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ops", type=int, default=3000)
    parser.add_argument("--moto-ops", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5,
                        help="small-object rounds per server, interleaved (ops split among them)")
    parser.add_argument("--list-keys", type=int, default=100_000)
    parser.add_argument("--moto-list-keys", type=int, default=10_000)
    parser.add_argument("--large-mib", type=int, default=1024)
    parser.add_argument("--skip-moto-large", action="store_true")
    parser.add_argument("--pin-cpu", type=int, default=None,
                        help="run the servers and the clients on this one CPU (each request's "
                             "cost without wake-ups across CPUs; meant for the small rows)")
    parser.add_argument("--servers", default=",".join(SERVERS))
    parser.add_argument("--peers-python", default=None)
    args = parser.parse_args(argv)
    if args.pin_cpu is not None:
        # Before any server starts: child processes and threads inherit the affinity.
        os.sched_setaffinity(0, {args.pin_cpu})
    names = [n for n in args.servers.split(",") if n]
    peers = peers_python(args.peers_python) if set(names) - {"headwater"} else None
    with tempfile.TemporaryDirectory(prefix="bench-s3-") as scratch:
        servers = []
        for name in names:
            server = make_server(name, peers)
            if name == "ministack":
                # Objects on disk, as headwater keeps them (PEERS.md).
                data = Path(server.tmp.name)
                server.env.update(PERSIST_STATE="1", STATE_DIR=str(data / "state"),
                                  S3_PERSIST="1", S3_DATA_DIR=str(data / "s3"))
            servers.append(server)
        results = run_all(servers, args, Path(scratch))
    ratios = report(results)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform()},
        "args": vars(args), "results": results, "ratios": ratios,
    }, indent=2))
    print(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
