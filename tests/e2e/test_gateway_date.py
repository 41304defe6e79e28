"""The Date header on a served answer: one of them, this second's (uvicorn's own, refreshed by
a timer once a second, is off: it ran up to two seconds behind)."""

from __future__ import annotations

import http.client
import math
import time
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import pytest

from headwater.testing import RunningHeadwater

pytestmark = pytest.mark.e2e


def test_one_date_header_of_this_second(hw: RunningHeadwater) -> None:
    parts = urlsplit(hw.endpoint)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        for _ in range(20):
            before = math.floor(time.time())
            connection.request("GET", "/no-such-bucket-here")
            response = connection.getresponse()
            response.read()
            after = time.time()
            dates = [v for k, v in response.getheaders() if k.lower() == "date"]
            assert len(dates) == 1
            assert before <= parsedate_to_datetime(dates[0]).timestamp() <= after
            time.sleep(0.05)
    finally:
        connection.close()
