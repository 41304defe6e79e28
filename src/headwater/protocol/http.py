"""A neutral view of one HTTP exchange, independent of ASGI and of botocore.

Bodies are bytes, except for operations that stream: a request whose operation takes a
streaming blob (S3 PutObject, UploadPart) carries ``stream`` (read it once, chunk by chunk)
and an empty ``body``; a response may carry any async iterable of bytes as its body, sent
chunk by chunk with the ``Content-Length`` the producer set.  Large objects never sit in
memory whole.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Protocol
from urllib.parse import parse_qs, unquote


class BodyStream(Protocol):
    """A request body read as it arrives (``protocol.body``); iterate it at most once."""

    def __aiter__(self) -> AsyncIterator[bytes]: ...

    @property
    def trailers(self) -> dict[str, str]:
        """Trailing headers (lower-case names), known once the stream is exhausted."""
        ...


@dataclass
class HttpRequest:
    method: str
    path: str  # raw, still percent-encoded
    query_string: str  # raw, without the '?'
    headers: dict[str, str]  # lower-case names; repeated headers joined with ","
    body: bytes = b""
    host: str = ""
    scheme: str = "http"
    # Set instead of ``body`` for operations that stream their input (see the module doc).
    stream: BodyStream | None = None
    # ``query``, once read.  Not a functools.cached_property: on Python 3.11 that takes a lock
    # on every first read, a measurable share of a small request.
    _query: dict[str, list[str]] | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def query(self) -> dict[str, list[str]]:
        """Query parameters, decoded; a key without '=' maps to ['']."""
        query = self._query
        if query is None:
            query = self._query = (
                parse_qs(self.query_string, keep_blank_values=True) if self.query_string else {}
            )
        return query

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
    # bytes, or an async iterable of chunks whose total the Content-Length header states.
    body: bytes | AsyncIterable[bytes] = b""

    def header(self, name: str) -> str | None:
        lname = name.lower()
        for key, value in self.headers:
            if key.lower() == lname:
                return value
        return None
