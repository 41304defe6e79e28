"""What an adapter method learns about the request besides its parameters."""

from __future__ import annotations

from dataclasses import dataclass

from headwater.protocol.http import HttpRequest


@dataclass(slots=True)
class RequestContext:
    request_id: str
    service: str
    operation: str
    region: str
    account_id: str
    access_key: str
    # Base URL the client used to reach us (scheme://host[:port]), for URLs we hand back.
    endpoint: str
    request: HttpRequest
