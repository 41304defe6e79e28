"""mypy (strict, configured in pyproject.toml) and ruff over the source, as part of the suite.

A type error or lint finding fails the tests the way a broken behaviour does, so the checks
cannot drift out of date between CI configurations.  Both run as subprocesses of this
interpreter (``-m mypy`` / ``-m ruff``), so they check against the installed dependencies.

The whole package is checked (``CHECKED``); mypy follows imports silently, so it reports only
on ``src/headwater`` itself.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE = "src/headwater"

# The whole package: every module is held to mypy strict and ruff.
CHECKED = [PACKAGE]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,  # the caller asserts on the return code, with the output in the message
    )


def test_checked_paths_exist() -> None:
    missing = [path for path in CHECKED if not (REPO / path).exists()]
    assert not missing, f"CHECKED names paths that are gone: {missing}"


def test_mypy_strict(tmp_path: Path) -> None:
    pytest.importorskip("mypy")
    # A fresh cache outside the tree: nothing written into the checkout, and a full run on a
    # 2-core machine takes about 10 s, so incremental state would save little.
    result = _run(
        "mypy",
        "--cache-dir",
        str(tmp_path / "mypy-cache"),
        "--no-incremental",
        "--follow-imports=silent",
        *CHECKED,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff() -> None:
    pytest.importorskip("ruff")
    result = _run("ruff", "check", "--no-cache", *CHECKED)
    assert result.returncode == 0, result.stdout + result.stderr
