"""The WeChat app registration services of a request (mini-program, official account), named once by the API
controllers and the console pages."""

from __future__ import annotations

from litestar.di import NamedDependency, Provide

from channels.wechat.registration import MiniPrograms, OfficialAccounts
from channels.wechat.service import WeChat
from portal.http.deps import DB, CurrentActor, ServicesDep


def provide_mini_programs(db: DB, actor: CurrentActor, services: ServicesDep) -> MiniPrograms:
    wechat: WeChat = services.extensions["wechat"]
    return MiniPrograms(db, actor, wechat.sealer)


def provide_official_accounts(db: DB, actor: CurrentActor, services: ServicesDep) -> OfficialAccounts:
    wechat: WeChat = services.extensions["wechat"]
    return OfficialAccounts(db, actor, wechat.sealer)


DEPENDENCIES = {
    "mini_programs": Provide(provide_mini_programs, sync_to_thread=False),
    "official_accounts": Provide(provide_official_accounts, sync_to_thread=False),
}
MiniProgramsDep = NamedDependency[MiniPrograms]
OfficialAccountsDep = NamedDependency[OfficialAccounts]
