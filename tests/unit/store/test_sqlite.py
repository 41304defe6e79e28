import sqlite3

import pytest

from headwater.store import open_store


@pytest.fixture(params=["memory", "file"])
def store(request, tmp_path):
    s = open_store(None if request.param == "memory" else tmp_path / "db.sqlite")
    yield s
    s.close()


MIGRATIONS = [
    "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL)",
    "ALTER TABLE items ADD COLUMN size INTEGER NOT NULL DEFAULT 0",
]


def test_migrations_apply_once_in_order(store):
    store.migrate("demo", MIGRATIONS[:1])
    store.execute("INSERT INTO items(name) VALUES ('a')")
    store.migrate("demo", MIGRATIONS)
    store.migrate("demo", MIGRATIONS)  # idempotent
    assert store.query("SELECT name, size FROM items") == [("a", 0)]


def test_transaction_rolls_back_on_error(store):
    store.migrate("demo", MIGRATIONS)
    with pytest.raises(RuntimeError), store.transaction():
        store.execute("INSERT INTO items(name) VALUES ('gone')")
        raise RuntimeError("boom")
    assert store.query("SELECT count(*) FROM items") == [(0,)]


def test_nested_transactions_join_the_outer_one(store):
    store.migrate("demo", MIGRATIONS)
    with pytest.raises(sqlite3.IntegrityError), store.transaction():
        with store.transaction():
            store.execute("INSERT INTO items(name) VALUES ('x')")
        store.execute("INSERT INTO items(name) VALUES (NULL)")
    assert store.query("SELECT count(*) FROM items") == [(0,)]


def test_file_store_uses_wal_and_survives_reopen(tmp_path):
    path = tmp_path / "db.sqlite"
    s = open_store(path)
    assert s.query_one("PRAGMA journal_mode")[0] == "wal"
    s.migrate("demo", MIGRATIONS)
    s.execute("INSERT INTO items(name) VALUES ('kept')")
    s.close()
    again = open_store(path)
    assert again.query("SELECT name FROM items") == [("kept",)]
    again.close()
