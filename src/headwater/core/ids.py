"""Injected identifiers: request ids, message ids, receipt handles, ARNs.

``IdFactory`` is the seam; ``RandomIds`` backs the server, ``SequentialIds`` makes tests
deterministic.  ARN construction lives here because every service builds ARNs the same way.
"""

from __future__ import annotations

import itertools
import os
from typing import Protocol

DEFAULT_ACCOUNT_ID = "000000000000"
DEFAULT_REGION = "us-east-1"


class IdFactory(Protocol):
    def uuid(self) -> str:
        """A random UUID in its canonical 36-character form."""
        ...

    def token(self, nbytes: int = 32) -> str:
        """An opaque url-safe token (receipt handles, task tokens)."""
        ...


# The version (4) and variant (RFC 4122) bits of a random UUID, as masks over its 128 bits.
_UUID4_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))
_UUID4_SET = (0x4000 << 64) | (0x8000 << 48)


class RandomIds:
    def uuid(self) -> str:
        # What str(uuid.uuid4()) returns, at half the cost: every request takes one, and the
        # UUID object it would build is thrown away at once.
        n = int.from_bytes(os.urandom(16), "big") & _UUID4_CLEAR | _UUID4_SET
        h = f"{n:032x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def token(self, nbytes: int = 32) -> str:
        return os.urandom(nbytes).hex()


class SequentialIds:
    """Deterministic ids for tests: ``00000000-0000-4000-8000-000000000001`` and so on."""

    def __init__(self) -> None:
        self._n = itertools.count(1)

    def uuid(self) -> str:
        return f"00000000-0000-4000-8000-{next(self._n):012d}"

    def token(self, nbytes: int = 32) -> str:
        # Hex of RandomIds' length, so a token here has the form a real one has.
        return f"{next(self._n):0{2 * nbytes}x}"


def arn(service: str, region: str, account: str, resource: str, partition: str = "aws") -> str:
    return f"arn:{partition}:{service}:{region}:{account}:{resource}"


def parse_arn(value: str) -> tuple[str, str, str, str, str] | None:
    """Split an ARN into (partition, service, region, account, resource), or None."""
    parts = value.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return None
    return parts[1], parts[2], parts[3], parts[4], parts[5]
