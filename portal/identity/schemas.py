"""Request and response bodies of the identity API. Unknown fields are refused, never ignored."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, TypeVar

import msgspec

from portal.http.inputs import Multiline
from portal.identity.models import InternalUser, Tenant


class Strict(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    pass


class Out(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A response body. A field a field rule can hide defaults to msgspec.UNSET, which is left out of
    the JSON (absent, not null)."""


T = TypeVar("T")


def typed(values: Any, kind: type[T]) -> T:
    """What a service presents (dicts, as field rules left them) as the declared response type. A key
    the type does not declare is refused, so nothing leaves that the API document does not show."""
    return msgspec.convert(values, kind)


def sent(data: msgspec.Struct, *, leave_out: tuple[str, ...] = ()) -> dict[str, Any]:
    """The fields of a body the client sent (msgspec.UNSET marks the others): a PATCH changes only those."""
    return {
        name: getattr(data, name)
        for name in data.__struct_fields__
        if name not in leave_out and getattr(data, name) is not msgspec.UNSET
    }


class SignUpIn(Strict):
    company_name: str
    slug: str
    admin_name: str
    email: str
    password: str
    locale: str = "en"
    # IANA name (e.g. Asia/Shanghai); left out: Asia/Shanghai for zh_CN, else UTC
    time_zone: str | None = None


class WorkspacePatchIn(Strict):
    """The settings to change; a setting left out stays as it is, an empty brand value clears it."""

    time_zone: str | None = None
    brand_colour: str | None = None  # "#rrggbb"
    sign_in_text: Multiline | None = None
    email_header: str | None = None


class TokenIn(Strict):
    workspace: str
    email: str
    password: str


class RefreshIn(Strict):
    refresh_token: str


class TokenOut(msgspec.Struct):
    access_token: str
    refresh_token: str
    expires_in: int
    token_type: str = "Bearer"


class NewUserIn(Strict):
    email: str
    display_name: str
    password: str
    roles: list[str] = msgspec.field(default_factory=lambda: ["staff"])
    locale: str | None = None


class UserPatchIn(Strict):
    display_name: str | None = None
    roles: list[str] | None = None
    status: str | None = None
    locale: str | None = None


class UserOut(msgspec.Struct):
    id: uuid.UUID
    email: str
    display_name: str
    roles: list[str]
    status: str
    locale: str | None
    created_at: datetime
    last_login_at: datetime | None

    @classmethod
    def of(cls, user: InternalUser, roles: frozenset[str]) -> UserOut:
        return cls(
            user.id,
            user.email,
            user.display_name,
            sorted(roles),
            user.status,
            user.locale,
            user.created_at,
            user.last_login_at,
        )


class TenantOut(msgspec.Struct):
    id: uuid.UUID
    slug: str
    name: str
    status: str
    time_zone: str
    brand_colour: str | None
    brand_logo_id: uuid.UUID | None
    sign_in_text: str | None
    email_header: str | None

    @classmethod
    def of(cls, tenant: Tenant) -> TenantOut:
        return cls(
            tenant.id,
            tenant.slug,
            tenant.name,
            tenant.status,
            tenant.time_zone,
            tenant.brand_colour,
            tenant.brand_logo_id,
            tenant.sign_in_text,
            tenant.email_header,
        )


class SignUpOut(msgspec.Struct):
    tenant: TenantOut
    admin: UserOut


class MeOut(msgspec.Struct):
    user: UserOut
    tenant: TenantOut


class UserPage(msgspec.Struct):
    items: list[UserOut]
    total: int
    limit: int
    offset: int
