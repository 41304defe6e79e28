"""``python -m headwater serve`` in a subprocess, as users run it: for the tests that kill the
server, restart it on the same data directory, or watch its process (memory, signals).

The ``servers`` fixture (conftest.py) kills whatever a test started and left running.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from headwater.gateway.server import free_port

STARTUP_TIMEOUT = 60.0


class Served:
    """One ``headwater serve`` process on a loopback port, logging to files in ``log_dir``."""

    def __init__(self, data_dir: Path, log_dir: Path) -> None:
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        log_dir.mkdir(parents=True, exist_ok=True)
        self.stdout_path = log_dir / f"stdout-{self.port}.txt"
        self.stderr_path = log_dir / f"stderr-{self.port}.txt"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("HEADWATER_", "AWS_"))}
        # Files, not pipes: nobody drains a pipe while the test runs, and a full pipe would
        # stall the server.
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "headwater", "serve", "--port", str(self.port),
                 "--data-dir", str(data_dir), "--log-level", "warning"],
                stdout=out,
                stderr=err,
                env=env,
            )
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"headwater exited {self.process.returncode}: {self.stderr}")
            try:
                with urllib.request.urlopen(f"{self.endpoint}/_headwater/health", timeout=1) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.05)
        raise AssertionError(f"headwater did not become ready: {self.stderr}")

    @property
    def stdout(self) -> str:
        return self.stdout_path.read_text(errors="replace")

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def client(self, service: str, read_timeout: float = 30) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
            # No retries: a request that failed because the server died must not be retried
            # somewhere else and counted.
            config=Config(retries={"max_attempts": 1}, connect_timeout=5,
                          read_timeout=read_timeout),
        )

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)

    def terminate(self, timeout: float = 40) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)


def start(servers: list[Served], data_dir: Path) -> Served:
    """A server on ``data_dir`` (logs beside it), killed at the end of the test."""
    served = Served(data_dir, data_dir.parent / "logs")
    servers.append(served)
    return served
