"""GET bodies read ahead on a worker thread (objects._stream): a consumer that stops or is
cancelled mid-read leaves no read running on a closed iterator."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import pytest

from headwater.services.s3.objects import _stream


class SlowChunks:
    """An iterator whose every read takes a while on the worker thread."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.reading = threading.Event()
        self.closed = False
        self.reads = 0
        self._gen = self._chunks()

    def _chunks(self) -> Iterator[bytes]:
        try:
            for i in range(self.count):
                self.reading.set()
                time.sleep(0.05)
                self.reads += 1
                yield bytes([i])
        finally:
            self.closed = True

    def __iter__(self) -> SlowChunks:
        return self

    def __next__(self) -> bytes:
        return next(self._gen)

    def close(self) -> None:
        self._gen.close()


def test_every_chunk_in_order() -> None:
    async def main() -> list[bytes]:
        return [c async for c in _stream(SlowChunks(4), None)]  # type: ignore[arg-type]

    assert asyncio.run(main()) == [b"\x00", b"\x01", b"\x02", b"\x03"]


@pytest.mark.parametrize("how", ["stop", "cancel"])
def test_a_consumer_that_goes_away_leaves_the_iterator_closed(how: str) -> None:
    chunks = SlowChunks(100)

    async def consume() -> None:
        stream = _stream(chunks, None)  # type: ignore[arg-type]
        async for _ in stream:
            if how == "stop":
                await stream.aclose()  # the next read is already running
                return

    async def main() -> None:
        task = asyncio.create_task(consume())
        if how == "cancel":
            await asyncio.sleep(0.08)  # inside the second read
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            await asyncio.sleep(0.2)  # the shielded read finishes, then the close
        else:
            await task

    asyncio.run(main())
    assert chunks.closed
    assert chunks.reads < 100
