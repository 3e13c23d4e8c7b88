"""The API of the official account's registration: /api/channels/wechat/official-account, as the mini-program's."""

from __future__ import annotations

from urllib.parse import urlsplit

from litestar import Controller, delete, get, put
from litestar.params import FromPath, JSONBody

from channels.wechat.dependencies import DEPENDENCIES, OfficialAccountsDep
from channels.wechat.models import OfficialAccount
from channels.wechat.objects import MINI_PROGRAM
from channels.wechat.registration import OfficialAccounts, program_out
from channels.wechat.schemas import (
    OfficialAccountIn,
    OfficialAccountOut,
    TemplateMessageIn,
    TemplateMessageOut,
    TemplateMessagesOut,
)
from channels.wechat.service import WeChat
from channels.wechat.templates import TemplateChoice, TemplateSettings
from portal.http.deps import DB, CurrentActor, ServicesDep
from portal.i18n import gettext
from portal.identity.schemas import sent, typed
from portal.permissions import requires
from portal.services import Services


def addresses(services: Services, slug: str) -> dict[str, str]:
    """What the manufacturer enters in the WeChat admin console: the menu's address, and its host as the web
    authorisation domain (WeChat sends the person back only to an address on it)."""
    wechat: WeChat = services.extensions["wechat"]
    base = services.settings.base_url
    return {"entry_url": wechat.official_entry_url(base, slug), "authorisation_domain": urlsplit(base).netloc}


async def presented(account: OfficialAccount, accounts: OfficialAccounts, services: Services) -> OfficialAccountOut:
    shown = {
        **program_out(account),
        **addresses(services, accounts.actor.tenant_slug),
        "linked_accounts": await accounts.linked_accounts(),
    }
    return typed(shown, OfficialAccountOut)


class OfficialAccountController(Controller):
    """The workspace's WeChat official account (see docs/channels.md)."""

    path = "/api/channels/wechat/official-account"
    tags = ["channels"]
    dependencies = DEPENDENCIES

    @get("/", opt=requires(MINI_PROGRAM, "read", problems=(404,)))
    async def get_official_account(
        self, official_accounts: OfficialAccountsDep, services: ServicesDep
    ) -> OfficialAccountOut:
        return await presented(await official_accounts.get(), official_accounts, services)

    @put("/", opt=requires(MINI_PROGRAM, "update"))
    async def save_official_account(
        self, data: JSONBody[OfficialAccountIn], official_accounts: OfficialAccountsDep, services: ServicesDep
    ) -> OfficialAccountOut:
        """Register the official account or change it. The secret is sealed at rest and never shown again; leave
        it out to keep the one saved. A new app id or secret forgets the cached WeChat access token."""
        return await presented(await official_accounts.save(sent(data)), official_accounts, services)


def template_out(choice: TemplateChoice) -> TemplateMessageOut:
    saved = choice.template
    return TemplateMessageOut(
        kind=choice.kind.name,
        label=gettext(choice.kind.label),
        template_id=saved.template_id if saved else None,
        fields=dict(saved.fields) if saved else {},
        sources=choice.sources,
    )


class TemplateMessagesController(Controller):
    """Which notifications go to partners as template messages of the official account (see docs/channels.md)."""

    path = "/api/channels/wechat/official-account/templates"
    tags = ["channels"]

    @get("/", opt=requires(MINI_PROGRAM, "read"))
    async def list_template_messages(self, db: DB, actor: CurrentActor, services: ServicesDep) -> TemplateMessagesOut:
        """Every kind of notification to partners, with the template that carries it (none: not sent on WeChat)."""
        settings = TemplateSettings(db, actor, services.notifications)
        return TemplateMessagesOut([template_out(c) for c in await settings.list()])

    @get("/{kind:str}", opt=requires(MINI_PROGRAM, "read", problems=(404,)))
    async def get_template_message(
        self, kind: FromPath[str], db: DB, actor: CurrentActor, services: ServicesDep
    ) -> TemplateMessageOut:
        return template_out(await TemplateSettings(db, actor, services.notifications).get(kind))

    @put("/{kind:str}", opt=requires(MINI_PROGRAM, "update", problems=(404,)))
    async def save_template_message(
        self, kind: FromPath[str], data: JSONBody[TemplateMessageIn], db: DB, actor: CurrentActor, services: ServicesDep
    ) -> TemplateMessageOut:
        """Send this kind as a template message: its template ID and what fills each field."""
        settings = TemplateSettings(db, actor, services.notifications)
        return template_out(await settings.save(kind, data.template_id, data.fields))

    @delete("/{kind:str}", opt=requires(MINI_PROGRAM, "update", problems=(404,)))
    async def remove_template_message(
        self, kind: FromPath[str], db: DB, actor: CurrentActor, services: ServicesDep
    ) -> None:
        """Stop sending this kind on WeChat."""
        await TemplateSettings(db, actor, services.notifications).remove(kind)


CONTROLLERS = [OfficialAccountController, TemplateMessagesController]
