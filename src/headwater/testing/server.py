"""Start headwater in-process on a free loopback port with a temporary data directory.

``running_headwater()`` runs the real gateway on a background thread of the calling process
(every service, the SQLite store, workers), so a test talks to it over HTTP exactly as boto3,
the aws CLI or a handler would.  It is not a mock and not a separate process: state lives
in the data directory, which goes away with the block unless the caller named one.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from headwater.config import LOOPBACK_KEY, LOOPBACK_SECRET, Settings
from headwater.gateway.app import Gateway, build_gateway
from headwater.gateway.server import BackgroundServer, free_port


@dataclass
class RunningHeadwater:
    endpoint: str
    data_dir: Path
    gateway: Gateway
    region: str = "us-east-1"
    access_key: str = LOOPBACK_KEY
    secret_key: str = LOOPBACK_SECRET

    def client(self, service: str, **kwargs: Any) -> Any:
        """A boto3 client bound to this server (boto3 must be installed)."""
        import boto3
        from botocore.config import Config

        # No "sync-" host prefix (StartSyncExecution): "sync-127.0.0.1" does not resolve.
        kwargs.setdefault("config", Config(retries={"max_attempts": 1}, inject_host_prefix=False))
        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name=self.region,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            **kwargs,
        )

    @property
    def environ(self) -> dict[str, str]:
        """Environment variables that point AWS SDKs and the aws CLI at this server."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_DISABLE_HOST_PREFIX_INJECTION": "true",
        }


@contextmanager
def running_headwater(
    data_dir: str | Path | None = None, **settings: Any
) -> Iterator[RunningHeadwater]:
    """Run headwater for the duration of the ``with`` block."""
    with tempfile.TemporaryDirectory(prefix="headwater-") as tmp:
        directory = Path(data_dir) if data_dir is not None else Path(tmp)
        port = settings.pop("port", None) or free_port()
        config = Settings(host="127.0.0.1", port=port, data_dir=directory, **settings)
        gateway = build_gateway(config)
        server = BackgroundServer(gateway)
        server.start()
        # Clients get the first configured pair when credentials are configured, since the
        # loopback pair is then refused.
        key, secret = next(iter(config.accepted_credentials().items()))
        try:
            yield RunningHeadwater(
                f"http://127.0.0.1:{port}", directory, gateway, config.region, key, secret
            )
        finally:
            server.stop()
