"""Resource policies, event invoke configs and the log reader."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import orjson
import pytest
from lambda_helpers import create_params, ref

from headwater.core.clock import ManualClock
from headwater.core.errors import ServiceError
from headwater.core.ids import SequentialIds
from headwater.services.lambda_ import logs
from headwater.services.lambda_.eventconfig import EventConfigs
from headwater.services.lambda_.functions import Functions
from headwater.services.lambda_.policy import Policies
from headwater.services.lambda_.store import LambdaStore
from headwater.store import open_store


def test_policy_statements(functions: Functions, ids: SequentialIds) -> None:
    functions.create(ref(), create_params())
    policies = Policies(functions, ids)
    statement = policies.add(
        ref(),
        {
            "StatementId": "a",
            "Action": "lambda:InvokeFunction",
            "Principal": "123456789012",
            "SourceAccount": "123456789012",
        },
    )
    assert statement["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}
    assert statement["Condition"] == {"StringEquals": {"AWS:SourceAccount": "123456789012"}}
    document, revision = policies.get(ref())
    assert orjson.loads(document)["Statement"] == [statement]
    with pytest.raises(ServiceError) as caught:
        policies.remove(ref(), "a", "stale")
    assert caught.value.code == "PreconditionFailedException"
    policies.remove(ref(), "a", revision)
    with pytest.raises(ServiceError) as caught:
        policies.get(ref())
    assert caught.value.code == "ResourceNotFoundException"


def test_event_invoke_config_defaults_and_merge(functions: Functions, clock: ManualClock) -> None:
    functions.create(ref(), create_params())
    configs = EventConfigs(functions, clock)
    assert configs.effective(ref(), None).max_retries == 2
    assert configs.effective(ref(), None).max_age == 21600
    with pytest.raises(ServiceError):
        configs.put(ref(), {"MaximumRetryAttempts": 1}, merge=True)  # update needs a config
    configs.put(ref(), {"MaximumRetryAttempts": 0}, merge=False)
    configs.put(ref(), {"MaximumEventAgeInSeconds": 100}, merge=True)
    effective = configs.effective(ref(), "$LATEST")
    assert (effective.max_retries, effective.max_age) == (0, 100)
    with pytest.raises(ServiceError) as caught:
        configs.put(
            ref(),
            {"DestinationConfig": {"OnSuccess": {"Destination": "arn:aws:sns:us-east-1:0:t"}}},
            merge=False,
        )
    assert "headwater does not support destinations other than" in caught.value.message


def test_logs_are_read_back_from_a_data_dir(tmp_path: Path) -> None:
    store = open_store(tmp_path / "headwater.db")
    lambda_store = LambdaStore(store)
    key = ("000000000000", "us-east-1", "fn")
    lambda_store.append_log(key, 1.0, "r1", "START r1\n")
    lambda_store.append_log(key, 2.0, "r2", "START r2\n")
    lambda_store.append_log(("000000000000", "us-east-1", "other"), 2.0, "r3", "START r3\n")
    conn = logs.open_readonly(tmp_path)
    assert [text for _, text in logs.read(conn, "fn")] == ["START r1\n", "START r2\n"]
    arn = "arn:aws:lambda:us-east-1:000000000000:function:fn"
    assert len(logs.read(conn, arn)) == 2
    rounds = iter([True, False])
    lambda_store.append_log(key, 3.0, "r4", "START r4\n")
    got = list(logs.follow(conn, "fn", interval=0, tail=1, keep_going=lambda: next(rounds)))
    assert got == ["START r4\n"]
    store.close()
    with pytest.raises(FileNotFoundError):
        logs.open_readonly(tmp_path / "nowhere")
    assert logs.read(sqlite3.connect(":memory:"), "fn") == []


def test_old_log_entries_are_pruned(monkeypatch: pytest.MonkeyPatch) -> None:
    from headwater.services.lambda_ import store as store_module

    monkeypatch.setattr(store_module, "LOGS_KEPT", 3)
    monkeypatch.setattr(store_module, "_PRUNE_EVERY", 5)
    lambda_store = LambdaStore(open_store(None))
    key = ("000000000000", "us-east-1", "fn")
    for n in range(10):
        lambda_store.append_log(key, float(n), f"r{n}", f"entry {n}\n")
    texts = [text for _, _, text in lambda_store.logs("fn", 0, 100)]
    assert texts == ["entry 7\n", "entry 8\n", "entry 9\n"]
