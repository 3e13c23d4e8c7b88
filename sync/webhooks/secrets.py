"""Endpoint secrets at rest: the platform must sign with them, so they cannot be hashed; they are
encrypted with AES-GCM under a key derived from PORTAL_SECRET_KEY, bound to their endpoint (a secret
copied onto another endpoint's row does not decrypt). Changing PORTAL_SECRET_KEY makes them unreadable:
rotate every endpoint's secret afterwards."""

from __future__ import annotations

import base64
import os
import secrets
import uuid

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PREFIX = "whsec_"


def new_secret() -> str:
    return PREFIX + secrets.token_urlsafe(32)


class SecretBox:
    def __init__(self, secret_key: str) -> None:
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"portal webhook endpoint secrets")
        self._aead = AESGCM(key.derive(secret_key.encode()))

    def seal(self, endpoint_id: uuid.UUID, secret: str) -> str:
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, secret.encode(), endpoint_id.bytes)
        return "v1:" + base64.urlsafe_b64encode(nonce + sealed).decode()

    def open(self, endpoint_id: uuid.UUID, sealed: str) -> str:
        raw = base64.urlsafe_b64decode(sealed.removeprefix("v1:"))
        return self._aead.decrypt(raw[:12], raw[12:], endpoint_id.bytes).decode()
