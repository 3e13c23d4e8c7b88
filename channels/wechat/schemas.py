"""Request and response bodies of the mini-program's registration and of signing in from it."""

from __future__ import annotations

from datetime import datetime

import msgspec
from msgspec import UNSET, UnsetType

from portal.identity.schemas import Strict


class MiniProgramIn(Strict):
    # the AppID WeChat shows the manufacturer (wx and 16 letters or digits)
    app_id: str
    # the AppSecret: required the first time, left out to keep the one saved; never shown again
    secret: str | UnsetType = UNSET
    # "disabled" stops partners signing in with the mini-program (tokens already issued live on)
    status: str | UnsetType = UNSET


class MiniProgramOut(msgspec.Struct):
    app_id: str
    status: str
    # when the secret was last saved (the secret itself is write-only)
    secret_set_at: datetime
    created_at: datetime
    updated_at: datetime
    # where the mini-program sends a wx.login code
    sign_in_url: str
    # WeChat accounts linked to partners of this workspace
    linked_accounts: int


class MiniSignInIn(Strict):
    # the code of wx.login (single-use, five minutes)
    code: str
    # the first time: the code of the "get phone number" button (getPhoneNumber), or login and password
    phone_code: str | None = None
    login: str | None = None
    password: str | None = None


class MiniTokenOut(msgspec.Struct):
    access_token: str
    refresh_token: str
    expires_in: int
    token_type: str = "Bearer"
    # how this sign-in linked the WeChat account ("phone", "password", "unionid"); null if it already was
    linked_by: str | None = None


class OfficialAccountIn(Strict):
    # the AppID of the official account (a service account), as WeChat shows it (wx and 16 letters or digits)
    app_id: str
    # the AppSecret: required the first time, left out to keep the one saved; never shown again
    secret: str | UnsetType = UNSET
    # "disabled" stops partners signing in from the official account (pages already open stay signed in)
    status: str | UnsetType = UNSET


class OfficialAccountOut(msgspec.Struct):
    app_id: str
    status: str
    # when the secret was last saved (the secret itself is write-only)
    secret_set_at: datetime
    created_at: datetime
    updated_at: datetime
    # the address for the official account's menu: it signs the partner in and opens the partner portal
    entry_url: str
    # the domain to register as the web authorisation domain (网页授权域名) in the WeChat admin console
    authorisation_domain: str
    # WeChat accounts linked to partners of this workspace through the official account
    linked_accounts: int


class TemplateMessageIn(Strict):
    # the template's ID as the official account's admin console shows it (模板ID)
    template_id: str
    # each of the template's fields (e.g. "keyword1") to what fills it: one of the kind's `sources`
    fields: dict[str, str]


class TemplateMessageOut(msgspec.Struct):
    # the kind of notification (e.g. "ordering.order_approved") and its name in the language of the request
    kind: str
    label: str
    # null: this kind is not sent as a template message
    template_id: str | None
    fields: dict[str, str]
    # what may fill a field: the notice's values, and its inbox "title" and "body"
    sources: list[str]


class TemplateMessagesOut(msgspec.Struct):
    items: list[TemplateMessageOut]
