"""The public surface of ``headwater.testing``, guarded as httpx guards its own.

Users import these names into their test suites, so adding one is a promise and removing or
renaming one breaks them: this test makes either a deliberate change, made here as well.
"""

from __future__ import annotations

import types
from importlib import metadata

import headwater.testing
from headwater.testing import pytest_plugin

PUBLIC = ["RunningHeadwater", "running_headwater"]
FIXTURES = ["headwater_clients", "headwater_server"]


def test_all_is_the_promised_surface() -> None:
    assert headwater.testing.__all__ == PUBLIC


def test_every_public_name_is_exported_and_sorted() -> None:
    # Submodules become attributes of the package when imported; they are not exports.
    public = [
        name
        for name, value in vars(headwater.testing).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    ]
    assert sorted(public) == headwater.testing.__all__
    assert headwater.testing.__all__ == sorted(headwater.testing.__all__)


def test_exports_resolve_and_claim_the_public_module() -> None:
    for name in headwater.testing.__all__:
        value = getattr(headwater.testing, name)
        assert value.__module__.startswith("headwater.testing"), name


def test_pytest_plugin_is_registered_with_its_fixtures() -> None:
    plugins = {entry.name: entry.value for entry in metadata.entry_points(group="pytest11")}
    assert plugins.get("headwater") == "headwater.testing.pytest_plugin"
    for fixture in FIXTURES:
        assert callable(getattr(pytest_plugin, fixture)), fixture
