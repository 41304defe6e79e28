"""Direct I/O for blob files: whether the filesystem takes it, and the aligned buffers it
needs.  Why large blobs bypass the page cache at all is in ``blobs``' docstring."""

from __future__ import annotations

import errno
import logging
import mmap
import os
import secrets
import threading
from pathlib import Path

log = logging.getLogger(__name__)

# O_DIRECT where the platform has it (Linux); 0 elsewhere, and every blob is cached.
O_DIRECT: int = getattr(os, "O_DIRECT", 0)
ALIGN = 4096  # O_DIRECT offsets, lengths and buffers: a multiple of the logical block size


class AlignedBuffers:
    """Page-aligned buffers of one size for direct I/O, kept for reuse (up to ``keep``): an
    mmap is aligned, and a fresh one costs a page fault per page on first touch -- more than
    the I/O it serves on VMs that hand freed memory back to the host."""

    def __init__(self, size: int, keep: int) -> None:
        self.size = size
        self._keep = keep
        self._free: list[mmap.mmap] = []
        self._lock = threading.Lock()

    def take(self) -> mmap.mmap:
        with self._lock:
            if self._free:
                return self._free.pop()
        return mmap.mmap(-1, self.size)

    def give(self, buffer: mmap.mmap) -> None:
        with self._lock:
            if len(self._free) < self._keep:
                self._free.append(buffer)
                return
        # One beyond ``keep`` is dropped, and unmapped once nothing refers to it.


def direct_io_works(directory: Path) -> bool:
    """Whether files in ``directory`` can be written with O_DIRECT (one aligned page)."""
    if not O_DIRECT:
        return False
    probe = directory / f".direct-probe-{secrets.token_hex(4)}"
    page = mmap.mmap(-1, ALIGN)
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL | O_DIRECT, 0o600)
        try:
            os.write(fd, page)
        finally:
            os.close(fd)
    except OSError as exc:
        log.info("s3: blobs go through the page cache here (O_DIRECT: %s)",
                 errno.errorcode.get(exc.errno or 0, exc))
        return False
    finally:
        probe.unlink(missing_ok=True)
        page.close()
    return True
