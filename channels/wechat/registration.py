"""A tenant's WeChat app registrations (its mini-program, its official account), for the console and the API:
the app id and secret (write-only: it is sealed at rest and never shown again), and whether partners may sign in
with it."""

from __future__ import annotations

import re
from typing import Any, Generic, TypeVar

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from channels.wechat.models import STATUSES, MiniProgram, OfficialAccount, WeChatApp, WeChatBinding
from channels.wechat.sealing import Sealer
from portal.actor import Actor
from portal.db.types import utcnow
from portal.errors import FieldError, NotFound, ValidationFailed
from portal.i18n import N_
from portal.ids import uuid7

# WeChat shows app ids as "wx" and 16 hexadecimal digits, secrets as 32; letters of either case are taken
APP_ID = re.compile(r"^wx[0-9a-zA-Z]{16}$")
SECRET = re.compile(r"^[0-9a-zA-Z]{16,64}$")


def program_out(program: WeChatApp) -> dict[str, Any]:
    return {
        "app_id": program.app_id,
        "status": program.status,
        "secret_set_at": program.secret_set_at,
        "created_at": program.created_at,
        "updated_at": program.updated_at,
    }


App = TypeVar("App", MiniProgram, OfficialAccount)


class AppRegistrations(Generic[App]):
    """One kind of the tenant's WeChat apps (it has at most one of each), in the request's unit of work (the
    actor's tenant)."""

    model: type[App]
    missing: tuple[str, str]  # the message and the problem's code when none is registered

    def __init__(self, session: AsyncSession, actor: Actor, sealer: Sealer) -> None:
        self.session, self.actor, self.sealer = session, actor, sealer

    async def find(self) -> App | None:
        return await self.session.scalar(select(self.model))

    async def linked_accounts(self) -> int:
        """How many WeChat accounts are linked to partners of this workspace through this app."""
        program = await self.find()
        if program is None:
            return 0
        counted = select(func.count()).select_from(WeChatBinding).where(WeChatBinding.app_id == program.app_id)
        return int(await self.session.scalar(counted) or 0)

    async def get(self) -> App:
        program = await self.find()
        if program is None:
            raise NotFound(self.missing[0], code=self.missing[1])
        return program

    async def save(self, values: dict[str, Any]) -> App:
        """Register the app, or change it. The secret is required the first time; left out (or
        empty) later, the one saved stays. A new app id or secret forgets the cached access token."""
        program = await self.find()
        errors: list[FieldError] = []
        app_id = str(values.get("app_id") or "").strip()
        secret = str(values.get("secret") or "").strip()
        status = values.get("status") or (program.status if program else "active")
        if not APP_ID.match(app_id):
            errors.append(
                FieldError("app_id", N_("Enter the AppID WeChat shows: wx and 16 letters or digits"), "invalid")
            )
        if program is None and not secret:
            errors.append(FieldError("secret", N_("Enter the AppSecret"), "required"))
        elif secret and not SECRET.match(secret):
            errors.append(
                FieldError("secret", N_("Enter the AppSecret WeChat shows: letters and digits only"), "invalid")
            )
        if status not in STATUSES:
            errors.append(FieldError("status", N_("Choose active or disabled"), "invalid"))
        if errors:
            raise ValidationFailed(errors)
        if program is None:
            program = self.model(id=uuid7(), app_id=app_id, status=status, created_by=self.actor.user_id)
            self.session.add(program)
        elif program.app_id != app_id:
            program.app_id = app_id
            program.access_token_sealed = program.access_token_expires_at = None
        program.status = status
        if secret:
            program.secret_sealed = self.sealer.seal(secret)
            program.secret_set_at = utcnow()
            program.access_token_sealed = program.access_token_expires_at = None
        await self.session.flush()
        return program


class MiniPrograms(AppRegistrations[MiniProgram]):
    model = MiniProgram
    missing = (N_("No WeChat mini-program is registered"), "no_mini_program")


class OfficialAccounts(AppRegistrations[OfficialAccount]):
    model = OfficialAccount
    missing = (N_("No WeChat official account is registered"), "no_official_account")
