"""Function code on disk: unpacking a deployment package safely, and watching a code folder.

Zip packages (``CreateFunction`` / ``UpdateFunctionCode`` with ``ZipFile``): the archive is
checked against Lambda's size quotas and unpacked into a fresh folder that replaces the old one
in a single rename, so a running worker never sees half a deployment.  Every entry must stay
inside the folder: absolute names, ``..`` components and symbolic links whose target leaves the
folder are refused before anything is written (the "zip slip" family).  Links that stay inside
are kept, and so are file modes, as Lambda keeps them.

Folder mode (local development): instead of a package the function points at a folder on disk
(``FunctionSpec(code_dir=..., watch=True)``).  ``FolderWatch`` fingerprints the folder (path,
size and modification time of every file, skipping ``__pycache__``, ``.git`` and similar), at
most once per ``interval`` seconds and only when the function is invoked; when the fingerprint
changed, the executor retires that function's warm workers and the invocation runs on a fresh
worker that imports the edited code.  Saving a file is therefore all it takes: no redeploy, no
restart, and an unchanged folder costs one directory walk per interval.

AWS pages: https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html (50 MB
zipped upload, 250 MB unzipped), https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html
(RequestEntityTooLargeException, InvalidParameterValueException).
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import shutil
import stat
import time
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from headwater.core.errors import ServiceError

MAX_ZIPPED_BYTES = 50 * 1024 * 1024
# AWS quirk: the upload limit is enforced on the request, whose ZipFile is base64 text, and the
# message names that size: ceil(50 MiB * 4 / 3) = 69905067 bytes.
MAX_REQUEST_BYTES = 69_905_067
MAX_UNZIPPED_BYTES = 262_144_000  # 250 MiB
UNZIP_FAILED = "Could not unzip uploaded file. Please check your file, then try to upload again."

# Folders that change on their own (bytecode caches, VCS metadata) and are not function code.
IGNORED_DIRS = frozenset(
    {
        "__pycache__",
        ".git",
        ".hg",
        ".svn",
        ".venv",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        "node_modules",
    }
)


@dataclass(frozen=True, slots=True)
class CodeInfo:
    """What the Lambda API reports about a package: CodeSha256 (base64) and CodeSize."""

    sha256: str
    size: int
    unzipped_size: int


def code_sha256(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def check_upload_size(data: bytes, operation: str = "CreateFunction") -> None:
    if len(data) > MAX_ZIPPED_BYTES:
        raise ServiceError(
            "RequestEntityTooLargeException",
            f"Request must be smaller than {MAX_REQUEST_BYTES} bytes for the {operation} operation",
            413,
        )


def _unsafe(entry: str, why: str) -> ServiceError:
    # AWS answers an unusable archive with InvalidParameterValueException; the entry and the
    # reason are headwater's addition, so the developer knows which file to fix.
    return ServiceError("InvalidParameterValueException", f"{UNZIP_FAILED} Entry {entry!r} {why}.")


def _relative_parts(name: str) -> list[str]:
    """Split an archive name into path parts, refusing any that could leave the folder."""
    # Archives made on Windows may use backslashes; treat them as separators for the checks.
    normal = name.replace("\\", "/")
    if normal.startswith("/") or (len(normal) > 1 and normal[1] == ":"):
        raise _unsafe(name, "has an absolute path")
    parts = [p for p in normal.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise _unsafe(name, "has a '..' path component")
    return parts


def _inside(root: Path, path: Path) -> bool:
    try:
        path.relative_to(root)
    except ValueError:
        return False
    return True


def extract_zip(
    data: bytes, dest: Path, *, operation: str = "CreateFunction", check_upload: bool = True
) -> CodeInfo:
    """Check and unpack ``data`` into ``dest`` (replacing what was there).  Raises ServiceError.

    ``check_upload=False`` for a package fetched from S3, which the 50 MB limit on direct
    uploads does not cover (only the unzipped limit does).
    """
    if check_upload:
        check_upload_size(data, operation)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError):
        raise ServiceError("InvalidParameterValueException", UNZIP_FAILED) from None
    # Declared sizes first (cheap, and a decompressed entry never exceeds its declared size),
    # then the real byte count while writing, in case the archive lies.
    if sum(info.file_size for info in infos) > MAX_UNZIPPED_BYTES:
        raise _too_big()
    dest = dest.absolute()
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = dest.parent / f".{dest.name}.{uuid.uuid4().hex}.tmp"
    staging.mkdir()
    root = staging.resolve()
    try:
        written = 0
        links: list[tuple[str, Path]] = []
        for info in infos:
            written += _extract_entry(archive, info, root, MAX_UNZIPPED_BYTES - written, links)
        # A link checked alone can still escape through another link it passes (a -> ., then
        # b -> a/..); once everything exists, every link must really resolve inside.
        for name, link in links:
            if not _inside(root, link.resolve()):
                raise _unsafe(name, "is a link that resolves outside the function folder")
        _replace(staging, dest)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
        raise ServiceError("InvalidParameterValueException", UNZIP_FAILED) from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return CodeInfo(code_sha256(data), len(data), written)


def _too_big() -> ServiceError:
    return ServiceError(
        "InvalidParameterValueException",
        f"Unzipped size must be smaller than {MAX_UNZIPPED_BYTES} bytes",
    )


def _extract_entry(
    archive: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    root: Path,
    budget: int,
    links: list[tuple[str, Path]],
) -> int:
    parts = _relative_parts(info.filename)
    if not parts:
        return 0
    target = root.joinpath(*parts)
    mode = info.external_attr >> 16
    parent = _make_parents(root, parts[:-1], info.filename)
    if info.is_dir():
        target.mkdir(exist_ok=True)
        return 0
    if stat.S_ISLNK(mode):
        link = archive.read(info).decode("utf-8", "surrogateescape")
        if os.path.isabs(link) or not _inside(root, Path(os.path.normpath(parent / link))):
            raise _unsafe(info.filename, f"is a link to {link!r}, outside the function folder")
        if target.is_symlink() or target.exists():
            target.unlink()
        os.symlink(link, target)
        if not _inside(root, target.resolve()):
            raise _unsafe(info.filename, f"is a link to {link!r}, outside the function folder")
        links.append((info.filename, target))
        return 0
    if stat.S_IFMT(mode) and not stat.S_ISREG(mode):
        raise _unsafe(info.filename, "is not a regular file, folder or link")
    written = 0
    if target.is_symlink():
        target.unlink()  # replace a link rather than write through it
    with archive.open(info) as src, open(target, "wb") as out:
        while chunk := src.read(1024 * 1024):
            written += len(chunk)
            if written > budget:
                raise _too_big()
            out.write(chunk)
    # Keep the permission bits the archive carries (executables stay executable).
    os.chmod(target, (mode & 0o777) or 0o644)
    return written


def _make_parents(root: Path, parts: list[str], name: str) -> Path:
    """Create the folders above an entry, refusing to pass through a link that leaves ``root``.

    Checked one component at a time, before anything is created under it: an earlier link
    entry (lib -> ../..) must not let a later entry (lib/x) create or write outside the folder.
    """
    current = root
    for part in parts:
        current = current / part
        if current.is_symlink() and not _inside(root, current.resolve()):
            raise _unsafe(name, "is written through a link that leaves the function folder")
        if not current.exists():
            current.mkdir()
    return current.resolve()


def _replace(staging: Path, dest: Path) -> None:
    """Swap the new folder in: one rename for the new code, the old one removed afterwards."""
    if dest.exists() or dest.is_symlink():
        old = dest.parent / f".{dest.name}.{uuid.uuid4().hex}.old"
        os.rename(dest, old)
        os.rename(staging, dest)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.rename(staging, dest)


# -- folder mode --------------------------------------------------------------------------------


def fingerprint(root: Path) -> int:
    """A hash of every file's relative path, size and mtime under ``root``."""
    entries: list[tuple[str, int, int]] = []
    stack = [str(root)]
    while stack:
        folder = stack.pop()
        try:
            scan = os.scandir(folder)
        except OSError:
            continue
        with scan:
            for entry in scan:
                try:
                    if entry.is_dir(follow_symlinks=False):
                        if entry.name not in IGNORED_DIRS:
                            stack.append(entry.path)
                        continue
                    st = entry.stat()
                except OSError:
                    continue  # deleted while we looked; the next walk sees the new state
                entries.append((entry.path, st.st_size, st.st_mtime_ns))
    entries.sort()
    return hash(tuple(entries))


class FolderWatch:
    """Says whether a code folder changed since the last look; looks at most every ``interval``."""

    def __init__(
        self, root: Path, interval: float = 0.5, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.root = root
        self.interval = interval
        self._monotonic = monotonic
        self._checked = monotonic()
        self._print = fingerprint(root)

    def changed(self) -> bool:
        now = self._monotonic()
        if now - self._checked < self.interval:
            return False
        self._checked = now
        current = fingerprint(self.root)
        if current == self._print:
            return False
        self._print = current
        return True
