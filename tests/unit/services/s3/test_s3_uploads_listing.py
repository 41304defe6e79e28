"""ListMultipartUploads against a reference model: random uploads, prefixes, delimiters and
page sizes, paged with the markers each page gives, list every upload and common prefix
once, in S3's order (key, then initiation).  The store reads two uploads a query here, so
batch boundaries fall everywhere: inside one key's uploads and inside a common prefix."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from s3_helpers import adapter, ctx, new_s3

from headwater.services.s3 import store

_PIECES = ["a", "b", "/", "ab", "é"]


def reference(uploads: list[tuple[str, str]], prefix: str, delimiter: str) -> list[Any]:
    """Uploads as (key, upload id) in creation order -> the listing's items."""
    items: list[Any] = []
    for key, upload_id in sorted(uploads):  # ids grow with creation: key, then initiation
        if not key.startswith(prefix):
            continue
        at = key.find(delimiter, len(prefix)) if delimiter else -1
        if at < 0:
            items.append((key, upload_id))
        elif key[: at + len(delimiter)] not in items:
            items.append(key[: at + len(delimiter)])
    return items


@settings(max_examples=120, deadline=None)
@given(keys=st.lists(st.lists(st.sampled_from(_PIECES), min_size=1, max_size=3).map("".join),
                     max_size=15),
       prefix=st.sampled_from(["", "a", "a/"]), delimiter=st.sampled_from(["", "/", "a"]),
       max_uploads=st.sampled_from([1, 2, 3, 1000]))
def test_paged_upload_listings_match_a_reference_model(
    tmp_path_factory: pytest.TempPathFactory, keys: list[str], prefix: str, delimiter: str,
    max_uploads: int,
) -> None:
    s3 = new_s3(tmp_path_factory.mktemp("s3"))
    ops = adapter(s3)
    uploads = [(key, ops.create_multipart_upload(ctx(), {"Bucket": "bucket", "Key": key})[
        "UploadId"]) for key in keys]  # a key may have several uploads
    expected = reference(uploads, prefix, delimiter)
    with mock.patch.object(store, "UPLOAD_BATCH", 2):
        got = list_all(ops, prefix, delimiter, max_uploads, len(expected))
    assert got == expected


def list_all(ops: Any, prefix: str, delimiter: str, max_uploads: int, count: int) -> list[Any]:
    """Every page's uploads and prefixes, following the markers each page gives."""
    params: dict[str, Any] = {"Bucket": "bucket", "Prefix": prefix, "Delimiter": delimiter,
                              "MaxUploads": max_uploads}
    got: list[Any] = []
    for _ in range(count + 1):
        page = ops.list_multipart_uploads(ctx(), params)
        items = [(u["Key"], u["UploadId"]) for u in page.get("Uploads", [])]
        items += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
        assert len(items) <= max_uploads
        got += sorted(items, key=lambda item: item if isinstance(item, str) else item[0])
        if not page["IsTruncated"]:
            break
        assert len(items) == max_uploads
        params = {**params, "KeyMarker": page["NextKeyMarker"],
                  "UploadIdMarker": page.get("NextUploadIdMarker", "")}
    else:
        pytest.fail("the listing never ended")
    return got
