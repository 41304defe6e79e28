"""Browser form uploads (S3's POST Object) as the e2e tests send them: the multipart body a
browser builds from a form, and the raw answer, headers as they came and no redirect followed."""

from __future__ import annotations

import http.client
import uuid
from urllib.parse import urlsplit
from xml.etree import ElementTree


class Answer:
    def __init__(self, response: http.client.HTTPResponse) -> None:
        self.status = response.status
        self.headers = {k.lower(): v for k, v in response.getheaders()}
        self.body = response.read()

    def error(self) -> dict[str, str]:
        """The members of an error document."""
        root = ElementTree.fromstring(self.body)
        return {child.tag: child.text or "" for child in root}


def form(fields: dict[str, str], content: bytes, filename: str = "a.txt",
         content_type: str = "text/plain") -> tuple[bytes, str]:
    """(body, Content-Type) of a form with ``fields`` and then the file, as browsers order it."""
    boundary = uuid.uuid4().hex
    body = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        .encode() for name, value in fields.items()
    )
    body += (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
             f'filename="{filename}"\r\nContent-Type: {content_type}\r\n\r\n').encode()
    body += content + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def send(url: str, method: str, body: bytes, headers: dict[str, str]) -> Answer:
    """One request to ``url`` (its path only) on a fresh connection."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.netloc, timeout=30)
    try:
        connection.request(method, parts.path, body, headers)
        return Answer(connection.getresponse())
    finally:
        connection.close()


def post(url: str, fields: dict[str, str], content: bytes, extra: dict[str, str] | None = None,
         filename: str = "a.txt", content_type: str = "text/plain") -> Answer:
    """A form upload of ``content`` with ``fields`` to ``url`` (``extra``: more headers)."""
    body, form_type = form(fields, content, filename, content_type)
    return send(url, "POST", body, {"Content-Type": form_type, **(extra or {})})
