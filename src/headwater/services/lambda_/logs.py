"""Function logs: what ``headwater logs FUNCTION [--follow]`` prints.

Every invocation's log text (START, what the handler printed, END, REPORT, as the executor
produced it) is appended to the ``lambda_logs`` table by ``invoke.Invoker.run``.  This module
reads it back from a data directory's database file, opened read-only, so the command works
beside a running server (SQLite's WAL lets a reader in while the server writes) and after it
stopped.  CloudWatch Logs itself is not served yet; this is its local stand-in.

AWS page: https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs.html
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path


def open_readonly(data_dir: Path) -> sqlite3.Connection:
    path = (data_dir / "headwater.db").absolute()
    if not path.exists():
        raise FileNotFoundError(f"no headwater database at {path}")
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)


def read(conn: sqlite3.Connection, function: str, after_id: int = 0) -> list[tuple[int, str]]:
    """Log entries of ``function`` (a name or an ARN) after ``after_id``, oldest first."""
    name = function.split(":function:", 1)[-1].split(":", 1)[0]
    try:
        rows = conn.execute(
            "SELECT id, text FROM lambda_logs WHERE name=? AND id>? ORDER BY id",
            (name, after_id),
        ).fetchall()
    except sqlite3.OperationalError:
        return []  # no Lambda table yet: no function ever ran here
    return [(int(r[0]), str(r[1])) for r in rows]


def follow(
    conn: sqlite3.Connection,
    function: str,
    *,
    interval: float = 0.5,
    tail: int | None = None,
    keep_going: Callable[[], bool] = lambda: True,
) -> Iterator[str]:
    """Yield log text as it arrives; ``tail`` starts with only the last N invocations."""
    entries = read(conn, function)
    last = entries[-1][0] if entries else 0
    if tail is not None:
        entries = entries[-tail:] if tail else []
    for _, text in entries:
        yield text
    while keep_going():
        time.sleep(interval)
        for entry_id, text in read(conn, function, last):
            last = entry_id
            yield text
