"""Persistence: the ``Store`` seam and its SQLite implementation (file or in-memory)."""

from headwater.store.sqlite import SqliteStore, Store, open_store

__all__ = ["SqliteStore", "Store", "open_store"]
