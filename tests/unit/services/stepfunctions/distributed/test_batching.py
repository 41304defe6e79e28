"""ItemBatcher's grouping and the tolerance threshold."""

from __future__ import annotations

import orjson

from headwater.services.stepfunctions.distributed.batching import batch_items, tolerance_exceeded


def test_batches_by_count_with_batch_input() -> None:
    assert batch_items([1, 2, 3], {"MaxItemsPerBatch": 2, "BatchInput": {"a": 1}}) == [
        {"BatchInput": {"a": 1}, "Items": [1, 2]}, {"BatchInput": {"a": 1}, "Items": [3]}]


def test_batches_by_bytes_never_exceed_the_limit() -> None:
    items = [{"k": "x" * 10}] * 7
    batches = batch_items(items, {"MaxInputBytesPerBatch": 60})
    assert sum(len(b["Items"]) for b in batches) == 7
    assert all(len(orjson.dumps(b)) <= 60 for b in batches)
    assert len(batches[0]["Items"]) == 2


def test_tolerance() -> None:
    assert tolerance_exceeded(1, 10, 0.0, 0)
    assert not tolerance_exceeded(1, 10, 0.0, 1)
    assert not tolerance_exceeded(1, 10, 10.0, 0)
    assert tolerance_exceeded(2, 10, 10.0, 0)
    assert not tolerance_exceeded(0, 10, 0.0, 0)


def test_tolerance_with_both_thresholds_fails_when_either_is_exceeded() -> None:
    # 6 of 100 is within 10 % but over a count of 5: AWS fails the run.
    assert tolerance_exceeded(6, 100, 10.0, 5)
    # 3 of 10 is within a count of 5 but over 20 %.
    assert tolerance_exceeded(3, 10, 20.0, 5)
    assert not tolerance_exceeded(2, 10, 20.0, 5)
