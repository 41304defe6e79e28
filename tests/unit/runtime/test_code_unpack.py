"""Unpacking deployment packages safely, and watching code folders."""

from __future__ import annotations

import io
import os
import stat
import zipfile
from pathlib import Path

import pytest

from headwater.core.errors import ServiceError
from headwater.runtime import code
from headwater.runtime.code import FolderWatch, check_upload_size, code_sha256, extract_zip


def make_zip(*entries: tuple[str, bytes] | tuple[str, bytes, int]) -> bytes:
    """Entries are (name, content) or (name, content, unix mode incl. file type)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for entry in entries:
            info = zipfile.ZipInfo(entry[0])
            if len(entry) == 3:
                info.external_attr = entry[2] << 16
            archive.writestr(info, entry[1])
    return buffer.getvalue()


def link(name: str, target: str) -> tuple[str, bytes, int]:
    return (name, target.encode(), stat.S_IFLNK | 0o777)


def test_unpacks_files_links_and_modes(tmp_path: Path) -> None:
    data = make_zip(
        ("app.py", b"x = 1\n"),
        ("bin/tool", b"#!/bin/sh\n", stat.S_IFREG | 0o755),
        ("lib/", b""),
        link("current", "lib"),
        link("bin/app_link", "../app.py"),
    )
    info = extract_zip(data, tmp_path / "fn")
    root = tmp_path / "fn"
    assert (root / "app.py").read_text() == "x = 1\n"
    assert os.stat(root / "bin/tool").st_mode & 0o777 == 0o755
    assert os.readlink(root / "current") == "lib" and (root / "current").is_dir()
    assert (root / "bin/app_link").read_text() == "x = 1\n"
    assert info.sha256 == code_sha256(data) and info.size == len(data)
    assert info.unzipped_size == len(b"x = 1\n") + len(b"#!/bin/sh\n")


def test_redeploy_replaces_the_whole_folder(tmp_path: Path) -> None:
    extract_zip(make_zip(("old.py", b"")), tmp_path / "fn")
    extract_zip(make_zip(("new.py", b"")), tmp_path / "fn")
    assert sorted(p.name for p in (tmp_path / "fn").iterdir()) == ["new.py"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fn"]  # no staging leftovers


@pytest.mark.parametrize(
    ("entries", "why"),
    [
        ([("/etc/evil.py", b"")], "absolute path"),
        ([("C:/evil.py", b"")], "absolute path"),
        ([("../evil.py", b"")], "'..' path component"),
        ([("lib/../../evil.py", b"")], "'..' path component"),
        ([("lib\\..\\..\\evil.py", b"")], "'..' path component"),
        ([link("escape", "../../outside")], "outside the function folder"),
        ([link("escape", "/etc/passwd")], "outside the function folder"),
        # Each link looks harmless alone; together the second one leaves the folder.
        ([link("here", "."), link("up", "here/..")], "outside the function folder"),
        ([("fifo", b"", stat.S_IFIFO | 0o644)], "not a regular file"),
    ],
)
def test_zip_slip_is_refused_before_anything_is_written(
    tmp_path: Path, entries: list[tuple[str, bytes]], why: str
) -> None:
    dest = tmp_path / "deploy" / "fn"
    with pytest.raises(ServiceError) as caught:
        extract_zip(make_zip(*entries), dest)
    assert caught.value.code == "InvalidParameterValueException" and caught.value.status == 400
    assert why in caught.value.message
    assert not dest.exists()
    assert list((tmp_path / "deploy").iterdir()) == []  # staging removed
    assert sorted(p.name for p in tmp_path.iterdir()) == ["deploy"]  # nothing escaped


def test_writing_through_a_link_is_refused(tmp_path: Path) -> None:
    (tmp_path / "outside").mkdir()
    # A link to a folder outside, then a file "inside" that link.
    data = make_zip(link("lib", "../../outside"), ("lib/evil.py", b"pwned"))
    with pytest.raises(ServiceError):
        extract_zip(data, tmp_path / "deploy" / "fn")
    assert list((tmp_path / "outside").iterdir()) == []


def test_size_limits_use_aws_codes_and_messages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ServiceError) as caught:
        check_upload_size(b"\0" * (50 * 1024 * 1024 + 1), "UpdateFunctionCode")
    assert (caught.value.code, caught.value.status) == ("RequestEntityTooLargeException", 413)
    assert (
        caught.value.message
        == "Request must be smaller than 69905067 bytes for the UpdateFunctionCode operation"
    )

    monkeypatch.setattr(code, "MAX_UNZIPPED_BYTES", 1000)
    with pytest.raises(ServiceError) as caught:
        extract_zip(make_zip(("big.bin", b"\0" * 1001)), tmp_path / "fn")
    assert caught.value.code == "InvalidParameterValueException"
    assert caught.value.message == "Unzipped size must be smaller than 1000 bytes"


def test_not_a_zip(tmp_path: Path) -> None:
    with pytest.raises(ServiceError) as caught:
        extract_zip(b"definitely not a zip", tmp_path / "fn")
    assert caught.value.message == (
        "Could not unzip uploaded file. Please check your file, then try to upload again."
    )


def test_folder_watch_sees_edits_new_files_and_deletions(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("a")
    now = [0.0]
    watch = FolderWatch(tmp_path, interval=1.0, monotonic=lambda: now[0])
    assert not watch.changed()
    (tmp_path / "app.py").write_text("bb")
    assert not watch.changed()  # not looked again before the interval passed
    now[0] = 1.0
    assert watch.changed() and not watch.changed()
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "app.pyc").write_bytes(b"")
    now[0] = 2.0
    assert not watch.changed()  # bytecode caches are not code
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "mod.py").write_text("")
    now[0] = 3.0
    assert watch.changed()
    (tmp_path / "pkg" / "mod.py").unlink()
    now[0] = 4.0
    assert watch.changed()
