"""The adapter's paging markers and ClientContext checks."""

from __future__ import annotations

import base64

import pytest

from headwater.core.errors import ServiceError
from headwater.services.lambda_.adapter import _client_context, _page


def test_pages_and_markers() -> None:
    items = list(range(5))
    first, marker = _page(items, None, 2)
    assert (first, marker) == ([0, 1], "2")
    second, marker = _page(items, marker, 2)
    assert (second, marker) == ([2, 3], "4")
    last, marker = _page(items, marker, 2)
    assert (last, marker) == ([4], None)
    assert _page(items, None, None) == (items, None)  # 50 by default
    with pytest.raises(ServiceError):
        _page(items, "not-a-marker", 2)


def test_client_context_is_base64_json() -> None:
    text = '{"custom": {"a": 1}}'
    assert _client_context(base64.b64encode(text.encode()).decode()) == text
    assert _client_context(None) is None
    with pytest.raises(ServiceError) as caught:
        _client_context("not base64!")
    assert caught.value.message == "Client context must be a valid Base64-encoded JSON object."
    with pytest.raises(ServiceError):
        _client_context(base64.b64encode(b"x" * 3000).decode())  # over 3583 characters
