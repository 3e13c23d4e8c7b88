"""Secrets kept at rest sealed with Fernet (AES-128-CBC and HMAC-SHA256): a WeChat app's secret and the WeChat
access token cached for it; and what the official account's sign-in leaves in the browser between two requests
(channels.wechat.official.browser), which the browser can neither read nor change.

The key comes from configuration: `PORTAL_WECHAT_KEYS`, one or more Fernet keys separated by commas (the first
seals, every one unseals, so a key is rotated by putting the new one first and re-saving the secrets). Without
it, a key is derived from `PORTAL_SECRET_KEY` (HKDF-SHA256), which production already requires to be strong.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from portal.config import Settings
from portal.errors import ConfigurationError

KEYS_SETTING = "WECHAT_KEYS"


def derived_key(secret_key: str) -> bytes:
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"portal wechat secrets").derive(
        secret_key.encode()
    )
    return base64.urlsafe_b64encode(raw)


class Sealer:
    def __init__(self, settings: Settings) -> None:
        configured = [k.strip() for k in settings.extra.get(KEYS_SETTING, "").split(",") if k.strip()]
        try:
            keys = [Fernet(k) for k in configured] or [Fernet(derived_key(settings.secret_key))]
        except ValueError as error:
            raise ConfigurationError(f"PORTAL_{KEYS_SETTING}: each key must be a Fernet key ({error})") from error
        self._fernet = MultiFernet(keys)

    def seal(self, value: str) -> str:
        return self._fernet.encrypt(value.encode()).decode()

    def unseal(self, sealed: str, *, ttl: int | None = None) -> str | None:
        """The value, or None when no configured key opens it (the keys were changed without re-saving, or it
        was tampered with), or when it was sealed more than `ttl` seconds ago."""
        try:
            return self._fernet.decrypt(sealed.encode(), ttl=ttl).decode()
        except (InvalidToken, UnicodeError):
            return None
