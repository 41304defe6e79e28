"""Settings: one frozen object, read once at start and passed down.

Values come from command-line flags first, then ``HEADWATER_*`` environment variables, then the
defaults below.  Credentials are ``HEADWATER_CREDENTIALS="AKID:SECRET[,AKID2:SECRET2]"``.
The well-known pair ``test``/``test`` is only honoured while bound to loopback: a server that
listens beyond loopback without configured credentials refuses to start (``check``).
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from headwater.core.errors import ConfigError
from headwater.core.ids import DEFAULT_ACCOUNT_ID, DEFAULT_REGION

LOOPBACK_KEY = "test"
LOOPBACK_SECRET = "test"


@dataclass(frozen=True, slots=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 4566
    data_dir: Path = Path(".headwater")
    region: str = DEFAULT_REGION
    account_id: str = DEFAULT_ACCOUNT_ID
    # access key id -> secret access key, as configured by the operator.
    credentials: dict[str, str] = field(default_factory=dict)
    # Verify SigV4 signatures.  Only tests of the protocol layer turn this off.
    verify_signatures: bool = True
    # Largest request body the gateway reads into memory for non-streaming services.
    max_body_bytes: int = 64 * 1024 * 1024
    # S3 archive restores take AWS's typical time for the tier (hours) times this factor;
    # 0.001 turns a 5-hour Standard restore into 18 seconds for demos and tests.
    archive_time_scale: float = 1.0
    # The length of one S3 lifecycle "day" in seconds (tests shorten it).
    lifecycle_day_seconds: float = 86400.0

    @property
    def is_loopback(self) -> bool:
        return is_loopback_host(self.host)

    def accepted_credentials(self) -> dict[str, str]:
        """Access key -> secret that requests may be signed with."""
        creds = dict(self.credentials)
        if self.is_loopback and not creds:
            creds[LOOPBACK_KEY] = LOOPBACK_SECRET
        return creds

    def check(self) -> None:
        """Refuse settings that would expose an unauthenticated server."""
        if not self.is_loopback and not self.credentials:
            raise ConfigError(
                f"refusing to listen on {self.host}: binding beyond loopback needs configured "
                "credentials (set HEADWATER_CREDENTIALS=ACCESS_KEY:SECRET)"
            )
        if not self.is_loopback and LOOPBACK_KEY in self.credentials:
            raise ConfigError("the well-known 'test' key is only allowed on loopback")

    def with_(self, **changes: Any) -> Settings:
        return replace(self, **changes)

    @property
    def endpoint(self) -> str:
        host = self.host if ":" not in self.host else f"[{self.host}]"
        if self.host in ("0.0.0.0", "::"):
            host = "localhost"
        return f"http://{host}:{self.port}"


def is_loopback_host(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_credentials(text: str) -> dict[str, str]:
    creds: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        key, sep, secret = item.partition(":")
        if not sep or not key or not secret:
            raise ConfigError(f"bad credential entry {item!r}: expected ACCESS_KEY:SECRET")
        creds[key] = secret
    return creds


# Environment variable -> the setting it sets, and how its text becomes the value.
_FROM_ENVIRONMENT: tuple[tuple[str, str, Callable[[str], Any]], ...] = (
    ("HEADWATER_HOST", "host", str),
    ("HEADWATER_PORT", "port", int),
    ("HEADWATER_DATA_DIR", "data_dir", Path),
    ("HEADWATER_REGION", "region", str),
    ("HEADWATER_ACCOUNT_ID", "account_id", str),
    ("HEADWATER_ARCHIVE_TIME_SCALE", "archive_time_scale", float),
    ("HEADWATER_LIFECYCLE_DAY_SECONDS", "lifecycle_day_seconds", float),
    ("HEADWATER_CREDENTIALS", "credentials", parse_credentials),
)


def from_environment(env: dict[str, str] | None = None, **overrides: Any) -> Settings:
    """Build settings from ``HEADWATER_*`` variables, then apply non-None overrides."""
    env = dict(os.environ if env is None else env)
    values: dict[str, Any] = {
        name: convert(env[variable])
        for variable, name, convert in _FROM_ENVIRONMENT
        if variable in env
    }
    values.update({k: v for k, v in overrides.items() if v is not None})
    if "data_dir" in values:
        values["data_dir"] = Path(values["data_dir"])
    return Settings(**values)
