"""A mini-program's secret sealed at rest: the configured key (or one derived from the secret key) seals, a list
of keys lets the first seal and every one unseal (rotation), and a wrong key opens nothing."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from channels.wechat.api import Phone
from channels.wechat.sealing import Sealer
from portal.config import Settings
from portal.errors import ConfigurationError

SECRET_KEY = "a-secret-key-that-is-long-enough-for-the-tests-0123"


def settings(keys: str | None = None, secret_key: str = SECRET_KEY) -> Settings:
    extra = {} if keys is None else {"WECHAT_KEYS": keys}
    return Settings.from_env({}, secret_key=secret_key, extra=extra)


def test_sealed_values_open_with_the_same_key_only() -> None:
    sealed = Sealer(settings()).seal("5f2b9c0e7d1a4b3c")
    assert "5f2b9c0e7d1a4b3c" not in sealed
    assert Sealer(settings()).unseal(sealed) == "5f2b9c0e7d1a4b3c"
    assert Sealer(settings(secret_key=SECRET_KEY + "x")).unseal(sealed) is None
    assert Sealer(settings(Fernet.generate_key().decode())).unseal(sealed) is None


def test_keys_rotate_the_first_sealing_and_all_opening() -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    sealed_before = Sealer(settings(old)).seal("before")
    rotated = Sealer(settings(f"{new}, {old}"))
    assert rotated.unseal(sealed_before) == "before"
    assert Sealer(settings(new)).unseal(rotated.seal("after")) == "after"
    assert Sealer(settings(old)).unseal(rotated.seal("after")) is None


def test_a_key_that_is_not_a_fernet_key_stops_the_start() -> None:
    with pytest.raises(ConfigurationError):
        Sealer(settings("not-a-key"))


def test_a_phone_number_is_looked_up_in_its_own_country_only() -> None:
    assert Phone("13912345678", "86").candidates() == ["+8613912345678", "13912345678"]
    # a US number whose digits, with its country code, read like a Chinese mobile is that US number only
    assert Phone("5101234567", "1").candidates() == ["+15101234567"]
    assert "15101234567" not in Phone("5101234567", "1").candidates()
    assert Phone("13912345678", "").candidates() == []  # no country: no one
