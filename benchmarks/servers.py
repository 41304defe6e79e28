"""The servers a benchmark measures: headwater and its peers, each in its own process.

Shared by the ``bench_*.py`` scripts so that every benchmark starts every server the same
way, as ``../shared/design/PEERS.md`` says, on ``127.0.0.1`` only:

- headwater: ``python -m headwater serve --port P --data-dir <temp dir>`` (durable SQLite, as
  users run it);
- ministack: ``BIND_HOST=127.0.0.1 GATEWAY_PORT=P IOT_MTLS_ENABLED=0 SFTP_ENABLED=0 ministack``
  (in memory; no MQTT or SFTP listeners);
- moto: ``moto_server -H 127.0.0.1 -p P`` (in memory).

The peers never enter headwater's environment: they run from their own virtualenv
(``benchmarks/.peers-venv``, created on first use from ``requirements.txt``, or any
interpreter passed as ``--peers-python``).  A server counts as up once it answers SQS
``ListQueues``, which all three serve.  Not a benchmark itself, and no measurement here.
"""

from __future__ import annotations

import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

HERE = Path(__file__).resolve().parent
PEERS_VENV = HERE / ".peers-venv"
SERVERS = ("headwater", "ministack", "moto")
STARTUP_TIMEOUT = 90.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def peers_python(explicit: str | None) -> Path:
    """The interpreter of the peers' virtualenv, creating the default one on first use."""
    if explicit:
        return Path(explicit)
    python = PEERS_VENV / "bin" / "python"
    if not python.exists():
        print(f"creating {PEERS_VENV} (ministack, moto) ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(PEERS_VENV)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "-r", str(HERE / "requirements.txt")],
            check=True,
        )
    return python


@dataclass
class Server:
    name: str
    command: list[str]
    env: dict[str, str]
    port: int
    tmp: tempfile.TemporaryDirectory[str]
    process: subprocess.Popen[bytes] | None = None
    log: Any = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.log = open(Path(self.tmp.name) / "server.log", "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            self.command,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            cwd=self.tmp.name,
        )
        probe = boto3.client(
            "sqs",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
            config=Config(retries={"max_attempts": 1}),
        )
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.log_text()[-2000:]}")
            try:
                probe.list_queues()
                return
            except (BotoCoreError, ClientError):  # not listening yet
                time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not start: {self.log_text()[-2000:]}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.log is not None:
            self.log.close()
        self.tmp.cleanup()

    def log_text(self) -> str:
        self.log.flush()
        return (Path(self.tmp.name) / "server.log").read_text(errors="replace")


def make_server(
    name: str, peers: Path | None, extra_env: Mapping[str, str] | None = None
) -> Server:
    """``name`` ready to ``start()``; ``peers`` is the peers' interpreter (``peers_python``)."""
    port = free_port()
    tmp = tempfile.TemporaryDirectory(prefix=f"bench-{name}-")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HEADWATER_", "AWS_"))}
    env.update(extra_env or {})
    if name == "headwater":
        command = [
            sys.executable,
            "-m",
            "headwater",
            "serve",
            "--port",
            str(port),
            "--data-dir",
            str(Path(tmp.name) / "data"),
            "--log-level",
            "warning",
        ]
    elif name == "ministack":
        assert peers is not None
        # Loopback only, and no MQTT (8883) or SFTP listeners: see PEERS.md.
        env.update(
            BIND_HOST="127.0.0.1", GATEWAY_PORT=str(port), IOT_MTLS_ENABLED="0", SFTP_ENABLED="0"
        )
        command = [str(peers.parent / "ministack")]
    elif name == "moto":
        assert peers is not None
        command = [str(peers.parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)]
    else:
        raise ValueError(name)
    return Server(name, command, env, port, tmp)


def ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a and b else None


def machine() -> dict[str, Any]:
    """What a result was measured on, for the JSON reports."""
    return {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
    }
