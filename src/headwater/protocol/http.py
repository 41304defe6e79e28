"""A neutral view of one HTTP exchange, independent of ASGI and of botocore."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from urllib.parse import parse_qs, unquote


@dataclass
class HttpRequest:
    method: str
    path: str  # raw, still percent-encoded
    query_string: str  # raw, without the '?'
    headers: dict[str, str]  # lower-case names; repeated headers joined with ","
    body: bytes = b""
    host: str = ""
    scheme: str = "http"

    @cached_property
    def query(self) -> dict[str, list[str]]:
        """Query parameters, decoded; a key without '=' maps to ['']."""
        return parse_qs(self.query_string, keep_blank_values=True)

    @cached_property
    def decoded_path(self) -> str:
        return unquote(self.path)

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name, default)

    @property
    def url(self) -> str:
        base = f"{self.scheme}://{self.host}{self.path}"
        return f"{base}?{self.query_string}" if self.query_string else base


@dataclass(slots=True)
class HttpResponse:
    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        lname = name.lower()
        for key, value in self.headers:
            if key.lower() == lname:
                return value
        return None
