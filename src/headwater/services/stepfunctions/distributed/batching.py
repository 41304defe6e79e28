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
    """Whether ``failures`` of ``total`` children fail the map run.

    Each threshold that is set (non-zero) tolerates failures up to it; AWS: "If you specify
    both values, the workflow fails when it exceeds either value"
    (https://docs.aws.amazon.com/step-functions/latest/dg/maprun-fail-threshold.html).
    With neither set, the first failure fails the run.  A threshold of 0 reads as unset: the
    defaults are 0, and 0 tolerates nothing either way.
    """
    if failures <= 0:
        return False
    over_count = failures > count
    over_percentage = total <= 0 or failures * 100.0 / total > percentage
    if count > 0 and percentage > 0:
        return over_count or over_percentage
    if count > 0:
        return over_count
    if percentage > 0:
        return over_percentage
    return True


__all__ = ["batch_items", "tolerance_exceeded"]
