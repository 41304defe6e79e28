"""ItemBatcher and the failure tolerance of a distributed map: pure rules, no I/O.

Implements https://docs.aws.amazon.com/step-functions/latest/dg/input-output-itembatcher.html
(each child gets ``{"BatchInput": ..., "Items": [...]}``, at most MaxItemsPerBatch items and
at most MaxInputBytesPerBatch bytes of input) and the threshold of
https://docs.aws.amazon.com/step-functions/latest/dg/state-map-distributed.html#maprun-fail-threshold.
Shared by the server's map runs (``maprun``) and the in-process runner (``local``).
"""

from __future__ import annotations

from typing import Any

import orjson


def batch_items(inputs: list[Any], batcher: dict[str, Any]) -> list[dict[str, Any]]:
    """Group the items' inputs into batch inputs, in order."""
    max_items = batcher.get("MaxItemsPerBatch") or 0
    max_bytes = batcher.get("MaxInputBytesPerBatch") or 0
    head: dict[str, Any] = {}
    if "BatchInput" in batcher:
        head["BatchInput"] = batcher["BatchInput"]
    # The envelope's own bytes count: {"BatchInput":...,"Items":[]}.
    base = len(orjson.dumps({**head, "Items": []}))
    batches: list[dict[str, Any]] = []
    current: list[Any] = []
    size = base
    for value in inputs:
        item_bytes = len(orjson.dumps(value)) + (1 if current else 0)  # and its comma
        full = (max_items and len(current) >= max_items) or (
            max_bytes and current and size + item_bytes > max_bytes)
        if full:
            batches.append({**head, "Items": current})
            current, size = [], base
            item_bytes -= 1
        current.append(value)
        size += item_bytes
    if current:
        batches.append({**head, "Items": current})
    return batches


def tolerance_exceeded(failures: int, total: int, percentage: float, count: int) -> bool:
    """Whether ``failures`` of ``total`` children fail the map run. Either threshold
    tolerates: the run fails only when the failures are above the count *and* above the
    percentage (a percentage of 0 tolerates nothing)."""
    if failures <= count:
        return False
    if percentage > 0 and total > 0 and failures * 100.0 / total <= percentage:
        return False
    return failures > 0


__all__ = ["batch_items", "tolerance_exceeded"]
