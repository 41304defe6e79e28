"""Versioning against a reference model: random sequences of PUTs, DELETEs, deletes of a
version by id and versioning switches (never versioned, Enabled, Suspended), after which
ListObjectVersions, ListObjects and GET of the current version agree with a plain model of
S3's rules (the null version, delete markers, which version is current)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from s3_helpers import new_s3, put, read

from headwater.core.errors import ServiceError
from headwater.services.s3 import listing
from headwater.services.s3.names import NULL_VERSION

_KEYS = st.sampled_from(["a", "b", "a/b"])
_STEPS = st.lists(st.one_of(
    st.tuples(st.just("put"), _KEYS),
    st.tuples(st.just("delete"), _KEYS),
    st.tuples(st.just("delete_version"), _KEYS, st.integers(0, 5)),
    st.tuples(st.just("versioning"), st.sampled_from(["Enabled", "Suspended"])),
), max_size=30)


class Model:
    """S3's versioning rules as a plain loop: each key's versions, oldest first, as
    (version id, delete marker, body)."""

    def __init__(self) -> None:
        self.state: str | None = None  # None: never versioned
        self.keys: dict[str, list[tuple[str, bool, bytes]]] = {}

    def _drop_null(self, key: str) -> None:
        self.keys[key] = [v for v in self.keys.get(key, []) if v[0] != NULL_VERSION]

    def put(self, key: str, version_id: str, body: bytes) -> None:
        if self.state != "Enabled":
            self._drop_null(key)  # unversioned or Suspended: the null version is replaced
        self.keys.setdefault(key, []).append((version_id, False, body))

    def delete(self, key: str, marker_id: str | None) -> None:
        if self.state is None:
            self.keys.pop(key, None)
            return
        if self.state == "Suspended":
            self._drop_null(key)
        assert marker_id is not None
        self.keys.setdefault(key, []).append((marker_id, True, b""))

    def delete_version(self, key: str, version_id: str) -> None:
        self.keys[key] = [v for v in self.keys.get(key, []) if v[0] != version_id]

    def listed_versions(self) -> list[tuple[str, str, bool, bool]]:
        out = []
        for key in sorted(self.keys):
            versions = list(reversed(self.keys[key]))
            out += [(key, vid, marker, i == 0) for i, (vid, marker, _) in enumerate(versions)]
        return out


@settings(max_examples=150, deadline=None)
@given(steps=_STEPS)
def test_versioning_follows_s3s_rules(tmp_path_factory: pytest.TempPathFactory,
                                      steps: list[tuple[Any, ...]]) -> None:
    s3 = new_s3(tmp_path_factory.mktemp("s3"))
    model = Model()
    for number, step in enumerate(steps):
        bucket = s3.bucket("bucket")
        if step[0] == "put":
            body = f"{number}".encode()
            written = put(s3, bucket, step[1], body)
            model.put(step[1], written.version.version_id, body)
        elif step[0] == "delete":
            gone = s3.delete(bucket, step[1])
            model.delete(step[1], gone.version_id if gone is not None and gone.delete_marker
                         else None)
        elif step[0] == "delete_version":
            known = [v[0] for v in model.keys.get(step[1], [])]
            if not known:
                continue
            chosen = known[step[2] % len(known)]
            s3.delete(bucket, step[1], chosen)
            model.delete_version(step[1], chosen)
        else:
            s3.set_versioning(bucket, step[1])
            model.state = step[1]
        for key in [k for k, v in model.keys.items() if not v]:
            del model.keys[key]

    bucket = s3.bucket("bucket")
    page = listing.list_versions(s3.store, bucket.id, "", "", "", "", 1000)
    assert [(v.key, v.version_id, bool(v.delete_marker), bool(v.is_latest))
            for v in page.entries] == model.listed_versions()
    current = {k: v[-1] for k, v in model.keys.items()}
    page = listing.list_objects(s3.store, bucket.id, "", "", "", 1000)
    assert [v.key for v in page.entries] == sorted(k for k, v in current.items() if not v[1])
    for key in ("a", "b", "a/b"):
        latest = current.get(key)
        if latest is None or latest[1]:
            with pytest.raises(ServiceError):
                read(s3, bucket, key)
        else:
            assert read(s3, bucket, key) == latest[2]
