from pathlib import Path

import pytest

from headwater.config import Settings, from_environment, parse_credentials
from headwater.core.errors import ConfigError


def test_defaults_bind_loopback_and_accept_test_pair():
    settings = Settings()
    assert settings.host == "127.0.0.1" and settings.port == 4566
    assert settings.data_dir == Path(".headwater")
    assert settings.accepted_credentials() == {"test": "test"}
    settings.check()


def test_public_bind_without_credentials_refuses_to_start():
    with pytest.raises(ConfigError, match="credentials"):
        Settings(host="0.0.0.0").check()


def test_public_bind_with_credentials_drops_test_pair():
    settings = Settings(host="0.0.0.0", credentials={"AKID": "s3cret"})
    settings.check()
    assert settings.accepted_credentials() == {"AKID": "s3cret"}


def test_configured_credentials_replace_test_pair_on_loopback():
    assert Settings(credentials={"AKID": "x"}).accepted_credentials() == {"AKID": "x"}


def test_environment_and_overrides():
    settings = from_environment(
        {"HEADWATER_PORT": "5000", "HEADWATER_CREDENTIALS": "a:b, c:d"}, host="127.0.0.2"
    )
    assert settings.port == 5000 and settings.host == "127.0.0.2"
    assert settings.credentials == {"a": "b", "c": "d"}


@pytest.mark.parametrize("text", ["nosecret", ":x", "a:"])
def test_bad_credential_entries(text):
    with pytest.raises(ConfigError):
        parse_credentials(text)
