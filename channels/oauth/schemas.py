"""Request and response bodies of the OAuth client API."""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec
from msgspec import UNSET, UnsetType

from portal.identity.schemas import Strict


class ClientIn(Strict):
    name: str
    # public: an app on a phone or in a browser (no secret, PKCE only); confidential: a server, with a secret
    kind: str
    redirect_uris: list[str]
    # "profile" and partner app keys (ordering, agent)
    scopes: list[str]
    # what the audit log and a person's sign-ins call its tokens: "mobile" (default for public clients) or
    # "oauth" (default for confidential ones)
    channel: str | None = None


class ClientPatch(Strict):
    name: str | UnsetType = UNSET
    channel: str | UnsetType = UNSET
    redirect_uris: list[str] | UnsetType = UNSET
    scopes: list[str] | UnsetType = UNSET
    # "disabled" ends every token issued to the client at once; so does taking a scope away
    status: str | UnsetType = UNSET


class ClientOut(msgspec.Struct):
    id: uuid.UUID  # the OAuth client_id
    name: str
    kind: str
    channel: str
    redirect_uris: list[str]
    scopes: list[str]
    status: str
    secret_rotated_at: datetime | None
    created_at: datetime
    updated_at: datetime


class ClientCreated(msgspec.Struct):
    client: ClientOut
    # a confidential client's secret, shown this once (only its hash is kept); null for a public client
    client_secret: str | None


class SecretOut(msgspec.Struct):
    client: ClientOut
    client_secret: str


class GrantOut(msgspec.Struct):
    """An application the partner signed in to (a token family of theirs)."""

    id: uuid.UUID
    client_id: uuid.UUID
    client_name: str
    channel: str
    scopes: list[str]
    signed_in_at: datetime
    # until when its refresh token works; each use moves it on
    valid_until: datetime
    device: str | None
